import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { newMessage, type Event, type Registration } from '@dems/contracts';
import type { App } from '@dems/kit';
import { deliver, signedHeaders, tempDir, TEST_SECRET, testTokens } from '@dems/kit/testing';
import { buildApp } from '../src/app.js';
import { SqliteEventsStore } from '../src/store/sqlite.js';
import type { EventRecord } from '../src/domain/banner.js';
import { storeNewEvent } from '../src/use-cases/create-event.js';
import { bannersIn, DAY, eventBody, inDays, pendingMessages, pendingTypes, UNREACHABLE_TICKETING } from './helpers.js';

type Tokens = Awaited<ReturnType<typeof testTokens>>;
type Headers = { authorization: string };

const ORG = { id: 'usr_org1', role: 'organizer' as const, name: 'Olga Organizer', email: 'olga@example.com' };
const OTHER_ORG = { id: 'usr_org2', role: 'organizer' as const };
const ADMIN = { id: 'usr_admin', role: 'admin' as const };
const ADA = { id: 'usr_ada', role: 'attendee' as const, name: 'Ada Lovelace', email: 'ada@example.com' };
const BOB = { id: 'usr_bob', role: 'attendee' as const };

let tokens: Tokens;
let as: { org: Headers; other: Headers; admin: Headers; ada: Headers; bob: Headers };
let dir: ReturnType<typeof tempDir>;
let store: SqliteEventsStore;
let app: App;

beforeAll(async () => {
  tokens = await testTokens();
  as = {
    org: await tokens.bearer(ORG),
    other: await tokens.bearer(OTHER_ORG),
    admin: await tokens.bearer(ADMIN),
    ada: await tokens.bearer(ADA),
    bob: await tokens.bearer(BOB),
  };
});

beforeEach(async () => {
  dir = tempDir('dems-events-routes-');
  store = new SqliteEventsStore({ file: join(dir.path, 'events.db'), synchronous: 'NORMAL' });
  app = await buildApp({ store, banners: bannersIn(dir.path), verify: tokens.verify, secret: TEST_SECRET, inventory: UNREACHABLE_TICKETING });
});

afterEach(async () => {
  await app.close();
  dir.cleanup();
});

async function createEvent(overrides: Parameters<typeof eventBody>[0] = {}, headers: Headers = as.org): Promise<Event> {
  const res = await app.inject({ method: 'POST', url: '/events', headers, payload: eventBody(overrides) });
  expect(res.statusCode, res.body).toBe(201);
  return res.json<Event>();
}

/** An event that is already over can't be made through the API; the store takes any well-formed event. */
async function pastEvent(): Promise<EventRecord> {
  const at = new Date(Date.now() - 10 * DAY).toISOString();
  return storeNewEvent(store, {
    id: 'evt_past',
    organizerId: ORG.id,
    title: 'Last Year Gala',
    description: '',
    venue: 'Old Hall',
    timezone: 'UTC',
    startsAt: at,
    endsAt: new Date(Date.now() - 9 * DAY).toISOString(),
    status: 'published',
    registrationLimit: null,
    registrationCount: 0,
    ticketTypes: [{ id: 'tt_past', name: 'General', priceCents: 0, currency: 'USD', capacity: 10 }],
    banner: [],
    createdAt: at,
    updatedAt: at,
  });
}

const orderPlaced = (event: Event, quantity: number, ticketTypeId = event.ticketTypes[0]!.id) =>
  newMessage('ticketing', 'OrderPlaced', {
    orderId: 'ord_1',
    userId: ADA.id,
    eventId: event.id,
    eventTitle: event.title,
    ticketTypeId,
    ticketTypeName: 'General',
    quantity,
    totalCents: 2500 * quantity,
    currency: 'EUR',
  });

