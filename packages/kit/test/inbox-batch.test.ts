import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { newMessage, type Message } from '@dems/contracts';
import Fastify from 'fastify';
import { createServiceApp, messageLag, registerInternalRoutes, type ApplyBatch, type ApplyMessage, type BatchItemOutcome } from '@dems/kit';
import { batchStep, MESSAGING_SCHEMA, migrate, openSqlite, SqliteMessaging, type SqliteDb } from '@dems/kit/sqlite';
import { deliver, signedHeaders, tempDir, TEST_SECRET } from '@dems/kit/testing';

const registered = (n: number): Message => newMessage('events', 'UserRegistered', { registrationId: `reg_${n}`, eventId: 'evt_1', eventTitle: 'Jazz Night', userId: `usr_${n}` });
/** A message every inbox refuses: its data does not match the schema. */
const malformed = (n: number) => ({ ...registered(n), data: { registrationId: 42 } });

/**
 * A real subscriber whose batch apply commits a delivered batch in one SQLite transaction, each message in its own
 * savepoint (as the services' stores do). A user id in `throwFor` makes that message's apply throw (test fake),
 * after it wrote its row and its inbox record, so undoing it alone is observable.
 */
async function subscriber(db: SqliteDb, opts: { throwFor?: string; batch?: ApplyBatch; oneByOne?: boolean } = {}) {
  const inbox = new SqliteMessaging(db);
  const calls: string[][] = [];
  const step = batchStep(db, (m: Message): 'applied' | 'duplicate' => {
    if (!inbox.recordReceived(m)) return 'duplicate';
    db.prepare('INSERT INTO applied VALUES (?)').run(m.id);
    if (m.type === 'UserRegistered' && m.data.userId === opts.throwFor) throw new Error('forced failure (test fake)');
    return 'applied';
  });
  const applyBatch: ApplyBatch = async (messages) => {
    calls.push(messages.map((m) => m.id));
    return db.transaction(() =>
      messages.map((m): BatchItemOutcome => {
        const o = step(m);
        return o.ok ? o.value : { error: o.error };
      }),
    )();
  };
  const app = await createServiceApp({ name: 'subscriber', description: 'batch inbox test', isReady: () => true });
  // A service gives one or the other: one call per message, or one per delivered batch.
  const oneAtATime: ApplyMessage = async (m) => {
    const [outcome] = await applyBatch([m]);
    if (typeof outcome === 'object') throw outcome.error;
    return outcome!;
  };
  await registerInternalRoutes(app, { secret: TEST_SECRET, ...(opts.oneByOne ? { apply: oneAtATime } : { applyBatch: opts.batch ?? applyBatch }) });
  await app.ready();
  const applied = () => (db.prepare('SELECT id FROM applied ORDER BY rowid').all() as { id: string }[]).map((r) => r.id);
  const inboxIds = () => (db.prepare('SELECT message_id FROM inbox').all() as { message_id: string }[]).map((r) => r.message_id).sort();
  return { app, calls, applied, inboxIds };
}

