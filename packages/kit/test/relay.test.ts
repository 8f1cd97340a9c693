import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import Fastify from 'fastify';
import { join } from 'node:path';
import { newMessage, SERVICE_NAMES, subscribersOf, SUBSCRIPTIONS, type Message } from '@dems/contracts';
import { backoffMs, createServiceApp, OutboxRelay, registerInternalRoutes, relayFromConfig, type OutboxStore, type RelayOptions } from '@dems/kit';
import { MESSAGING_SCHEMA, migrate, openSqlite, SqliteMessaging } from '@dems/kit/sqlite';
import { describeEachAdapter, replicaStandIn, signedHeaders, TEST_SECRET, tempDir } from '@dems/kit/testing';
import { outboxAdapters } from './support/outboxes.js';

const silent = { info: () => {}, warn: () => {}, error: () => {} };
const NOWHERE = 'http://127.0.0.1:9';

function order(n: number): Message {
  return newMessage('ticketing', 'OrderPlaced', {
    orderId: `ord_${n}`,
    userId: 'usr_1',
    eventId: 'evt_1',
    eventTitle: 'Jazz Night',
    ticketTypeId: 'tt_1',
    ticketTypeName: 'General',
    quantity: 1,
    totalCents: 100,
    currency: 'EUR',
  });
}

const snapshot = (n: number) => ({
  id: `evt_${n}`,
  title: `Show ${n}`,
  organizerId: `org_${n}`,
  venue: 'Hall',
  timezone: 'UTC',
  startsAt: '2027-01-01T20:00:00.000Z',
  endsAt: '2027-01-01T22:00:00.000Z',
  status: 'published' as const,
  ticketTypes: [],
  version: 1,
});
const published = (n: number): Message => newMessage('events', 'EventPublished', { event: snapshot(n) });
/** A message its subscribers refuse for good: written by a publisher whose schema drifted from theirs. */
const poison = (n: number): Message => ({ ...published(n), data: { event: { ...snapshot(n), version: 'one' } } }) as unknown as Message;
const registered = (n: number): Message => newMessage('events', 'UserRegistered', { registrationId: `reg_${n}`, eventId: 'evt_1', eventTitle: 'Jazz Night', userId: `usr_${n}` });

/**
 * A real subscriber: the service app with the kit inbox, recording applied ids in its own SQLite file, and
 * every delivery it received (ids per request). `failOn` forces a handler failure (test fake).
 */
async function subscriber(dir: string, opts: { failOn?: (m: Message) => boolean; delayMs?: number; secret?: string; outbox?: OutboxStore; onReplay?: () => void } = {}) {
  const db = openSqlite(join(dir, `sub-${Math.random().toString(36).slice(2)}.db`));
  migrate(db, [MESSAGING_SCHEMA + 'CREATE TABLE applied (id TEXT);']);
  const inbox = new SqliteMessaging(db);
  const requests: { at: number; ids: string[] }[] = [];
  const app = await createServiceApp({ name: 'subscriber', description: 'test subscriber', isReady: () => true });
  app.addHook('preHandler', async (req) => {
    if (req.url !== '/internal/messages') return;
    const sent = (req.body as { messages?: unknown } | undefined)?.messages;
    requests.push({ at: Date.now(), ids: Array.isArray(sent) ? sent.map((m: { id?: string } | null) => m?.id ?? '') : [] });
    if (opts.delayMs) await new Promise((r) => setTimeout(r, opts.delayMs));
  });
  await registerInternalRoutes(app, {
    secret: opts.secret ?? TEST_SECRET,
    outbox: opts.outbox,
    onReplay: opts.onReplay,
    apply: async (m) => {
      if (opts.failOn?.(m)) throw new Error('forced failure (test fake)');
      return db.transaction(() => {
        if (!inbox.recordReceived(m)) return 'duplicate' as const;
        db.prepare('INSERT INTO applied VALUES (?)').run(m.id);
        return 'applied' as const;
      })();
    },
  });
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  const applied = () => (db.prepare('SELECT id FROM applied').all() as { id: string }[]).map((r) => r.id);
  return { app, url, applied, requests, db };
}

function publisher(dir: string) {
  const db = openSqlite(join(dir, 'pub.db'));
  migrate(db, [MESSAGING_SCHEMA]);
  return { db, outbox: new SqliteMessaging(db) };
}

const until = async (check: () => boolean | Promise<boolean>, ms = 5000) => {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const cleanups: (() => Promise<void> | void)[] = [];
const runCleanups = async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
};
afterEach(runCleanups);

async function relayFor(store: OutboxStore, urls: Partial<RelayOptions['subscriberUrls']>, opts: Partial<RelayOptions> = {}) {
  const relay = new OutboxRelay({
    publisher: 'events',
    store,
    subscriberUrls: { events: NOWHERE, engagement: NOWHERE, ticketing: NOWHERE, ...urls },
    secret: TEST_SECRET,
    log: silent,
    maxAttempts: 60,
    sweepMs: 60_000,
    ...opts,
  });
  relay.start();
  cleanups.push(() => relay.stop());
  return relay;
}

async function setup(subOpts: Parameters<typeof subscriber>[1] = {}) {
  const dir = tempDir();
  cleanups.push(dir.cleanup);
  const sub = await subscriber(dir.path, subOpts);
  cleanups.push(() => sub.app.close());
  return { dir: dir.path, sub };
}