describe('POST /events', () => {
  it('publishes an event with ids for its ticket types and announces it to ticketing and engagement', async () => {
    const event = await createEvent({ registrationLimit: 50 });
    expect(event).toMatchObject({
      organizerId: ORG.id,
      title: 'Jazz Night',
      status: 'published',
      registrationLimit: 50,
      registrationCount: 0,
      ticketTypes: [{ name: 'General', priceCents: 2500, currency: 'EUR', capacity: 100 }],
    });
    expect(event.id).toMatch(/^evt_/);
    expect(event.ticketTypes[0]!.id).toMatch(/^tt_/);

    for (const subscriber of ['ticketing', 'engagement'] as const) {
      const [message, ...rest] = await pendingMessages(store.outbox, subscriber);
      expect(rest).toEqual([]);
      expect(message).toMatchObject({ type: 'EventPublished', source: 'events', data: { event: { id: event.id, version: 1, status: 'published' } } });
    }
    expect(await store.outbox.pendingCount()).toBe(2);
    const fetched = await app.inject({ method: 'GET', url: `/events/${event.id}` });
    expect(fetched.json()).toEqual(event);
  });

  it('stores times in UTC whatever offset was sent', async () => {
    const start = new Date(Date.now() + 5 * DAY);
    start.setUTCHours(18, 0, 0, 0);
    const berlin = start.toISOString().replace('18:00:00.000Z', '20:00:00+02:00');
    const event = await createEvent({ startsAt: berlin, endsAt: inDays(6) });
    expect(event.startsAt).toBe(start.toISOString());
  });

  it('lets an admin publish, not an attendee, not an anonymous caller', async () => {
    await createEvent({}, as.admin);
    const attendee = await app.inject({ method: 'POST', url: '/events', headers: as.ada, payload: eventBody() });
    expect(attendee.statusCode).toBe(403);
    expect(attendee.json().code).toBe('FORBIDDEN');
    const anonymous = await app.inject({ method: 'POST', url: '/events', payload: eventBody() });
    expect(anonymous.statusCode).toBe(401);
    expect(anonymous.json().code).toBe('UNAUTHENTICATED');
    const forged = await app.inject({ method: 'POST', url: '/events', headers: { authorization: 'Bearer not.a.token' }, payload: eventBody() });
    expect(forged.statusCode).toBe(401);
    expect(await store.outbox.pendingCount()).toBe(2); // only the admin's event
  });

  it.each([
    ['an unknown field', eventBody({ colour: 'red' } as never), 'VALIDATION_FAILED'],
    ['a wrong type', eventBody({ title: 42 }), 'VALIDATION_FAILED'],
    [
      'a missing field',
      (() => {
        const b = eventBody();
        delete b.venue;
        return b;
      })(),
      'VALIDATION_FAILED',
    ],
    ['an invalid time zone', eventBody({ timezone: 'Mars/Olympus_Mons' }), 'VALIDATION_FAILED'],
    ['a time that is not ISO 8601', eventBody({ startsAt: 'next friday' }), 'VALIDATION_FAILED'],
    ['endsAt before startsAt', eventBody({ startsAt: inDays(7), endsAt: inDays(6) }), 'VALIDATION_FAILED'],
    ['no ticket types', eventBody({ ticketTypes: [] }), 'VALIDATION_FAILED'],
    ['a negative capacity', eventBody({ ticketTypes: [{ name: 'A', priceCents: 0, capacity: -1 }] }), 'VALIDATION_FAILED'],
    ['an unknown ticket type field', eventBody({ ticketTypes: [{ name: 'A', priceCents: 0, capacity: 1, seats: 3 }] }), 'VALIDATION_FAILED'],
  ])('refuses %s with 400 and writes nothing', async (_name, payload, code) => {
    const res = await app.inject({ method: 'POST', url: '/events', headers: as.org, payload });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code, requestId: expect.any(String) });
    expect(await store.outbox.pendingCount()).toBe(0);
  });

  it('says the time zone is the problem', async () => {
    const res = await app.inject({ method: 'POST', url: '/events', headers: as.org, payload: eventBody({ timezone: 'Nowhere/Land' }) });
    expect(res.json().message).toMatch(/timezone.*IANA time zone/);
  });

  it('refuses malformed JSON with MALFORMED_JSON', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/events',
      headers: { ...as.org, 'content-type': 'application/json' },
      payload: '{"title": "Jazz",',
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().code).toBe('MALFORMED_JSON');
  });

  it('refuses an event that has already ended, saying so', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/events',
      headers: as.org,
      payload: eventBody({ startsAt: inDays(-3), endsAt: inDays(-2) }),
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'VALIDATION_FAILED', message: expect.stringMatching(/already be over/) });
  });
});

describe('GET /events/:id', () => {
  it('answers 404 EVENT_NOT_FOUND for an unknown id and 400 for a malformed one', async () => {
    const unknown = await app.inject({ method: 'GET', url: '/events/evt_nope' });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().code).toBe('EVENT_NOT_FOUND');
    const bad = await app.inject({ method: 'GET', url: '/events/not%20an%20id' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().code).toBe('VALIDATION_FAILED');
  });

  it('returns a cancelled event too', async () => {
    const event = await createEvent();
    await app.inject({ method: 'POST', url: `/events/${event.id}/cancel`, headers: as.org });
    const res = await app.inject({ method: 'GET', url: `/events/${event.id}` });
    expect(res.statusCode).toBe(200);
    expect(res.json().status).toBe('cancelled');
  });
});

