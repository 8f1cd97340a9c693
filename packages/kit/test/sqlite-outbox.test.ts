import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { newMessage, type Message } from '@dems/contracts';
import { MESSAGING_SCHEMA, migrate, openSqlite, SqliteMessaging, type SqliteDb } from '@dems/kit/sqlite';
import { tempDir } from '@dems/kit/testing';

const registered = (n: number): Message => newMessage('events', 'UserRegistered', { registrationId: `reg_${n}`, eventId: 'evt_1', eventTitle: 'Jazz Night', userId: `usr_${n}` });

describe('SQLite outbox: the relay bookkeeping on a connection of its own', () => {
  let dir: ReturnType<typeof tempDir>;
  let db: SqliteDb;
  let outbox: SqliteMessaging;
  beforeEach(() => {
    dir = tempDir();
    db = openSqlite(join(dir.path, 'service.db'));
    migrate(db, [MESSAGING_SCHEMA]);
    outbox = new SqliteMessaging(db);
    db.transaction(() => outbox.enqueue(registered(1), registered(2)))();
  });
  afterEach(() => {
    outbox.close();
    db.close();
    dir.cleanup();
  });

  /** PRAGMA data_version moves on a connection only when another connection commits to the file. */
  const otherCommits = () => db.pragma('data_version', { simple: true }) as number;

  it('claims, deliveries and failures commit on another connection than the service, which keeps FULL', async () => {
    let before = otherCommits();
    const claimed = await outbox.claimDue('engagement', 10, Date.now(), 10_000);
    expect(claimed).toHaveLength(2);
    expect(otherCommits()).not.toBe(before);

    before = otherCommits();
    await outbox.markFailed([{ id: claimed[1]!.id, attempts: 1, nextAttemptAt: 0, error: 'boom' }]);
    expect(otherCommits()).not.toBe(before);

    before = otherCommits();
    await outbox.markDelivered([claimed[0]!.id]);
    expect(otherCommits()).not.toBe(before);
    expect(db.prepare('SELECT seq, attempts, last_error FROM outbox').all()).toEqual([{ seq: Number(claimed[1]!.id), attempts: 1, last_error: 'boom' }]);
    expect(db.pragma('synchronous', { simple: true })).toBe(2);
  });

  it('bookkeeping fails once the store is closed, as the store does', async () => {
    db.close();
    await expect(outbox.claimDue('engagement', 10, Date.now(), 10_000)).rejects.toThrow(/not open/);
    db = openSqlite(join(dir.path, 'service.db'));
  });

  it('after close, bookkeeping falls back to the service connection (closed next by the store, so it then fails as the store does)', async () => {
    await outbox.claimDue('engagement', 1, Date.now(), 10_000);
    outbox.close();
    const before = otherCommits();
    await expect(outbox.claimDue('engagement', 10, Date.now(), 10_000)).resolves.toHaveLength(1);
    expect(otherCommits()).toBe(before);
  });

  it('an in-memory database keeps the bookkeeping on its one connection (a second could not see it)', async () => {
    const mem = openSqlite(':memory:');
    migrate(mem, [MESSAGING_SCHEMA]);
    const memOutbox = new SqliteMessaging(mem);
    mem.transaction(() => memOutbox.enqueue(registered(3)))();
    expect(await memOutbox.claimDue('engagement', 10, Date.now(), 10_000)).toHaveLength(1);
    memOutbox.close();
    mem.close();
  });
});
