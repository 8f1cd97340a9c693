import type { Ticket } from '@dems/contracts';
import { describe, expect, it } from 'vitest';
import { groupTicketsByEvent } from './group-tickets';

const ticket = (over: Partial<Ticket>): Ticket => ({
  id: 't',
  code: 'CODE-0000',
  status: 'valid',
  orderId: 'o',
  eventId: 'e1',
  eventTitle: 'Jazz Night',
  eventVenue: 'Blue Room',
  eventTimezone: 'Europe/Berlin',
  eventStartsAt: '2099-07-14T19:30:00.000Z',
  eventEndsAt: '2099-07-14T22:30:00.000Z',
  eventStatus: 'published',
  ticketTypeId: 'tt',
  ticketTypeName: 'General',
  priceCents: 2500,
  currency: 'EUR',
  createdAt: '2025-01-01T00:00:00.000Z',
  cancelledAt: null,
  ...over,
});

describe('groupTicketsByEvent', () => {
  it('groups by event, soonest first, events with only cancelled tickets last', () => {
    const groups = groupTicketsByEvent([
      ticket({ id: 'a1', eventId: 'late', eventTitle: 'Late', eventStartsAt: '2099-09-01T00:00:00.000Z' }),
      ticket({ id: 'c1', eventId: 'gone', eventTitle: 'Gone', eventStartsAt: '2099-01-01T00:00:00.000Z', status: 'cancelled' }),
      ticket({ id: 'b1', eventId: 'soon', eventTitle: 'Soon', eventStartsAt: '2099-02-01T00:00:00.000Z' }),
      ticket({ id: 'a2', eventId: 'late', eventTitle: 'Late', eventStartsAt: '2099-09-01T00:00:00.000Z', status: 'cancelled' }),
    ]);
    expect(groups.map((g) => [g.eventTitle, g.tickets.length, g.validCount])).toEqual([
      ['Soon', 1, 1],
      ['Late', 2, 1],
      ['Gone', 1, 0],
    ]);
  });

  it('lists valid tickets before cancelled ones, oldest purchase first', () => {
    const [group] = groupTicketsByEvent([
      ticket({ id: 'x', status: 'cancelled', createdAt: '2025-01-01T00:00:00.000Z' }),
      ticket({ id: 'y', createdAt: '2025-01-03T00:00:00.000Z' }),
      ticket({ id: 'z', createdAt: '2025-01-02T00:00:00.000Z' }),
    ]);
    expect(group!.tickets.map((t) => t.id)).toEqual(['z', 'y', 'x']);
  });

  it('is empty without tickets', () => {
    expect(groupTicketsByEvent([])).toEqual([]);
  });
});
