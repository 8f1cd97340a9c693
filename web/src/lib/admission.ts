import type { Availability, Event } from '@dems/contracts';

/**
 * What gets a person in, next to what an RSVP means (docs/adr/017-a-ticket-gets-you-in-an-rsvp-says-you-are-coming.md):
 * a ticket is always a place. On an event that sells paid tickets an RSVP is interest only, never a way in;
 * on a free event it is a free place on the organizer's list, as a free ticket is.
 */
export const sellsPaidTickets = (event: Pick<Event, 'ticketTypes'>): boolean => event.ticketTypes.some((t) => t.priceCents > 0);

/** Tickets sold over every type (refunded ones are no longer sold); undefined while the count is unknown. */
export function ticketsSold(availability: Availability | undefined): number | undefined {
  return availability?.ticketTypes.reduce((sum, t) => sum + t.sold, 0);
}

const count = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

/**
 * The event page's line on who is coming: tickets sold and RSVPs, each named for what it is, so a paid event
 * with tickets sold never reads "0 people". `sold` is undefined until availability is known: then only RSVPs
 * are counted, and nothing is said (null) rather than a zero that may be wrong.
 */
export function attendanceText({ sold, rsvps, paid, rsvpLimit }: { sold: number | undefined; rsvps: number; paid: boolean; rsvpLimit: number | null }): string | null {
  const limit = rsvpLimit === null ? '' : ` (limit ${rsvpLimit})`;
  const rsvpPart = rsvps === 0 ? null : `${paid ? `${rsvps} interested` : count(rsvps, 'RSVP', 'RSVPs')}${limit}`;
  if (sold === undefined) return rsvpPart;
  const ticketPart =
    sold === 0 ? (paid ? 'No tickets sold yet' : 'No tickets taken yet') : count(sold, paid ? 'ticket sold' : 'ticket taken', paid ? 'tickets sold' : 'tickets taken');
  return rsvpPart === null ? ticketPart : `${ticketPart} · ${rsvpPart}`;
}
