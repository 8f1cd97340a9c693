import { decodeJwt } from 'jose';
import { io as connect, type Socket } from 'socket.io-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LIVE_AUTHENTICATE_EVENT, LIVE_NOTIFICATION_EVENT, LIVE_PATH, type LiveAuthenticateResult, type Session } from '@dems/contracts';
import { deliver } from '@dems/kit/testing';
import { sessionVerifier } from '../src/identity/session-tokens.js';
import { attachSocketIo } from '../src/live/socket-io.js';
import { msg, signUp, testApp, type SignedUp, type TestApp } from './helpers.js';
import { connected, disconnected, nextNotification } from './live-sockets.js';

let t: TestApp;
let address: string;
const sockets: Socket[] = [];

beforeEach(async () => {
  t = await testApp();
  attachSocketIo(t.app, { authenticate: sessionVerifier(t.keys.verifier(), t.store), live: t.live });
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
    // Instead of waiting a while: a notification of the bystander's own, pushed after, arrives after anything wrongly sent before it.
    const own = nextNotification(other);
    await deliver(t.app, [msg.order(bystander.id, 1)]);
    await own;
    expect(otherGot).toBe(1);
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
    // A later, different message arrives after anything the duplicate might have pushed (one socket keeps order).
    const marker = nextNotification(tab);
    await deliver(t.app, [msg.order(buyer.id, 2)]);
    await marker;
    expect(count).toBe(2);
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

  it('closes cleanly with sockets still open, dropping them at the transport so that clients reconnect elsewhere', async () => {
    const user = await signUp(t.app);
    const retrying = { reconnection: true, reconnectionDelay: 50 };
    const socket = open(user.token, retrying);
    const polling = open(user.token, { ...retrying, transports: ['polling'] });
    await Promise.all([connected(socket), connected(polling)]);
    const reasons = Promise.all([socket, polling].map((s) => new Promise<string>((resolve) => s.once('disconnect', resolve))));
    const retries = Promise.all([socket, polling].map((s) => new Promise<void>((resolve) => s.io.once('reconnect_attempt', () => resolve()))));
    await t.app.close();
    // A network drop, not 'io server disconnect', which a Socket.IO client takes as final: both try again.
    expect(await reasons).toEqual(['transport close', expect.stringMatching(/^transport (close|error)$/)]);
    await retries;
  });
});

/** Another sign-in (another session) of a user signed up with helpers.signUp. */
async function signIn(user: SignedUp): Promise<Session> {
  const res = await t.app.inject({ method: 'POST', url: '/sessions', payload: { email: user.email, password: 'correct horse battery' } });
  expect(res.statusCode).toBe(200);
  return res.json();
}

/**
 * A token for `me` whose expiry (whole seconds) is at least `minMs` away: a TTL of 1 s from now may be a
 * millisecond away, or already past on a busy machine. The real clock decides when it expires.
 */
async function signExpiringAfter(me: Parameters<TestApp['keys']['sign']>[0], minMs: number, sid: string) {
  const now = new Date();
  const exp = Math.ceil((now.getTime() + minMs) / 1000);
  const signed = await t.keys.sign(me, exp - Math.floor(now.getTime() / 1000), now, sid);
  return { ...signed, expiresAtMs: exp * 1000 };
}

const refused = (s: Socket) =>
  new Promise<Error & { data?: { code?: string } }>((resolve, reject) => {
    s.once('connect', () => reject(new Error('connected')));
    s.once('connect_error', resolve);
  });

const renew = (s: Socket, token: string) => s.timeout(2000).emitWithAck(LIVE_AUTHENTICATE_EVENT, { token }) as Promise<LiveAuthenticateResult>;

/** Counts the notifications a socket receives from now on. */
function counter(s: Socket): { count: number } {
  const c = { count: 0 };
  s.on(LIVE_NOTIFICATION_EVENT, () => c.count++);
  return c;
}

