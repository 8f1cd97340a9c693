import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { createClient } from 'redis';
import { io as connect, type Socket } from 'socket.io-client';
import type { Server } from 'socket.io';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { LIVE_NOTIFICATION_EVENT, LIVE_PATH, proofOfWorkBits, proofOfWorkInput, type Session } from '@dems/contracts';
import { SharedRedis, SharedState, type App } from '@dems/kit';
import { deliver, TEST_SECRET, tempDir } from '@dems/kit/testing';
import { startRedisServer } from '../../../scripts/lib/redis.mjs';
import { buildApp } from '../src/app.js';
import type { AccountLimits } from '../src/identity/accounts.js';
import { sessionVerifier } from '../src/identity/session-tokens.js';
import { SigningKeys } from '../src/identity/signing-keys.js';
import { LiveNotifications } from '../src/live/live-notifications.js';
import { attachSocketIo, userRoom } from '../src/live/socket-io.js';
import { SqliteEngagementStore } from '../src/store/sqlite.js';
import { msg, signUp, type SignedUp } from './helpers.js';
import { connected, disconnected, nextNotification } from './live-sockets.js';

// Two engagement replicas as production runs them — each its own app, store connection, signing keys (from one
// configured key) and Redis connection — listening on real ports, sharing one SQLite file and one redis-server.
const MAX_PER_USER = 3;
let redis: Awaited<ReturnType<typeof startRedisServer>>;
let dir: ReturnType<typeof tempDir>;
let signingKey: string;

interface Replica {
  app: App;
  io: Server;
  address: string;
}
let a: Replica;
let b: Replica;
const sockets: Socket[] = [];

async function replica(limits: Partial<AccountLimits>): Promise<Replica> {
  const store = new SqliteEngagementStore({ file: join(dir.path, 'engagement.db'), synchronous: 'NORMAL' });
  const keys = await SigningKeys.load({ file: join(dir.path, 'never-written.json'), envJwk: signingKey });
  const live = new LiveNotifications();
  const shared = new SharedState(await SharedRedis.connect(redis.url, { info: () => {}, warn: () => {} }));
  // Never shedding load: two apps and their clients share this process, and a busy machine is not what this is about.
  const app = await buildApp({
    store,
    keys,
    live,
    shared,
    secret: TEST_SECRET,
    tokenTtlSeconds: 3600,
    accountLimits: limits,
    shedding: { maxEventLoopDelayMs: 0, maxQueueDelayMs: 0 },
  });
  app.addHook('onClose', async () => shared.close());
  const io = attachSocketIo(app, { authenticate: sessionVerifier(keys.verifier(), store), live, redis: shared.redis, maxConnectionsPerUser: MAX_PER_USER });
  return { app, io, address: await app.listen({ port: 0, host: '127.0.0.1' }) };
}

beforeAll(async () => {
  redis = await startRedisServer();
  signingKey = JSON.stringify((await SigningKeys.generate()).privateJwk);
});
afterAll(async () => {
  await redis?.stop();
});
beforeEach(async () => {
  dir = tempDir('dems-engagement-replicas-');
  // Sign-in asks for a challenge after one failure, always of 8 bits (quick to solve here).
  const limits = { loginFailuresPerAccount: 1, loginFailuresPerAddress: 1000, loginChallengeMaxBits: 8, signUpsPerAddress: 1000 };
  [a, b] = [await replica(limits), await replica(limits)];
  await replicasHearEachOther();
});
afterEach(async () => {
  sockets.splice(0).forEach((s) => s.close());
  await Promise.all([a?.app.close(), b?.app.close()]);
  dir.cleanup();
});

function open(on: Replica, token: string): Socket {
  const socket = connect(on.address, { path: LIVE_PATH, auth: { token }, transports: ['websocket'], reconnection: false });
  sockets.push(socket);
  return socket;
}

/**
 * Each replica's adapter starts reading the shared stream a moment after it connects; until then a broadcast
 * from the other would pass it by. Waits until a probe emitted on each replica reaches a socket on the other.
 */
async function replicasHearEachOther(): Promise<void> {
  const probe = await signUp(a.app);
  for (const [from, to] of [
    [a, b],
    [b, a],
  ] as const) {
    const socket = open(to, probe.token);
    await connected(socket);
    const heard = new Promise<void>((resolve) => socket.once('probe', () => resolve()));
    let done = false;
    void heard.then(() => (done = true));
    for (const end = Date.now() + 10_000; !done;) {
      if (Date.now() > end) throw new Error('the replicas do not hear each other over Redis');
      from.io.to(userRoom(probe.id)).emit('probe');
      await new Promise((r) => setTimeout(r, 50));
    }
    socket.close();
  }
}

/** Another sign-in (another session), on the replica given. */
async function signIn(on: Replica, user: SignedUp): Promise<Session> {
  const res = await on.app.inject({ method: 'POST', url: '/sessions', payload: { email: user.email, password: 'correct horse battery' } });
  expect(res.statusCode).toBe(200);
  return res.json();
}

