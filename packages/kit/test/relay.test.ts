import { afterEach, describe, expect, it } from 'vitest';
import Fastify from 'fastify';
import { join } from 'node:path';
import { newMessage, type Message } from '@dems/contracts';
import { backoffMs, OutboxRelay, registerInternalRoutes } from '@dems/kit';
import { MESSAGING_SCHEMA, migrate, openSqlite, SqliteMessaging } from '@dems/kit/sqlite';
import { TEST_SECRET, tempDir } from '@dems/kit/testing';

const silent = { info: () => {}, warn: () => {}, error: () => {} };

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

/** A real subscriber: a Fastify app with the kit inbox, recording applied ids in its own SQLite file. */
async function subscriber(dir: string, failFirst = 0) {
  const db = openSqlite(join(dir, 'sub.db'));
  migrate(db, [MESSAGING_SCHEMA + 'CREATE TABLE applied (id TEXT);']);
  const inbox = new SqliteMessaging(db);
  let failures = failFirst;
  const app = Fastify();
  await registerInternalRoutes(app, {
    secret: TEST_SECRET,
    apply: async (m) => {
      if (failures > 0) {
        failures--;
        throw new Error('forced failure (test fake)');
      }
      return db.transaction(() => {
        if (!inbox.recordReceived(m)) return 'duplicate' as const;
        db.prepare('INSERT INTO applied VALUES (?)').run(m.id);
        return 'applied' as const;
      })();
    },
  });
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  return { app, url, applied: () => db.prepare('SELECT id FROM applied').all() as { id: string }[], db };
}

function publisher(dir: string) {
  const db = openSqlite(join(dir, 'pub.db'));
  migrate(db, [MESSAGING_SCHEMA]);
  return { db, outbox: new SqliteMessaging(db) };
}

const until = async (check: () => boolean, ms = 5000) => {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe('outbox relay and inbox', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it('delivers every message once per subscriber, in order, and empties the outbox', async () => {
    const dir = tempDir();
    cleanups.push(dir.cleanup);
    const sub = await subscriber(dir.path);
    cleanups.push(() => sub.app.close());
    const pub = publisher(dir.path);
    const messages = Array.from({ length: 250 }, (_, i) => order(i));
    pub.db.transaction(() => pub.outbox.enqueue(...messages))();
    expect(await pub.outbox.pendingCount()).toBe(500); // engagement + events subscribe to OrderPlaced

    const relay = new OutboxRelay({
      store: pub.outbox,
      subscriberUrls: { events: sub.url, engagement: sub.url, ticketing: 'http://127.0.0.1:9' },
      secret: TEST_SECRET,
      log: silent,
      maxAttempts: 5,
    });
    relay.start();
    cleanups.push(() => relay.stop());
    await until(() => sub.applied().length === 250);
    expect(sub.applied().map((r) => r.id)).toEqual(messages.map((m) => m.id));
    await until(() => (pub.db.prepare('SELECT COUNT(*) AS n FROM outbox').get() as { n: number }).n === 0);
  });

  it('keeps retrying while the subscriber fails, then delivers exactly once', async () => {
    const dir = tempDir();
    cleanups.push(dir.cleanup);
    const sub = await subscriber(dir.path, 2);
    cleanups.push(() => sub.app.close());
    const pub = publisher(dir.path);
    const m = order(1);
    pub.db.transaction(() => pub.outbox.enqueue(m))();
    const relay = new OutboxRelay({
      store: pub.outbox,
      subscriberUrls: { events: sub.url, engagement: sub.url, ticketing: sub.url },
      secret: TEST_SECRET,
      log: silent,
      maxAttempts: 10,
      sweepMs: 50,
    });
    relay.start();
    cleanups.push(() => relay.stop());
    await until(() => (pub.db.prepare('SELECT COUNT(*) AS n FROM outbox').get() as { n: number }).n === 0, 8000);
    expect(sub.applied()).toEqual([{ id: m.id }]); // two deliveries (events + engagement), one effect
  });

  it('moves a message that keeps failing to the dead-letter list, and replays it on request', async () => {
    const dir = tempDir();
    cleanups.push(dir.cleanup);
    const pub = publisher(dir.path);
    pub.db.transaction(() => pub.outbox.enqueue(order(1)))();
    const relay = new OutboxRelay({
      store: pub.outbox,
      subscriberUrls: { events: 'http://127.0.0.1:9', engagement: 'http://127.0.0.1:9', ticketing: 'http://127.0.0.1:9' },
      secret: TEST_SECRET,
      log: silent,
      maxAttempts: 1,
    });
    relay.start();
    cleanups.push(() => relay.stop());
    await until(() => (pub.db.prepare('SELECT COUNT(*) AS n FROM outbox WHERE dead = 1').get() as { n: number }).n === 2);
    const dead = await pub.outbox.listDeadLetters(10);
    expect(dead[0]).toMatchObject({ attempts: 1, message: { type: 'OrderPlaced' } });
    expect(dead[0]!.lastError).toMatch(/ECONNREFUSED|fetch failed|TypeError/);
    expect(await pub.outbox.replayDeadLetter(dead[0]!.id)).toBe(true);
    expect(await pub.outbox.replayDeadLetter(dead[0]!.id)).toBe(false);
  });

  it('refuses unsigned, wrongly signed and stale internal requests', async () => {
    const dir = tempDir();
    cleanups.push(dir.cleanup);
    const sub = await subscriber(dir.path);
    cleanups.push(() => sub.app.close());
    const payload = JSON.stringify({ messages: [order(1)] });
    const post = (headers: Record<string, string>) =>
      sub.app.inject({ method: 'POST', url: '/internal/messages', headers: { 'content-type': 'application/json', ...headers }, payload });
    expect((await post({})).statusCode).toBe(401);
    expect((await post({ 'x-dems-timestamp': String(Date.now()), 'x-dems-signature': 'ab'.repeat(32) })).statusCode).toBe(401);
    const { signBody } = await import('@dems/kit');
    const old = String(Date.now() - 10 * 60_000);
    expect((await post({ 'x-dems-timestamp': old, 'x-dems-signature': signBody(TEST_SECRET, old, payload) })).statusCode).toBe(401);
    expect(sub.applied()).toEqual([]);
  });

  it('backs off exponentially with jitter, capped at a minute', () => {
    expect(backoffMs(1, () => 0)).toBe(100);
    expect(backoffMs(1, () => 1)).toBe(200);
    expect(backoffMs(5, () => 1)).toBe(3200);
    expect(backoffMs(50, () => 1)).toBe(60_000);
  });
});
