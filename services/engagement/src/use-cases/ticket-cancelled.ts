import type { Message } from '@dems/contracts';
import { ticketCancelledText } from '../domain/notification-texts.js';
import type { AudienceMessageChange } from '../store/engagement-store.js';

/**
 * TicketCancelled: the holder no longer holds that ticket, and is told what is refunded — unless the event's
 * cancellation took it: the EventCancelled notification tells them already (one message per person, not one per
 * ticket), and the lost ticket keeps them in the audience that notification goes to, whatever the arrival order.
 */
export function ticketCancelled(message: Message<'TicketCancelled'>): AudienceMessageChange {
  const { eventId, userId, ticketId, reason } = message.data;
  const byEvent = reason === 'event_cancelled';
  return {
    message,
    audience: { eventId, userId, ticketsGone: [ticketId], lostToEventCancellation: byEvent, text: byEvent ? null : ticketCancelledText(message.data) },
  };
}
