import { describe, expect, it } from 'vitest';
import type { TicketType, UpdateEventBody } from '@dems/contracts';
import type { EventRecord } from '../src/domain/banner.js';
import type { AuthUser } from '@dems/kit';
import { assertCanManage, assertCanRegister, capacityChanges, MAX_TICKET_TYPES, planEventUpdate } from '../src/domain/event-rules.js';
import { errorOf } from './helpers.js';

// The domain rules of a change as the organizer and the other services see them: what a PATCH changes,
// which fields EventUpdated names, when updatedAt moves, what ticketing is asked to confirm, and the words
// of each refusal.

const CREATED = '2031-01-10T09:00:00.000Z';
const NOW = new Date('2031-02-01T12:00:00.000Z');

const general: TicketType = { id: 'tt_general', name: 'General', priceCents: 2500, currency: 'EUR', capacity: 100 };
const vip: TicketType = { id: 'tt_vip', name: 'VIP', priceCents: 9000, currency: 'EUR', capacity: 10 };

const event = (over: Partial<EventRecord> = {}): EventRecord => ({
  id: 'evt_jazz',
  organizerId: 'usr_org',
  title: 'Jazz Night',
  description: 'An evening of live jazz.',
  venue: 'Blue Note Hall',
  timezone: 'Europe/Berlin',
  startsAt: '2031-03-01T19:00:00.000Z',
  endsAt: '2031-03-01T22:00:00.000Z',
  status: 'published',
  registrationLimit: null,
  registrationCount: 0,
  ticketTypes: [{ ...general }, { ...vip }],
  banner: [],
  createdAt: CREATED,
  updatedAt: CREATED,
  ...over,
});

const plan = (patch: UpdateEventBody, current = event()) => planEventUpdate(current, patch, NOW);

describe('what a PATCH changes', () => {
  it('a price alone is a change: EventUpdated names the ticket types and updatedAt moves', () => {
    const { event: next, changes } = plan({ ticketTypes: [{ ...general, priceCents: 2000 }] });
    expect(changes).toEqual(['ticketTypes']);
    expect(next.ticketTypes[0]).toEqual({ ...general, priceCents: 2000 });
    expect(next.updatedAt).toBe(NOW.toISOString());
  });

  it('a currency alone is a change: EventUpdated names the ticket types and updatedAt moves', () => {
    const { event: next, changes } = plan({ ticketTypes: [{ ...general, currency: 'USD' }] });
    expect(changes).toEqual(['ticketTypes']);
    expect(next.ticketTypes[0]).toEqual({ ...general, currency: 'USD' });
    expect(next.updatedAt).toBe(NOW.toISOString());
  });

  it.each([
    ['name', { name: 'Standing' }],
    ['capacity', { capacity: 120 }],
  ])('a %s alone is a change too', (_field, over) => {
    const { event: next, changes } = plan({ ticketTypes: [{ ...general, ...over }] });
    expect(changes).toEqual(['ticketTypes']);
    expect(next.ticketTypes[0]).toEqual({ ...general, ...over });
  });

  it('a PATCH that repeats the current values changes nothing: no fields named, updatedAt and the event stay as they were', () => {
    const current = event({ registrationLimit: 50 });
    const result = plan(
      {
        title: current.title,
        venue: current.venue,
        startsAt: current.startsAt,
        endsAt: current.endsAt,
        registrationLimit: 50,
        ticketTypes: [{ ...general }, { id: vip.id, name: vip.name, priceCents: vip.priceCents, capacity: vip.capacity }],
      },
      current,
    );
    expect(result.changes).toEqual([]);
    expect(result.event).toEqual(current);
    expect(result.event.updatedAt).toBe(CREATED);
  });

  it('names the changed fields in a stable order, with ticketTypes last, and stamps updatedAt with now', () => {
    const { event: next, changes } = plan({ ticketTypes: [{ ...vip, capacity: 12 }], registrationLimit: 80, venue: 'Town Hall', title: 'Jazz Night' });
    expect(changes).toEqual(['venue', 'registrationLimit', 'ticketTypes']);
    expect(next).toMatchObject({ venue: 'Town Hall', registrationLimit: 80, updatedAt: NOW.toISOString(), createdAt: CREATED });
  });

  it('leaves the current event untouched: the plan is a copy until it is committed', () => {
    const current = event();
    plan(
      {
        venue: 'Town Hall',
        ticketTypes: [
          { ...general, priceCents: 1 },
          { name: 'Student', priceCents: 500, capacity: 5 },
        ],
      },
      current,
    );
    expect(current).toEqual(event());
  });

  it('a new ticket type without a currency is in USD; an existing one left without a currency keeps its own', () => {
    const { event: next } = plan({
      ticketTypes: [
        { id: vip.id, name: 'VIP', priceCents: 9500, capacity: 10 },
        { name: 'Student', priceCents: 500, capacity: 5 },
      ],
    });
    expect(next.ticketTypes.map((t) => [t.name, t.priceCents, t.currency])).toEqual([
      ['General', 2500, 'EUR'],
      ['VIP', 9500, 'EUR'],
      ['Student', 500, 'USD'],
    ]);
    expect(next.ticketTypes[2]!.id).toMatch(/^tt_/);
  });

  it('refuses an unknown ticket type id, naming it', () => {
    expect(errorOf(() => plan({ ticketTypes: [{ id: 'tt_nope', name: 'X', priceCents: 0, capacity: 5 }] }))).toMatchObject({
      code: 'TICKET_TYPE_NOT_FOUND',
      message: 'This event has no ticket type with id tt_nope.',
    });
  });

  it('refuses any change to a cancelled event, saying why', () => {
    expect(errorOf(() => plan({ venue: 'X' }, event({ status: 'cancelled' })))).toMatchObject({
      code: 'EVENT_CANCELLED',
      message: 'This event has been cancelled and can no longer be changed.',
    });
  });
});

