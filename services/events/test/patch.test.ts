import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CreateEventBody, type Event } from '@dems/contracts';
import type { App } from '@dems/kit';
import { tempDir, TEST_SECRET, testTokens } from '@dems/kit/testing';
import { buildApp } from '../src/app.js';
import { buildNewEvent } from '../src/domain/event-rules.js';
import { SqliteEventsStore } from '../src/store/sqlite.js';
import { presentEvent } from '../src/domain/banner.js';
import { storeNewEvent } from '../src/use-cases/create-event.js';
import { bannersIn, DAY, eventBody, pendingMessages, UNREACHABLE_TICKETING } from './helpers.js';

// PATCH /events/:id as an organizer and the subscribers of EventUpdated see it, on real SQLite. Ticketing is
// unreachable: every change here must go through without asking it (no capacity of an existing type changes).

let headers: { authorization: string };
let dir: ReturnType<typeof tempDir>;
let store: SqliteEventsStore;
let app: App;

beforeAll(async () => {
  const tokens = await testTokens();
  headers = await tokens.bearer({ id: 'usr_org1', role: 'organizer' });
  dir = tempDir('dems-events-patch-');
  store = new SqliteEventsStore({ file: join(dir.path, 'events.db'), synchronous: 'NORMAL' });
  app = await buildApp({ store, banners: bannersIn(dir.path), verify: tokens.verify, secret: TEST_SECRET, inventory: UNREACHABLE_TICKETING });
});

afterAll(async () => {
  await app.close();
  dir.cleanup();
});

let event: Event;
beforeEach(async () => {
  // Published an hour ago, so that a change's updatedAt is visibly later.
  event = presentEvent(await storeNewEvent(store, buildNewEvent(CreateEventBody.parse(eventBody()), 'usr_org1', new Date(Date.now() - 3_600_000))), '/banners');
  // Each test reads only the messages it caused.
  for (const subscriber of ['ticketing', 'engagement'] as const) {
    await store.outbox.markDelivered((await store.outbox.claimDue(subscriber, 1000, Date.now(), 0)).map((e) => e.id));
  }
});

const patch = (payload: Record<string, unknown>) => app.inject({ method: 'PATCH', url: `/events/${event.id}`, headers, payload });
const current = async () => (await app.inject({ method: 'GET', url: `/events/${event.id}` })).json<Event>();
async function updates() {
  return (await pendingMessages(store.outbox, 'engagement')).flatMap((m) => (m.type === 'EventUpdated' ? [{ version: m.data.event.version, changes: m.data.changes }] : []));
}

describe('PATCH /events/:id', () => {
  it('stores a time sent with an offset in UTC, and a time that is the same instant in another offset is no change', async () => {
    const start = new Date(Date.now() + 5 * DAY);
    start.setUTCHours(18, 0, 0, 0);
    const berlin = start.toISOString().replace('18:00:00.000Z', '20:00:00+02:00');
    const res = await patch({ startsAt: berlin });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json<Event>().startsAt).toBe(start.toISOString());
    expect((await current()).startsAt).toBe(start.toISOString());

    const sameInstant = start.toISOString().replace('18:00:00.000Z', '13:00:00-05:00');
    const again = await patch({ startsAt: sameInstant });
    expect(again.json<Event>()).toEqual(res.json<Event>());
    expect(await updates()).toEqual([{ version: 2, changes: ['startsAt'] }]);
  });

  it.each([
    ['a price', { priceCents: 1999 }],
    ['a currency', { currency: 'USD' }],
  ])('a change of %s alone is a change: saved, announced as ticketTypes, updatedAt moves', async (_what, over) => {
    const res = await patch({ ticketTypes: [{ ...event.ticketTypes[0], ...over }] });
    expect(res.statusCode, res.body).toBe(200);
    const changed = res.json<Event>();
    expect(changed.ticketTypes).toEqual([{ ...event.ticketTypes[0], ...over }]);
    expect(changed.updatedAt > event.updatedAt).toBe(true);
    expect(await current()).toEqual(changed);
    expect(await updates()).toEqual([{ version: 2, changes: ['ticketTypes'] }]);
  });

  it('a no-op PATCH leaves updatedAt and the version alone and sends nothing', async () => {
    const res = await patch({ venue: event.venue, endsAt: event.endsAt, ticketTypes: [{ ...event.ticketTypes[0] }] });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual(event);
    expect(await current()).toEqual(event);
    expect(await updates()).toEqual([]);
    // The next real change is version 2: the no-op did not use one up.
    await patch({ venue: 'Town Hall' });
    expect(await updates()).toEqual([{ version: 2, changes: ['venue'] }]);
  });

  it('refuses to move endsAt into the past and keeps the event as it was', async () => {
    const res = await patch({ startsAt: new Date(Date.now() - 2 * DAY).toISOString(), endsAt: new Date(Date.now() - DAY).toISOString() });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'VALIDATION_FAILED', message: expect.stringMatching(/^body\.endsAt: the end time is already past/) });
    expect(await current()).toEqual(event);
    expect(await updates()).toEqual([]);
  });

  it('adds ticket types one PATCH at a time up to 20, then refuses the 21st and keeps the 20', async () => {
    for (let n = 2; n <= 20; n++) {
      const res = await patch({ ticketTypes: [{ name: `Type ${n}`, priceCents: 100 * n, currency: 'EUR', capacity: 10 }] });
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json<Event>().ticketTypes).toHaveLength(n);
    }
    const refused = await patch({ ticketTypes: [{ name: 'Type 21', priceCents: 2100, currency: 'EUR', capacity: 10 }] });
    expect(refused.statusCode).toBe(400);
    expect(refused.json()).toMatchObject({ code: 'VALIDATION_FAILED', message: 'body.ticketTypes: an event can have at most 20 ticket types.' });
    const after = await current();
    expect(after.ticketTypes.map((t) => t.name)).toEqual(['General', ...Array.from({ length: 19 }, (_, i) => `Type ${i + 2}`)]);
    expect(await updates()).toHaveLength(19);
  });
});
