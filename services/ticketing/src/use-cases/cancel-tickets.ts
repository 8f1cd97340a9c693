import { newMessage, type Message, type Ticket } from '@dems/contracts';
import { refuseCancellation } from '../domain/purchase.js';
import type { Cancellation, CancelledTicket, TicketCancellation, TicketingStore } from '../store/ticketing-store.js';

/**
 * What happens when an attendee hands a ticket back: unless it is already cancelled or its event is over
 * (refuseCancellation, checked in the same atomic step), the ticket is cancelled, its price refunded on its
 * order (domain/purchase.ts orderAfterCancelling), its seat goes back on sale, and TicketCancelled goes out.
 */
export function cancelTicket(store: TicketingStore, userId: string, ticketId: string, now = new Date()): Promise<Ticket> {
  return store.cancelTicket(userId, ticketId, byAttendee(now));
}

/** An attendee's cancellation at `now`. */
export function byAttendee(now = new Date()): TicketCancellation {
  return {
    now,
    refuse: (status, event) => refuseCancellation(status, event, now),
    announce: (ticket) => ticketCancelled(ticket, 'attendee', now),
  };
}

/** Every valid ticket of a cancelled event, cancelled and refunded at `now` (apply-event-changes.ts). */
export function byEventCancellation(now = new Date()): Cancellation {
  return { now, announce: (ticket) => ticketCancelled(ticket, 'event_cancelled', now) };
}

function ticketCancelled(ticket: CancelledTicket, reason: 'attendee' | 'event_cancelled', now: Date): Message<'TicketCancelled'> {
  const { ticketId, orderId, userId, eventId, eventTitle, ticketTypeId, refundCents, currency } = ticket;
  return newMessage('ticketing', 'TicketCancelled', { ticketId, orderId, userId, eventId, eventTitle, ticketTypeId, refundCents, currency, reason }, now);
}