describe('GET /events', () => {
  it('lists upcoming published events soonest first, without ended or cancelled ones', async () => {
    const later = await createEvent({ title: 'Later', startsAt: inDays(20), endsAt: inDays(20, 2) });
    const sooner = await createEvent({ title: 'Sooner', startsAt: inDays(2), endsAt: inDays(2, 2) });
    const cancelled = await createEvent({ title: 'Called off' });
    await app.inject({ method: 'POST', url: `/events/${cancelled.id}/cancel`, headers: as.org });
    await pastEvent();

    const res = await app.inject({ method: 'GET', url: '/events' });
    expect(res.statusCode).toBe(200);
    expect(res.json().items.map((e: Event) => e.id)).toEqual([sooner.id, later.id]);
    expect(res.json().nextCursor).toBeNull();
  });

  it('searches title, description and venue case-insensitively and treats wildcards literally', async () => {
    const jazz = await createEvent({ title: 'JAZZ by the river' });
    const venue = await createEvent({ title: 'Poetry', venue: 'The Jazz Cellar' });
    const described = await createEvent({ title: 'Open mic', description: 'Bring your jazz hands; 100% fun' });
    await createEvent({ title: 'Chess club', description: 'Quiet.' });

    const q = async (text: string) =>
      (await app.inject({ method: 'GET', url: `/events?q=${encodeURIComponent(text)}` }))
        .json()
        .items.map((e: Event) => e.id)
        .sort();
    expect(await q('jazz')).toEqual([jazz.id, venue.id, described.id].sort());
    expect(await q('%')).toEqual([described.id]);
    expect(await q('_')).toEqual([]);
    expect(await q('j%z')).toEqual([]);
  });

  it('filters by date range', async () => {
    const a = await createEvent({ title: 'A', startsAt: inDays(3), endsAt: inDays(3, 2) });
    const b = await createEvent({ title: 'B', startsAt: inDays(10), endsAt: inDays(10, 2) });
    const c = await createEvent({ title: 'C', startsAt: inDays(30), endsAt: inDays(30, 2) });
    const ids = async (query: string) => (await app.inject({ method: 'GET', url: `/events?${query}` })).json().items.map((e: Event) => e.id);
    expect(await ids(`from=${encodeURIComponent(inDays(5))}`)).toEqual([b.id, c.id]);
    expect(await ids(`to=${encodeURIComponent(inDays(15))}`)).toEqual([a.id, b.id]);
    expect(await ids(`from=${encodeURIComponent(inDays(5))}&to=${encodeURIComponent(inDays(15))}`)).toEqual([b.id]);
    const bad = await app.inject({ method: 'GET', url: '/events?from=yesterday' });
    expect(bad.statusCode).toBe(400);
  });

  it('pages through more than 20 events with an opaque cursor, in order, without repeats', async () => {
    const created: Event[] = [];
    for (let i = 0; i < 25; i++) created.push(await createEvent({ title: `Event ${i}`, startsAt: inDays(1 + (i % 5)), endsAt: inDays(6) }));
    const expected = [...created].sort((x, y) => x.startsAt.localeCompare(y.startsAt) || x.id.localeCompare(y.id)).map((e) => e.id);

    const first = (await app.inject({ method: 'GET', url: '/events' })).json();
    expect(first.items).toHaveLength(20);
    expect(first.nextCursor).toEqual(expect.any(String));
    const second = (await app.inject({ method: 'GET', url: `/events?cursor=${first.nextCursor}` })).json();
    expect(second.items).toHaveLength(5);
    expect(second.nextCursor).toBeNull();
    expect([...first.items, ...second.items].map((e: Event) => e.id)).toEqual(expected);

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const url: string = `/events?limit=7${cursor ? `&cursor=${cursor}` : ''}`;
      const page = (await app.inject({ method: 'GET', url })).json();
      seen.push(...page.items.map((e: Event) => e.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual(expected);
  });

  it('refuses a bad cursor, a bad limit and unknown query parameters', async () => {
    for (const url of ['/events?cursor=garbage', '/events?cursor=eyJ4IjoxfQ', '/events?limit=0', '/events?limit=101', '/events?limit=ten', '/events?sort=price']) {
      const res = await app.inject({ method: 'GET', url });
      expect(res.statusCode, url).toBe(400);
      expect(res.json().code, url).toBe('VALIDATION_FAILED');
    }
  });

  it('mine=true lists the caller’s own events in every status, past ones included', async () => {
    const own = await createEvent({ title: 'Mine' });
    const cancelled = await createEvent({ title: 'Mine, cancelled' });
    await app.inject({ method: 'POST', url: `/events/${cancelled.id}/cancel`, headers: as.org });
    const past = await pastEvent();
    await createEvent({ title: 'Not mine' }, as.other);

    const res = await app.inject({ method: 'GET', url: '/events?mine=true', headers: as.org });
    expect(res.statusCode).toBe(200);
    expect(
      res
        .json()
        .items.map((e: Event) => e.id)
        .sort(),
    ).toEqual([own.id, cancelled.id, past.id].sort());

    expect((await app.inject({ method: 'GET', url: '/events?mine=true' })).statusCode).toBe(401);
    expect((await app.inject({ method: 'GET', url: '/events?mine=true', headers: as.ada })).statusCode).toBe(403);
  });
});

describe('PATCH /events/:id', () => {
  it('changes fields, bumps the version and announces which fields changed', async () => {
    const event = await createEvent();
    await store.outbox.markDelivered((await store.outbox.claimDue('ticketing', 10, Date.now(), 0)).map((e) => e.id));
    await store.outbox.markDelivered((await store.outbox.claimDue('engagement', 10, Date.now(), 0)).map((e) => e.id));

    const startsAt = inDays(7, 1);
    const res = await app.inject({
      method: 'PATCH',
      url: `/events/${event.id}`,
      headers: as.org,
      payload: { venue: 'Town Hall', startsAt, title: 'Jazz Night' },
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ venue: 'Town Hall', startsAt, title: 'Jazz Night' });
    expect(res.json().updatedAt >= event.updatedAt).toBe(true);

    const [message, ...rest] = await pendingMessages(store.outbox, 'engagement');
    expect(rest).toEqual([]);
    expect(message).toMatchObject({ type: 'EventUpdated', data: { changes: ['venue', 'startsAt'], event: { version: 2, venue: 'Town Hall' } } });
  });

  it('a PATCH that changes nothing answers 200 and sends no message', async () => {
    const event = await createEvent();
    const res = await app.inject({
      method: 'PATCH',
      url: `/events/${event.id}`,
      headers: as.org,
      payload: { title: event.title, ticketTypes: [{ ...event.ticketTypes[0] }] },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual(event);
    expect(await pendingTypes(store.outbox)).toEqual(['EventPublished']);
  });

  it('updates ticket types by id, adds ones without an id and keeps unlisted ones', async () => {
    const event = await createEvent({
      ticketTypes: [
        { name: 'General', priceCents: 2500, currency: 'EUR', capacity: 100 },
        { name: 'VIP', priceCents: 9000, currency: 'EUR', capacity: 10 },
      ],
    });
    const [general, vip] = event.ticketTypes;
    const res = await app.inject({
      method: 'PATCH',
      url: `/events/${event.id}`,
      headers: as.org,
      payload: {
        ticketTypes: [
          { id: general!.id, name: 'General', priceCents: 2000, currency: 'EUR', capacity: 100 },
          { name: 'Student', priceCents: 1000, currency: 'EUR', capacity: 20 },
        ],
      },
    });
    expect(res.statusCode, res.body).toBe(200);
    const types = res.json<Event>().ticketTypes;
    expect(types.map((t) => [t.name, t.priceCents, t.capacity])).toEqual([
      ['General', 2000, 100],
      ['VIP', 9000, 10],
      ['Student', 1000, 20],
    ]);
    expect(types[1]!.id).toBe(vip!.id);
    expect(types[2]!.id).toMatch(/^tt_/);
    const messages = await pendingMessages(store.outbox, 'ticketing');
    expect(messages.at(-1)).toMatchObject({ type: 'EventUpdated', data: { changes: ['ticketTypes'], event: { version: 2 } } });
    expect((await app.inject({ method: 'GET', url: `/events/${event.id}` })).json().ticketTypes).toEqual(types);
  });

  it("keeps a ticket type's currency when a PATCH leaves it out", async () => {
    const event = await createEvent();
    const general = event.ticketTypes[0]!;
    const res = await app.inject({
      method: 'PATCH',
      url: `/events/${event.id}`,
      headers: as.org,
      payload: { ticketTypes: [{ id: general.id, name: general.name, priceCents: 3000, capacity: general.capacity }] },
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json<Event>().ticketTypes[0]).toMatchObject({ priceCents: 3000, currency: general.currency });
  });

  it('answers 404 TICKET_TYPE_NOT_FOUND for an unknown ticket type id and changes nothing', async () => {
    const event = await createEvent();
    const res = await app.inject({
      method: 'PATCH',
      url: `/events/${event.id}`,
      headers: as.org,
      payload: { venue: 'Elsewhere', ticketTypes: [{ id: 'tt_unknown', name: 'X', priceCents: 0, capacity: 5 }] },
    });
    expect(res.statusCode).toBe(404);
    expect(res.json().code).toBe('TICKET_TYPE_NOT_FOUND');
    expect((await app.inject({ method: 'GET', url: `/events/${event.id}` })).json().venue).toBe(event.venue);
  });

  it('checks endsAt after startsAt on the merged event', async () => {
    const event = await createEvent();
    const res = await app.inject({ method: 'PATCH', url: `/events/${event.id}`, headers: as.org, payload: { startsAt: inDays(9) } });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'VALIDATION_FAILED', message: expect.stringMatching(/end after it starts/) });
    const both = await app.inject({ method: 'PATCH', url: `/events/${event.id}`, headers: as.org, payload: { startsAt: inDays(9), endsAt: inDays(8) } });
    expect(both.statusCode).toBe(400);
  });

  it('refuses an empty body, unknown fields and wrong types', async () => {
    const event = await createEvent();
    for (const payload of [{}, { colour: 'red' }, { registrationLimit: 'many' }, { timezone: 'Not/AZone' }]) {
      const res = await app.inject({ method: 'PATCH', url: `/events/${event.id}`, headers: as.org, payload });
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
      expect(res.json().code).toBe('VALIDATION_FAILED');
    }
  });

  it('only the organizer or an admin may change an event', async () => {
    const event = await createEvent();
    const other = await app.inject({ method: 'PATCH', url: `/events/${event.id}`, headers: as.other, payload: { venue: 'Mine now' } });
    expect(other.statusCode).toBe(403);
    expect(other.json().code).toBe('FORBIDDEN');
    const attendee = await app.inject({ method: 'PATCH', url: `/events/${event.id}`, headers: as.ada, payload: { venue: 'Mine now' } });
    expect(attendee.statusCode).toBe(403);
    const anonymous = await app.inject({ method: 'PATCH', url: `/events/${event.id}`, payload: { venue: 'Mine now' } });
    expect(anonymous.statusCode).toBe(401);
    const admin = await app.inject({ method: 'PATCH', url: `/events/${event.id}`, headers: as.admin, payload: { venue: 'Admin Hall' } });
    expect(admin.statusCode).toBe(200);
    expect(admin.json().venue).toBe('Admin Hall');
  });

  it('answers 404 for an unknown event and 409 EVENT_CANCELLED for a cancelled one', async () => {
    const unknown = await app.inject({ method: 'PATCH', url: '/events/evt_nope', headers: as.org, payload: { venue: 'X' } });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().code).toBe('EVENT_NOT_FOUND');
    const event = await createEvent();
    await app.inject({ method: 'POST', url: `/events/${event.id}/cancel`, headers: as.org });
    const res = await app.inject({ method: 'PATCH', url: `/events/${event.id}`, headers: as.org, payload: { venue: 'X' } });
    expect(res.statusCode).toBe(409);
    expect(res.json().code).toBe('EVENT_CANCELLED');
  });

  it('changes a capacity only once ticketing confirms it: unreachable ticketing is 503 and nothing changes', async () => {
    // Confirmation itself, against real sales, is tested with ticketing in tests/system/capacity.test.ts.
    const event = await createEvent();
    const general = event.ticketTypes[0]!;
    const res = await app.inject({
      method: 'PATCH',
      url: `/events/${event.id}`,
      headers: as.org,
      payload: { venue: 'Bigger Hall', ticketTypes: [{ ...general, capacity: 150 }] },
    });
    expect(res.statusCode, res.body).toBe(503);
    expect(res.json()).toMatchObject({ code: 'TICKETING_UNAVAILABLE', message: expect.stringMatching(/nothing was changed/) });
    expect((await app.inject({ method: 'GET', url: `/events/${event.id}` })).json()).toEqual(event);
    expect(await pendingTypes(store.outbox, 'ticketing')).toEqual(['EventPublished']);
    // A change that leaves capacities alone needs no confirmation.
    const other = await app.inject({
      method: 'PATCH',
      url: `/events/${event.id}`,
      headers: as.org,
      payload: { venue: 'Bigger Hall', ticketTypes: [{ ...general, priceCents: 10 }] },
    });
    expect(other.statusCode, other.body).toBe(200);
  });

  it('asks ticketing on behalf of the request: the capacity change carries its request id', async () => {
    // A recording stand-in for ticketing, which confirms every change.
    const asked: (string | undefined)[] = [];
    const recording = await buildApp({
      store,
      banners: bannersIn(dir.path),
      verify: tokens.verify,
      secret: TEST_SECRET,
      inventory: { changeCapacity: async (_change, requestId) => void asked.push(requestId) },
    });
    const event = (await recording.inject({ method: 'POST', url: '/events', headers: as.org, payload: eventBody() })).json<Event>();
    const general = event.ticketTypes[0]!;
    const res = await recording.inject({
      method: 'PATCH',
      url: `/events/${event.id}`,
      headers: { ...as.org, 'x-request-id': 'req-from-the-gateway' },
      payload: { ticketTypes: [{ ...general, capacity: 150 }] },
    });
    await recording.close();
    expect(res.statusCode, res.body).toBe(200);
    expect(asked).toEqual(['req-from-the-gateway']);
  });

  it('refuses a registration limit below the people already registered', async () => {
    const event = await createEvent();
    await app.inject({ method: 'POST', url: '/register', headers: as.ada, payload: { eventId: event.id } });
    await app.inject({ method: 'POST', url: '/register', headers: as.bob, payload: { eventId: event.id } });
    const res = await app.inject({ method: 'PATCH', url: `/events/${event.id}`, headers: as.org, payload: { registrationLimit: 1 } });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'VALIDATION_FAILED', message: expect.stringMatching(/2 people are already registered/) });
    expect((await app.inject({ method: 'PATCH', url: `/events/${event.id}`, headers: as.org, payload: { registrationLimit: 2 } })).statusCode).toBe(200);
  });
});

