import type { EventSnapshot, Message } from '@dems/contracts';
import type { EventChange, MessageChange, MessageChangeOutcome, TicketingStore } from '../store/ticketing-store.js';
import { byEventCancellation } from './cancel-tickets.js';

/**
 * What happens when events announces a change: ticketing's copy of the event and its ticket types follow the
 * newest snapshot (never `sold`, capacity only as the port says), and a cancelled event's valid tickets are
 * all cancelled and refunded in the same step, each with its TicketCancelled. A delivered batch is applied in
 * order, each message exactly once (a redelivery is a duplicate).
 */
export function applyEventMessages(store: TicketingStore, messages: Message[], now = new Date()): Promise<MessageChangeOutcome[]> {
  return store.applyMessages(messages.map((m) => changeOf(m, now)));
}

/** The change a snapshot makes: a cancelled event's tickets are cancelled with it. */
export function eventChange(message: Message, snapshot: EventSnapshot, now = new Date()): EventChange {
  return { message, snapshot, cancelTickets: snapshot.status === 'cancelled' ? byEventCancellation(now) : null };
}

/** What each message type ticketing subscribes to (SUBSCRIPTIONS in contracts) changes: an event snapshot, or nothing. */
export function changeOf(message: Message, now = new Date()): MessageChange {
  switch (message.type) {
    case 'EventPublished':
    case 'EventUpdated':
    case 'EventCancelled':
      return eventChange(message, message.data.event, now);
    default:
      // Not ours to act on (a misrouted message); record it so the sender stops retrying.
      return { message, snapshot: null };
  }
}
