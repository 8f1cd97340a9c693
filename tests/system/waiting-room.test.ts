// A queued sale through the gateway, real processes: an organizer queues it, users join before
// the opening, are admitted in order of position, buy with their passes; a user without a pass is refused; the
// room's change reaches a watching socket (ticketing → WaitingRoomChanged → engagement → Socket.IO).
import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WAITING_ROOM_EVENT, WAITING_ROOM_WATCH_EVENT, type QueueEntry, type QueuePass, type WaitingRoomLive } from '@dems/contracts';
import { createEvent, eventually, startTestSystem, waitOnSale } from './helpers.js';

let t: Awaited<ReturnType<typeof startTestSystem>>;
let socket: Socket | undefined;

beforeAll(async () => {
  t = await startTestSystem();
}, 120_000);
afterAll(async () => {
  socket?.close();
  await t?.stop();
});

describe('a queued sale', () => {
  it('admits in order of position, sells only with passes, and pushes the room to watchers', { timeout: 90_000 }, async () => {
    const organizer = await t.api.account('organizer');
    const event = await createEvent(t.api, organizer.token, 3);
    await waitOnSale(t.api, event.id);
    const ticketTypeId = event.ticketTypes[0]!.id;

    const pushes: WaitingRoomLive[] = [];
    socket = io(t.system.urls.gateway, { auth: { token: organizer.token }, transports: ['websocket'], reconnection: false });
    await new Promise<void>((resolve, reject) => {
      socket!.once('connect', () => resolve());
      socket!.once('connect_error', reject);
    });
    socket.on(WAITING_ROOM_EVENT, (p: WaitingRoomLive) => pushes.push(p));
    socket.emit(WAITING_ROOM_WATCH_EVENT, { eventId: event.id });

    // Opens in 3 s, one admission a second.
    const opensAt = new Date(Date.now() + 3000).toISOString();
    const put = await fetch(`${t.system.urls.gateway}/api/waiting-rooms/${event.id}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${organizer.token}` },
      body: JSON.stringify({ opensAt, admitPerMinute: 60, passMinutes: 5 }),
    });
    expect(put.status).toBe(200);
    const pushed = await eventually(async () => pushes.find((p) => p.room?.opensAt === opensAt), 10_000, 'the room pushed to the watching socket');
    expect(pushed).toMatchObject({ eventId: event.id, room: { opensAt, admitPerMinute: 60, passMinutes: 5 } });

    const users = [await t.api.account('attendee'), await t.api.account('attendee'), await t.api.account('attendee')];
    const entries: QueueEntry[] = [];
    for (const u of users) {
      const res = await t.api.post(`/waiting-rooms/${event.id}/entries`, undefined, u.token);
      expect(res.status).toBe(201);
      entries.push(res.body as QueueEntry);
    }
    expect(entries.map((e) => e.position)).toEqual([1, 2, 3]);

    const buy = (token: string, quantity: number, pass?: string) =>
      t.api.post('/orders', { eventId: event.id, ticketTypeId, quantity }, token, { 'idempotency-key': crypto.randomUUID(), ...(pass ? { 'queue-pass': pass } : {}) });
    expect((await buy(users[0]!.token, 1)).body).toMatchObject({ code: 'SALE_NOT_OPEN_YET' });
    expect((await t.api.post(`/waiting-rooms/${event.id}/passes`, { token: entries[2]!.token }, users[2]!.token)).body).toMatchObject({ code: 'NOT_ADMITTED_YET' });

    // Each polls for its pass; the order in which they get one is the order of their positions.
    const admittedAt: number[] = [];
    const passes = await Promise.all(
      users.map((u, i) =>
        eventually(
          async () => {
            const res = await t.api.post(`/waiting-rooms/${event.id}/passes`, { token: entries[i]!.token }, u.token);
            if (res.status !== 201) return undefined;
            admittedAt[i] = Date.now();
            return res.body as QueuePass;
          },
          20_000,
          `user ${i + 1}'s pass`,
        ),
      ),
    );
    expect(admittedAt[0]).toBeLessThanOrEqual(admittedAt[1]!);
    expect(admittedAt[1]).toBeLessThanOrEqual(admittedAt[2]!);

    const stranger = await t.api.account('attendee');
    expect((await buy(stranger.token, 1)).body).toMatchObject({ code: 'QUEUE_PASS_REQUIRED' });
    expect((await buy(stranger.token, 1, passes[0]!.pass)).body).toMatchObject({ code: 'QUEUE_PASS_INVALID' });

    expect((await buy(users[0]!.token, 2, passes[0]!.pass)).status).toBe(201);
    expect((await buy(users[1]!.token, 1, passes[1]!.pass)).status).toBe(201);
    expect((await buy(users[2]!.token, 1, passes[2]!.pass)).body).toMatchObject({ code: 'SOLD_OUT' });

    const room = await eventually(
      async () => {
        const r = await t.api.get(`/waiting-rooms/${event.id}`);
        return r.body?.soldOut ? r.body : undefined;
      },
      5_000,
      'the room to say sold out',
    );
    expect(room).toMatchObject({ joined: 3, admittedThrough: 3, soldOut: true });
  });
});
