import type { ApplyMessage } from '@dems/kit';
import type { EventsStore } from '../store/events-store.js';

/**
 * Ticketing's sales feed the tickets-sold projection that stops an organizer from cutting capacity below
 * what is already sold. Each ticket cancellation returns one seat.
 */
export function messageHandlers(store: EventsStore): ApplyMessage {
  return async (message) => {
    switch (message.type) {
      case 'OrderPlaced':
        return store.adjustTicketsSold(message, { eventId: message.data.eventId, ticketTypeId: message.data.ticketTypeId, delta: message.data.quantity });
      case 'TicketCancelled':
        return store.adjustTicketsSold(message, { eventId: message.data.eventId, ticketTypeId: message.data.ticketTypeId, delta: -1 });
      default:
        // Not subscribed to anything else; record it so a redelivery is visibly a duplicate.
        return store.acknowledge(message);
    }
  };
}
