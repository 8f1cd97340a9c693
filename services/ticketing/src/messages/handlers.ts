import type { ApplyMessage } from '@dems/kit';
import type { TicketingStore } from '../store/ticketing-store.js';

/** Maps each message type ticketing subscribes to (SUBSCRIPTIONS in contracts) onto one store call. */
export function messageHandler(store: TicketingStore): ApplyMessage {
  return async (message) => {
    switch (message.type) {
      case 'EventPublished':
      case 'EventUpdated':
      case 'EventCancelled':
        return store.applyEventSnapshot(message, message.data.event);
      default:
        // Not ours to act on (a misrouted message); record it so the sender stops retrying.
        return store.acknowledgeMessage(message);
    }
  };
}