describe('POST /events/:id/cancel', () => {
  it('cancels once: version+1 and one EventCancelled; cancelling again changes nothing', async () => {
    const event = await createEvent();
    const res = await app.inject({ method: 'POST', url: `/events/${event.id}/cancel`, headers: as.org });
    expect(res.statusCode).toBe(200);
    expect(res.json().status).toBe('cancelled');
    const again = await app.inject({ method: 'POST', url: `/events/${event.id}/cancel`, headers: as.org });
    expect(again.statusCode).toBe(200);
    expect(again.json()).toEqual(res.json());
    const messages = await pendingMessages(store.outbox, 'ticketing');
    expect(messages.map((m) => m.type)).toEqual(['EventPublished', 'EventCancelled']);
    expect(messages[1]).toMatchObject({ data: { event: { id: event.id, status: 'cancelled', version: 2 } } });
  });

  it('only the organizer or an admin may cancel; unknown events are 404', async () => {
    const event = await createEvent();
    expect((await app.inject({ method: 'POST', url: `/events/${event.id}/cancel`, headers: as.other })).statusCode).toBe(403);
    expect((await app.inject({ method: 'POST', url: `/events/${event.id}/cancel`, headers: as.ada })).statusCode).toBe(403);
    expect((await app.inject({ method: 'POST', url: `/events/${event.id}/cancel` })).statusCode).toBe(401);
    const unknown = await app.inject({ method: 'POST', url: '/events/evt_nope/cancel', headers: as.org });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().code).toBe('EVENT_NOT_FOUND');
    expect((await app.inject({ method: 'POST', url: `/events/${event.id}/cancel`, headers: as.admin })).json().status).toBe('cancelled');
  });
});

