import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Event } from '@dems/contracts';
import type { App } from '@dems/kit';
import { tempDir, TEST_SECRET, testTokens } from '@dems/kit/testing';
import { buildApp } from '../src/app.js';
import { SqliteEventsStore } from '../src/store/sqlite.js';
import { storeNewEvent } from '../src/use-cases/create-event.js';
import { bannersIn, eventBody, inDays, UNREACHABLE_TICKETING } from './helpers.js';
import { picture } from './images.js';

// Event pages and listing pages are answered from memory: these check that every kind of change shows at once,
// also when another process sharing the SQLite file makes it, and that nobody's own answers are ever shared.

type Headers = { authorization: string };
type Page = { items: Event[]; nextCursor: string | null };

const ORG = { id: 'usr_org1', role: 'organizer' as const, name: 'Olga Organizer', email: 'olga@example.com' };
const OTHER_ORG = { id: 'usr_org2', role: 'organizer' as const, name: 'Oscar Organizer', email: 'oscar@example.com' };
const ADA = { id: 'usr_ada', role: 'attendee' as const, name: 'Ada Lovelace', email: 'ada@example.com' };

let tokens: Awaited<ReturnType<typeof testTokens>>;
let as: { org: Headers; other: Headers; ada: Headers };
let dir: ReturnType<typeof tempDir>;
let file: string;
const opened: { app: App }[] = [];

/** One replica of the service on the test's SQLite file (a store and an app of its own, as a second process has). */
async function replica(): Promise<App> {
  const store = new SqliteEventsStore({ file, synchronous: 'NORMAL' });
  const app = await buildApp({
    store,
    banners: bannersIn(dir.path),
    verify: tokens.verify,
    secret: TEST_SECRET,
    inventory: UNREACHABLE_TICKETING,
    publicCache: { sMaxAgeSeconds: 2, staleSeconds: 7 },
  });
  opened.push({ app });
  return app;
}

let app: App;

beforeAll(async () => {
  tokens = await testTokens();
  as = { org: await tokens.bearer(ORG), other: await tokens.bearer(OTHER_ORG), ada: await tokens.bearer(ADA) };
});

beforeEach(async () => {
  dir = tempDir('dems-events-public-reads-');
  file = join(dir.path, 'events.db');
  app = await replica();
});

afterEach(async () => {
  for (const { app: a } of opened.splice(0)) await a.close();
  dir.cleanup();
});

async function create(on: App, overrides: Parameters<typeof eventBody>[0] = {}, headers: Headers = as.org): Promise<Event> {
  const res = await on.inject({ method: 'POST', url: '/events', headers, payload: eventBody(overrides) });
  expect(res.statusCode, res.body).toBe(201);
  return res.json<Event>();
}

const get = (on: App, url: string, headers: Record<string, string> = {}) => on.inject({ method: 'GET', url, headers });

