import type { Message } from '@dems/contracts';
import type { ApplyBatch } from '@dems/kit';
import type { MessageChange, TicketingStore } from '../store/ticketing-store.js';

/** What each message type ticketing subscribes to (SUBSCRIPTIONS in contracts) changes: an event snapshot, or nothing. */
function changeOf(message: Message): MessageChange {
  switch (message.type) {
    case 'EventPublished':
    case 'EventUpdated':
    case 'EventCancelled':
      return { message, snapshot: message.data.event };
    default:
      // Not ours to act on (a misrouted message); record it so the sender stops retrying.
      return { message, snapshot: null };
  }
}

/** The inbox's batch apply: a delivered batch in one store call (one commit on SQLite). */
export function messageBatchHandler(store: TicketingStore): ApplyBatch {
  return (messages) => store.applyMessages(messages.map(changeOf));
}