describe('at most 20 ticket types, however many PATCHes it takes', () => {
  const withTypes = (n: number) =>
    event({ ticketTypes: Array.from({ length: n }, (_, i) => ({ id: `tt_${i}`, name: `Type ${i}`, priceCents: 100, currency: 'EUR', capacity: 5 })) });
  const oneMore = { ticketTypes: [{ name: 'One more', priceCents: 100, capacity: 5 }] };

  it('adds the twentieth', () => {
    expect(MAX_TICKET_TYPES).toBe(20);
    const { event: next, changes } = plan(oneMore, withTypes(19));
    expect(next.ticketTypes).toHaveLength(20);
    expect(changes).toEqual(['ticketTypes']);
  });

  it('refuses the twenty-first, saying what the limit is', () => {
    expect(errorOf(() => plan(oneMore, withTypes(20)))).toMatchObject({
      code: 'VALIDATION_FAILED',
      message: 'body.ticketTypes: an event can have at most 20 ticket types.',
    });
  });

  it('still lets an event with 20 change one of them', () => {
    expect(plan({ ticketTypes: [{ id: 'tt_3', name: 'Type 3', priceCents: 150, currency: 'EUR', capacity: 5 }] }, withTypes(20)).changes).toEqual(['ticketTypes']);
  });
});

describe('moving the end', () => {
  it('refuses an end already past, and only when the PATCH moves the end', () => {
    const current = event({ startsAt: '2031-01-01T10:00:00.000Z', endsAt: '2031-03-01T22:00:00.000Z' });
    expect(errorOf(() => plan({ endsAt: '2031-01-20T10:00:00.000Z' }, current))).toMatchObject({
      code: 'VALIDATION_FAILED',
      message: 'body.endsAt: the end time is already past; choose one in the future.',
    });
    expect(plan({ endsAt: '2031-02-20T10:00:00.000Z' }, current).changes).toEqual(['endsAt']);
    const over = event({ startsAt: '2031-01-01T10:00:00.000Z', endsAt: '2031-01-02T10:00:00.000Z' });
    expect(plan({ title: 'Jazz Night (recording)', endsAt: over.endsAt }, over).changes).toEqual(['title']);
  });
});

describe('what ticketing is asked to confirm', () => {
  it('only the existing types whose capacity changed, with their new capacity', () => {
    const before = event();
    const { event: after } = plan(
      {
        ticketTypes: [
          { ...general, priceCents: 1 },
          { ...vip, capacity: 25 },
          { name: 'Student', priceCents: 500, capacity: 5 },
        ],
      },
      before,
    );
    expect(capacityChanges(before, after)).toEqual([{ id: vip.id, capacity: 25 }]);
  });

  it('nothing when only prices, names or new types change', () => {
    const before = event();
    const { event: after } = plan(
      {
        ticketTypes: [
          { ...general, name: 'Standing', priceCents: 1 },
          { name: 'Student', priceCents: 500, capacity: 5 },
        ],
      },
      before,
    );
    expect(capacityChanges(before, after)).toEqual([]);
  });
});

describe('who may manage an event', () => {
  const admin: AuthUser = { id: 'usr_admin', role: 'admin' } as AuthUser;
  const owner: AuthUser = { id: 'usr_org', role: 'organizer' } as AuthUser;
  const otherOrganizer: AuthUser = { id: 'usr_other', role: 'organizer' } as AuthUser;
  const attendeeWithOwnersId: AuthUser = { id: 'usr_org', role: 'attendee' } as AuthUser;

  it('its organizer and admins; not another organizer, not an attendee even with the same id', () => {
    expect(errorOf(() => assertCanManage(event(), owner))).toBeNull();
    expect(errorOf(() => assertCanManage(event(), admin))).toBeNull();
    for (const user of [otherOrganizer, attendeeWithOwnersId]) {
      expect(errorOf(() => assertCanManage(event(), user))).toMatchObject({ code: 'FORBIDDEN', message: 'Only the organizer of this event can do this.' });
    }
  });
});

describe('registration refusals say why', () => {
  it.each([
    ['cancelled', event({ status: 'cancelled' }), NOW, 'EVENT_CANCELLED', 'This event has been cancelled, so registration is closed.'],
    ['over', event(), new Date('2031-03-02T00:00:00.000Z'), 'EVENT_ENDED', 'This event is already over.'],
    ['full', event({ registrationLimit: 2, registrationCount: 2 }), NOW, 'EVENT_FULL', 'This event has reached its registration limit.'],
  ])('%s', (_name, current, now, code, message) => {
    expect(errorOf(() => assertCanRegister(current, now))).toMatchObject({ code, message });
  });

  it('takes the last place below the limit', () => {
    expect(errorOf(() => assertCanRegister(event({ registrationLimit: 2, registrationCount: 1 }), NOW))).toBeNull();
  });
});