// The publisher's outbox on each adapter: the relay's per-entry rules must hold on both.
describeEachAdapter('relay over the outbox: one bad message never holds back the others', outboxAdapters, (h) => {
  /** The publisher of a test: its outbox, and a way to commit messages as a store does. */
  async function pub(_subscriberDir: string) {
    return { store: h.store.outbox, enqueue: h.store.commit };
  }
  // Relays and subscribers stop before the matrix closes the outbox they read (after hooks run last-registered first).
  afterEach(runCleanups);

  it('a poison message in the middle of a batch of 50: 49 delivered on time, the poison one dead-lettered alone, at once', async () => {
    const { dir, sub } = await setup();
    const p = await pub(dir);
    const messages = Array.from({ length: 50 }, (_, i) => (i === 25 ? poison(i) : published(i)));
    await p.enqueue(...messages);
    // No sweep within the test: everything must happen on the first delivery.
    await relayFor(p.store, { ticketing: sub.url, engagement: sub.url });

    await until(async () => (await p.store.pendingCount()) === 0);
    expect(sub.applied()).toEqual(messages.filter((_, i) => i !== 25).map((m) => m.id));
    const subscribers = [...SUBSCRIPTIONS.EventPublished].sort();
    expect(sub.requests).toHaveLength(subscribers.length); // one per subscriber: nothing was retried
    const dead = await p.store.listDeadLetters(10);
    expect(dead.map((d) => [d.message.id, d.attempts])).toEqual(subscribers.map(() => [messages[25]!.id, 1]));
    expect(dead.map((d) => d.subscriber).sort()).toEqual(subscribers);
    expect(dead[0]!.lastError).toMatch(/schema.*version/i);
  });

  it('three UserRegistered, apply throws on the first: the other two are applied at once, only the first retries and dead-letters', async () => {
    const messages = [registered(1), registered(2), registered(3)];
    const { dir, sub } = await setup({ failOn: (m) => m.id === messages[0]!.id });
    const p = await pub(dir);
    await p.enqueue(...messages);
    await relayFor(p.store, { engagement: sub.url }, { maxAttempts: 3, sweepMs: 20 });

    await until(() => sub.applied().length === 2, 2000);
    expect(sub.applied()).toEqual([messages[1]!.id, messages[2]!.id]);
    await until(async () => (await p.store.listDeadLetters(10)).length === 1);
    const dead = await p.store.listDeadLetters(10);
    expect(dead).toMatchObject([{ message: { id: messages[0]!.id }, attempts: 3 }]);
    expect(dead[0]!.lastError).toMatch(/handler failed/);
    expect(await p.store.pendingCount()).toBe(0);
    // The retries carried the failing message alone; the two applied ones were sent once.
    expect(sub.requests.map((r) => r.ids)).toEqual([messages.map((m) => m.id), [messages[0]!.id], [messages[0]!.id]]);
  });

  it('a subscriber that is down (refused, 503) backs off, and its messages are never dead-lettered for it', async () => {
    const { dir } = await setup();
    const p = await pub(dir);
    // Test fake: a service that is up but answers every delivery with 503, as while it starts or drains.
    const tries: number[] = [];
    const down = Fastify();
    down.post('/internal/messages', async (_req, reply) => (tries.push(Date.now()), reply.code(503).send({ code: 'NOT_READY', message: 'starting' })));
    cleanups.push(() => down.close());
    await p.enqueue(registered(1), registered(2), published(3));
    await relayFor(p.store, { engagement: await down.listen({ port: 0, host: '127.0.0.1' }), ticketing: NOWHERE }, { maxAttempts: 1, sweepMs: 20 });
    await until(() => tries.length >= 5, 15_000);
    // Without backoff the tries come every sweep (20 ms). With it, after the n-th unreached try each message it
    // carried waits at least backoffMs(n) (jitter is per message, so one try may carry only some of them). All
    // three were in the first try, so no try comes sooner than backoffMs(1); among tries 2–5 some message
    // goes twice, the second time at least backoffMs(2) later. Lower bounds only: a busy machine makes gaps
    // longer, never shorter.
    const least = (n: number) => backoffMs(n, () => 0);
    expect(tries[1]! - tries[0]!).toBeGreaterThanOrEqual(least(1) - 5);
    expect(tries[4]! - tries[0]!).toBeGreaterThanOrEqual(least(1) + least(2) - 5);
    expect(await p.store.listDeadLetters(10)).toEqual([]);
    const pending = 2 + SUBSCRIPTIONS.EventPublished.length;
    expect(await p.store.pendingCount()).toBe(pending);
    const due = (await Promise.all(SERVICE_NAMES.map((s) => p.store.claimDue(s, 10, Date.now() + 120_000, 0)))).flat();
    expect(due.map((e) => e.attempts)).toEqual(Array(pending).fill(0));
  });
});