describe('POST /register', () => {
  it('registers the caller with their name and email and the event’s title, once', async () => {
    const event = await createEvent();
    const res = await app.inject({ method: 'POST', url: '/register', headers: as.ada, payload: { eventId: event.id } });
    expect(res.statusCode).toBe(201);
    const registration = res.json<Registration>();
    expect(registration).toMatchObject({
      eventId: event.id,
      userId: ADA.id,
      userName: ADA.name,
      userEmail: ADA.email,
      eventTitle: 'Jazz Night',
      eventStartsAt: event.startsAt,
    });

    const again = await app.inject({ method: 'POST', url: '/register', headers: as.ada, payload: { eventId: event.id } });
    expect(again.statusCode).toBe(200);
    expect(again.json()).toEqual(registration);
    expect((await app.inject({ method: 'GET', url: `/events/${event.id}` })).json().registrationCount).toBe(1);

    const messages = await pendingMessages(store.outbox, 'engagement');
    expect(messages.map((m) => m.type)).toEqual(['EventPublished', 'UserRegistered']);
    expect(messages[1]!.data).toEqual({ registrationId: registration.id, eventId: event.id, eventTitle: 'Jazz Night', userId: ADA.id });
  });

  it('answers 401 anonymous, 404 unknown, 409 cancelled, 409 ended, 400 bad body', async () => {
    expect((await app.inject({ method: 'POST', url: '/register', payload: { eventId: 'evt_x' } })).statusCode).toBe(401);

    const unknown = await app.inject({ method: 'POST', url: '/register', headers: as.ada, payload: { eventId: 'evt_nope' } });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().code).toBe('EVENT_NOT_FOUND');

    const cancelled = await createEvent();
    await app.inject({ method: 'POST', url: `/events/${cancelled.id}/cancel`, headers: as.org });
    const toCancelled = await app.inject({ method: 'POST', url: '/register', headers: as.ada, payload: { eventId: cancelled.id } });
    expect(toCancelled.statusCode).toBe(409);
    expect(toCancelled.json().code).toBe('EVENT_CANCELLED');

    const past = await pastEvent();
    const toPast = await app.inject({ method: 'POST', url: '/register', headers: as.ada, payload: { eventId: past.id } });
    expect(toPast.statusCode).toBe(409);
    expect(toPast.json().code).toBe('EVENT_ENDED');

    for (const payload of [{}, { eventId: 5 }, { eventId: cancelled.id, seats: 2 }]) {
      const res = await app.inject({ method: 'POST', url: '/register', headers: as.ada, payload });
      expect(res.statusCode).toBe(400);
      expect(res.json().code).toBe('VALIDATION_FAILED');
    }
    expect(await pendingTypes(store.outbox)).not.toContain('UserRegistered');
  });

  it('answers 409 EVENT_FULL at the limit', async () => {
    const event = await createEvent({ registrationLimit: 1 });
    expect((await app.inject({ method: 'POST', url: '/register', headers: as.ada, payload: { eventId: event.id } })).statusCode).toBe(201);
    const full = await app.inject({ method: 'POST', url: '/register', headers: as.bob, payload: { eventId: event.id } });
    expect(full.statusCode).toBe(409);
    expect(full.json().code).toBe('EVENT_FULL');
    // The one who got in can still retry and get their registration back.
    expect((await app.inject({ method: 'POST', url: '/register', headers: as.ada, payload: { eventId: event.id } })).statusCode).toBe(200);
  });

  it('never registers more people than the limit under concurrent requests', async () => {
    const event = await createEvent({ registrationLimit: 5 });
    const headers = await Promise.all(Array.from({ length: 30 }, (_, i) => tokens.bearer({ id: `usr_${i}` })));
    // Every user twice, all at once: duplicates must come back as the same registration, not a second seat.
    const results = await Promise.all([...headers, ...headers].map((h) => app.inject({ method: 'POST', url: '/register', headers: h, payload: { eventId: event.id } })));
    const statuses = results.map((r) => r.statusCode);
    expect(statuses.filter((s) => s === 201)).toHaveLength(5);
    expect(statuses.every((s) => s === 200 || s === 201 || s === 409)).toBe(true);
    expect(results.filter((r) => r.statusCode === 409).every((r) => r.json().code === 'EVENT_FULL')).toBe(true);

    const registrations = (await app.inject({ method: 'GET', url: `/events/${event.id}/registrations`, headers: as.org })).json().items;
    expect(registrations).toHaveLength(5);
    expect((await app.inject({ method: 'GET', url: `/events/${event.id}` })).json().registrationCount).toBe(5);
    expect((await pendingTypes(store.outbox)).filter((t) => t === 'UserRegistered')).toHaveLength(5);
  });
});

