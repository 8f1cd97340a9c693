import { io as connect, type Socket } from 'socket.io-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LIVE_NOTIFICATION_EVENT, LIVE_PATH, type Notification } from '@dems/contracts';
import { deliver } from '@dems/kit/testing';
import { attachSocketIo } from '../src/live/socket-io.js';
import { msg, signUp, testApp, type TestApp } from './helpers.js';

let t: TestApp;
let address: string;
const sockets: Socket[] = [];

beforeEach(async () => {
  t = await testApp();
  attachSocketIo(t.app, { verify: t.keys.verifier(), live: t.live });
  address = await t.app.listen({ port: 0, host: '127.0.0.1' });
});
afterEach(async () => {
  sockets.splice(0).forEach((s) => s.close());
  await t.close();
});

function open(token: string, extra: Record<string, unknown> = {}): Socket {
  const socket = connect(address, { path: LIVE_PATH, auth: { token }, transports: ['websocket'], reconnection: false, ...extra });
  sockets.push(socket);
  return socket;
}

const connected = (s: Socket) =>
  new Promise<void>((resolve, reject) => {
    s.once('connect', () => resolve());
    s.once('connect_error', reject);
  });

const nextNotification = (s: Socket, withinMs = 2000) =>
  new Promise<Notification>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no notification within ${withinMs} ms`)), withinMs);
    s.once(LIVE_NOTIFICATION_EVENT, (n: Notification) => {
      clearTimeout(timer);
      resolve(n);
    });
  });

describe('live notifications over Socket.IO', () => {
  it('pushes a new notification to every open tab of its user within 2 s, and to nobody else', async () => {
    const buyer = await signUp(t.app);
    const bystander = await signUp(t.app);
    const tab1 = open(buyer.token);
    const tab2 = open(buyer.token, { transports: ['polling'] });
    const other = open(bystander.token);
    await Promise.all([connected(tab1), connected(tab2), connected(other)]);

    let otherGot = 0;
    other.on(LIVE_NOTIFICATION_EVENT, () => otherGot++);
    const arrivals = Promise.all([nextNotification(tab1), nextNotification(tab2)]);
    const res = await deliver(t.app, [msg.order(buyer.id, 2)]);
    expect(res.statusCode).toBe(200);
    const [a, b] = await arrivals;
    expect(a).toMatchObject({ type: 'order_confirmed', title: 'Order confirmed', readAt: null });
    expect(a.body).toContain('Your 2 tickets for Jazz Night are confirmed');
    expect(b).toEqual(a);
    // What was pushed is what the API lists.
    const listed = (await t.app.inject({ method: 'GET', url: '/notifications', headers: buyer.auth })).json().items[0];
    expect(listed).toEqual(a);
    await new Promise((r) => setTimeout(r, 100));
    expect(otherGot).toBe(0);
  });

  it('does not push a duplicate delivery again', async () => {
    const buyer = await signUp(t.app);
    const tab = open(buyer.token);
    await connected(tab);
    let count = 0;
    tab.on(LIVE_NOTIFICATION_EVENT, () => count++);
    const order = msg.order(buyer.id, 1);
    await deliver(t.app, [order]);
    await deliver(t.app, [order]);
    await new Promise((r) => setTimeout(r, 200));
    expect(count).toBe(1);
  });

  it('refuses a bad or missing token with connect_error "unauthorized"', async () => {
    for (const token of ['not-a-token', '']) {
      const socket = open(token);
      const error = await new Promise<Error>((resolve) => socket.once('connect_error', resolve));
      expect(error.message).toBe('unauthorized');
      expect(socket.connected).toBe(false);
    }
  });

  it('refuses a browser connection from a foreign origin and accepts the same origin', async () => {
    const user = await signUp(t.app);
    const socket = open(user.token, { transports: ['polling'], extraHeaders: { origin: 'https://evil.example' } });
    const error = await new Promise<Error>((resolve) => socket.once('connect_error', resolve));
    expect(error).toBeInstanceOf(Error);
    expect(socket.connected).toBe(false);
    // The same browser on the page's own origin (what the gateway serves) gets in.
    const sameOrigin = open(user.token, { transports: ['polling'], extraHeaders: { origin: address } });
    await connected(sameOrigin);
    expect(sameOrigin.connected).toBe(true);
  });

  it('closes cleanly with sockets still open', async () => {
    const user = await signUp(t.app);
    const socket = open(user.token);
    await connected(socket);
    const disconnected = new Promise<string>((resolve) => socket.once('disconnect', resolve));
    await t.app.close();
    expect(await disconnected).toBeTruthy();
  });
});