describe('outbox relay and inbox', () => {
  it('delivers every message once per subscriber, in order, and empties the outbox', async () => {
    const { dir, sub } = await setup();
    const pub = publisher(dir);
    const messages = Array.from({ length: 250 }, (_, i) => order(i));
    pub.db.transaction(() => pub.outbox.enqueue(...messages))();
    expect(await pub.outbox.pendingCount()).toBe(250 * SUBSCRIPTIONS.OrderPlaced.length);

    await relayFor(pub.outbox, { events: sub.url, engagement: sub.url, ticketing: sub.url }, { sweepMs: 1000 });
    await until(() => sub.applied().length === 250);
    expect(sub.applied()).toEqual(messages.map((m) => m.id));
    await until(() => (pub.db.prepare('SELECT COUNT(*) AS n FROM outbox').get() as { n: number }).n === 0);
  });

  it('drains more than one batch without waiting for the sweep', async () => {
    const { dir, sub } = await setup();
    const pub = publisher(dir);
    const messages = Array.from({ length: 35 }, (_, i) => registered(i));
    pub.db.transaction(() => pub.outbox.enqueue(...messages))();
    await relayFor(pub.outbox, { engagement: sub.url }, { batchSize: 10 });
    await until(() => sub.applied().length === 35, 3000);
    expect(sub.requests.map((r) => r.ids.length)).toEqual([10, 10, 10, 5]);
  });

  it('keeps retrying while the handler fails, then delivers exactly once', async () => {
    let failures = 2;
    const { dir, sub } = await setup({ failOn: () => failures-- > 0 });
    const pub = publisher(dir);
    const m = order(1);
    pub.db.transaction(() => pub.outbox.enqueue(m))();
    await relayFor(pub.outbox, { events: sub.url, engagement: sub.url, ticketing: sub.url }, { maxAttempts: 10, sweepMs: 50 });
    await until(() => (pub.db.prepare('SELECT COUNT(*) AS n FROM outbox').get() as { n: number }).n === 0, 8000);
    expect(sub.applied()).toEqual([m.id]); // one effect, however many subscribers share this inbox
  });

  it('applies the backoff when it reschedules a failed message', async () => {
    let failures = 3;
    const { dir, sub } = await setup({ failOn: () => failures-- > 0 });
    const pub = publisher(dir);
    pub.db.transaction(() => pub.outbox.enqueue(registered(1)))();
    // The sweep runs every 10 ms: only the stored next attempt time keeps the retries apart.
    await relayFor(pub.outbox, { engagement: sub.url }, { sweepMs: 10 });
    await until(() => sub.applied().length === 1, 4000);
    const gaps = sub.requests.slice(1).map((r, i) => r.at - sub.requests[i]!.at);
    expect(gaps).toHaveLength(3);
    // backoffMs(n) lies in [ceiling/2, ceiling] with ceiling 200, 400, 800 ms.
    gaps.forEach((gap, i) => expect(gap, `gap after try ${i + 1}`).toBeGreaterThanOrEqual(backoffMs(i + 1, () => 0) - 5));
  });

  it('moves a message whose handler keeps failing to the dead-letter list; the replay route puts it back', async () => {
    const dir = tempDir();
    cleanups.push(dir.cleanup);
    const pub = publisher(dir.path);
    const replays: string[] = [];
    // The publisher's own /internal routes serve its dead letters; it also plays the failing subscriber.
    const sub = await subscriber(dir.path, { failOn: () => true, outbox: pub.outbox, onReplay: () => replays.push('kick') });
    cleanups.push(() => sub.app.close());
    pub.db.transaction(() => pub.outbox.enqueue(registered(1)))();
    await relayFor(pub.outbox, { engagement: sub.url }, { maxAttempts: 2, sweepMs: 20 });
    await until(async () => (await pub.outbox.listDeadLetters(10)).length === 1);
    expect(sub.requests).toHaveLength(2);

    const signed = (method: 'GET' | 'POST', url: string) => {
      const { 'content-type': _, ...headers } = signedHeaders('');
      return sub.app.inject({ method, url, headers });
    };
    const listed = await signed('GET', '/internal/dead-letters');
    expect(listed.statusCode).toBe(200);
    const [item] = listed.json().items as { id: string; attempts: number; lastError: string; message: Message }[];
    expect(item).toMatchObject({ attempts: 2, message: { type: 'UserRegistered' } });
    expect(item!.lastError).toMatch(/handler failed/);

    const replayed = await signed('POST', `/internal/dead-letters/${item!.id}/replay`);
    expect(replayed.json()).toEqual({ ok: true });
    expect(replays).toEqual(['kick']);
    const again = await signed('POST', `/internal/dead-letters/${item!.id}/replay`);
    expect(again.statusCode).toBe(404);
    expect(again.json().code).toBe('DEAD_LETTER_NOT_FOUND');
    expect((await signed('POST', '/internal/dead-letters/not%20an%20id/replay')).json().code).toBe('VALIDATION_FAILED');
    // Back in the queue with a fresh count: the relay tries it again (and it fails twice more).
    await until(() => sub.requests.length === 4);
    await until(async () => (await pub.outbox.listDeadLetters(10)).length === 1);
    expect(replays).toEqual(['kick']);
  });

  it('a batch refused as a whole without naming the culprit is retried one by one: only the bad message is dead-lettered', async () => {
    const dir = tempDir();
    cleanups.push(dir.cleanup);
    const messages = [registered(1), registered(2), registered(3), registered(4), registered(5)];
    // A subscriber that answers a bare 400 for any request carrying message 3 (test fake: a foreign inbox).
    const received: string[][] = [];
    const app = Fastify();
    app.post('/internal/messages', async (req, reply) => {
      const ids = (req.body as { messages: Message[] }).messages.map((m) => m.id);
      received.push(ids);
      if (ids.includes(messages[2]!.id)) return reply.code(400).send({ code: 'VALIDATION_FAILED', message: 'no' });
      return { ok: true };
    });
    cleanups.push(() => app.close());
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    const pub = publisher(dir.path);
    pub.db.transaction(() => pub.outbox.enqueue(...messages))();
    const relay = await relayFor(pub.outbox, { engagement: url });

    await until(async () => (await pub.outbox.pendingCount()) === 0);
    expect(received).toEqual([messages.map((m) => m.id), ...messages.map((m) => [m.id])]);
    expect((await pub.outbox.listDeadLetters(10)).map((d) => [d.message.id, d.attempts])).toEqual([[messages[2]!.id, 1]]);
    // Sending one by one ends with the batch it was for: what is committed next goes in one request again.
    const later = [registered(6), registered(7)];
    pub.db.transaction(() => pub.outbox.enqueue(...later))();
    relay.kick();
    await until(async () => (await pub.outbox.pendingCount()) === 0);
    expect(received.at(-1)).toEqual(later.map((m) => m.id));
  });

  it('understands an older inbox that reports only how many it applied: the next one is at fault, the rest go on time', async () => {
    const dir = tempDir();
    cleanups.push(dir.cleanup);
    const messages = [registered(1), registered(2), registered(3)];
    // Test fake: the inbox before per-message answers, whose handler throws on message 2 once.
    const received: string[][] = [];
    let thrown = false;
    const app = Fastify();
    app.post('/internal/messages', async (req, reply) => {
      const ids = (req.body as { messages: Message[] }).messages.map((m) => m.id);
      received.push(ids);
      const at = ids.indexOf(messages[1]!.id);
      if (at === -1 || thrown) return { applied: ids.length };
      thrown = true;
      return reply.code(500).send({ code: 'INTERNAL', message: 'A message could not be applied.', applied: at });
    });
    cleanups.push(() => app.close());
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    const pub = publisher(dir.path);
    pub.db.transaction(() => pub.outbox.enqueue(...messages))();
    await relayFor(pub.outbox, { engagement: url }, { sweepMs: 20 });

    await until(async () => (await pub.outbox.pendingCount()) === 0);
    const [m1, m2, m3] = messages.map((m) => m.id);
    expect(received).toEqual([[m1, m2, m3], [m3], [m2]]);
    expect(await pub.outbox.listDeadLetters(10)).toEqual([]);
  });

  it('a wrong service secret (401) is a configuration problem: nothing is dead-lettered', async () => {
    const { dir, sub } = await setup({ secret: 'another-service-secret-0123456789' });
    const pub = publisher(dir);
    pub.db.transaction(() => pub.outbox.enqueue(registered(1)))();
    await relayFor(pub.outbox, { engagement: sub.url }, { maxAttempts: 1, sweepMs: 20 });
    // Two refused tries, however long they take (a second refusal moves the next attempt time on).
    const row = () => pub.db.prepare('SELECT last_error, next_attempt_at FROM outbox').get() as { last_error: string | null; next_attempt_at: number };
    await until(() => row().last_error !== null);
    const firstRetryAt = row().next_attempt_at;
    await until(() => row().next_attempt_at !== firstRetryAt);
    expect(await pub.outbox.listDeadLetters(10)).toEqual([]);
    expect(pub.db.prepare('SELECT attempts, last_error FROM outbox').get()).toEqual({ attempts: 0, last_error: expect.stringMatching(/^HTTP 401/) });
  });

  it('refuses a lease no longer than the HTTP timeout, and two relays never send an in-flight batch twice', async () => {
    const { dir, sub } = await setup({ delayMs: 300 });
    const pub = publisher(dir);
    expect(
      () =>
        new OutboxRelay({
          publisher: 'events',
          store: pub.outbox,
          subscriberUrls: { events: NOWHERE, engagement: NOWHERE, ticketing: NOWHERE },
          secret: TEST_SECRET,
          log: silent,
          maxAttempts: 1,
          timeoutMs: 1000,
          leaseMs: 1000,
        }),
    ).toThrow(/lease/);
    const messages = Array.from({ length: 12 }, (_, i) => registered(i));
    pub.db.transaction(() => pub.outbox.enqueue(...messages))();
    // Two replicas sweeping the same outbox while each request takes 300 ms.
    for (let i = 0; i < 2; i++) await relayFor(pub.outbox, { engagement: sub.url }, { batchSize: 3, sweepMs: 20, timeoutMs: 1000 });
    await until(() => sub.applied().length === 12);
    await sleep(200);
    expect(sub.requests.flatMap((r) => r.ids).sort()).toEqual(messages.map((m) => m.id).sort());
  });

  it('stop() finishes the batch in flight, claims nothing more and delivers nothing after', async () => {
    const { dir, sub } = await setup({ delayMs: 150 });
    const pub = publisher(dir);
    pub.db.transaction(() => pub.outbox.enqueue(...Array.from({ length: 20 }, (_, i) => registered(i))))();
    const relay = await relayFor(pub.outbox, { engagement: sub.url }, { batchSize: 5, sweepMs: 20 });
    await until(() => sub.requests.length === 1);
    await relay.stop();
    expect(sub.applied()).toHaveLength(5);
    const leased = () => (pub.db.prepare('SELECT COUNT(*) AS n FROM outbox WHERE lease_until > ?').get(Date.now()) as { n: number }).n;
    expect(leased()).toBe(0);
    relay.kick();
    await sleep(300);
    expect(sub.requests).toHaveLength(1);
    expect(await pub.outbox.pendingCount()).toBe(15);
  });

  it('a kick during a drain delivers what was committed meanwhile without waiting for the sweep', async () => {
    const { dir, sub } = await setup({ delayMs: 200 });
    const pub = publisher(dir);
    const first = registered(1);
    const second = registered(2);
    pub.db.transaction(() => pub.outbox.enqueue(first))();
    const relay = await relayFor(pub.outbox, { engagement: sub.url });
    await until(() => sub.requests.length === 1);
    pub.db.transaction(() => pub.outbox.enqueue(second))();
    relay.kick();
    await until(() => sub.applied().length === 2, 2000);
    expect(sub.requests.map((r) => r.ids)).toEqual([[first.id], [second.id]]);
  });

  it('backs off exponentially with jitter, capped at a minute', () => {
    expect(backoffMs(1, () => 0)).toBe(100);
    expect(backoffMs(1, () => 1)).toBe(200);
    expect(backoffMs(5, () => 1)).toBe(3200);
    expect(backoffMs(50, () => 1)).toBe(60_000);
  });
});

