import type { Message } from '@dems/contracts';
import type { ApplyBatch, BatchItemOutcome, MessageLag } from '@dems/kit';
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
import type { AppliedMessage, AudienceChange, CreatedNotification, EngagementStore, EventCopy, MessageChange } from '../store/engagement-store.js';

const copyOf = (e: { id: string; title: string; organizerId: string; status: EventCopy['status']; version: number }): EventCopy => ({
  id: e.id,
  title: e.title,
  organizerId: e.organizerId,
  status: e.status,
  version: e.version,
});

/** The change each message engagement subscribes to makes in the store (applied exactly once); null: nothing to store. */
function changeOf(m: Message): MessageChange | null {
  switch (m.type) {
    case 'EventPublished':
      return { message: m, event: { event: copyOf(m.data.event), kind: 'published', text: null } };
    case 'EventUpdated':
      return { message: m, event: { event: copyOf(m.data.event), kind: 'updated', text: eventUpdatedText(m.data.event, m.data.changes) } };
    case 'EventCancelled':
      return { message: m, event: { event: copyOf(m.data.event), kind: 'cancelled', text: eventCancelledText(m.data.event) } };
    case 'UserRegistered':
      return audience(m, {
        eventId: m.data.eventId,
        userId: m.data.userId,
        registered: true,
        text: registrationConfirmedText(m.data.eventId, m.data.eventTitle),
      });
    case 'RegistrationWithdrawn':
      return audience(m, {
        eventId: m.data.eventId,
        userId: m.data.userId,
        registered: false,
        text: registrationWithdrawnText(m.data.eventId, m.data.eventTitle),
      });
    case 'OrderPlaced':
      return audience(m, {
        eventId: m.data.eventId,
        userId: m.data.userId,
        ticketsHeld: heldTicketIds(m.data.orderId, m.data.quantity),
        text: orderConfirmedText(m.data),
      });
    case 'TicketCancelled': {
      const byEvent = m.data.reason === 'event_cancelled';
      return audience(m, {
        eventId: m.data.eventId,
        userId: m.data.userId,
        ticketsGone: [m.data.ticketId],
        lostToEventCancellation: byEvent,
        // The EventCancelled notification already tells the holder; one message per person, not one per ticket.
        text: byEvent ? null : ticketCancelledText(m.data),
      });
    }
    case 'WaitingRoomChanged':
      // Nothing stored: the room's settings live in memory, handed to live/waiting-rooms.ts (withWaitingRoomsBatch in app.ts).
      return null;
  }
}

const audience = (message: Message, change: AudienceChange): MessageChange => ({ message, audience: change });

/** What follows the commit of a message's change: the live push of what it created, timed as the `pushed` hop. */
function afterCommit(live: LiveNotifications, lag: MessageLag | undefined, message: Message, created: CreatedNotification[]): void {
  if (created.length === 0) return;
  live.publish(created);
  lag?.('pushed', message);
}

const NOTHING_STORED: AppliedMessage = { result: 'applied', created: [] };

/**
 * The inbox's batch apply: every change of a delivered batch in one store call (one commit on SQLite), then the
 * pushes, only once that commit is done, so a socket never hears of a change that could still roll back. A push
 * that fails loses nothing: the notification is stored and the web app lists it.
 */
export function messageBatchHandler(store: EngagementStore, live: LiveNotifications, lag?: MessageLag): ApplyBatch {
  return async (messages) => {
    const changes = messages.map(changeOf);
    const stored = await store.applyMessages(changes.filter((c): c is MessageChange => c !== null));
    let next = 0;
    const outcomes = changes.map((c) => (c ? stored[next++]! : NOTHING_STORED));
    return outcomes.map((outcome, i): BatchItemOutcome => {
      if ('error' in outcome) return { error: outcome.error };
      afterCommit(live, lag, messages[i]!, outcome.created);
      return outcome.result;
    });
  };
}