describe('DELETE /register/:eventId', () => {
  it('withdraws, frees the seat and announces it; a second withdrawal is 404', async () => {
    const event = await createEvent({ registrationLimit: 1 });
    const registration = (await app.inject({ method: 'POST', url: '/register', headers: as.ada, payload: { eventId: event.id } })).json();
    const res = await app.inject({ method: 'DELETE', url: `/register/${event.id}`, headers: as.ada });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ ok: true });
    expect((await app.inject({ method: 'GET', url: `/events/${event.id}` })).json().registrationCount).toBe(0);
    const messages = await pendingMessages(store.outbox, 'engagement');
    expect(messages.at(-1)).toMatchObject({ type: 'RegistrationWithdrawn', data: { registrationId: registration.id, userId: ADA.id } });

    const again = await app.inject({ method: 'DELETE', url: `/register/${event.id}`, headers: as.ada });
    expect(again.statusCode).toBe(404);
    expect(again.json().code).toBe('REGISTRATION_NOT_FOUND');
    expect((await app.inject({ method: 'POST', url: '/register', headers: as.bob, payload: { eventId: event.id } })).statusCode).toBe(201);
    expect((await app.inject({ method: 'DELETE', url: `/register/${event.id}` })).statusCode).toBe(401);
    expect((await app.inject({ method: 'DELETE', url: '/register/bad%20id', headers: as.ada })).statusCode).toBe(400);
  });
});

