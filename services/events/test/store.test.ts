import { execFile } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { ConsumedCapacity } from '@aws-sdk/client-dynamodb';
import { build } from 'esbuild';
import { beforeEach, describe, expect, it } from 'vitest';
import { CreateEventBody, newMessage, type Registration, type UpdateEventBody } from '@dems/contracts';
import { AppError, type AuthUser } from '@dems/kit';
import { describeEachAdapter, tempDir, type StoreAdapters } from '@dems/kit/testing';
import { buildNewEvent, planEventUpdate, toSnapshot, type PlannedUpdate } from '../src/domain/event-rules.js';
import type { EventRecord } from '../src/domain/banner.js';
import type { EventCursor, EventFilter, EventsStore } from '../src/store/events-store.js';
import { DynamoEventsStore } from '../src/store/dynamodb.js';
import { SqliteEventsStore } from '../src/store/sqlite.js';
import { cancelEvent } from '../src/use-cases/cancel-event.js';
import { storeNewEvent } from '../src/use-cases/create-event.js';
import { registerForEvent } from '../src/use-cases/register-for-event.js';
import { withdrawRegistration } from '../src/use-cases/withdraw-registration.js';
import { DAY, eventBody, inDays, pendingMessages } from './helpers.js';

/** The store on each adapter, fresh for every test (the kit's adapter matrix). */
const adapters: StoreAdapters<EventsStore> = {
  sqlite: (dir) => new SqliteEventsStore({ file: join(dir, 'events.db'), synchronous: 'NORMAL' }),
  dynamodb: { open: (settings) => new DynamoEventsStore({ settings }), prepare: (store: DynamoEventsStore) => store.createTables() },
};

const ORGANIZER = 'usr_org';
const newEvent = (overrides: Parameters<typeof eventBody>[0] = {}, organizerId = ORGANIZER) => buildNewEvent(CreateEventBody.parse(eventBody(overrides)), organizerId, new Date());
const person = (id: string) => ({ id, name: `Person ${id}`, email: `${id}@example.com` });

// The writes as the use cases make them (what to persist with the messages that go with it), on a given store.
const ADMIN = { id: 'usr_admin', role: 'admin' } as AuthUser;
const cancel = (on: EventsStore, id: string, now: Date) => cancelEvent(on, id, ADMIN, now);
/** Withdraws; false when there was no registration to withdraw. */
const withdraw = (on: EventsStore, eventId: string, userId: string, now: Date) =>
  withdrawRegistration(on, eventId, userId, now).then(
    () => true,
    (err: unknown) => {
      if (err instanceof AppError && err.code === 'REGISTRATION_NOT_FOUND') return false;
      throw err;
    },
  );
/** Saves a planned change as `version` with its EventUpdated, as the update use case does after ticketing agreed. */
const saveChange = (on: EventsStore, { event, changes }: PlannedUpdate, version: number) =>
  on.saveEvent({ event, changes, version, messages: [newMessage('events', 'EventUpdated', { event: toSnapshot(event, version), changes })] });

async function expectAppError(promise: Promise<unknown>, code: string) {
  const err = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AppError);
  expect((err as AppError).code).toBe(code);
}

