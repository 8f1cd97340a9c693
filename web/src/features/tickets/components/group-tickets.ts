import type { Ticket } from '@dems/contracts';

/** One event's tickets, with the event as its tickets carry it (ticketing keeps it current). */
export interface TicketGroup {
  eventId: string;
  eventTitle: string;
  eventStartsAt: string;
  eventEndsAt: string;
  eventVenue: string;
  eventTimezone: string;
  eventCancelled: boolean;
  tickets: Ticket[];
  validCount: number;
}

/**
 * Tickets by event: upcoming events with valid tickets first (soonest first), then events whose tickets are
 * all cancelled. Inside a group, valid tickets come before cancelled ones, oldest purchase first.
 */
export function groupTicketsByEvent(tickets: Ticket[]): TicketGroup[] {
  const groups = new Map<string, TicketGroup>();
  for (const t of tickets) {
    const g = groups.get(t.eventId) ?? {
      eventId: t.eventId,
      eventTitle: t.eventTitle,
      eventStartsAt: t.eventStartsAt,
      eventEndsAt: t.eventEndsAt,
      eventVenue: t.eventVenue,
      eventTimezone: t.eventTimezone,
      eventCancelled: t.eventStatus === 'cancelled',
      tickets: [],
      validCount: 0,
    };
    g.tickets.push(t);
    if (t.status === 'valid') g.validCount++;
    groups.set(t.eventId, g);
  }
  for (const g of groups.values()) {
    g.tickets.sort((a, b) => (a.status === b.status ? a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id) : a.status === 'valid' ? -1 : 1));
  }
  return [...groups.values()].sort((a, b) => {
    if (a.validCount > 0 !== b.validCount > 0) return a.validCount > 0 ? -1 : 1;
    return a.eventStartsAt.localeCompare(b.eventStartsAt);
  });
}