describe('GET /registrations and GET /events/:id/registrations', () => {
  it('shows each user only their own registrations', async () => {
    const a = await createEvent({ title: 'A', startsAt: inDays(4), endsAt: inDays(4, 2) });
    const b = await createEvent({ title: 'B', startsAt: inDays(2), endsAt: inDays(2, 2) });
    await app.inject({ method: 'POST', url: '/register', headers: as.ada, payload: { eventId: a.id } });
    await app.inject({ method: 'POST', url: '/register', headers: as.ada, payload: { eventId: b.id } });
    await app.inject({ method: 'POST', url: '/register', headers: as.bob, payload: { eventId: a.id } });

    const ada = (await app.inject({ method: 'GET', url: '/registrations', headers: as.ada })).json().items;
    expect(ada.map((r: Registration) => r.eventTitle)).toEqual(a.id < b.id ? ['B', 'A'] : ['A', 'B']);
    expect(ada.every((r: Registration) => r.userId === ADA.id)).toBe(true);
    expect((await app.inject({ method: 'GET', url: '/registrations', headers: as.bob })).json().items).toHaveLength(1);
    expect((await app.inject({ method: 'GET', url: '/registrations' })).statusCode).toBe(401);
  });

  it('shows an event’s registrations to its organizer and admins only', async () => {
    const event = await createEvent();
    await app.inject({ method: 'POST', url: '/register', headers: as.ada, payload: { eventId: event.id } });
    const own = await app.inject({ method: 'GET', url: `/events/${event.id}/registrations`, headers: as.org });
    expect(own.statusCode).toBe(200);
    expect(own.json().items.map((r: Registration) => r.userEmail)).toEqual([ADA.email]);
    expect((await app.inject({ method: 'GET', url: `/events/${event.id}/registrations`, headers: as.admin })).statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url: `/events/${event.id}/registrations`, headers: as.other })).statusCode).toBe(403);
    expect((await app.inject({ method: 'GET', url: `/events/${event.id}/registrations`, headers: as.ada })).statusCode).toBe(403);
    expect((await app.inject({ method: 'GET', url: `/events/${event.id}/registrations` })).statusCode).toBe(401);
    const unknown = await app.inject({ method: 'GET', url: '/events/evt_nope/registrations', headers: as.org });
    expect(unknown.statusCode).toBe(404);
  });

  it('pages both lists with cursor and limit, narrows mine to one event, and refuses a cursor it did not make', async () => {
    const events = [await createEvent({ title: 'A' }), await createEvent({ title: 'B' }), await createEvent({ title: 'C' })];
    for (const e of events) await app.inject({ method: 'POST', url: '/register', headers: as.ada, payload: { eventId: e.id } });
    await app.inject({ method: 'POST', url: '/register', headers: as.bob, payload: { eventId: events[0]!.id } });

    // Newest event first, by id: ids start with their millisecond, and events made in the same one sort by the rest.
    const newestFirst = [...events].sort((x, y) => (x.id < y.id ? 1 : -1)).map((e) => e.title);
    const first = (await app.inject({ method: 'GET', url: '/registrations?limit=2', headers: as.ada })).json();
    expect(first.items.map((r: Registration) => r.eventTitle)).toEqual(newestFirst.slice(0, 2));
    expect(first.nextCursor).toEqual(expect.any(String));
    const second = (await app.inject({ method: 'GET', url: `/registrations?limit=2&cursor=${first.nextCursor}`, headers: as.ada })).json();
    expect(second).toEqual({ items: [expect.objectContaining({ eventTitle: newestFirst[2] })], nextCursor: null });

    const one = (await app.inject({ method: 'GET', url: `/registrations?eventId=${events[1]!.id}`, headers: as.ada })).json();
    expect(one).toEqual({ items: [expect.objectContaining({ eventId: events[1]!.id, userId: ADA.id })], nextCursor: null });
    expect((await app.inject({ method: 'GET', url: `/registrations?eventId=${events[1]!.id}`, headers: as.bob })).json()).toEqual({ items: [], nextCursor: null });

    const attendees = (await app.inject({ method: 'GET', url: `/events/${events[0]!.id}/registrations?limit=1`, headers: as.org })).json();
    expect(attendees.items.map((r: Registration) => r.userId)).toEqual([ADA.id]);
    const rest = (await app.inject({ method: 'GET', url: `/events/${events[0]!.id}/registrations?limit=1&cursor=${attendees.nextCursor}`, headers: as.org })).json();
    expect(rest.items.map((r: Registration) => r.userId)).toEqual([BOB.id]);

    const bad = await app.inject({ method: 'GET', url: '/registrations?cursor=not-ours', headers: as.ada });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().code).toBe('VALIDATION_FAILED');
    expect((await app.inject({ method: 'GET', url: '/registrations?limit=101', headers: as.ada })).statusCode).toBe(400);
  });

  it('keeps registrations showing the event’s current title, times, zone and status', async () => {
    const event = await createEvent();
    await app.inject({ method: 'POST', url: '/register', headers: as.ada, payload: { eventId: event.id } });
    const startsAt = inDays(7, 1);
    await app.inject({ method: 'PATCH', url: `/events/${event.id}`, headers: as.org, payload: { title: 'Jazz Night (moved)', startsAt, timezone: 'Asia/Kolkata' } });
    const mine = async () => (await app.inject({ method: 'GET', url: '/registrations', headers: as.ada })).json().items[0];
    expect(await mine()).toMatchObject({
      eventTitle: 'Jazz Night (moved)',
      eventStartsAt: startsAt,
      eventEndsAt: event.endsAt,
      eventTimezone: 'Asia/Kolkata',
      eventStatus: 'published',
    });
    expect((await app.inject({ method: 'POST', url: `/events/${event.id}/cancel`, headers: as.org })).statusCode).toBe(200);
    expect(await mine()).toMatchObject({ eventTitle: 'Jazz Night (moved)', eventStatus: 'cancelled' });
  });
});