describeEachAdapter('EventsStore contract', adapters, (h) => {
  let store: EventsStore;

  beforeEach(() => {
    store = h.store;
  });

  it('creates an event with its ticket types and an EventPublished message, and keeps it across a reopen', async () => {
    const event = await storeNewEvent(store, newEvent());
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
    const a = await storeNewEvent(store, newEvent({ title: 'Alpha', startsAt: inDays(1), endsAt: inDays(1, 2) }));
    const b = await storeNewEvent(store, newEvent({ title: 'Beta', venue: 'Alpha Hall', startsAt: inDays(2), endsAt: inDays(2, 2) }));
    const c = await storeNewEvent(store, newEvent({ title: 'Gamma', startsAt: inDays(3), endsAt: inDays(3, 2) }));
    await cancel(store, c.id, new Date());
    const d = await storeNewEvent(store, newEvent({ title: 'Delta', startsAt: inDays(4), endsAt: inDays(4, 2) }, 'usr_other'));

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
    const event = await storeNewEvent(store, newEvent({ startsAt: inDays(1), endsAt: inDays(1, 2) }));
    const end = Date.parse(event.endsAt);
    const listedFrom = async (ms: number) => {
      const from = new Date(ms).toISOString();
      const upcoming = await store.listEvents({ kind: 'upcoming', from }, { limit: 10 });
      const mine = await store.listEvents({ kind: 'organizer', organizerId: ORGANIZER, from }, { limit: 10 });
      return [upcoming.items.length, mine.items.length];
    };
    expect(await listedFrom(end - 1)).toEqual([1, 1]);
    expect(await listedFrom(end)).toEqual([0, 0]);
    await expectAppError(registerForEvent(store, event.id, person('usr_ada'), new Date(end)), 'EVENT_ENDED');
    expect((await registerForEvent(store, event.id, person('usr_ada'), new Date(end - 1))).created).toBe(true);
  });

  /** What the update use case does, without its call to ticketing: plan on the current version, then save. */
  async function change(id: string, patch: UpdateEventBody) {
    const current = (await store.getEventForUpdate(id))!;
    const plan = planEventUpdate(current.event, patch, new Date());
    return { ...plan, saved: await saveChange(store, plan, current.version + 1) };
  }

  it('saves a planned change with its EventUpdated, at the next version', async () => {
    const event = await storeNewEvent(store, newEvent());
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
    const event = await storeNewEvent(store, newEvent());
    const stale = planEventUpdate(event, { venue: 'Stale Hall' }, new Date());
    expect((await change(event.id, { title: 'First' })).saved).toBe(true);
    expect(await saveChange(store, stale, 2)).toBe(false);
    expect(await store.getEvent(event.id)).toMatchObject({ title: 'First', venue: event.venue });
    expect((await pendingMessages(store.outbox, 'ticketing')).map((m) => m.type)).toEqual(['EventPublished', 'EventUpdated']);
  });

  it('refuses at commit a registration limit below registrations made after the plan', async () => {
    const event = await storeNewEvent(store, newEvent());
    const plan = planEventUpdate(event, { registrationLimit: 1 }, new Date());
    await registerForEvent(store, event.id, person('usr_ada'), new Date());
    await registerForEvent(store, event.id, person('usr_bob'), new Date());
    expect(await saveChange(store, plan, 2)).toBe(false);
    expect((await store.getEvent(event.id))?.registrationLimit).toBeNull();
    // Planned again on what is stored now, the change is refused.
    await expectAppError(change(event.id, { registrationLimit: 1 }), 'VALIDATION_FAILED');
  });

  it('cancels once, and refuses changes afterwards', async () => {
    const event = await storeNewEvent(store, newEvent());
    const first = await cancel(store, event.id, new Date());
    expect(first).toMatchObject({ status: 'cancelled' });
    expect(await store.getEventForUpdate(event.id)).toEqual({ event: first, version: 2 });
    expect(await cancel(store, event.id, new Date())).toEqual(first);
    await expectAppError(cancel(store, 'evt_missing', new Date()), 'EVENT_NOT_FOUND');
    const types = (await pendingMessages(store.outbox, 'ticketing')).map((m) => m.type);
    expect(types).toEqual(['EventPublished', 'EventCancelled']);
  });

  it('keeps a banner as stored keys, swaps it in one step returning the one it replaced, and keeps it across a reopen', async () => {
    const event = await storeNewEvent(store, newEvent());
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
    const event = await storeNewEvent(store, newEvent({ registrationLimit: 10 }));
    const before = await store.outbox.pendingCount();
    const banner = [{ width: 480, height: 240, key: `${event.id}/b-480.webp` }];
    await store.replaceBanner(event.id, banner, new Date());
    expect(await store.outbox.pendingCount()).toBe(before);

    const current = (await store.getEventForUpdate(event.id))!;
    const plan = planEventUpdate(current.event, { title: 'Renamed' }, new Date());
    expect(await saveChange(store, plan, current.version + 1)).toBe(true);
    await registerForEvent(store, event.id, person('usr_a'), new Date());
    expect(await store.getEvent(event.id)).toMatchObject({ title: 'Renamed', banner, registrationCount: 1 });
    expect((await cancel(store, event.id, new Date())).banner).toEqual(banner);
    expect((await store.getEvent(event.id))?.banner).toEqual(banner);
  });

  it('moves its data version with every kind of write, and not with reads', async () => {
    const moved = async (step: () => Promise<unknown>) => {
      const before = store.dataVersion();
      await step();
      return store.dataVersion() !== before;
    };
    const event = newEvent({ registrationLimit: 10 });
    expect(await moved(() => storeNewEvent(store, event))).toBe(true);
    expect(await moved(() => store.getEvent(event.id))).toBe(false);
    expect(await moved(() => store.listEvents({ kind: 'upcoming', from: new Date().toISOString() }, { limit: 10 }))).toBe(false);
    const current = (await store.getEventForUpdate(event.id))!;
    const plan = planEventUpdate(current.event, { title: 'Renamed' }, new Date());
    expect(await moved(() => saveChange(store, plan, current.version + 1))).toBe(true);
    expect(await moved(() => store.replaceBanner(event.id, [{ width: 480, height: 240, key: `${event.id}/b-480.webp` }], new Date()))).toBe(true);
    expect(await moved(() => registerForEvent(store, event.id, person('usr_a'), new Date()))).toBe(true);
    expect(await moved(() => withdraw(store, event.id, 'usr_a', new Date()))).toBe(true);
    expect(await moved(() => cancel(store, event.id, new Date()))).toBe(true);
    expect(await moved(() => store.registrationsOfEvent(event.id, { limit: 10 }))).toBe(false);
  });

  it('registers each person once, up to the limit, and withdraws', async () => {
    const event = await storeNewEvent(store, newEvent({ registrationLimit: 2 }));
    // One instant for both sign-ups: the attendee list must still show them in sign-up order (not by random id).
    const now = new Date();
    const ada = await registerForEvent(store, event.id, person('usr_ada'), now);
    expect(ada.created).toBe(true);
    expect(ada.registration).toMatchObject({ userName: 'Person usr_ada', userEmail: 'usr_ada@example.com', eventTitle: event.title });
    const again = await registerForEvent(store, event.id, person('usr_ada'), now);
    expect(again).toEqual({ registration: ada.registration, created: false });
    await registerForEvent(store, event.id, person('usr_bob'), now);
    await expectAppError(registerForEvent(store, event.id, person('usr_cy'), new Date()), 'EVENT_FULL');
    expect((await store.getEvent(event.id))!.registrationCount).toBe(2);

    expect(await store.registrationsOfUser('usr_ada', { limit: 10 })).toEqual({ items: [ada.registration], next: null });
    expect(await store.registrationOf(event.id, 'usr_ada')).toEqual(ada.registration);
    expect(await store.registrationOf(event.id, 'usr_cy')).toBeNull();
    expect((await store.registrationsOfEvent(event.id, { limit: 10 })).items.map((r) => r.userId)).toEqual(['usr_ada', 'usr_bob']);

    expect(await withdraw(store, event.id, 'usr_ada', new Date())).toBe(true);
    expect(await withdraw(store, event.id, 'usr_ada', new Date())).toBe(false);
    expect((await registerForEvent(store, event.id, person('usr_cy'), new Date())).created).toBe(true);

    const types = (await pendingMessages(store.outbox, 'engagement')).map((m) => m.type);
    expect(types).toEqual(['EventPublished', 'UserRegistered', 'UserRegistered', 'RegistrationWithdrawn', 'UserRegistered']);
  });

  it('refuses registration for unknown, cancelled and ended events', async () => {
    await expectAppError(registerForEvent(store, 'evt_missing', person('usr_ada'), new Date()), 'EVENT_NOT_FOUND');
    const event = await storeNewEvent(store, newEvent());
    await expectAppError(registerForEvent(store, event.id, person('usr_ada'), new Date(Date.now() + 30 * DAY)), 'EVENT_ENDED');
    await cancel(store, event.id, new Date());
    await expectAppError(registerForEvent(store, event.id, person('usr_ada'), new Date()), 'EVENT_CANCELLED');
  });

  it('shows each registration with its event as it is now: moved, in another zone, renamed, then cancelled', async () => {
    const event = await storeNewEvent(store, newEvent({ timezone: 'America/Los_Angeles' }));
    const other = await storeNewEvent(store, newEvent({ title: 'Untouched' }));
    await registerForEvent(store, event.id, person('usr_ada'), new Date());
    await registerForEvent(store, other.id, person('usr_ada'), new Date());
    await registerForEvent(store, event.id, person('usr_bob'), new Date());
    /** The registration as each of the three reads shows it. */
    const everyRead = async (eventId: string, userId: string) => [
      await store.registrationOf(eventId, userId),
      (await store.registrationsOfUser(userId, { limit: 10 })).items.find((r) => r.eventId === eventId),
      (await store.registrationsOfEvent(eventId, { limit: 10 })).items.find((r) => r.userId === userId),
    ];
    // The instants the stores hold: a change of times is stored as the domain normalises it.
    const shown = async (id: string) => {
      const e = (await store.getEvent(id))!;
      return { eventTitle: e.title, eventStartsAt: e.startsAt, eventEndsAt: e.endsAt, eventTimezone: e.timezone, eventStatus: e.status };
    };

    const moved = await change(event.id, { title: 'Late Show', timezone: 'Asia/Kolkata', startsAt: inDays(9), endsAt: inDays(9, 5) });
    expect(moved.saved).toBe(true);
    const now = await shown(event.id);
    expect(now).toMatchObject({ eventTitle: 'Late Show', eventTimezone: 'Asia/Kolkata', eventStatus: 'published' });
    expect(now.eventStartsAt).not.toBe(event.startsAt);
    for (const who of ['usr_ada', 'usr_bob']) for (const read of await everyRead(event.id, who)) expect(read).toMatchObject(now);

    await cancel(store, event.id, new Date());
    for (const read of await everyRead(event.id, 'usr_ada')) expect(read).toMatchObject({ ...now, eventStatus: 'cancelled' });
    // Another event's registrations are not touched by it.
    for (const read of await everyRead(other.id, 'usr_ada')) expect(read).toMatchObject(await shown(other.id));
  });

  it('adds a registration only while its premises hold at commit, and removes one once', async () => {
    const event = await storeNewEvent(store, newEvent({ registrationLimit: 2 }));
    const at = new Date().toISOString();
    const registration = (id: string, userId: string): Registration => ({
      id,
      eventId: event.id,
      userId,
      userName: userId,
      userEmail: `${userId}@example.com`,
      eventTitle: 'As read',
      eventStartsAt: at,
      eventEndsAt: at,
      eventTimezone: 'Asia/Kolkata',
      eventStatus: 'cancelled',
      createdAt: at,
    });
    const joined = newMessage('events', 'UserRegistered', { registrationId: 'reg_a', eventId: event.id, eventTitle: event.title, userId: 'usr_a' });
    expect(await store.addRegistration(registration('reg_a', 'usr_a'), [joined])).toBe(true);
    // What it shows of its event is the event's, not what the caller read.
    expect(await store.registrationOf(event.id, 'usr_a')).toMatchObject({
      id: 'reg_a',
      eventTitle: event.title,
      eventStartsAt: event.startsAt,
      eventEndsAt: event.endsAt,
      eventTimezone: event.timezone,
      eventStatus: 'published',
    });
    expect(await store.addRegistration(registration('reg_a2', 'usr_a'), [])).toBe(false); // registered already
    expect(await store.addRegistration(registration('reg_b', 'usr_b'), [])).toBe(true);
    expect(await store.addRegistration(registration('reg_c', 'usr_c'), [])).toBe(false); // full
    expect((await store.getEvent(event.id))?.registrationCount).toBe(2);

    const ada = (await store.registrationOf(event.id, 'usr_a'))!;
    expect(await store.removeRegistration(ada, [])).toBe(true);
    expect(await store.removeRegistration(ada, [])).toBe(false);
    expect((await store.getEvent(event.id))?.registrationCount).toBe(1);
    await cancel(store, event.id, new Date());
    expect(await store.addRegistration(registration('reg_d', 'usr_d'), [])).toBe(false); // cancelled
    expect((await store.getEvent(event.id))?.registrationCount).toBe(1);
    expect((await pendingMessages(store.outbox, 'engagement')).map((m) => m.type)).toEqual(['EventPublished', 'UserRegistered', 'EventCancelled']);
  });

  /** Every page of a listing, following `next` until it is null (at most 50 pages: a loop here is a bug). */
  async function allPages(filter: EventFilter, limit: number, on: EventsStore = store) {
    const pages: EventRecord[][] = [];
    let after: EventCursor | undefined;
    do {
      const page = await on.listEvents(filter, { after, limit });
      pages.push(page.items);
      after = page.next ?? undefined;
    } while (after && pages.length < 50);
    expect(after).toBeUndefined();
    return pages;
  }

  it('lists across month boundaries: an event spanning two months, a long one, ongoing ones, events years ahead', async () => {
    const y = new Date().getUTCFullYear() + 2;
    const at = (iso: string) => `${y}-${iso}:00.000Z`;
    const make = (title: string, startsAt: string, endsAt: string) => storeNewEvent(store, newEvent({ title, startsAt, endsAt }));
    const ended = await make('Ended', at('01-02T10:00'), at('01-03T10:00'));
    const long = await make('Long', at('01-05T10:00'), at('04-30T10:00'));
    const thirtyDays = await make('Thirty days', at('01-22T00:00'), at('02-21T00:00'));
    const spanning = await make('Spanning', at('01-30T20:00'), at('02-02T10:00'));
    const feb = await make('February', at('02-15T18:00'), at('02-15T21:00'));
    const march = await make('March', at('03-10T18:00'), at('03-10T21:00'));
    const later = await make('Years ahead', `${y + 5}-06-01T18:00:00.000Z`, `${y + 5}-06-01T21:00:00.000Z`);
    const ids = (events: EventRecord[]) => events.map((e) => e.id);

    // From inside the spanning event: the month before is read from 31 days back, the event that ended is not listed.
    const from = at('02-01T00:00');
    const expected = [long.id, thirtyDays.id, spanning.id, feb.id, march.id, later.id];
    expect(ids((await store.listEvents({ kind: 'upcoming', from }, { limit: 20 })).items)).toEqual(expected);
    for (const limit of [1, 2, 4]) expect(ids((await allPages({ kind: 'upcoming', from }, limit)).flat())).toEqual(expected);
    expect(ids((await store.listEvents({ kind: 'upcoming', from, to: at('02-28T00:00') }, { limit: 20 })).items)).toEqual([long.id, thirtyDays.id, spanning.id, feb.id]);
    expect(ids((await store.listEvents({ kind: 'upcoming', from: at('02-20T12:00') }, { limit: 20 })).items)).toEqual([long.id, thirtyDays.id, march.id, later.id]);
    expect(ids((await store.listEvents({ kind: 'upcoming', from: at('03-01T00:00') }, { limit: 20 })).items)).toEqual([long.id, march.id, later.id]);
    expect(ids((await store.listEvents({ kind: 'upcoming', from: at('05-01T00:00') }, { limit: 20 })).items)).toEqual([later.id]);
    expect(ids((await store.listEvents({ kind: 'upcoming', from: at('01-01T00:00') }, { limit: 20 })).items)).toEqual([ended.id, ...expected]);

    // Moving an event to another month (or making it long) moves it in the listing; cancelling removes it.
    await change(feb.id, { startsAt: `${y - 1}-12-31T18:00:00.000Z`, endsAt: at('02-01T01:00') });
    await change(march.id, { endsAt: at('05-01T00:00') });
    await cancel(store, spanning.id, new Date());
    expect(ids((await store.listEvents({ kind: 'upcoming', from }, { limit: 20 })).items)).toEqual([feb.id, long.id, thirtyDays.id, march.id, later.id]);
    expect(ids((await store.listEvents({ kind: 'upcoming', from: at('04-01T00:00') }, { limit: 20 })).items)).toEqual([long.id, march.id, later.id]);
  });

  it('searches in pages that, followed to the end, hold every match once, in order', async () => {
    const made: EventRecord[] = [];
    for (let i = 0; i < 12; i++)
      made.push(await storeNewEvent(store, newEvent({ title: i % 4 === 0 ? `Quartet ${i}` : `Solo ${i}`, startsAt: inDays(2 + i), endsAt: inDays(2 + i, 2) })));
    const from = new Date().toISOString();
    const matches = made.filter((e) => e.title.startsWith('Quartet')).map((e) => e.id);
    expect((await allPages({ kind: 'upcoming', from, q: 'quartet' }, 2)).flat().map((e) => e.id)).toEqual(matches);
    expect((await allPages({ kind: 'upcoming', from, q: 'no such words' }, 5)).flat()).toEqual([]);
  });

  it('shows the registration count with listed events', async () => {
    const event = await storeNewEvent(store, newEvent({ registrationLimit: 3 }));
    await registerForEvent(store, event.id, person('usr_ada'), new Date());
    const [listed] = (await store.listEvents({ kind: 'upcoming', from: new Date().toISOString() }, { limit: 5 })).items;
    expect(listed).toMatchObject({ id: event.id, registrationCount: 1, registrationLimit: 3 });
  });

  it('pages registrations without gaps or repeats: an event’s in sign-up order, a user’s newest event first', async () => {
    const event = await storeNewEvent(store, newEvent());
    const now = new Date();
    const people = ['usr_m', 'usr_c', 'usr_x', 'usr_a', 'usr_q', 'usr_b', 'usr_k'];
    for (const id of people) await registerForEvent(store, event.id, person(id), now);
    const attendees: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await store.registrationsOfEvent(event.id, { cursor, limit: 3 });
      expect(page.items.length).toBeLessThanOrEqual(3);
      attendees.push(...page.items.map((r) => r.userId));
      cursor = page.next ?? undefined;
    } while (cursor);
    expect(attendees).toEqual(people);

    const events: EventRecord[] = [];
    for (let i = 0; i < 5; i++) events.push(await storeNewEvent(store, newEvent({ title: `Event ${i}` })));
    for (const e of events) await registerForEvent(store, e.id, person('usr_ada'), new Date());
    const mine: Registration[] = [];
    cursor = undefined;
    do {
      const page = await store.registrationsOfUser('usr_ada', { cursor, limit: 2 });
      mine.push(...page.items);
      cursor = page.next ?? undefined;
    } while (cursor);
    expect(mine.map((r) => r.eventId)).toEqual([...events.map((e) => e.id)].sort().reverse());
    expect(mine.map((r) => r.eventTitle)).toEqual(mine.map((r) => events.find((e) => e.id === r.eventId)!.title));

    await expectAppError(store.registrationsOfUser('usr_ada', { cursor: 'not-a-cursor', limit: 2 }), 'VALIDATION_FAILED');
    await expectAppError(store.registrationsOfEvent(event.id, { cursor: 'bm90LWpzb24', limit: 2 }), 'VALIDATION_FAILED');
  });

  it('keeps the registration limit exact under concurrent sign-ups, and withdrawals free places', async () => {
    const event = await storeNewEvent(store, newEvent({ registrationLimit: 5 }));
    const outcomes = await Promise.all(
      Array.from({ length: 16 }, (_, i) =>
        registerForEvent(store, event.id, person(`usr_${i}`), new Date()).then(
          () => 'created',
          (e: AppError) => e.code,
        ),
      ),
    );
    expect(outcomes.filter((o) => o === 'created')).toHaveLength(5);
    expect(outcomes.filter((o) => o !== 'created').every((o) => o === 'EVENT_FULL')).toBe(true);
    expect((await store.getEvent(event.id))!.registrationCount).toBe(5);
    expect((await store.registrationsOfEvent(event.id, { limit: 50 })).items).toHaveLength(5);
    const [first] = (await store.registrationsOfEvent(event.id, { limit: 1 })).items;
    expect(await withdraw(store, event.id, first!.userId, new Date())).toBe(true);
    expect((await store.getEvent(event.id))!.registrationCount).toBe(4);
    expect((await registerForEvent(store, event.id, person('usr_late'), new Date())).created).toBe(true);
    await expectAppError(registerForEvent(store, event.id, person('usr_later'), new Date()), 'EVENT_FULL');
  });

  it('lowers and lifts a limit against the registrations at the time', async () => {
    const event = await storeNewEvent(store, newEvent({ registrationLimit: 3 }));
    await registerForEvent(store, event.id, person('usr_a'), new Date());
    await registerForEvent(store, event.id, person('usr_b'), new Date());
    expect((await change(event.id, { registrationLimit: 2 })).saved).toBe(true);
    await expectAppError(registerForEvent(store, event.id, person('usr_c'), new Date()), 'EVENT_FULL');
    expect((await change(event.id, { registrationLimit: null })).saved).toBe(true);
    expect((await registerForEvent(store, event.id, person('usr_c'), new Date())).created).toBe(true);
    expect(await store.getEvent(event.id)).toMatchObject({ registrationLimit: null, registrationCount: 3 });
    await expectAppError(change(event.id, { registrationLimit: 2 }), 'VALIDATION_FAILED');
  });

  it('acknowledges a message it has no use for, once', async () => {
    const message = newMessage('ticketing', 'OrderPlaced', {
      orderId: 'ord_1',
      userId: 'u',
      eventId: 'evt_x',
      eventTitle: 'X',
      ticketTypeId: 'tt_x',
      ticketTypeName: 'X',
      quantity: 1,
      totalCents: 0,
      currency: 'USD',
    });
    expect(await store.acknowledge(message)).toBe('applied');
    expect(await store.acknowledge(message)).toBe('duplicate');
  });

  it('reports readiness', async () => {
    expect(await store.isReady()).toBe(true);
  });
});