describe('inbox: POST /internal/messages', () => {
  let failing: string | undefined;
  let t: Awaited<ReturnType<typeof setup>>;
  beforeEach(async () => (t = await setup({ failOn: (m) => m.id === failing })));
  const post = (payload: string) => t.sub.app.inject({ method: 'POST', url: '/internal/messages', headers: signedHeaders(payload), payload });

  it('applies each message on its own and answers per message: applied, duplicate, rejected, failed', async () => {
    const [good, bad, broken, later] = [registered(1), poison(2), registered(3), registered(4)];
    failing = broken.id;
    const res = await post(JSON.stringify({ messages: [good, bad, broken, later, good] }));
    expect(res.statusCode).toBe(500); // non-2xx: a relay that reads only `applied` must not count the batch as delivered
    expect(res.json()).toMatchObject({
      code: 'INTERNAL',
      applied: 1,
      results: [
        { id: good.id, result: 'applied' },
        { id: bad.id, result: 'rejected', error: expect.stringMatching(/event\.version/) },
        { id: broken.id, result: 'failed', error: expect.stringMatching(/handler failed/) },
        { id: later.id, result: 'applied' },
        { id: good.id, result: 'duplicate' },
      ],
    });
    expect(t.sub.applied()).toEqual(expect.arrayContaining([good.id, later.id]));
    expect(t.sub.applied()).not.toContain(broken.id);

    const refusedOnly = await post(JSON.stringify({ messages: [registered(5), poison(6)] }));
    expect(refusedOnly.statusCode).toBe(400);
    expect(refusedOnly.json()).toMatchObject({ code: 'VALIDATION_FAILED', applied: 1, results: [{ result: 'applied' }, { result: 'rejected' }] });

    const fine = [registered(7), registered(8)];
    const ok = await post(JSON.stringify({ messages: fine }));
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toEqual({ applied: 2, results: fine.map((m) => ({ id: m.id, result: 'applied' })) });
  });

  it('refuses a malformed envelope and malformed JSON without applying anything', async () => {
    for (const payload of ['{}', '{"messages":[]}', '{"messages":{}}', JSON.stringify({ messages: Array.from({ length: 501 }, () => ({})) })]) {
      const res = await post(payload);
      expect(res.statusCode, payload.slice(0, 40)).toBe(400);
      expect(res.json().code, payload.slice(0, 40)).toBe('VALIDATION_FAILED');
    }
    const malformed = await post('{"messages": [');
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json().code).toBe('MALFORMED_JSON');
    expect(t.sub.applied()).toEqual([]);
  });
});