describe('inbox: a delivered batch applied in one call', () => {
  let dir: ReturnType<typeof tempDir>;
  let db: SqliteDb;
  beforeEach(() => {
    dir = tempDir();
    db = openSqlite(join(dir.path, 'sub.db'));
    migrate(db, [MESSAGING_SCHEMA + 'CREATE TABLE applied (id TEXT);']);
  });
  afterEach(() => {
    db.close();
    dir.cleanup();
  });
  const send = (app: Awaited<ReturnType<typeof subscriber>>['app'], messages: unknown[]) => {
    const payload = JSON.stringify({ messages });
    return app.inject({ method: 'POST', url: '/internal/messages', headers: signedHeaders(payload), payload });
  };

  it('hands every valid message to the batch apply in one call, in order, and answers each as before', async () => {
    const sub = await subscriber(db);
    const [a, b, c] = [registered(1), registered(2), registered(3)];
    const res = await send(sub.app, [a, b, c]);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ applied: 3, results: [a, b, c].map((m) => ({ id: m.id, result: 'applied' })) });
    expect(sub.calls).toEqual([[a.id, b.id, c.id]]);
    expect(sub.applied()).toEqual([a.id, b.id, c.id]);
    // A redelivery of the batch is answered duplicate and changes nothing.
    const again = await send(sub.app, [a, b, c]);
    expect(again.json().results.map((r: { result: string }) => r.result)).toEqual(['duplicate', 'duplicate', 'duplicate']);
    expect(sub.applied()).toEqual([a.id, b.id, c.id]);
    await sub.app.close();
  });

  it('a message that throws is undone alone (its row and inbox record) and answered failed; the others commit', async () => {
    const sub = await subscriber(db, { throwFor: 'usr_2' });
    const [a, b, c] = [registered(1), registered(2), registered(3)];
    const res = await send(sub.app, [a, b, c]);
    expect(res.statusCode).toBe(500);
    expect(res.json()).toMatchObject({
      applied: 1,
      results: [
        { id: a.id, result: 'applied' },
        { id: b.id, result: 'failed', error: expect.stringMatching(/handler failed/) },
        { id: c.id, result: 'applied' },
      ],
    });
    expect(sub.applied()).toEqual([a.id, c.id]);
    expect(sub.inboxIds()).toEqual([a.id, c.id].sort());
    await sub.app.close();
  });

  it('a malformed message is answered rejected and never reaches the batch apply', async () => {
    const sub = await subscriber(db);
    const [a, c] = [registered(1), registered(3)];
    const bad = malformed(2);
    const res = await send(sub.app, [a, bad, c]);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({
      applied: 1,
      results: [
        { id: a.id, result: 'applied' },
        { id: bad.id, result: 'rejected' },
        { id: c.id, result: 'applied' },
      ],
    });
    expect(sub.calls).toEqual([[a.id, c.id]]);
    await sub.app.close();
  });

  it('a batch of malformed messages only is answered without calling the batch apply', async () => {
    const sub = await subscriber(db);
    const res = await send(sub.app, [malformed(1)]);
    expect(res.statusCode).toBe(400);
    expect(sub.calls).toEqual([]);
    await sub.app.close();
  });

  it('when the batch apply fails as a whole (or miscounts), every valid message is answered failed, the malformed still rejected', async () => {
    const [a, c] = [registered(1), registered(3)];
    const bad = malformed(2);
    const throwing = await subscriber(db, { batch: async () => Promise.reject(new Error('disk full (test fake)')) });
    const res = await send(throwing.app, [a, bad, c]);
    expect(res.statusCode).toBe(500);
    expect(res.json().results.map((r: { result: string }) => r.result)).toEqual(['failed', 'rejected', 'failed']);
    await throwing.app.close();

    const miscounting = await subscriber(db, { batch: async () => ['applied'] });
    const short = await send(miscounting.app, [a, c]);
    expect(short.json().results.map((r: { result: string }) => r.result)).toEqual(['failed', 'failed']);
    await miscounting.app.close();
  });

  for (const oneByOne of [false, true]) {
    it(`times each hop on /metrics (${oneByOne ? 'one by one' : 'batch'}): received per delivery, committed per applied message`, async () => {
      const sub = await subscriber(db, { throwFor: 'usr_2', oneByOne });
      const batch = [registered(1), registered(2), registered(3)];
      await deliver(sub.app, batch);
      await deliver(sub.app, batch);
      const text = (await sub.app.inject({ method: 'GET', url: '/metrics' })).body;
      expect(text).toMatch(/dems_message_lag_seconds_count\{hop="received"\} 6/);
      // The failed one never committed; the duplicates committed nothing.
      expect(text).toMatch(/dems_message_lag_seconds_count\{hop="committed"\} 2/);
      await sub.app.close();
    });
  }

  it('one lag histogram per app, whoever asks first: the service adds the pushed hop to the inbox histogram', async () => {
    const sub = await subscriber(db);
    const pushed = messageLag(sub.app);
    expect(messageLag(sub.app)).toBe(pushed);
    await deliver(sub.app, [registered(1)]);
    pushed('pushed', { occurredAt: new Date(Date.now() - 60_000).toISOString() });
    const text = (await sub.app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(text).toMatch(/dems_message_lag_seconds_count\{hop="pushed"\} 1/);
    // A minute late: counted above the 10 s bucket, below the 60 s one.
    expect(text).toMatch(/dems_message_lag_seconds_bucket\{le="10",hop="pushed"\} 0/);
    expect(text).toMatch(/dems_message_lag_seconds_bucket\{le="60",hop="pushed"\} 1/);
    await sub.app.close();
  });

  it('an app without metrics records nothing and does not fail', () => {
    const lag = messageLag(Fastify());
    expect(() => lag('committed', { occurredAt: new Date().toISOString() })).not.toThrow();
  });
});
