import { io as connect, type Socket } from 'socket.io-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LIVE_PATH, newMessage, WAITING_ROOM_EVENT, WAITING_ROOM_UNWATCH_EVENT, WAITING_ROOM_WATCH_EVENT, type WaitingRoomLive, type WaitingRoomSettings } from '@dems/contracts';
import { deliver } from '@dems/kit/testing';
import { sessionVerifier } from '../src/identity/session-tokens.js';
import { attachSocketIo } from '../src/live/socket-io.js';
import { LiveWaitingRooms, ticketingLookup } from '../src/live/waiting-rooms.js';
import { signUp, testApp, type TestApp } from './helpers.js';
import { connected } from './live-sockets.js';

const settings: WaitingRoomSettings = { opensAt: '2030-01-01T10:00:00.000Z', admitPerMinute: 600, passMinutes: 10 };
const changed = (eventId: string, room: WaitingRoomSettings | null, occurredAt = new Date()) => newMessage('ticketing', 'WaitingRoomChanged', { eventId, room }, occurredAt);

/** The next waiting-room push to the socket, within `withinMs`. */
const nextPush = (s: Socket, withinMs = 2000) =>
  new Promise<WaitingRoomLive>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no waiting-room push within ${withinMs} ms`)), withinMs);
    s.once(WAITING_ROOM_EVENT, (p: WaitingRoomLive) => {
      clearTimeout(timer);
      resolve(p);
    });
  });

let t: TestApp;
let rooms: LiveWaitingRooms;
let lookups: string[];
let address: string;
const sockets: Socket[] = [];

beforeEach(async () => {
  lookups = [];
  // Ticketing answers "not queued" for evt_none and cannot be reached for anything else.
  rooms = new LiveWaitingRooms(async (eventId) => {
    lookups.push(eventId);
    return eventId === 'evt_none' ? null : undefined;
  });
  t = await testApp({ waitingRooms: rooms });
  attachSocketIo(t.app, { authenticate: sessionVerifier(t.keys.verifier(), t.store), live: t.live, waitingRooms: rooms });
  address = await t.app.listen({ port: 0, host: '127.0.0.1' });
});
afterEach(async () => {
  sockets.splice(0).forEach((s) => s.close());
  await t.close();
});

async function watcher(eventId: string): Promise<Socket> {
  const user = await signUp(t.app);
  const socket = connect(address, { path: LIVE_PATH, auth: { token: user.token }, transports: ['websocket'], reconnection: false });
  sockets.push(socket);
  await connected(socket);
  socket.emit(WAITING_ROOM_WATCH_EVENT, { eventId });
  return socket;
}

describe('waiting rooms live over Socket.IO', () => {
  it('pushes each change of a room to its watchers only, and the latest at once to a new watcher', async () => {
    const a = await watcher('evt_jazz');
    const other = await watcher('evt_other');
    let otherGot = 0;
    other.on(WAITING_ROOM_EVENT, () => otherGot++);
    // Let the watch (a join on the server) land before the change.
    await new Promise((r) => setTimeout(r, 100));

    const pushed = nextPush(a);
    expect((await deliver(t.app, [changed('evt_jazz', settings)])).statusCode).toBe(200);
    expect(await pushed).toMatchObject({ eventId: 'evt_jazz', room: settings, now: expect.any(String) });

    const late = await watcher('evt_jazz');
    expect(await nextPush(late)).toMatchObject({ eventId: 'evt_jazz', room: settings });

    const deleted = nextPush(a);
    await deliver(t.app, [changed('evt_jazz', null)]);
    expect(await deleted).toMatchObject({ eventId: 'evt_jazz', room: null });
    expect(otherGot).toBe(0);
    // Asked once, by the first watch (before any change was heard of); the late watcher got it from memory.
    expect(lookups.filter((e) => e === 'evt_jazz')).toHaveLength(1);
  });

  it('keeps the newest change: a late redelivery of an older one changes nothing and pushes nothing', async () => {
    const a = await watcher('evt_jazz');
    await new Promise((r) => setTimeout(r, 100));
    const newer = { ...settings, admitPerMinute: 60 };
    const first = nextPush(a);
    await deliver(t.app, [changed('evt_jazz', newer, new Date(Date.now()))]);
    await first;
    let pushes = 0;
    a.on(WAITING_ROOM_EVENT, () => pushes++);
    await deliver(t.app, [changed('evt_jazz', settings, new Date(Date.now() - 60_000))]);
    expect(await rooms.current('evt_jazz')).toEqual(newer);
    const fresh = await watcher('evt_jazz');
    expect((await nextPush(fresh)).room).toEqual(newer);
    expect(pushes).toBe(0);
  });

  it('asks ticketing about a room it never heard of, and stops watching on unwatch', async () => {
    const a = await watcher('evt_none');
    expect(await nextPush(a)).toMatchObject({ eventId: 'evt_none', room: null });
    expect(lookups).toEqual(['evt_none']);
    a.emit(WAITING_ROOM_UNWATCH_EVENT, { eventId: 'evt_none' });
    await new Promise((r) => setTimeout(r, 100));
    let got = 0;
    a.on(WAITING_ROOM_EVENT, () => got++);
    const b = await watcher('evt_none');
    await nextPush(b);
    const bChange = nextPush(b);
    await deliver(t.app, [changed('evt_none', settings)]);
    await bChange;
    expect(got).toBe(0);
  });

  it('ignores a malformed watch', async () => {
    const a = await watcher('not an id!');
    let got = 0;
    a.on(WAITING_ROOM_EVENT, () => got++);
    await deliver(t.app, [changed('evt_jazz', settings)]);
    await new Promise((r) => setTimeout(r, 200));
    expect(got).toBe(0);
    expect(lookups).toEqual([]);
  });
});

describe('ticketingLookup', () => {
  // A stand-in for fetch, to force each answer ticketing can give.
  const fakeFetch = (status: number, body: unknown) => (async () => new Response(JSON.stringify(body), { status })) as unknown as typeof fetch;

  it('reads the settings of a room, null for 404, and undefined when ticketing fails', async () => {
    const room = { eventId: 'evt_jazz', ...settings, joined: 3, admittedThrough: 1, soldOut: false, now: '2030-01-01T09:00:00.000Z' };
    expect(await ticketingLookup('http://127.0.0.1:1', fakeFetch(200, room))('evt_jazz')).toEqual(settings);
    expect(await ticketingLookup('http://127.0.0.1:1', fakeFetch(404, { code: 'WAITING_ROOM_NOT_FOUND' }))('evt_jazz')).toBeNull();
    expect(await ticketingLookup('http://127.0.0.1:1', fakeFetch(503, { code: 'NOT_READY' }))('evt_jazz')).toBeUndefined();
  });
});