/** Test fake: a foreign inbox whose answer to the n-th request (1-based) the test scripts. */
async function foreignInbox(answer: (n: number, ids: string[]) => { status: number; body: unknown } | Promise<{ status: number; body: unknown }>) {
  const received: string[][] = [];
  const app = Fastify();
  app.post('/internal/messages', async (req, reply) => {
    const ids = (req.body as { messages: Message[] }).messages.map((m) => m.id);
    received.push(ids);
    const { status, body } = await answer(received.length, ids);
    return reply.code(status).send(body);
  });
  cleanups.push(() => app.close());
  return { url: await app.listen({ port: 0, host: '127.0.0.1' }), received };
}

/** A publisher's outbox on a temp file, holding the given messages (all for engagement). */
function outboxWith(...messages: Message[]) {
  const dir = tempDir();
  cleanups.push(dir.cleanup);
  const pub = publisher(dir.path);
  pub.db.transaction(() => pub.outbox.enqueue(...messages))();
  type Row = { payload: string; attempts: number; dead: number; last_error: string | null; next_attempt_at: number };
  const rows = () =>
    (pub.db.prepare('SELECT payload, attempts, dead, last_error, next_attempt_at FROM outbox ORDER BY seq').all() as Row[]).map(({ payload, ...r }) => ({
      id: (JSON.parse(payload) as Message).id,
      ...r,
    }));
  /** Makes every waiting entry due now: the test, not the clock, decides when the next try comes. */
  const dueNow = () => pub.db.prepare('UPDATE outbox SET next_attempt_at = 0').run();
  return { ...pub, rows, dueNow };
}

/** A logger that keeps what the relay reports, by level (fields only: the texts are not behaviour). */
function recordingLog() {
  const entries: { level: 'info' | 'warn' | 'error'; fields: Record<string, unknown> }[] = [];
  const at = (level: 'info' | 'warn' | 'error') => (fields: object) => void entries.push({ level, fields: fields as Record<string, unknown> });
  return { log: { info: at('info'), warn: at('warn'), error: at('error') }, entries, of: (level: string) => entries.filter((e) => e.level === level).map((e) => e.fields) };
}

