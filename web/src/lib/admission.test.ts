import type { Availability } from '@dems/contracts';
import { describe, expect, it } from 'vitest';
import { testEvent } from '@/test/fixtures';
import { attendanceText, sellsPaidTickets, ticketsSold } from './admission';

const type = (priceCents: number) => ({ id: `tt-${priceCents}`, name: `T${priceCents}`, priceCents, currency: 'EUR', capacity: 10 });
const seats = (...sold: number[]): Availability => ({
  eventId: 'ev-1',
  ticketTypes: sold.map((n, i) => ({ ticketTypeId: `tt-${i}`, name: `T${i}`, priceCents: 100, currency: 'EUR', capacity: 10, sold: n, remaining: 10 - n })),
});

describe('sellsPaidTickets', () => {
  it('is true as soon as one type has a price, false when every type is free', () => {
    expect(sellsPaidTickets(testEvent({ ticketTypes: [type(0), type(1)] }))).toBe(true);
    expect(sellsPaidTickets(testEvent({ ticketTypes: [type(0), type(0)] }))).toBe(false);
    expect(sellsPaidTickets(testEvent({ ticketTypes: [] }))).toBe(false);
  });
});

describe('ticketsSold', () => {
  it('adds up every type, and is unknown without availability', () => {
    expect(ticketsSold(seats(3, 4))).toBe(7);
    expect(ticketsSold(seats())).toBe(0);
    expect(ticketsSold(undefined)).toBeUndefined();
  });
});

describe('attendanceText', () => {
  it.each([
    // A paid event with tickets sold never reads "0 people": the tickets are counted.
    [{ sold: 3, rsvps: 0, paid: true, rsvpLimit: null }, '3 tickets sold'],
    [{ sold: 1, rsvps: 2, paid: true, rsvpLimit: null }, '1 ticket sold · 2 interested'],
    [{ sold: 0, rsvps: 0, paid: true, rsvpLimit: null }, 'No tickets sold yet'],
    [{ sold: 0, rsvps: 1, paid: true, rsvpLimit: 40 }, 'No tickets sold yet · 1 interested (limit 40)'],
    [{ sold: 1, rsvps: 1, paid: false, rsvpLimit: null }, '1 ticket taken · 1 RSVP'],
    [{ sold: 2, rsvps: 5, paid: false, rsvpLimit: 50 }, '2 tickets taken · 5 RSVPs (limit 50)'],
    [{ sold: 0, rsvps: 0, paid: false, rsvpLimit: null }, 'No tickets taken yet'],
    // Until sales are known, only RSVPs are counted, and no zero is claimed.
    [{ sold: undefined, rsvps: 4, paid: false, rsvpLimit: null }, '4 RSVPs'],
    [{ sold: undefined, rsvps: 0, paid: true, rsvpLimit: null }, null],
  ])('%o → %s', (input, expected) => {
    expect(attendanceText(input)).toBe(expected);
  });
});
