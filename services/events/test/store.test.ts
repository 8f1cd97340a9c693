import { execFile } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CreateEventBody, newMessage, type UpdateEventBody } from '@dems/contracts';
import { AppError } from '@dems/kit';
import { dynamoTestTarget, tempDir, uniqueTablePrefix } from '@dems/kit/testing';
import { buildNewEvent, planEventUpdate } from '../src/domain/event-rules.js';
import type { EventsStore } from '../src/store/events-store.js';
import { DynamoEventsStore } from '../src/store/dynamodb.js';
import { SqliteEventsStore } from '../src/store/sqlite.js';
import { DAY, eventBody, inDays, pendingMessages } from './helpers.js';

/** A store under test, a way to open it again on the same data, and cleanup. */
interface Harness {
  store: EventsStore;
  reopen: () => Promise<EventsStore>;
  cleanup: () => Promise<void>;
}

const allAdapters: { name: string; create: () => Promise<Harness> }[] = [
  {
    name: 'sqlite',
    create: async () => {
      const dir = tempDir('dems-events-store-');
      const file = join(dir.path, 'events.db');
      const opened: SqliteEventsStore[] = [new SqliteEventsStore({ file, synchronous: 'NORMAL' })];
      return {
        store: opened[0]!,
        reopen: async () => {
          await opened.at(-1)!.close();
          const next = new SqliteEventsStore({ file, synchronous: 'NORMAL' });
          opened.push(next);
          return next;
        },
        cleanup: async () => {
          for (const s of opened) await s.close();
          dir.cleanup();
        },
      };
    },
  },
];

const dynamo = dynamoTestTarget();
if (dynamo.endpoint) {
  const endpoint = dynamo.endpoint;
  allAdapters.push({
    name: 'dynamodb',
    create: async () => {
      // Fresh tables per test (a unique prefix) on the one DynamoDB Local of this test run.
      const settings = { region: 'us-east-1', endpoint, tablePrefix: uniqueTablePrefix('events') };
      const opened: DynamoEventsStore[] = [new DynamoEventsStore({ settings })];
      await opened[0]!.createTables();
      return {
        store: opened[0]!,
        reopen: async () => {
          await opened.at(-1)!.close();
          const next = new DynamoEventsStore({ settings });
          opened.push(next);
          return next;
        },
        cleanup: async () => {
          for (const s of opened) await s.close();
        },
      };
    },
  });
}

const wanted = process.env.STORE_ADAPTERS?.split(',').map((s) => s.trim()).filter(Boolean);
const adapters = wanted ? allAdapters.filter((a) => wanted.includes(a.name)) : allAdapters;

const ORGANIZER = 'usr_org';
const newEvent = (overrides: Parameters<typeof eventBody>[0] = {}, organizerId = ORGANIZER) =>
  buildNewEvent(CreateEventBody.parse(eventBody(overrides)), organizerId, new Date());
const person = (id: string) => ({ id, name: `Person ${id}`, email: `${id}@example.com` });

async function expectAppError(promise: Promise<unknown>, code: string) {
  const err = await promise.then(() => null, (e: unknown) => e);
  expect(err).toBeInstanceOf(AppError);
  expect((err as AppError).code).toBe(code);
}

if (dynamo.skip && (!wanted || wanted.includes('dynamodb'))) {
  describe.skip(`EventsStore contract: dynamodb — skipped: ${dynamo.skip}`, () => {
    it('runs when DynamoDB Local is available', () => {});
  });
}

