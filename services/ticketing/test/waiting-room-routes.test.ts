import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Message, QueueEntry, QueuePass, WaitingRoom } from '@dems/contracts';
import type { App } from '@dems/kit';
import { deliver, TEST_SECRET, tempDir, testTokens } from '@dems/kit/testing';
import { buildApp } from '../src/app.js';
import { SqliteTicketingStore } from '../src/store/sqlite.js';
import { SqliteWaitingRoomStore } from '../src/waiting-room/store/sqlite.js';
import { QueueTokens } from '../src/waiting-room/tokens.js';
import { eventSnapshot, published, ticketType } from './fixtures.js';

type Auth = { authorization: string };
let tokens: Awaited<ReturnType<typeof testTokens>>;
let ann: Auth;
let bob: Auth;
let organizer: Auth;
let otherOrganizer: Auth;
let admin: Auth;

beforeAll(async () => {
  tokens = await testTokens();
  ann = await tokens.bearer({ id: 'usr_ann' });
  bob = await tokens.bearer({ id: 'usr_bob' });
  organizer = await tokens.bearer({ id: 'usr_org', role: 'organizer' });
  otherOrganizer = await tokens.bearer({ id: 'usr_org2', role: 'organizer' });
  admin = await tokens.bearer({ id: 'usr_admin', role: 'admin' });
});

let dir: ReturnType<typeof tempDir>;
let store: SqliteTicketingStore;
let app: App;

beforeEach(async () => {
  dir = tempDir('waiting-room-routes-');
  const file = join(dir.path, 'ticketing.db');
  store = new SqliteTicketingStore({ file, synchronous: 'NORMAL' });
  app = await buildApp({ store, waitingRooms: new SqliteWaitingRoomStore({ file, synchronous: 'NORMAL' }), verify: tokens.verify, secret: TEST_SECRET });
  const other = eventSnapshot({ id: 'evt_other', title: 'Other', ticketTypes: [ticketType({ id: 'tt_other' })] });
  expect((await deliver(app, [published(eventSnapshot()), published(other)])).statusCode).toBe(200);
});
afterEach(async () => {
  await app.close();
  dir.cleanup();
});

const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000).toISOString();
const inMinutes = (m: number) => new Date(Date.now() + m * 60_000).toISOString();

const put = (auth: Auth | undefined, payload: Record<string, unknown>, eventId = 'evt_jazz') =>
  app.inject({ method: 'PUT', url: `/waiting-rooms/${eventId}`, headers: auth, payload });
const join_ = (auth: Auth | undefined, eventId = 'evt_jazz') => app.inject({ method: 'POST', url: `/waiting-rooms/${eventId}/entries`, headers: auth });
const passFor = (auth: Auth, token: string, eventId = 'evt_jazz') => app.inject({ method: 'POST', url: `/waiting-rooms/${eventId}/passes`, headers: auth, payload: { token } });
const buy = (auth: Auth, pass: string | undefined, key: string = crypto.randomUUID(), eventId = 'evt_jazz') =>
  app.inject({
    method: 'POST',
    url: '/orders',
    headers: { ...auth, 'idempotency-key': key, ...(pass === undefined ? {} : { 'queue-pass': pass }) },
    payload: { eventId, ticketTypeId: eventId === 'evt_jazz' ? 'tt_ga' : 'tt_other', quantity: 1 },
  });

/** Queues the sale (open since a minute) at a rate that admits at once, joins as `auth` and gets the pass. */
async function admitted(auth: Auth, eventId = 'evt_jazz'): Promise<{ entry: QueueEntry; pass: QueuePass }> {
  if ((await app.inject({ method: 'GET', url: `/waiting-rooms/${eventId}` })).statusCode === 404) {
    expect((await put(organizer, { opensAt: minutesAgo(1), admitPerMinute: 100_000 }, eventId)).statusCode).toBe(200);
  }
  const entry = (await join_(auth, eventId)).json<QueueEntry>();
  const res = await passFor(auth, entry.token, eventId);
  expect(res.statusCode).toBe(201);
  return { entry, pass: res.json<QueuePass>() };
}

