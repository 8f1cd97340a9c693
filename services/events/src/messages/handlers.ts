import type { ApplyMessage } from '@dems/kit';
import type { EventsStore } from '../store/events-store.js';

/**
 * Events subscribes to nothing today (SUBSCRIPTIONS in contracts): ticketing owns sales and the capacity
 * rule. A message that still arrives (sent by an older version) is recorded so a redelivery is a duplicate.
 */
export function messageHandlers(store: EventsStore): ApplyMessage {
  return (message) => store.acknowledge(message);
}
