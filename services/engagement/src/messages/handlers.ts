import type { Message } from '@dems/contracts';
import type { ApplyMessage } from '@dems/kit';
import { heldTicketIds } from '../domain/audience.js';
import {
  eventCancelledText,
  eventUpdatedText,
  orderConfirmedText,
  registrationConfirmedText,
  registrationWithdrawnText,
  ticketCancelledText,
} from '../domain/notification-texts.js';
import type { LiveNotifications } from '../live/live-notifications.js';
import type { AppliedMessage, EngagementStore, EventCopy } from '../store/engagement-store.js';

const copyOf = (e: { id: string; title: string; organizerId: string; status: EventCopy['status']; version: number }): EventCopy => ({
  id: e.id,
  title: e.title,
  organizerId: e.organizerId,
  status: e.status,
  version: e.version,
});

/** Maps each message engagement subscribes to onto one store call, which applies it exactly once. */
function applyToStore(store: EngagementStore, m: Message): Promise<AppliedMessage> {
  switch (m.type) {
    case 'EventPublished':
      return store.applyEventChange(m, { event: copyOf(m.data.event), kind: 'published', text: null });
    case 'EventUpdated':
      return store.applyEventChange(m, { event: copyOf(m.data.event), kind: 'updated', text: eventUpdatedText(m.data.event, m.data.changes) });
    case 'EventCancelled':
      return store.applyEventChange(m, { event: copyOf(m.data.event), kind: 'cancelled', text: eventCancelledText(m.data.event) });
    case 'UserRegistered':
      return store.applyAudienceChange(m, {
        eventId: m.data.eventId,
        userId: m.data.userId,
        registered: true,
        text: registrationConfirmedText(m.data.eventId, m.data.eventTitle),
      });
    case 'RegistrationWithdrawn':
      return store.applyAudienceChange(m, {
        eventId: m.data.eventId,
        userId: m.data.userId,
        registered: false,
        text: registrationWithdrawnText(m.data.eventId, m.data.eventTitle),
      });
    case 'OrderPlaced':
      return store.applyAudienceChange(m, {
        eventId: m.data.eventId,
        userId: m.data.userId,
        ticketsHeld: heldTicketIds(m.data.orderId, m.data.quantity),
        text: orderConfirmedText(m.data),
      });
    case 'TicketCancelled': {
      const byEvent = m.data.reason === 'event_cancelled';
      return store.applyAudienceChange(m, {
        eventId: m.data.eventId,
        userId: m.data.userId,
        ticketsGone: [m.data.ticketId],
        lostToEventCancellation: byEvent,
        // The EventCancelled notification already tells the holder; one message per person, not one per ticket.
        text: byEvent ? null : ticketCancelledText(m.data),
      });
    }
    case 'WaitingRoomChanged':
      // Nothing stored: the room's settings live in memory, handed to live/waiting-rooms.ts (withWaitingRooms in app.ts).
      return Promise.resolve({ result: 'applied', created: [] });
  }
}

/** The inbox's apply function: store first, then the live push of whatever the commit created. */
export function messageHandler(store: EngagementStore, live: LiveNotifications): ApplyMessage {
  return async (message) => {
    const { result, created } = await applyToStore(store, message);
    live.publish(created);
    return result;
  };
}