describe('internal messages', () => {
  it('records a redelivered message once (events subscribes to nothing; older senders may still deliver)', async () => {
    const event = await createEvent();
    const message = orderPlaced(event, 3);
    const first = await deliver(app, [message]);
    expect(first.json()).toMatchObject({ applied: 1 });
    const second = await deliver(app, [message, message]);
    expect(second.json().results.map((r: { result: string }) => r.result)).toEqual(['duplicate', 'duplicate']);
  });

  it('refuses unsigned deliveries and malformed messages', async () => {
    const event = await createEvent();
    const payload = JSON.stringify({ messages: [orderPlaced(event, 1)] });
    const unsigned = await app.inject({ method: 'POST', url: '/internal/messages', headers: { 'content-type': 'application/json' }, payload });
    expect(unsigned.statusCode).toBe(401);
    expect(unsigned.json().code).toBe('BAD_SIGNATURE');
    const bad = JSON.stringify({ messages: [{ ...orderPlaced(event, 1), data: { quantity: 'lots' } }] });
    expect((await app.inject({ method: 'POST', url: '/internal/messages', headers: signedHeaders(bad), payload: bad })).statusCode).toBe(400);
  });
});

describe('publishing limit', () => {
  it('lets an organizer publish a limited number of events a day (429 with Retry-After), admins and others unaffected', async () => {
    const limited = await buildApp({
      store,
      banners: bannersIn(dir.path),
      verify: tokens.verify,
      secret: TEST_SECRET,
      inventory: UNREACHABLE_TICKETING,
      eventsPerOrganizerPerDay: 2,
    });
    try {
      const publish = (headers: Headers) => limited.inject({ method: 'POST', url: '/events', headers, payload: eventBody() });
      expect((await publish(as.org)).statusCode).toBe(201);
      expect((await publish(as.org)).statusCode).toBe(201);
      const third = await publish(as.org);
      expect(third.statusCode).toBe(429);
      expect(third.json()).toMatchObject({ code: 'RATE_LIMITED', message: expect.stringMatching(/up to 2 events a day/) });
      expect(Number(third.headers['retry-after'])).toBeGreaterThan(3600);
      expect((await publish(as.other)).statusCode).toBe(201);
      for (let i = 0; i < 3; i++) expect((await publish(as.admin)).statusCode).toBe(201);
      // A refused request is not counted, and wrote nothing.
      expect((await limited.inject({ method: 'GET', url: '/events?mine=true', headers: as.org })).json().items).toHaveLength(2);
    } finally {
      await limited.close();
    }
  });
});

describe('service basics', () => {
  it('answers health, readiness and documents its routes', async () => {
    expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url: '/readyz' })).json()).toMatchObject({ status: 'ready' });
    const paths = Object.keys((await app.inject({ method: 'GET', url: '/openapi.json' })).json().paths);
    expect(paths).toEqual(
      expect.arrayContaining(['/events', '/events/{id}', '/events/{id}/cancel', '/register', '/register/{eventId}', '/registrations', '/events/{id}/registrations']),
    );
    expect(paths.some((p) => p.startsWith('/internal'))).toBe(false);
  });

  it('answers an unknown route with NOT_FOUND', async () => {
    const res = await app.inject({ method: 'GET', url: '/nope' });
    expect(res.statusCode).toBe(404);
    expect(res.json().code).toBe('NOT_FOUND');
  });
});