describe('public reads from memory', () => {
  it('tags event and listing pages with an ETag and a public Cache-Control, and answers 304 to a client that has them', async () => {
    const event = await create(app);
    for (const url of [`/events/${event.id}`, '/events', '/events?limit=5&q=jazz']) {
      const first = await get(app, url);
      expect(first.statusCode, url).toBe(200);
      expect(first.headers['cache-control']).toBe('public, max-age=0, s-maxage=2, stale-while-revalidate=7');
      const etag = String(first.headers.etag);
      expect(etag).toMatch(/^W\/"[A-Za-z0-9_-]+"$/);

      const again = await get(app, url);
      expect(again.body).toBe(first.body);
      expect(again.headers.etag).toBe(etag);

      const revalidated = await get(app, url, { 'if-none-match': `"other", ${etag}` });
      expect(revalidated.statusCode).toBe(304);
      expect(revalidated.body).toBe('');
      expect(revalidated.headers.etag).toBe(etag);
      expect(revalidated.headers['cache-control']).toBe(first.headers['cache-control']);

      expect((await get(app, url, { 'if-none-match': 'W/"something-else"' })).statusCode).toBe(200);
    }
    expect((await get(app, `/events/${event.id}`)).json<Event>().id).toBe(event.id);
    expect((await get(app, '/events')).json<Page>().items.map((e) => e.id)).toEqual([event.id]);

    const head = await app.inject({ method: 'HEAD', url: `/events/${event.id}` });
    expect(head.statusCode).toBe(200);
    expect(head.body).toBe('');
    expect(head.headers.etag).toBe((await get(app, `/events/${event.id}`)).headers.etag);
  });

  it('gives two replicas the same ETag for the same answer', async () => {
    const event = await create(app);
    const other = await replica();
    const here = await get(app, `/events/${event.id}`);
    const there = await get(other, `/events/${event.id}`);
    expect(there.body).toBe(here.body);
    expect(there.headers.etag).toBe(here.headers.etag);
    expect((await get(other, `/events/${event.id}`, { 'if-none-match': String(here.headers.etag) })).statusCode).toBe(304);
  });

  it('shows every kind of change at once: create, update, banner, registration, withdrawal, cancellation', async () => {
    const event = await create(app);
    const page = `/events/${event.id}`;
    const seen = async () => ({ event: (await get(app, page)).json<Event>(), list: (await get(app, '/events')).json<Page>() });
    expect((await seen()).event.title).toBe('Jazz Night');

    const second = await create(app, { title: 'Second', startsAt: inDays(8), endsAt: inDays(8, 2) });
    expect((await seen()).list.items.map((e) => e.title)).toEqual(['Jazz Night', second.title]);

    const patched = await app.inject({ method: 'PATCH', url: page, headers: as.org, payload: { title: 'Jazz Night, moved' } });
    expect(patched.statusCode, patched.body).toBe(200);
    expect((await seen()).event.title).toBe('Jazz Night, moved');
    expect((await seen()).list.items[0]!.title).toBe('Jazz Night, moved');

    const image = await picture('png', 640, 320);
    const uploaded = await app.inject({ method: 'PUT', url: `${page}/banner`, headers: { ...as.org, 'content-type': 'image/png' }, payload: image });
    expect(uploaded.statusCode, uploaded.body).toBe(200);
    expect((await seen()).event.bannerUrl).not.toBeNull();
    expect((await seen()).list.items[0]!.bannerUrl).not.toBeNull();
    expect((await app.inject({ method: 'DELETE', url: `${page}/banner`, headers: as.org })).statusCode).toBe(200);
    expect((await seen()).event.bannerUrl).toBeNull();

    expect((await app.inject({ method: 'POST', url: '/register', headers: as.ada, payload: { eventId: event.id } })).statusCode).toBe(201);
    expect((await seen()).event.registrationCount).toBe(1);
    expect((await seen()).list.items[0]!.registrationCount).toBe(1);
    expect((await app.inject({ method: 'DELETE', url: `/register/${event.id}`, headers: as.ada })).statusCode).toBe(200);
    expect((await seen()).event.registrationCount).toBe(0);

    expect((await app.inject({ method: 'POST', url: `${page}/cancel`, headers: as.org })).statusCode).toBe(200);
    const after = await seen();
    expect(after.event.status).toBe('cancelled');
    expect(after.list.items.map((e) => e.id)).toEqual([second.id]);
  });

  it('a 304 turns into a 200 with the new body after a change', async () => {
    const event = await create(app);
    const before = await get(app, `/events/${event.id}`);
    await app.inject({ method: 'PATCH', url: `/events/${event.id}`, headers: as.org, payload: { venue: 'Somewhere else' } });
    const after = await get(app, `/events/${event.id}`, { 'if-none-match': String(before.headers.etag) });
    expect(after.statusCode).toBe(200);
    expect(after.json<Event>().venue).toBe('Somewhere else');
    expect(after.headers.etag).not.toBe(before.headers.etag);
  });

  it('shows at once what another process sharing the SQLite file changed', async () => {
    const event = await create(app);
    expect((await get(app, `/events/${event.id}`)).json<Event>().title).toBe('Jazz Night');
    expect((await get(app, '/events')).json<Page>().items).toHaveLength(1);

    // The other replica has its own connection: its commits reach this one only through the file.
    const other = await replica();
    await other.inject({ method: 'PATCH', url: `/events/${event.id}`, headers: as.org, payload: { title: 'Renamed elsewhere' } });
    await create(other, { title: 'Made elsewhere' });

    expect((await get(app, `/events/${event.id}`)).json<Event>().title).toBe('Renamed elsewhere');
    expect(
      (await get(app, '/events'))
        .json<Page>()
        .items.map((e) => e.title)
        .sort(),
    ).toEqual(['Made elsewhere', 'Renamed elsewhere']);
  });

  it('drops an event from the kept listing when it ends, with no write in between', async () => {
    const seed = new SqliteEventsStore({ file, synchronous: 'NORMAL' });
    const now = Date.now();
    await storeNewEvent(seed, {
      id: 'evt_ending',
      organizerId: ORG.id,
      title: 'Ending soon',
      description: '',
      venue: 'Hall',
      timezone: 'UTC',
      startsAt: new Date(now - 3_600_000).toISOString(),
      endsAt: new Date(now + 300).toISOString(),
      status: 'published',
      registrationLimit: null,
      registrationCount: 0,
      ticketTypes: [],
      banner: [],
      createdAt: new Date(now).toISOString(),
      updatedAt: new Date(now).toISOString(),
    });
    await seed.close();
    expect((await get(app, '/events')).json<Page>().items.map((e) => e.id)).toEqual(['evt_ending']);
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, now + 350 - Date.now())));
    expect((await get(app, '/events')).json<Page>().items).toEqual([]);
  });

  it('does not keep an unknown event: it is found once created', async () => {
    expect((await get(app, '/events/evt_later')).statusCode).toBe(404);
    const event = await create(app);
    expect((await get(app, `/events/${event.id}`)).statusCode).toBe(200);
    expect((await get(app, `/events/${event.id}`)).headers.etag).toBeDefined();
  });

  it('never shares an organizer’s own list: private, no-store, and each sees only their own', async () => {
    await create(app, { title: 'Olga’s' });
    await create(app, { title: 'Oscar’s' }, as.other);
    const olga = await get(app, '/events?mine=true', as.org);
    expect(olga.headers['cache-control']).toBe('private, no-store');
    expect(olga.headers.etag).toBeUndefined();
    expect(olga.json<Page>().items.map((e) => e.title)).toEqual(['Olga’s']);
    // The same URL for the next caller is answered for them, not from what the first one got.
    expect((await get(app, '/events?mine=true', as.other)).json<Page>().items.map((e) => e.title)).toEqual(['Oscar’s']);
    expect((await get(app, '/events?mine=true')).statusCode).toBe(401);
    expect((await get(app, '/events?mine=true', as.ada)).statusCode).toBe(403);
  });

  it('still refuses a bad token on a page it keeps', async () => {
    const event = await create(app);
    expect((await get(app, `/events/${event.id}`)).statusCode).toBe(200);
    expect((await get(app, `/events/${event.id}`, { authorization: 'Bearer not-a-token' })).statusCode).toBe(401);
  });
});
