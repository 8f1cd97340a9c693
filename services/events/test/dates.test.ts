import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { newMessage, type Event } from '@dems/contracts';
import type { App } from '@dems/kit';
import { tempDir, TEST_SECRET, testTokens } from '@dems/kit/testing';
import { buildApp } from '../src/app.js';
import { SqliteEventsStore } from '../src/store/sqlite.js';
import { bannersIn, eventBody, inDays, pendingMessages, UNREACHABLE_TICKETING } from './helpers.js';

// Dates are judged on their UTC value: valid ISO 8601 texts whose UTC form leaves 1970–9999 once made
// GET /events answer 500 to every visitor, and the event that caused it could not be found to repair.

const ORG = { id: 'usr_org1', role: 'organizer' as const };
let org: { authorization: string };
let dir: ReturnType<typeof tempDir>;
let file: string;
let store: SqliteEventsStore;
let app: App;

let tokens: Awaited<ReturnType<typeof testTokens>>;
beforeAll(async () => {
  tokens = await testTokens();
  org = await tokens.bearer(ORG);
  dir = tempDir('dems-events-dates-');
});
afterAll(() => dir.cleanup());

beforeEach(async () => {
  file = join(dir.path, `events-${Date.now()}-${Math.random()}.db`);
  store = new SqliteEventsStore({ file, synchronous: 'NORMAL' });
  app = await buildApp({ store, banners: bannersIn(dir.path), verify: tokens.verify, secret: TEST_SECRET, inventory: UNREACHABLE_TICKETING });
});

afterEach(async () => {
  await app.close();
});

const OUT_OF_RANGE = [
  { startsAt: '0000-01-01T00:00:00+00:01' }, // year −1 in UTC
  { endsAt: '9999-12-31T23:59:59-01:00' }, // year 10000 in UTC
  { startsAt: '1969-12-31T23:59:59Z' },
  { startsAt: '1970-01-01T00:30:00+01:00' }, // 1969 in UTC
];

describe('event dates', () => {
  it.each(OUT_OF_RANGE)('refuses %o on create with 400, stores nothing, and the list keeps working', async (dates) => {
    const res = await app.inject({ method: 'POST', url: '/events', headers: org, payload: eventBody(dates) });
    expect(res.statusCode, res.body).toBe(400);
    expect(res.json().code).toBe('VALIDATION_FAILED');
    expect(res.json().message).toMatch(/1970.*9999/);
    const list = await app.inject({ method: 'GET', url: '/events?mine=true', headers: org });
    expect(list.statusCode).toBe(200);
    expect(list.json().items).toEqual([]);
    expect(await pendingMessages(store.outbox, 'ticketing')).toEqual([]);
  });

  it.each(OUT_OF_RANGE)('refuses %o on PATCH and leaves the event as it was', async (dates) => {
    const created = (await app.inject({ method: 'POST', url: '/events', headers: org, payload: eventBody({ endsAt: '9999-12-30T00:00:00Z' }) })).json<Event>();
    const res = await app.inject({ method: 'PATCH', url: `/events/${created.id}`, headers: org, payload: dates });
    expect(res.statusCode, res.body).toBe(400);
    expect((await app.inject({ method: 'GET', url: `/events/${created.id}` })).json()).toEqual(created);
    expect((await app.inject({ method: 'GET', url: '/events' })).statusCode).toBe(200);
  });

  it('accepts the edges of the range and any offset, and stores UTC', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/events',
      headers: org,
      payload: eventBody({ startsAt: '2030-06-01T02:00:00+05:30', endsAt: '9999-12-31T23:59:59.999Z' }),
    });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json()).toMatchObject({ startsAt: '2030-05-31T20:30:00.000Z', endsAt: '9999-12-31T23:59:59.999Z' });
    const patched = await app.inject({ method: 'PATCH', url: `/events/${res.json().id}`, headers: org, payload: { startsAt: '2030-06-01T00:00:00-02:00' } });
    expect(patched.json().startsAt).toBe('2030-06-01T02:00:00.000Z');
  });

  it('refuses out-of-range from/to filters instead of comparing odd strings', async () => {
    for (const q of ['from=0000-01-01T00:00:00%2B00:01', 'to=9999-12-31T23:59:59-01:00']) {
      const res = await app.inject({ method: 'GET', url: `/events?${q}` });
      expect(res.statusCode, q).toBe(400);
    }
    expect((await app.inject({ method: 'GET', url: '/events?from=2030-01-01T00:00:00%2B02:00' })).statusCode).toBe(200);
  });

  it('answers the list without a stored row it cannot serialise, and the other events still show', async () => {
    const good = (await app.inject({ method: 'POST', url: '/events', headers: org, payload: eventBody({ title: 'Good one' }) })).json<Event>();
    const bad = (await app.inject({ method: 'POST', url: '/events', headers: org, payload: eventBody({ title: 'Broken row' }) })).json<Event>();
    // Forcing the failure path: a row as an older version could have written it (year −1 in UTC).
    const raw = new Database(file);
    raw.prepare('UPDATE events SET ends_at = ? WHERE id = ?').run('+010000-01-01T00:59:59.000Z', bad.id);
    raw.close();

    const list = await app.inject({ method: 'GET', url: '/events' });
    expect(list.statusCode, list.body).toBe(200);
    expect(list.json().items.map((e: Event) => e.id)).toEqual([good.id]);
    const mine = await app.inject({ method: 'GET', url: '/events?mine=true', headers: org });
    expect(mine.statusCode).toBe(200);
    expect(mine.json().items.map((e: Event) => e.id)).toEqual([good.id]);
  });
});

describe('messages are checked when they are created', () => {
  it('refuses to create a message its subscribers would refuse', () => {
    const event = {
      id: 'evt_1',
      organizerId: ORG.id,
      title: 'T',
      venue: 'V',
      timezone: 'UTC',
      startsAt: '-000001-12-31T23:59:00.000Z',
      endsAt: inDays(1),
      status: 'published' as const,
      ticketTypes: [],
      version: 1,
    };
    expect(() => newMessage('events', 'EventPublished', { event })).toThrow();
    expect(newMessage('events', 'EventPublished', { event: { ...event, startsAt: inDays(0) } }).type).toBe('EventPublished');
  });
});