describe('relay: what each answer of the subscriber means for each message', () => {
  const three = () => [registered(1), registered(2), registered(3)];

  it('an inbox that answers 400 with `applied: 1`: the first is delivered, the second dead-lettered at once, the third goes again at once', async () => {
    const messages = three();
    const [m1, m2, m3] = messages.map((m) => m.id);
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const sub = await foreignInbox(async (n) => {
      if (n === 1) return { status: 400, body: { code: 'VALIDATION_FAILED', message: 'no', applied: 1 } };
      await held; // the second request waits: meanwhile the outbox shows what the first answer did
      return { status: 200, body: {} };
    });
    cleanups.push(() => release());
    const pub = outboxWith(...messages);
    await relayFor(pub.outbox, { engagement: sub.url });
    await until(() => sub.received.length === 2);
    expect(sub.received).toEqual([[m1, m2, m3], [m3]]);
    expect(pub.rows()).toEqual([
      { id: m2, attempts: 1, dead: 1, last_error: 'HTTP 400: no', next_attempt_at: 0 },
      { id: m3, attempts: 0, dead: 0, last_error: expect.stringMatching(/not tried/), next_attempt_at: 0 },
    ]);
    release();
    await until(async () => (await pub.outbox.pendingCount()) === 0);
    expect((await pub.outbox.listDeadLetters(10)).map((d) => d.message.id)).toEqual([m2]);
  });

  it('`applied: 0` with 400 blames the first message alone; the rest go again at once, in one request', async () => {
    const messages = three();
    const [m1, m2, m3] = messages.map((m) => m.id);
    const sub = await foreignInbox((n) => (n === 1 ? { status: 400, body: { message: 'no', applied: 0 } } : { status: 200, body: {} }));
    const pub = outboxWith(...messages);
    await relayFor(pub.outbox, { engagement: sub.url });
    await until(async () => (await pub.outbox.pendingCount()) === 0);
    expect(sub.received).toEqual([
      [m1, m2, m3],
      [m2, m3],
    ]);
    expect((await pub.outbox.listDeadLetters(10)).map((d) => [d.message.id, d.attempts])).toEqual([[m1, 1]]);
  });

  it('a 400 whose `applied` counts the whole batch names no culprit: the batch is retried one by one, nothing taken as delivered', async () => {
    const messages = three();
    const [m1, m2, m3] = messages.map((m) => m.id);
    const sub = await foreignInbox((n) => (n === 1 ? { status: 400, body: { message: 'no', applied: 3 } } : { status: 200, body: {} }));
    const pub = outboxWith(...messages);
    await relayFor(pub.outbox, { engagement: sub.url });
    await until(async () => (await pub.outbox.pendingCount()) === 0);
    expect(sub.received).toEqual([[m1, m2, m3], [m1], [m2], [m3]]);
    expect(await pub.outbox.listDeadLetters(10)).toEqual([]);
  });

  // Answers that are the subscriber's state, not the messages': every entry waits (backoff), none counts an attempt.
  const unreachedCases: { status: number; body: unknown; error: string }[] = [
    { status: 503, body: { message: 'starting', applied: 1 }, error: 'HTTP 503: starting' }, // `applied` counts only with 400/500
    { status: 500, body: { applied: 1.5 }, error: 'HTTP 500:' }, // not a count
    { status: 500, body: { applied: -1, message: 42 }, error: 'HTTP 500:' }, // not a count; not a text
    { status: 429, body: {}, error: 'HTTP 429:' },
  ];
  for (const c of unreachedCases) {
    it(`HTTP ${c.status} ${JSON.stringify(c.body)}: nobody is blamed, every message backs off`, async () => {
      const messages = three();
      const sub = await foreignInbox(() => c);
      const pub = outboxWith(...messages);
      const before = Date.now();
      await relayFor(pub.outbox, { engagement: sub.url }, { maxAttempts: 1 });
      await until(() => pub.rows().every((r) => r.last_error !== null));
      expect(pub.rows()).toEqual(messages.map((m) => ({ id: m.id, attempts: 0, dead: 0, last_error: c.error, next_attempt_at: expect.any(Number) })));
      for (const r of pub.rows()) expect(r.next_attempt_at).toBeGreaterThanOrEqual(before + backoffMs(1, () => 0));
      expect(sub.received).toHaveLength(1);
    });
  }

  it('a subscriber nobody answers at: the network error is kept, no attempt is counted, and it backs off', async () => {
    const pub = outboxWith(registered(1));
    const before = Date.now();
    await relayFor(pub.outbox, {}, { maxAttempts: 1 });
    await until(() => pub.rows()[0]!.last_error !== null);
    const [row] = pub.rows();
    expect(row).toMatchObject({ attempts: 0, dead: 0, last_error: expect.stringMatching(/^TypeError: fetch failed/) });
    expect(row!.next_attempt_at).toBeGreaterThanOrEqual(before + backoffMs(1, () => 0));
  });

  it('per-message answers count only when they line up with the batch; otherwise a 2xx delivers it all', async () => {
    const messages = three();
    const [m1, m2] = messages.map((m) => m.id);
    const answers = [
      [null, { id: 'msg_someone_else', result: 'rejected' }, { id: messages[2]!.id, result: 'rejected' }], // first two do not name the messages
      [{ id: m1, result: 'rejected' }], // too short
      [
        { id: m1, result: 'applied' },
        { id: m2, result: 'applied' },
        { id: m1, result: 'rejected' },
        { id: m2, result: 'rejected' },
      ], // too long
    ];
    for (const results of answers) {
      const sub = await foreignInbox(() => ({ status: 200, body: { results } }));
      const pub = outboxWith(...messages);
      await relayFor(pub.outbox, { engagement: sub.url });
      await until(async () => (await pub.outbox.pendingCount()) === 0);
      expect(await pub.outbox.listDeadLetters(10)).toEqual([]);
      expect(sub.received).toHaveLength(1);
    }
  });

  it('per-message answers without an error text are recorded as what the subscriber answered', async () => {
    const messages = three();
    const [m1, m2, m3] = messages.map((m) => m.id);
    const results = [
      { id: m1, result: 'rejected' },
      { id: m2, result: 'failed' },
      { id: m3, result: 'busy', error: 'try later' }, // an answer it does not know is a failure of that message
    ];
    const sub = await foreignInbox(() => ({ status: 200, body: { results } }));
    const pub = outboxWith(...messages);
    await relayFor(pub.outbox, { engagement: sub.url });
    await until(() => pub.rows().every((r) => r.last_error !== null));
    expect(pub.rows()).toEqual([
      { id: m1, attempts: 1, dead: 1, last_error: 'subscriber answered rejected', next_attempt_at: 0 },
      { id: m2, attempts: 1, dead: 0, last_error: 'subscriber answered failed', next_attempt_at: expect.any(Number) },
      { id: m3, attempts: 1, dead: 0, last_error: 'try later', next_attempt_at: expect.any(Number) },
    ]);
  });
});

/** The real outbox, telling `onClaim` whom each claim is for. */
function asking(store: OutboxStore, onClaim: (subscriber: string) => void): OutboxStore {
  return {
    claimDue: (subscriber, ...rest) => (onClaim(subscriber), store.claimDue(subscriber, ...rest)),
    markDelivered: (ids) => store.markDelivered(ids),
    markFailed: (failures) => store.markFailed(failures),
    listDeadLetters: (limit) => store.listDeadLetters(limit),
    replayDeadLetter: (id) => store.replayDeadLetter(id),
    pendingCount: () => store.pendingCount(),
    stats: () => store.stats(),
  };
}

/** The real outbox, recording what the relay asks of it (engagement's claims; every write). */
function counting(store: OutboxStore) {
  const calls: string[] = [];
  const counted: OutboxStore = {
    claimDue: (subscriber, ...rest) => (subscriber === 'engagement' && calls.push('claimDue'), store.claimDue(subscriber, ...rest)),
    markDelivered: (ids) => (calls.push('markDelivered'), store.markDelivered(ids)),
    markFailed: (failures) => (calls.push('markFailed'), store.markFailed(failures)),
    listDeadLetters: (limit) => store.listDeadLetters(limit),
    replayDeadLetter: (id) => store.replayDeadLetter(id),
    pendingCount: () => store.pendingCount(),
    stats: () => store.stats(),
  };
  return { store: counted, calls };
}