describe('PUT, GET and DELETE /waiting-rooms/:eventId', () => {
  it('queues the sale for its organizer or an admin, with the default rate and pass length, and publishes each change', async () => {
    const opensAt = inMinutes(5);
    const res = await put(organizer, { opensAt });
    expect(res.statusCode).toBe(200);
    expect(res.json<WaitingRoom>()).toMatchObject({ eventId: 'evt_jazz', opensAt, admitPerMinute: 600, passMinutes: 10, joined: 0, admittedThrough: 0, soldOut: false });
    expect((await put(admin, { opensAt, admitPerMinute: 30, passMinutes: 2 })).json()).toMatchObject({ admitPerMinute: 30, passMinutes: 2 });
    const got = await app.inject({ method: 'GET', url: '/waiting-rooms/evt_jazz' });
    expect(got.json()).toMatchObject({ opensAt, admitPerMinute: 30, passMinutes: 2, now: expect.any(String) });

    expect((await app.inject({ method: 'DELETE', url: '/waiting-rooms/evt_jazz', headers: organizer })).statusCode).toBe(204);
    expect((await app.inject({ method: 'GET', url: '/waiting-rooms/evt_jazz' })).json()).toMatchObject({ code: 'WAITING_ROOM_NOT_FOUND' });
    const messages = (await store.outbox.claimDue('engagement', 100, Date.now(), 1)).map((e) => e.message as Message<'WaitingRoomChanged'>);
    expect(messages.map((m) => m.data.room?.admitPerMinute ?? null)).toEqual([600, 30, null]);
  });

  it('refuses others: 401 signed out, 403 another organizer or an attendee, 404 an event ticketing has no copy of', async () => {
    expect((await put(undefined, { opensAt: inMinutes(5) })).statusCode).toBe(401);
    expect((await put(otherOrganizer, { opensAt: inMinutes(5) })).json()).toMatchObject({ code: 'FORBIDDEN' });
    expect((await put(ann, { opensAt: inMinutes(5) })).statusCode).toBe(403);
    expect((await put(organizer, { opensAt: inMinutes(5) }, 'evt_none')).json()).toMatchObject({ code: 'EVENT_NOT_FOUND' });
    expect((await app.inject({ method: 'DELETE', url: '/waiting-rooms/evt_jazz', headers: otherOrganizer })).statusCode).toBe(403);
    expect((await app.inject({ method: 'DELETE', url: '/waiting-rooms/evt_jazz', headers: organizer })).json()).toMatchObject({ code: 'WAITING_ROOM_NOT_FOUND' });
    expect((await put(organizer, { opensAt: inMinutes(5), admitPerMinute: 0 })).json()).toMatchObject({ code: 'VALIDATION_FAILED' });
    expect((await put(organizer, { opensAt: inMinutes(5), passMinutes: 61 })).statusCode).toBe(400);
    expect((await app.inject({ method: 'GET', url: '/waiting-rooms/evt_jazz' })).statusCode).toBe(404);
  });
});

describe('POST /waiting-rooms/:eventId/entries and /passes', () => {
  it('places users in join order, the same place on joining again, and counts them', async () => {
    await put(organizer, { opensAt: inMinutes(10), admitPerMinute: 60 });
    expect((await join_(undefined)).statusCode).toBe(401);
    const a = await join_(ann);
    const b = await join_(bob);
    const again = await join_(ann);
    expect(a.statusCode).toBe(201);
    expect(again.statusCode).toBe(200);
    expect(a.json<QueueEntry>()).toMatchObject({ eventId: 'evt_jazz', position: 1, admittedThrough: 0, admitPerMinute: 60, soldOut: false });
    expect(b.json<QueueEntry>().position).toBe(2);
    expect(Date.parse(b.json<QueueEntry>().admitAt) - Date.parse(a.json<QueueEntry>().admitAt)).toBe(1000);
    expect(again.json<QueueEntry>()).toMatchObject({ position: 1, admitAt: a.json<QueueEntry>().admitAt });
    expect((await app.inject({ method: 'GET', url: '/waiting-rooms/evt_jazz' })).json()).toMatchObject({ joined: 2, admittedThrough: 0 });
    expect((await join_(ann, 'evt_other')).json()).toMatchObject({ code: 'WAITING_ROOM_NOT_FOUND' });
  });

  it('answers 409 NOT_ADMITTED_YET with Retry-After before the place is admitted', async () => {
    await put(organizer, { opensAt: minutesAgo(1), admitPerMinute: 1 });
    await join_(bob);
    const entry = (await join_(ann)).json<QueueEntry>();
    const res = await passFor(ann, entry.token);
    expect(res.statusCode).toBe(409);
    expect(res.json()).toMatchObject({ code: 'NOT_ADMITTED_YET', message: expect.stringContaining(entry.admitAt.slice(0, 16)) });
    expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(58);
    expect(Number(res.headers['retry-after'])).toBeLessThanOrEqual(60);
  });

  it('gives an admitted place its pass, the same one when asked again', async () => {
    const { entry, pass } = await admitted(ann);
    expect(Date.parse(pass.expiresAt) - Date.now()).toBeGreaterThan(9 * 60_000);
    expect((await passFor(ann, entry.token)).json()).toEqual(pass);
  });

  it("refuses a forged token, another user's, another event's, and a pass in place of a token", async () => {
    const { entry, pass } = await admitted(ann);
    const forged = await new QueueTokens('another-secret-of-16+').token({ userId: 'usr_ann', eventId: 'evt_jazz', position: 1, admitAtMs: 0 });
    for (const [auth, token, eventId] of [
      [ann, forged, 'evt_jazz'],
      [bob, entry.token, 'evt_jazz'],
      [ann, pass.pass, 'evt_jazz'],
      [ann, 'not-a-token', 'evt_jazz'],
    ] as const) {
      expect((await passFor(auth, token, eventId)).json(), token).toMatchObject({ code: 'QUEUE_TOKEN_INVALID' });
    }
    await put(organizer, { opensAt: minutesAgo(1), admitPerMinute: 100_000 }, 'evt_other');
    expect((await passFor(ann, entry.token, 'evt_other')).json()).toMatchObject({ code: 'QUEUE_TOKEN_INVALID' });
  });
});