describe.each(adapters)('EventsStore contract: $name', ({ create }) => {
  let h: Harness;
  let store: EventsStore;

  beforeEach(async () => {
    h = await create();
    store = h.store;
  });
  afterEach(async () => {
    await h.cleanup();
  });

  it('creates an event with its ticket types and an EventPublished message, and keeps it across a reopen', async () => {
    const event = await store.createEvent(newEvent());
    expect(await store.getEvent(event.id)).toEqual(event);
    const [published] = await pendingMessages(store.outbox, 'ticketing');
    expect(published).toMatchObject({ type: 'EventPublished', data: { event: { id: event.id, version: 1, ticketTypes: event.ticketTypes } } });

    store = await h.reopen();
    expect(await store.getEvent(event.id)).toEqual(event);
    expect(await store.outbox.pendingCount()).toBe(2);
  });

  it('returns null for an unknown event', async () => {
    expect(await store.getEvent('evt_missing')).toBeNull();
  });

  it('lists upcoming events by start, filtered by window and text, in pages', async () => {
    const a = await store.createEvent(newEvent({ title: 'Alpha', startsAt: inDays(1), endsAt: inDays(1, 2) }));
    const b = await store.createEvent(newEvent({ title: 'Beta', venue: 'Alpha Hall', startsAt: inDays(2), endsAt: inDays(2, 2) }));
    const c = await store.createEvent(newEvent({ title: 'Gamma', startsAt: inDays(3), endsAt: inDays(3, 2) }));
    await store.cancelEvent(c.id, new Date());
    const d = await store.createEvent(newEvent({ title: 'Delta', startsAt: inDays(4), endsAt: inDays(4, 2) }, 'usr_other'));

    const now = new Date().toISOString();
    const all = await store.listEvents({ kind: 'upcoming', from: now }, { limit: 10 });
    expect(all.items.map((e) => e.id)).toEqual([a.id, b.id, d.id]);
    expect(all.next).toBeNull();

    const page1 = await store.listEvents({ kind: 'upcoming', from: now }, { limit: 2 });
    expect(page1.items.map((e) => e.id)).toEqual([a.id, b.id]);
    expect(page1.next).toEqual({ startsAt: b.startsAt, id: b.id });
    const page2 = await store.listEvents({ kind: 'upcoming', from: now }, { after: page1.next!, limit: 2 });
    expect(page2.items.map((e) => e.id)).toEqual([d.id]);

    expect((await store.listEvents({ kind: 'upcoming', from: now, q: 'ALPHA' }, { limit: 10 })).items.map((e) => e.id)).toEqual([a.id, b.id]);
    expect((await store.listEvents({ kind: 'upcoming', from: inDays(1, 12), to: inDays(3) }, { limit: 10 })).items.map((e) => e.id)).toEqual([b.id]);

    const mine = await store.listEvents({ kind: 'organizer', organizerId: ORGANIZER }, { limit: 10 });
    expect(mine.items.map((e) => e.id)).toEqual([a.id, b.id, c.id]);
  });

  it('lists an event from a moment up to, not including, its end instant (when it is over, as for registration)', async () => {
    const event = await store.createEvent(newEvent({ startsAt: inDays(1), endsAt: inDays(1, 2) }));
    const end = Date.parse(event.endsAt);
    const listedFrom = async (ms: number) => {
      const from = new Date(ms).toISOString();
      const upcoming = await store.listEvents({ kind: 'upcoming', from }, { limit: 10 });
      const mine = await store.listEvents({ kind: 'organizer', organizerId: ORGANIZER, from }, { limit: 10 });
      return [upcoming.items.length, mine.items.length];
    };
    expect(await listedFrom(end - 1)).toEqual([1, 1]);
    expect(await listedFrom(end)).toEqual([0, 0]);
    await expectAppError(store.register(event.id, person('usr_ada'), new Date(end)), 'EVENT_ENDED');
    expect((await store.register(event.id, person('usr_ada'), new Date(end - 1))).created).toBe(true);
  });

  /** What the update use case does, without its call to ticketing: plan on the current version, then save. */
  async function change(id: string, patch: UpdateEventBody) {
    const current = (await store.getEventForUpdate(id))!;
    const plan = planEventUpdate(current.event, patch, new Date());
    return { ...plan, saved: await store.saveEventUpdate({ ...plan, version: current.version + 1 }) };
  }

  it('saves a planned change with its EventUpdated, at the next version', async () => {
    const event = await store.createEvent(newEvent());
    expect(await store.getEventForUpdate(event.id)).toEqual({ event, version: 1 });
    expect(await store.getEventForUpdate('evt_missing')).toBeNull();

    const first = await change(event.id, { venue: 'New Hall', description: 'Now with dancing' });
    expect(first).toMatchObject({ saved: true, changes: ['description', 'venue'] });
    const second = await change(event.id, { ticketTypes: [{ name: 'VIP', priceCents: 5000, currency: 'EUR', capacity: 5 }] });
    expect(second.saved).toBe(true);
    expect(second.event.ticketTypes.map((t) => t.name)).toEqual(['General', 'VIP']);
    expect(await store.getEvent(event.id)).toEqual(second.event);
    expect((await store.getEventForUpdate(event.id))?.version).toBe(3);

    const updates = (await pendingMessages(store.outbox, 'engagement')).filter((m) => m.type === 'EventUpdated');
    expect(updates.map((m) => m.type === 'EventUpdated' && m.data.event.version)).toEqual([2, 3]);
  });

  it('saves nothing when another change committed first, so the caller plans again', async () => {
    const event = await store.createEvent(newEvent());
    const stale = planEventUpdate(event, { venue: 'Stale Hall' }, new Date());
    expect((await change(event.id, { title: 'First' })).saved).toBe(true);
    expect(await store.saveEventUpdate({ ...stale, version: 2 })).toBe(false);
    expect(await store.getEvent(event.id)).toMatchObject({ title: 'First', venue: event.venue });
    expect((await pendingMessages(store.outbox, 'ticketing')).map((m) => m.type)).toEqual(['EventPublished', 'EventUpdated']);
  });

  it('refuses at commit a registration limit below registrations made after the plan', async () => {
    const event = await store.createEvent(newEvent());
    const plan = planEventUpdate(event, { registrationLimit: 1 }, new Date());
    await store.register(event.id, person('usr_ada'), new Date());
    await store.register(event.id, person('usr_bob'), new Date());
    await expectAppError(store.saveEventUpdate({ ...plan, version: 2 }), 'VALIDATION_FAILED');
    expect((await store.getEvent(event.id))?.registrationLimit).toBeNull();
  });

  it('cancels once, and refuses changes afterwards', async () => {
    const event = await store.createEvent(newEvent());
    const first = await store.cancelEvent(event.id, new Date());
    expect(first).toMatchObject({ changed: true, event: { status: 'cancelled' } });
    const second = await store.cancelEvent(event.id, new Date());
    expect(second.changed).toBe(false);
    await expectAppError(store.cancelEvent('evt_missing', new Date()), 'EVENT_NOT_FOUND');
    const types = (await pendingMessages(store.outbox, 'ticketing')).map((m) => m.type);
    expect(types).toEqual(['EventPublished', 'EventCancelled']);
  });

  it('keeps a banner as stored keys, swaps it in one step returning the one it replaced, and keeps it across a reopen', async () => {
    const event = await store.createEvent(newEvent());
    const first = [
      { width: 480, height: 240, key: `${event.id}/one-480.webp` },
      { width: 960, height: 480, key: `${event.id}/one-960.webp` },
    ];
    const second = [{ width: 800, height: 400, key: `${event.id}/two-800.webp` }];
    const at = (minutes: number) => new Date(Date.parse(event.createdAt) + minutes * 60_000);

    const set = await store.replaceBanner(event.id, first, at(1));
    expect(set).toEqual({ event: { ...event, banner: first, updatedAt: at(1).toISOString() }, previous: [] });
    expect(await store.getEvent(event.id)).toEqual(set!.event);

    const replaced = await store.replaceBanner(event.id, second, at(2));
    expect(replaced?.previous).toEqual(first);
    expect(replaced?.event.banner).toEqual(second);

    store = await h.reopen();
    expect(await store.getEvent(event.id)).toEqual(replaced!.event);
    const listed = await store.listEvents({ kind: 'upcoming', from: new Date().toISOString() }, { limit: 10 });
    expect(listed.items.find((e) => e.id === event.id)?.banner).toEqual(second);
    expect((await store.listEvents({ kind: 'organizer', organizerId: ORGANIZER }, { limit: 10 })).items[0]?.banner).toEqual(second);

    const removed = await store.replaceBanner(event.id, [], at(3));
    expect(removed).toEqual({ event: { ...replaced!.event, banner: [], updatedAt: at(3).toISOString() }, previous: second });
    expect((await store.getEvent(event.id))?.banner).toEqual([]);
    expect(await store.replaceBanner('evt_missing', second, at(4))).toBeNull();
  });

  it('leaves the banner alone on a change, a cancellation and a registration, and sends no message for it', async () => {
    const event = await store.createEvent(newEvent({ registrationLimit: 10 }));
    const before = await store.outbox.pendingCount();
    const banner = [{ width: 480, height: 240, key: `${event.id}/b-480.webp` }];
    await store.replaceBanner(event.id, banner, new Date());
    expect(await store.outbox.pendingCount()).toBe(before);

    const current = (await store.getEventForUpdate(event.id))!;
    const plan = planEventUpdate(current.event, { title: 'Renamed' }, new Date());
    expect(await store.saveEventUpdate({ ...plan, version: current.version + 1 })).toBe(true);
    await store.register(event.id, person('usr_a'), new Date());
    expect(await store.getEvent(event.id)).toMatchObject({ title: 'Renamed', banner, registrationCount: 1 });
    expect((await store.cancelEvent(event.id, new Date())).event.banner).toEqual(banner);
    expect((await store.getEvent(event.id))?.banner).toEqual(banner);
  });

  it('registers each person once, up to the limit, and withdraws', async () => {
    const event = await store.createEvent(newEvent({ registrationLimit: 2 }));
    // One instant for both sign-ups: the attendee list must still show them in sign-up order (not by random id).
    const now = new Date();
    const ada = await store.register(event.id, person('usr_ada'), now);
    expect(ada.created).toBe(true);
    expect(ada.registration).toMatchObject({ userName: 'Person usr_ada', userEmail: 'usr_ada@example.com', eventTitle: event.title });
    const again = await store.register(event.id, person('usr_ada'), now);
    expect(again).toEqual({ registration: ada.registration, created: false });
    await store.register(event.id, person('usr_bob'), now);
    await expectAppError(store.register(event.id, person('usr_cy'), new Date()), 'EVENT_FULL');
    expect((await store.getEvent(event.id))!.registrationCount).toBe(2);

    expect(await store.registrationsOfUser('usr_ada', { limit: 10 })).toEqual({ items: [ada.registration], next: null });
    expect(await store.registrationOf(event.id, 'usr_ada')).toEqual(ada.registration);
    expect(await store.registrationOf(event.id, 'usr_cy')).toBeNull();
    expect((await store.registrationsOfEvent(event.id, { limit: 10 })).items.map((r) => r.userId)).toEqual(['usr_ada', 'usr_bob']);

    expect(await store.withdraw(event.id, 'usr_ada', new Date())).toBe(true);
    expect(await store.withdraw(event.id, 'usr_ada', new Date())).toBe(false);
    expect((await store.register(event.id, person('usr_cy'), new Date())).created).toBe(true);

    const types = (await pendingMessages(store.outbox, 'engagement')).map((m) => m.type);
    expect(types).toEqual(['EventPublished', 'UserRegistered', 'UserRegistered', 'RegistrationWithdrawn', 'UserRegistered']);
  });

  it('refuses registration for unknown, cancelled and ended events', async () => {
    await expectAppError(store.register('evt_missing', person('usr_ada'), new Date()), 'EVENT_NOT_FOUND');
    const event = await store.createEvent(newEvent());
    await expectAppError(store.register(event.id, person('usr_ada'), new Date(Date.now() + 30 * DAY)), 'EVENT_ENDED');
    await store.cancelEvent(event.id, new Date());
    await expectAppError(store.register(event.id, person('usr_ada'), new Date()), 'EVENT_CANCELLED');
  });

  it('acknowledges a message it has no use for, once', async () => {
    const message = newMessage('ticketing', 'OrderPlaced', {
      orderId: 'ord_1', userId: 'u', eventId: 'evt_x', eventTitle: 'X', ticketTypeId: 'tt_x', ticketTypeName: 'X', quantity: 1, totalCents: 0, currency: 'USD',
    });
    expect(await store.acknowledge(message)).toBe('applied');
    expect(await store.acknowledge(message)).toBe('duplicate');
  });

  it('reports readiness', async () => {
    expect(await store.isReady()).toBe(true);
  });
});