describe('relay: what the operator and the outbox see', () => {
  it('says once when a message starts failing, then every tenth failure, and at error level when it is dead-lettered', async () => {
    const { sub } = await setup({ failOn: () => true });
    const m = registered(1);
    const pub = outboxWith(m);
    const rec = recordingLog();
    const relay = await relayFor(pub.outbox, { engagement: sub.url }, { maxAttempts: 11, log: rec.log });
    for (let n = 1; n <= 11; n++) {
      if (n > 1) {
        pub.dueNow();
        relay.kick();
      }
      await until(() => pub.rows()[0]!.attempts === n);
    }
    expect(pub.rows()[0]!.dead).toBe(1);
    const about = (attempts: number) => expect.objectContaining({ subscriber: 'engagement', entryId: expect.any(String), messageId: m.id, type: 'UserRegistered', attempts });
    expect(rec.of('warn')).toEqual([about(1), about(10)]);
    expect(rec.of('error')).toEqual([about(11)]);
  });

  it('says when a subscriber becomes unreachable and every tenth try after, once per try, never per message', async () => {
    const pub = outboxWith(registered(1), registered(2));
    const rec = recordingLog();
    const relay = await relayFor(pub.outbox, {}, { log: rec.log });
    for (let n = 1; n <= 11; n++) {
      if (n > 1) {
        pub.dueNow();
        relay.kick();
      }
      await until(() => pub.rows().every((r) => r.next_attempt_at > 0));
    }
    const about = (tries: number) => expect.objectContaining({ subscriber: 'engagement', tries, count: 2, error: expect.stringMatching(/fetch failed/) });
    expect(rec.of('warn')).toEqual([about(1), about(10)]);
    expect(rec.of('error')).toEqual([]);
    expect(pub.rows().map((r) => [r.attempts, r.dead])).toEqual([
      [0, 0],
      [0, 0],
    ]);
  });

  it('an outbox that fails is reported at error level for each subscriber, and the relay still stops', async () => {
    const pub = outboxWith(registered(1));
    pub.db.close();
    const rec = recordingLog();
    const relay = await relayFor(pub.outbox, {}, { log: rec.log });
    await until(() => rec.of('error').length === subscribersOf('events').length);
    expect(
      rec
        .of('error')
        .map((f) => f.subscriber)
        .sort(),
    ).toEqual([...subscribersOf('events')].sort());
    for (const f of rec.of('error')) expect(f.err).toBeInstanceOf(Error);
    await relay.stop();
  });

  it('asks the outbox no more than it must: a short batch ends the drain, so does an unreachable subscriber', async () => {
    const { sub } = await setup();
    const up = outboxWith(registered(1), registered(2));
    const upStore = counting(up.outbox);
    const relay = await relayFor(upStore.store, { engagement: sub.url }, { batchSize: 10 });
    await until(() => sub.applied().length === 2);
    await relay.stop();
    expect(upStore.calls).toEqual(['claimDue', 'markDelivered']);

    // A full batch (batchSize 1) would be followed by another claim, unless the subscriber was not reached.
    const down = outboxWith(registered(3), registered(4));
    const downStore = counting(down.outbox);
    const downRelay = await relayFor(downStore.store, {}, { batchSize: 1 });
    await until(() => down.rows()[0]!.last_error !== null);
    await downRelay.stop();
    expect(downStore.calls).toEqual(['claimDue', 'markFailed']);
  });

  it('asks the outbox only about the subscribers its service can owe: a service that publishes nothing never asks', async () => {
    const { sub } = await setup();
    for (const publisher of SERVICE_NAMES) {
      const pub = outboxWith(order(1));
      const asked = new Set<string>();
      const store = asking(pub.outbox, (subscriber) => asked.add(subscriber));
      const relay = await relayFor(store, { events: sub.url, ticketing: sub.url, engagement: sub.url }, { publisher, sweepMs: 5 });
      relay.kick();
      await sleep(50);
      await relay.stop();
      expect([...asked].sort(), publisher).toEqual([...subscribersOf(publisher)].sort());
    }
  });

  it('kick() delivers at once even before start(): a commit during boot does not wait for the first sweep', async () => {
    const { sub } = await setup();
    const pub = outboxWith(registered(1));
    const relay = new OutboxRelay({
      publisher: 'events',
      store: pub.outbox,
      subscriberUrls: { events: NOWHERE, ticketing: NOWHERE, engagement: sub.url },
      secret: TEST_SECRET,
      log: silent,
      maxAttempts: 1,
    });
    cleanups.push(() => relay.stop());
    relay.kick();
    await until(() => sub.applied().length === 1);
  });

  it('relayFromConfig sends to the configured URL with the service secret, within the configured retry budget', async () => {
    const [good, bad] = [registered(1), registered(2)];
    const { sub } = await setup({ failOn: (m) => m.id === bad.id });
    const pub = outboxWith(good, bad);
    const config = { EVENTS_URL: NOWHERE, TICKETING_URL: NOWHERE, ENGAGEMENT_URL: sub.url, SERVICE_SECRET: TEST_SECRET, OUTBOX_MAX_ATTEMPTS: 1 };
    const relay = relayFromConfig('events', config, pub.outbox, silent);
    cleanups.push(() => relay.stop());
    relay.kick();
    await until(async () => (await pub.outbox.pendingCount()) === 0);
    expect(sub.applied()).toEqual([good.id]);
    expect((await pub.outbox.listDeadLetters(10)).map((d) => [d.message.id, d.attempts])).toEqual([[bad.id, 1]]);
  });

  it('delivers to another replica of a subscriber when one does not answer or answers 503, on the first try', async () => {
    const { sub } = await setup();
    const [gone, busy] = await Promise.all([replicaStandIn('gone'), replicaStandIn('busy')]);
    await gone.stop();
    busy.answer(503);
    cleanups.push(() => busy.stop());
    const pub = outboxWith(registered(1), registered(2));
    const config = { EVENTS_URL: NOWHERE, TICKETING_URL: NOWHERE, ENGAGEMENT_URL: [gone.url, busy.url, sub.url], SERVICE_SECRET: TEST_SECRET, OUTBOX_MAX_ATTEMPTS: 1 };
    const relay = relayFromConfig('events', config, pub.outbox, silent);
    cleanups.push(() => relay.stop());
    relay.kick();
    await until(async () => (await pub.outbox.pendingCount()) === 0);
    expect(sub.applied()).toHaveLength(2);
    expect(sub.requests).toHaveLength(1); // one batch, no backoff: the outage of one replica is no outage of the service
    expect(busy.seen.map((r) => r.url)).toEqual(['/internal/messages']);
    expect(await pub.outbox.listDeadLetters(10)).toEqual([]);
  });

  it('stop() ends the probing of a subscriber replica that stopped answering', async () => {
    const { sub } = await setup();
    const gone = await replicaStandIn('gone');
    cleanups.push(() => gone.stop().catch(() => {}));
    await gone.stop();
    const pub = outboxWith(registered(1));
    const relay = await relayFor(pub.outbox, { engagement: [gone.url, sub.url] });
    await until(() => sub.applied().length === 1);
    gone.ready(false); // back, but not ready: it stays out of rotation and keeps being probed
    await gone.start();
    await until(() => gone.probes() >= 1);
    await relay.stop();
    const probes = gone.probes();
    await sleep(2100); // longer than the longest wait between probes (2 s)
    expect(gone.probes()).toBe(probes);
  });
});