describe('the purchase gate on POST /orders', () => {
  it('lets an admitted user buy with the pass and refuses without one', async () => {
    const { pass } = await admitted(ann);
    expect((await buy(ann, pass.pass)).statusCode).toBe(201);
    const none = await buy(bob, undefined);
    expect(none.statusCode).toBe(403);
    expect(none.json()).toMatchObject({ code: 'QUEUE_PASS_REQUIRED', message: expect.stringContaining('/waiting-rooms/evt_jazz') });
  });

  it("refuses another user's pass, another event's, an expired one, a forged one and a token in place of a pass", async () => {
    const { entry, pass } = await admitted(ann);
    const { pass: otherEvent } = await admitted(ann, 'evt_other');
    const signer = new QueueTokens(TEST_SECRET);
    const expired = await signer.pass({ userId: 'usr_ann', eventId: 'evt_jazz', expiresAtMs: Date.now() - 1000 });
    const forged = await new QueueTokens('another-secret-of-16+').pass({ userId: 'usr_ann', eventId: 'evt_jazz', expiresAtMs: Date.now() + 60_000 });
    expect((await buy(bob, pass.pass)).json()).toMatchObject({ code: 'QUEUE_PASS_INVALID' });
    for (const bad of [otherEvent.pass, expired, forged, entry.token, 'garbage']) {
      expect((await buy(ann, bad)).json(), bad).toMatchObject({ code: 'QUEUE_PASS_INVALID' });
    }
    const availability = await app.inject({ method: 'GET', url: '/availability/evt_jazz' });
    expect(availability.json().ticketTypes[0]).toMatchObject({ sold: 0 });
  });

  it('refuses purchases before the opening with SALE_NOT_OPEN_YET, and leaves events without a room alone', async () => {
    const opensAt = inMinutes(30);
    await put(organizer, { opensAt });
    const early = await buy(ann, undefined);
    expect(early.statusCode).toBe(409);
    expect(early.json()).toMatchObject({ code: 'SALE_NOT_OPEN_YET', message: expect.stringContaining(opensAt) });
    expect((await buy(ann, undefined, crypto.randomUUID(), 'evt_other')).statusCode).toBe(201);
    await app.inject({ method: 'DELETE', url: '/waiting-rooms/evt_jazz', headers: organizer });
    expect((await buy(ann, undefined)).statusCode).toBe(201);
  });

  it('replays a purchase retried with the same Idempotency-Key, even without its pass', async () => {
    const { pass } = await admitted(ann);
    const key = crypto.randomUUID();
    const first = await buy(ann, pass.pass, key);
    expect(first.statusCode).toBe(201);
    for (const retry of [await buy(ann, pass.pass, key), await buy(ann, undefined, key)]) {
      expect(retry.statusCode).toBe(201);
      expect(retry.headers['idempotent-replayed']).toBe('true');
      expect(retry.json().id).toBe(first.json().id);
    }
    expect((await buy(ann, undefined)).json()).toMatchObject({ code: 'QUEUE_PASS_REQUIRED' });
  });

  it('says soldOut once the event has no tickets left', async () => {
    const { pass } = await admitted(ann);
    await deliver(app, [published(eventSnapshot({ version: 2, ticketTypes: [{ id: 'tt_ga', name: 'GA', priceCents: 100, currency: 'USD', capacity: 1 }] }))]);
    expect((await buy(ann, pass.pass)).statusCode).toBe(201);
    // The room's view of tickets left is refreshed each second.
    await new Promise((r) => setTimeout(r, 1100));
    expect((await app.inject({ method: 'GET', url: '/waiting-rooms/evt_jazz' })).json()).toMatchObject({ soldOut: true });
    expect((await join_(bob)).json()).toMatchObject({ soldOut: true });
  });
});