/**
 * The DynamoDB store with every call metered: DynamoDB reports the capacity each call consumed (per table and
 * index) and how many items each query read. Instrumentation only: the calls go to DynamoDB Local unchanged.
 */
class MeteredEventsStore extends DynamoEventsStore {
  readonly calls: { command: string; read: number; units: { table: string; capacity: number }[] }[] = [];

  constructor(opts: ConstructorParameters<typeof DynamoEventsStore>[0]) {
    super(opts);
    this.dynamo.client.middlewareStack.add(
      (next, context) => async (args) => {
        const input = args.input as Record<string, unknown>;
        if (!('ReturnConsumedCapacity' in input)) input.ReturnConsumedCapacity = 'INDEXES';
        const result = await next(args);
        const output = result.output as { ScannedCount?: number; ConsumedCapacity?: ConsumedCapacity | ConsumedCapacity[] };
        const consumed = [output.ConsumedCapacity ?? []].flat();
        const units = consumed.flatMap((c) => [
          { table: String(c.TableName), capacity: c.Table?.CapacityUnits ?? 0 },
          ...Object.entries(c.GlobalSecondaryIndexes ?? {}).map(([name, i]) => ({ table: `${c.TableName}.${name}`, capacity: i.CapacityUnits ?? 0 })),
        ]);
        this.calls.push({ command: context.commandName ?? '', read: output.ScannedCount ?? 0, units });
        return result;
      },
      { step: 'initialize', name: 'meterCapacity' },
    );
  }