describe('SqliteEventsStore', () => {
  it('tells the relay after commits that wrote messages, and only then', async () => {
    const dir = tempDir('dems-events-kick-');
    let kicks = 0;
    const store = new SqliteEventsStore({ file: join(dir.path, 'events.db'), synchronous: 'NORMAL', onMessagesCommitted: () => kicks++ });
    try {
      const event = await store.createEvent(newEvent());
      expect(kicks).toBe(1);
      await expectAppError(store.register(event.id, person('usr_a'), new Date(Date.now() + 30 * DAY)), 'EVENT_ENDED');
      expect(kicks).toBe(1);
      await store.register(event.id, person('usr_a'), new Date());
      expect(kicks).toBe(2);
    } finally {
      await store.close();
      dir.cleanup();
    }
  });
});

describe('SqliteEventsStore shared by several processes', () => {
  it('never registers more people than the limit', async () => {
    // Bundle the worker (our packages inlined, npm packages left to node_modules) where Node resolves them.
    const root = fileURLToPath(new URL('../../..', import.meta.url));
    const outDir = join(root, 'node_modules', '.cache', 'dems-events-test');
    mkdirSync(outDir, { recursive: true });
    const worker = join(outDir, `register-worker-${process.pid}.mjs`);
    await build({
      entryPoints: [fileURLToPath(new URL('./register-worker.ts', import.meta.url))],
      outfile: worker,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      logLevel: 'warning',
      plugins: [{ name: 'external', setup: (b) => b.onResolve({ filter: /^[^./]/ }, (a) => (a.path.startsWith('@dems/') ? undefined : { path: a.path, external: true })) }],
    });

    const dir = tempDir('dems-events-procs-');
    const file = join(dir.path, 'events.db');
    const setup = new SqliteEventsStore({ file, synchronous: 'NORMAL' });
    try {
      const event = await setup.createEvent(newEvent({ registrationLimit: 20 }));
      const startAt = Date.now() + 1500;
      const run = promisify(execFile);
      const outputs = await Promise.all(
        ['p1', 'p2', 'p3', 'p4'].map((p) => run(process.execPath, [worker, file, event.id, p, '15', String(startAt)], { timeout: 30_000 })),
      );
      const results = outputs.flatMap((o) => JSON.parse(o.stdout) as string[]);
      expect(results).toHaveLength(60);
      expect(results.filter((r) => r === 'created')).toHaveLength(20);
      expect(results.filter((r) => r !== 'created').every((r) => r === 'EVENT_FULL')).toBe(true);
      expect((await setup.getEvent(event.id))!.registrationCount).toBe(20);
      expect((await setup.registrationsOfEvent(event.id, { limit: 100 })).items).toHaveLength(20);
      expect((await pendingMessages(setup.outbox)).filter((m) => m.type === 'UserRegistered')).toHaveLength(20);
    } finally {
      await setup.close();
      dir.cleanup();
    }
  });
});