describe('two engagement replicas sharing one store and one Redis', () => {
  it("push a notification created on either replica to the user's sockets on both, and to no one else", async () => {
    const buyer = await signUp(a.app);
    const bystander = await signUp(b.app);
    const onA = open(a, buyer.token);
    const onB = open(b, buyer.token);
    const other = open(b, bystander.token);
    await Promise.all([onA, onB, other].map(connected));
    let otherGot = 0;
    other.on(LIVE_NOTIFICATION_EVENT, () => otherGot++);

    for (const [committer, quantity] of [
      [b, 2],
      [a, 3],
    ] as const) {
      const arrivals = Promise.all([nextNotification(onA), nextNotification(onB)]);
      expect((await deliver(committer.app, [msg.order(buyer.id, quantity)])).statusCode).toBe(200);
      const [first, second] = await arrivals;
      expect(first.body).toContain(`Your ${quantity} tickets for Jazz Night are confirmed`);
      expect(second).toEqual(first);
    }
    // A notification of the bystander's own, pushed after, arrives after anything wrongly sent before it.
    const own = nextNotification(other);
    await deliver(a.app, [msg.order(bystander.id, 1)]);
    await own;
    expect(otherGot).toBe(1);
  });

  it("sign-out on one replica closes that session's sockets on both; sign-out everywhere closes all the user's, no one else's", async () => {
    const user = await signUp(a.app);
    const bystander = await signUp(a.app);
    const laptop = await signIn(a, user);
    const phone = await signIn(b, user);
    const laptopTabs = [open(a, laptop.token), open(b, laptop.token)];
    const phoneTabs = [open(a, phone.token), open(b, phone.token)];
    const others = [open(a, bystander.token), open(b, bystander.token)];
    await Promise.all([...laptopTabs, ...phoneTabs, ...others].map(connected));

    const laptopClosed = Promise.all(laptopTabs.map((s) => disconnected(s)));
    expect((await b.app.inject({ method: 'POST', url: '/sessions/logout', payload: { refreshToken: laptop.refreshToken } })).statusCode).toBe(200);
    expect(await laptopClosed).toEqual(['io server disconnect', 'io server disconnect']);
    expect(phoneTabs.every((s) => s.connected)).toBe(true);

    const phoneClosed = Promise.all(phoneTabs.map((s) => disconnected(s)));
    const everywhere = await a.app.inject({ method: 'POST', url: '/sessions/logout-everywhere', headers: { authorization: `Bearer ${phone.token}` } });
    expect(everywhere.statusCode).toBe(200);
    expect(await phoneClosed).toEqual(['io server disconnect', 'io server disconnect']);
    // The sessions are over on both replicas: their tokens open no socket on either.
    for (const on of [a, b]) await expect(connected(open(on, phone.token))).rejects.toMatchObject({ data: { code: 'UNAUTHENTICATED' } });
    // The bystander's sockets on both replicas still get their notifications.
    const arrivals = Promise.all(others.map((s) => nextNotification(s)));
    await deliver(b.app, [msg.order(bystander.id, 1)]);
    await arrivals;
  });

  it(`holds the cap of ${MAX_PER_USER} live connections per user across both replicas`, async () => {
    const user = await signUp(a.app);
    const held = [open(a, user.token), open(a, user.token), open(b, user.token)];
    await Promise.all(held.map(connected));
    for (const on of [a, b]) {
      await expect(connected(open(on, user.token))).rejects.toMatchObject({ message: 'too many connections', data: { code: 'RATE_LIMITED', max: MAX_PER_USER } });
    }
    // Another user is not affected.
    await connected(open(b, (await signUp(b.app)).token));
    // Closing a tab on one replica frees a place on the other, once the first has seen the tab go.
    held[0]!.close();
    for (const end = Date.now() + 5000; a.io.of('/').sockets.size > 1 && Date.now() < end;) await new Promise((r) => setTimeout(r, 10));
    await connected(open(b, user.token));
    await expect(connected(open(a, user.token))).rejects.toMatchObject({ data: { code: 'RATE_LIMITED' } });
  });

  it('share sign-in failures, and refuse on one replica a challenge spent on the other', async () => {
    const user = await signUp(a.app);
    const login = (on: Replica, body: object) => on.app.inject({ method: 'POST', url: '/sessions', payload: { email: user.email, ...body } });
    // One failure on A (the limit per account is 1) makes B ask for a challenge too.
    expect((await login(a, { password: 'wrong password!' })).statusCode).toBe(401);
    expect((await login(b, { password: 'correct horse battery' })).statusCode).toBe(428);
    const issued = (await b.app.inject({ method: 'POST', url: '/sessions/challenge', payload: { email: user.email } })).json();
    expect(issued.difficulty).toBe(8);
    let answer = 0;
    while (
      proofOfWorkBits(
        createHash('sha256')
          .update(proofOfWorkInput(issued.challenge, String(answer)))
          .digest(),
      ) < issued.difficulty
    )
      answer++;
    const proof = { challenge: issued.challenge, answer: String(answer) };
    // Spent on A by a guess, it is refused on B, even with the right password.
    expect((await login(a, { password: 'wrong password!', proof })).statusCode).toBe(401);
    const reused = await login(b, { password: 'correct horse battery', proof });
    expect(reused.statusCode).toBe(428);
    expect(reused.json().message).toMatch(/^The security check was already used\./);

    // Each counter and the spent challenges under a name of its own, so none mixes with another in Redis.
    const inspect = createClient({ url: redis.url });
    await inspect.connect();
    try {
      const names = new Set((await inspect.keys('dems:*')).filter((k) => !k.startsWith('dems:live')).map((k) => k.slice(0, k.lastIndexOf(':'))));
      expect(names).toEqual(
        new Set([
          'dems:throttle:engagement:sign-ups',
          'dems:throttle:engagement:login-failures:account',
          'dems:throttle:engagement:login-failures:address',
          'dems:once:engagement:login-challenges',
        ]),
      );
    } finally {
      inspect.destroy();
    }
  });
});