  /** Write units per table (and index) of the calls since the last `take`, and the items queries read. */
  take(): { writes: Record<string, number>; total: number; read: number } {
    const calls = this.calls.splice(0);
    const writes: Record<string, number> = {};
    for (const c of calls.filter((c) => /Put|Update|Delete|TransactWrite/.test(c.command))) for (const u of c.units) writes[u.table] = (writes[u.table] ?? 0) + u.capacity;
    return { writes, total: Object.values(writes).reduce((a, b) => a + b, 0), read: calls.reduce((a, c) => a + c.read, 0) };
  }
}

const metered: StoreAdapters<MeteredEventsStore, number> = {
  dynamodb: { open: (settings, listingReadBudget) => new MeteredEventsStore({ settings, listingReadBudget }), prepare: (store) => store.createTables() },
};

describeEachAdapter('DynamoEventsStore costs', metered, (h) => {
  const open = async (listingReadBudget?: number) => {
    const store = h.open(listingReadBudget);
    store.take();
    return store;
  };

  it('stops a search after its read budget with a cursor, and following the cursors finds every match once', async () => {
    const store = await open(10);
    try {
      const made: EventRecord[] = [];
      for (let i = 0; i < 30; i++)
        made.push(await storeNewEvent(store, newEvent({ title: i === 7 || i === 23 ? `Needle ${i}` : `Hay ${i}`, startsAt: inDays(2 + i), endsAt: inDays(2 + i, 2) })));
      const from = new Date().toISOString();
      store.take();
      const first = await store.listEvents({ kind: 'upcoming', from, q: 'nothing matches this' }, { limit: 20 });
      expect(first.items).toEqual([]);
      expect(first.next).not.toBeNull();
      expect(store.take().read).toBeLessThanOrEqual(10);

      const found: string[] = [];
      let after: EventCursor | undefined;
      let pages = 0;
      do {
        const page = await store.listEvents({ kind: 'upcoming', from, q: 'needle' }, { after, limit: 20 });
        expect(store.take().read).toBeLessThanOrEqual(10);
        found.push(...page.items.map((e) => e.id));
        after = page.next ?? undefined;
        pages++;
      } while (after && pages < 20);
      expect(after).toBeUndefined();
      expect(pages).toBeGreaterThanOrEqual(3);
      expect(found).toEqual([made[7]!.id, made[23]!.id]);
    } finally {
      await store.close();
    }
  });

  it('reads no past month and no ended event’s bucket to list upcoming events', async () => {
    const store = await open();
    try {
      for (let i = 0; i < 8; i++) await storeNewEvent(store, newEvent({ startsAt: inDays(1 + i), endsAt: inDays(1 + i, 2) }));
      store.take();
      // Years later, none of these is upcoming: the listing reads from a month before `from`, not the archive.
      const later = new Date(Date.now() + 3 * 365 * DAY).toISOString();
      expect((await store.listEvents({ kind: 'upcoming', from: later }, { limit: 20 })).items).toEqual([]);
      expect(store.take().read).toBe(0);
    } finally {
      await store.close();
    }
  });

  it('writes a long event once per table and index, with no search copy doubling it', async () => {
    const store = await open();
    try {
      // 4,000 characters of description: a 5 KB item (2 write units per KB in a transaction); with a lower-cased copy
      // of the text kept for search it would be 9 KB, in the table and in both indexes.
      await storeNewEvent(store, newEvent({ description: 'x'.repeat(4000) }));
      const { writes } = store.take();
      const events = Object.entries(writes).filter(([t]) => /Events(\.|$)/.test(t));
      expect(events.map(([t]) => t.replace(/^.*Events/, 'Events')).sort()).toEqual(['Events', 'Events.ByOrganizer', 'Events.ByStartMonth']);
      // 10 each (the table also takes 1 for the new month in `listing#months`); 18 each with a search copy.
      for (const [table, units] of events) expect(units, table).toBeLessThanOrEqual(table.endsWith('Events') ? 11 : 10);
      const found = await store.listEvents({ kind: 'upcoming', from: new Date().toISOString(), q: 'XXXX' }, { limit: 5 });
      expect(found.items).toHaveLength(1); // the search is still case-blind
    } finally {
      await store.close();
    }
  });

  it('registers and withdraws without writing the event: three small items, at most 8 write units', async () => {
    const store = await open();
    try {
      const event = await storeNewEvent(store, newEvent({ registrationLimit: 100, description: 'x'.repeat(4000) }));
      store.take();
      await registerForEvent(store, event.id, person('usr_ada'), new Date());
      const register = store.take();
      expect(Object.keys(register.writes).some((t) => t.endsWith('Events') || t.includes('Events.'))).toBe(false);
      expect(register.total).toBeLessThanOrEqual(8);
      await withdrawRegistration(store, event.id, 'usr_ada', new Date());
      const withdrawal = store.take();
      expect(Object.keys(withdrawal.writes).some((t) => t.endsWith('Events') || t.includes('Events.'))).toBe(false);
      expect(withdrawal.total).toBeLessThanOrEqual(8);
    } finally {
      await store.close();
    }
  });
});