describe('live socket lifetime', () => {
  it("sign-out closes that session's sockets only, and its access token cannot open another", async () => {
    const user = await signUp(t.app);
    const laptop = await signIn(user);
    const phone = await signIn(user);
    const laptopTab = open(laptop.token);
    const phoneTab = open(phone.token);
    await Promise.all([connected(laptopTab), connected(phoneTab)]);

    const closed = disconnected(laptopTab);
    expect((await t.app.inject({ method: 'POST', url: '/sessions/logout', payload: { refreshToken: laptop.refreshToken } })).statusCode).toBe(200);
    expect(await closed).toBe('io server disconnect');

    // The access token is still unexpired, but its session is over.
    expect((await refused(open(laptop.token))).data?.code).toBe('UNAUTHENTICATED');
    const arrival = nextNotification(phoneTab);
    await deliver(t.app, [msg.order(user.id, 1)]);
    expect((await arrival).type).toBe('order_confirmed');
    expect(phoneTab.connected).toBe(true);
  });

  it("sign-out everywhere closes every socket of the user and no one else's", async () => {
    const user = await signUp(t.app);
    const other = await signUp(t.app);
    const second = await signIn(user);
    const tabs = [open(user.token), open(second.token), open(second.token, { transports: ['polling'] })];
    const bystander = open(other.token);
    await Promise.all([...tabs, bystander].map(connected));

    const closed = Promise.all(tabs.map((s) => disconnected(s)));
    const res = await t.app.inject({ method: 'POST', url: '/sessions/logout-everywhere', headers: user.auth });
    expect(res.statusCode).toBe(200);
    expect(await closed).toEqual(['io server disconnect', 'io server disconnect', 'io server disconnect']);

    for (const token of [user.token, second.token]) expect((await refused(open(token))).data?.code).toBe('UNAUTHENTICATED');
    const late = counter(tabs[0]!);
    const arrival = nextNotification(bystander);
    await deliver(t.app, [msg.order(user.id, 1), msg.order(other.id, 1)]);
    await arrival;
    expect(late.count).toBe(0);
    expect(bystander.connected).toBe(true);
  });

  it('a replayed refresh token closes the sockets of the family it ended', async () => {
    const user = await signUp(t.app);
    const session = await signIn(user);
    const tab = open(session.token);
    await connected(tab);
    const refresh = (refreshToken: string) => t.app.inject({ method: 'POST', url: '/sessions/refresh', payload: { refreshToken } });
    expect((await refresh(session.refreshToken)).statusCode).toBe(200);
    const closed = disconnected(tab);
    expect((await refresh(session.refreshToken)).statusCode).toBe(401);
    expect(await closed).toBe('io server disconnect');
  });

  it('closes a socket when its access token expires', async () => {
    const user = await signUp(t.app);
    const { sid } = decodeJwt(user.token);
    const me = (await t.app.inject({ url: '/me', headers: user.auth })).json();
    // Two seconds to connect, however busy the machine; then closed at expiry (plenty of slack for a late timer).
    const { token, expiresAtMs } = await signExpiringAfter(me, 2000, String(sid));
    const tab = open(token);
    await connected(tab);
    expect(await disconnected(tab, expiresAtMs - Date.now() + 5000)).toBe('io server disconnect');
  });

  it('keeps a socket open past expiry when the client renews its token over the socket', async () => {
    const user = await signUp(t.app);
    const { sid } = decodeJwt(user.token);
    const me = (await t.app.inject({ url: '/me', headers: user.auth })).json();
    const short = await signExpiringAfter(me, 2000, String(sid));
    const tab = open(short.token);
    await connected(tab);

    const renewed = await t.keys.sign(me, 60, new Date(), String(sid));
    const ack = await renew(tab, renewed.token);
    expect(ack).toEqual({ ok: true, expiresAt: renewed.expiresAt });
    // Past the short token's expiry, whenever the renewal landed.
    await new Promise((r) => setTimeout(r, short.expiresAtMs - Date.now() + 500));
    expect(tab.connected).toBe(true);
    const arrival = nextNotification(tab);
    await deliver(t.app, [msg.order(user.id, 1)]);
    expect((await arrival).type).toBe('order_confirmed');
  });

  it("refuses a renewal with a bad token, another user's token or a signed-out session's token", async () => {
    const user = await signUp(t.app);
    const other = await signUp(t.app);
    const ended = await signIn(user);
    await t.app.inject({ method: 'POST', url: '/sessions/logout', payload: { refreshToken: ended.refreshToken } });
    const tab = open(user.token);
    await connected(tab);
    expect(await renew(tab, 'not-a-token')).toMatchObject({ ok: false, code: 'UNAUTHENTICATED' });
    expect(await renew(tab, other.token)).toMatchObject({ ok: false, code: 'FORBIDDEN' });
    expect(await renew(tab, ended.token)).toMatchObject({ ok: false, code: 'UNAUTHENTICATED' });
    // The renewal of a session that is over must not have put the socket in that session's room either.
    expect(tab.connected).toBe(true);
  });
});

describe('live sockets on /metrics', () => {
  async function gauges(): Promise<{ sockets?: number; users?: number }> {
    const text = (await t.app.inject({ method: 'GET', url: '/metrics' })).body;
    const read = (name: string) => {
      const m = new RegExp(`^${name} (\\d+)$`, 'm').exec(text);
      return m ? Number(m[1]) : undefined;
    };
    return { sockets: read('dems_live_sockets'), users: read('dems_live_users') };
  }

  it('counts the sockets and their users on this replica, as they come and go', async () => {
    expect(await gauges()).toEqual({ sockets: 0, users: 0 });
    const ann = await signUp(t.app);
    const bob = await signUp(t.app);
    const [tab1, tab2, other] = [open(ann.token), open(ann.token), open(bob.token)];
    await Promise.all([connected(tab1), connected(tab2), connected(other)]);
    expect(await gauges()).toEqual({ sockets: 3, users: 2 });
    tab1.close();
    const end = Date.now() + 5000;
    while ((await gauges()).sockets !== 2 && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    expect(await gauges()).toEqual({ sockets: 2, users: 2 });
    // A refused connection (no valid token) is never counted.
    await expect(connected(open('not-a-token'))).rejects.toThrow();
    expect(await gauges()).toEqual({ sockets: 2, users: 2 });
  });
});