describe('inbox: what the sender and the operator are told', () => {
  const inject = (app: Awaited<ReturnType<typeof setup>>['sub']['app'], method: 'GET' | 'POST', url: string, payload?: string) => {
    if (payload !== undefined) return app.inject({ method, url, headers: signedHeaders(payload), payload });
    const { 'content-type': _, ...headers } = signedHeaders('');
    return app.inject({ method, url, headers });
  };
  /** A publisher's outbox holding one dead letter (its entry id is returned). */
  async function withDeadLetter() {
    const pub = outboxWith(registered(1));
    const [entry] = await pub.outbox.claimDue('engagement', 1, Date.now(), 60_000);
    await pub.outbox.markFailed([{ id: entry!.id, attempts: 1, nextAttemptAt: null, error: 'refused' }]);
    return { pub, id: entry!.id };
  }

  it('says why a request is refused: not signed, not JSON, not an envelope', async () => {
    const { pub } = await withDeadLetter();
    const { sub } = await setup({ outbox: pub.outbox });
    const payload = JSON.stringify({ messages: [registered(1)] });
    const unsigned = [
      await sub.app.inject({ method: 'POST', url: '/internal/messages', headers: { 'content-type': 'application/json' }, payload }),
      await sub.app.inject({ method: 'GET', url: '/internal/dead-letters' }),
    ];
    for (const res of unsigned) {
      expect(res.statusCode).toBe(401);
      expect(res.json()).toMatchObject({ code: 'BAD_SIGNATURE', message: expect.stringMatching(/signed with the service secret/) });
    }
    expect((await inject(sub.app, 'POST', '/internal/messages', '{"messages": [')).json()).toMatchObject({
      code: 'MALFORMED_JSON',
      message: expect.stringMatching(/not valid JSON/),
    });
    expect((await inject(sub.app, 'POST', '/internal/messages', '{}')).json()).toMatchObject({ code: 'VALIDATION_FAILED', message: expect.stringMatching(/messages/) });
    expect(sub.applied()).toEqual([]);
  });

  it('a batch whose only bad message failed in its handler is a 500; one whose only bad message is refused is a 400', async () => {
    const [good, broken, later] = [registered(1), registered(2), registered(3)];
    const { sub } = await setup({ failOn: (m) => m.id === broken.id });
    const failed = await inject(sub.app, 'POST', '/internal/messages', JSON.stringify({ messages: [good, broken, later] }));
    expect(failed.statusCode).toBe(500);
    expect(failed.json()).toMatchObject({
      code: 'INTERNAL',
      message: expect.stringMatching(/could not be applied/),
      applied: 1,
      results: [
        { id: good.id, result: 'applied' },
        { id: broken.id, result: 'failed' },
        { id: later.id, result: 'applied' },
      ],
    });
    const refused = await inject(sub.app, 'POST', '/internal/messages', JSON.stringify({ messages: [poison(4)] }));
    expect(refused.statusCode).toBe(400);
    expect(refused.json()).toMatchObject({ code: 'VALIDATION_FAILED', message: expect.stringMatching(/did not match its schema/), applied: 0 });
  });

  it('names what a refused message got wrong, under its id when it has a string one, in at most 300 characters', async () => {
    const { sub } = await setup();
    const wrongData = { ...registered(1), data: {} };
    const res = await inject(sub.app, 'POST', '/internal/messages', JSON.stringify({ messages: [null, { id: 7 }, {}, wrongData] }));
    expect(res.statusCode).toBe(400);
    const results = res.json().results as { id: string; result: string; error: string }[];
    expect(results.map((r) => [r.id, r.result])).toEqual([
      ['', 'rejected'],
      ['', 'rejected'],
      ['', 'rejected'],
      [wrongData.id, 'rejected'],
    ]);
    expect(results[0]!.error).toMatch(/^Does not match its schema\. \(message\): /);
    // Five things wrong with `{}`: the text is cut, not the answer.
    expect(results[2]!.error).toMatch(/^Does not match its schema\. id: .*; type: /);
    expect(results[2]!.error).toHaveLength(300);
    expect(results[3]!.error).toMatch(/registrationId/);
  });

  it('dead-letter routes: none without an outbox; replay works without a kick hook, and says what is wrong with the id', async () => {
    const { sub: plain } = await setup();
    expect((await inject(plain.app, 'GET', '/internal/dead-letters')).statusCode).toBe(404);

    const { pub, id } = await withDeadLetter();
    const { sub } = await setup({ outbox: pub.outbox });
    const malformed = await inject(sub.app, 'POST', '/internal/dead-letters/not%20an%20id/replay');
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json()).toMatchObject({ code: 'VALIDATION_FAILED', message: expect.stringMatching(/not an id/) });
    const unknown = await inject(sub.app, 'POST', '/internal/dead-letters/999/replay');
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json()).toMatchObject({ code: 'DEAD_LETTER_NOT_FOUND', message: expect.stringMatching(/No dead-lettered message/) });
    const replayed = await inject(sub.app, 'POST', `/internal/dead-letters/${id}/replay`);
    expect(replayed.statusCode).toBe(200);
    expect(replayed.json()).toEqual({ ok: true });
    expect(await pub.outbox.pendingCount()).toBe(1);
    expect(await pub.outbox.listDeadLetters(10)).toEqual([]);
  });

  it('keeps the internal routes out of the published API description', async () => {
    const { pub } = await withDeadLetter();
    const { sub } = await setup({ outbox: pub.outbox });
    const doc = (await sub.app.inject({ method: 'GET', url: '/openapi.json' })).json() as { paths?: Record<string, unknown> };
    expect(Object.keys(doc.paths ?? {}).filter((p) => p.startsWith('/internal'))).toEqual([]);
  });
});