describe('SqliteEventsStore', () => {
  it('tells the relay after commits that wrote messages, and only then', async () => {
    const dir = tempDir('dems-events-kick-');
    let kicks = 0;
    const store = new SqliteEventsStore({ file: join(dir.path, 'events.db'), synchronous: 'NORMAL', onMessagesCommitted: () => kicks++ });
    try {
      const event = await storeNewEvent(store, newEvent());
      expect(kicks).toBe(1);
      await expectAppError(registerForEvent(store, event.id, person('usr_a'), new Date(Date.now() + 30 * DAY)), 'EVENT_ENDED');
      expect(kicks).toBe(1);
      await registerForEvent(store, event.id, person('usr_a'), new Date());
      expect(kicks).toBe(2);
    } finally {
      await store.close();
      dir.cleanup();
    }
  });
});

describe('SqliteEventsStore shared by several processes', () => {
  it('moves its data version with the commits of another connection to the file', async () => {
    const dir = tempDir('dems-events-version-');
    const file = join(dir.path, 'events.db');
    const here = new SqliteEventsStore({ file, synchronous: 'NORMAL' });
    const there = new SqliteEventsStore({ file, synchronous: 'NORMAL' });
    try {
      expect(here.dataVersionSeesEveryWriter).toBe(true);
      const before = here.dataVersion();
      await here.getEvent('evt_missing');
      expect(here.dataVersion()).toBe(before);
      const event = await storeNewEvent(there, newEvent());
      const afterCreate = here.dataVersion();
      expect(afterCreate).not.toBe(before);
      await registerForEvent(there, event.id, person('usr_a'), new Date());
      expect(here.dataVersion()).not.toBe(afterCreate);
    } finally {
      await here.close();
      await there.close();
      dir.cleanup();
    }
  });

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
      const event = await storeNewEvent(setup, newEvent({ registrationLimit: 20 }));
      const startAt = Date.now() + 1500;
      const run = promisify(execFile);
      const outputs = await Promise.all(['p1', 'p2', 'p3', 'p4'].map((p) => run(process.execPath, [worker, file, event.id, p, '15', String(startAt)], { timeout: 30_000 })));
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
