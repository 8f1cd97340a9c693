import Database from 'better-sqlite3';
import { SUBSCRIPTIONS, type Message, type ServiceName } from '@dems/contracts';
import type { DeadLetter, DeliveryFailure, OutboxEntry, OutboxStats, OutboxStore } from './messaging/outbox.js';
import { makePrivateFile } from './private-files.js';
import { withTraceContext } from './tracing.js';

export type SqliteDb = Database.Database;

/**
 * Opens a service's SQLite file: WAL so readers never block the writer, a busy timeout so several
 * processes can share one file (they queue for the write lock instead of failing), and the chosen
 * durability: FULL fsyncs every commit so a confirmed order survives power loss.
 *
 * Temporary storage stays in memory: SQLite otherwise needs a writable temp directory (SQLITE_TMPDIR, TMPDIR,
 * /var/tmp, /tmp or the working directory) as soon as a savepoint's or statement's journal outgrows 64 KiB,
 * and a container with a read-only root has none — every such write would fail with SQLITE_IOERR_GETTEMPPATH.
 * Memory is the cheaper side here: those journals, sorts and temporary tables are small for these statements.
 */
export function openSqlite(file: string, synchronous: 'FULL' | 'NORMAL' = 'FULL'): SqliteDb {
  // SQLite creates -wal and -shm with the mode of the database file, so a 0600 file keeps all three private.
  if (file !== ':memory:') makePrivateFile(file, ['-wal', '-shm', '-journal']);
  const db = new Database(file, { timeout: 15_000 });
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${synchronous}`);
  db.pragma('foreign_keys = ON');
  db.pragma('temp_store = MEMORY');
  return db;
}

/** What one step of a batch came to: its value, or the error that rolled back that step alone. */
export type StepOutcome<T> = { ok: true; value: T } | { ok: false; error: unknown };

/**
 * Makes `step` one step of a batch: called inside the batch's transaction, it runs in its own SAVEPOINT, so a
 * step that throws is undone alone and its error returned, and the batch goes on with the next step.
 *
 * Unless the error ended the whole transaction. On some errors (SQLITE_FULL, SQLITE_IOERR, SQLITE_NOMEM,
 * SQLITE_BUSY, …) SQLite rolls back the whole transaction, earlier steps included. Going on then would run
 * the later steps with no transaction around them — each would commit on its own — and the batch's COMMIT
 * would fail with "no transaction is active", hiding the real error from every caller and reporting failed
 * what was in fact written. So then the step's error is thrown: the whole batch fails with it and nothing
 * of it is written. The same when the step cannot be undone: the batch's transaction is rolled back instead.
 */
export function batchStep<A extends unknown[], T>(db: SqliteDb, step: (...args: A) => T): (...args: A) => StepOutcome<T> {
  const savepoint = db.prepare('SAVEPOINT batch_step');
  const release = db.prepare('RELEASE batch_step');
  const rollbackTo = db.prepare('ROLLBACK TO batch_step');
  return (...args) => {
    // Outside a transaction a SAVEPOINT would open one of its own and the step would commit alone.
    if (!db.inTransaction) throw new Error('batchStep: call the step inside the transaction of its batch.');
    savepoint.run();
    let value: T;
    try {
      value = step(...args);
    } catch (error) {
      if (!db.inTransaction) throw error;
      try {
        rollbackTo.run();
        release.run();
      } catch {
        throw error;
      }
      return { ok: false, error };
    }
    release.run();
    return { ok: true, value };
  };
}

/**
 * Gathers what arrives during one turn of the event loop and hands it to `flush` together at the next
 * (setImmediate): the shape of a group commit, where a whole batch shares one transaction and one fsync. At most
 * `max` items go per flush, so one batch never holds the event loop for long; the rest go a turn later.
 */
export class PerTurn<T> {
  private items: T[] = [];

  constructor(
    private readonly flush: (batch: T[]) => void,
    private readonly max = Number.POSITIVE_INFINITY,
  ) {}

  add(item: T): void {
    this.items.push(item);
    if (this.items.length === 1) setImmediate(() => this.drain());
  }

  private drain(): void {
    const batch = this.items.splice(0, this.max);
    if (this.items.length > 0) setImmediate(() => this.drain());
    if (batch.length > 0) this.flush(batch);
  }
}

/**
 * A page of parents gets its children (ticket types, tickets) from one query over all their ids; this hands each
 * parent its own, in the order the query read them. A parent without children gets an empty list.
 */
export function childrenOf<Row, Child>(rows: readonly Row[], parentId: (row: Row) => string, toChild: (row: Row) => Child): (id: string) => Child[] {
  const byParent = new Map<string, Child[]>();
  for (const row of rows) {
    const id = parentId(row);
    const children = byParent.get(id);
    if (children) children.push(toChild(row));
    else byParent.set(id, [toChild(row)]);
  }
  return (id) => byParent.get(id) ?? [];
}

/** Applies the migrations the file has not seen yet, tracked in PRAGMA user_version, each in a transaction. */
export function migrate(db: SqliteDb, migrations: readonly string[]): void {
  db.transaction(() => {
    const current = db.pragma('user_version', { simple: true }) as number;
    migrations.slice(current).forEach((sql) => db.exec(sql));
    db.pragma(`user_version = ${migrations.length}`);
  }).immediate();
}

/** Tables every publishing and subscribing service has; include this in the service's first migration. */
export const MESSAGING_SCHEMA = `
  CREATE TABLE outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id TEXT NOT NULL,
    subscriber TEXT NOT NULL,
    payload TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL DEFAULT 0,
    lease_until INTEGER NOT NULL DEFAULT 0,
    dead INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    created_at TEXT NOT NULL,
    UNIQUE (message_id, subscriber)
  );
  CREATE INDEX outbox_due ON outbox (subscriber, dead, next_attempt_at, seq);
  CREATE TABLE inbox (
    message_id TEXT PRIMARY KEY,
    type TEXT NOT NULL,
    received_at TEXT NOT NULL
  );
`;

/**
 * Outbox and inbox on the service's own SQLite file. `enqueue` and `recordReceived` must run inside
 * the caller's transaction: that is what makes a state change and its message commit together.
 *
 * The relay's bookkeeping (claim leases, deletes of delivered rows, retry schedules) runs on a second connection
 * to the same file with `synchronous = NORMAL`, so it never adds an fsync per delivered batch. In WAL mode the
 * frames it writes are durable as soon as the next FULL commit of anyone syncs the log; a power cut before that
 * loses at most a lease or a delete, and the message is delivered again, which the subscriber's inbox absorbs.
 * A claim is still an IMMEDIATE transaction under the file's write lock, so two processes sharing the file never
 * lease the same entries at once.
 */
export class SqliteMessaging implements OutboxStore {
  private readonly insertOutbox;
  private readonly insertInbox;
  /** The relay's own connection, opened on first use (a service that publishes nothing never opens it). */
  private relayDb?: SqliteDb;
  private statements?: ReturnType<typeof bookkeepingStatements>;

  constructor(private readonly db: SqliteDb) {
    this.insertOutbox = db.prepare('INSERT INTO outbox (message_id, subscriber, payload, next_attempt_at, created_at) VALUES (?, ?, ?, 0, ?)');
    this.insertInbox = db.prepare('INSERT OR IGNORE INTO inbox (message_id, type, received_at) VALUES (?, ?, ?)');
  }

  /** Closes the relay's connection; later bookkeeping uses the service's, which the store closes next (so it fails as the store does). */
  close(): void {
    if (this.relayDb !== this.db && this.relayDb?.open) this.relayDb.close();
    this.relayDb = this.db;
    this.statements = undefined;
  }

  /** The service's own connection for an in-memory database, which a second connection cannot see. */
  private get bookkeeping(): SqliteDb {
    // It lives no longer than the service's connection: bookkeeping for a closed store fails as the store does.
    if (!this.db.open) throw new TypeError('The database connection is not open');
    return (this.relayDb ??= this.db.memory ? this.db : openSqlite(this.db.name, 'NORMAL'));
  }

  /**
   * Writes one outbox row per subscriber of each message, with the trace context active now. Call inside the
   * transaction of the change (and, when changes are committed in groups, in each change's own trace context).
   */
  enqueue(...messages: Message[]): void {
    for (const m of messages) {
      const payload = JSON.stringify(withTraceContext(m));
      for (const subscriber of SUBSCRIPTIONS[m.type]) this.insertOutbox.run(m.id, subscriber, payload, m.occurredAt);
    }
  }

  /** Records a received message id; false means it was seen before and its effect must not be applied again. */
  recordReceived(message: Message): boolean {
    return this.insertInbox.run(message.id, message.type, new Date().toISOString()).changes === 1;
  }

  /** Prepared on first use: the service's migrations create the tables after this object exists. */
  private get sql(): ReturnType<typeof bookkeepingStatements> {
    return (this.statements ??= bookkeepingStatements(this.bookkeeping));
  }

  async claimDue(subscriber: ServiceName, limit: number, now: number, leaseMs: number): Promise<OutboxEntry[]> {
    const { due, lease } = this.sql;
    return this.bookkeeping
      .transaction(() => {
        const rows = due.all(subscriber, now, now, limit) as { seq: number; payload: string; attempts: number }[];
        for (const r of rows) lease.run(now + leaseMs, r.seq);
        return rows.map((r) => ({ id: String(r.seq), subscriber, message: JSON.parse(r.payload) as Message, attempts: r.attempts }));
      })
      .immediate();
  }

  async markDelivered(ids: string[]): Promise<void> {
    const { remove } = this.sql;
    this.bookkeeping.transaction(() => ids.forEach((id) => remove.run(Number(id)))).immediate();
  }

  async markFailed(failures: DeliveryFailure[]): Promise<void> {
    const { fail } = this.sql;
    this.bookkeeping
      .transaction(() => failures.forEach((f) => fail.run(f.attempts, f.nextAttemptAt ?? 0, f.nextAttemptAt === null ? 1 : 0, f.error.slice(0, 500), Number(f.id))))
      .immediate();
  }

  async listDeadLetters(limit: number): Promise<DeadLetter[]> {
    const rows = this.db.prepare('SELECT seq, subscriber, payload, attempts, last_error, created_at FROM outbox WHERE dead = 1 ORDER BY seq LIMIT ?').all(limit) as {
      seq: number;
      subscriber: ServiceName;
      payload: string;
      attempts: number;
      last_error: string | null;
      created_at: string;
    }[];
    return rows.map((r) => ({
      id: String(r.seq),
      subscriber: r.subscriber,
      message: JSON.parse(r.payload) as Message,
      attempts: r.attempts,
      lastError: r.last_error ?? '',
      createdAt: r.created_at,
    }));
  }

  async replayDeadLetter(id: string): Promise<boolean> {
    const seq = Number(id);
    if (!Number.isSafeInteger(seq)) return false;
    return this.db.prepare('UPDATE outbox SET dead = 0, attempts = 0, next_attempt_at = 0, lease_until = 0 WHERE seq = ? AND dead = 1').run(seq).changes === 1;
  }

  async pendingCount(): Promise<number> {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM outbox WHERE dead = 0').get() as { n: number }).n;
  }

  async stats(): Promise<OutboxStats[]> {
    const rows = this.db.prepare('SELECT subscriber, dead, COUNT(*) AS n, MIN(created_at) AS oldest FROM outbox GROUP BY subscriber, dead').all() as {
      subscriber: ServiceName;
      dead: number;
      n: number;
      oldest: string;
    }[];
    const bySubscriber = new Map<ServiceName, OutboxStats>();
    for (const r of rows) {
      const s = bySubscriber.get(r.subscriber) ?? { subscriber: r.subscriber, pending: 0, oldestPendingAt: null, deadLetters: 0 };
      if (r.dead) s.deadLetters = r.n;
      else Object.assign(s, { pending: r.n, oldestPendingAt: Date.parse(r.oldest) });
      bySubscriber.set(r.subscriber, s);
    }
    return [...bySubscriber.values()];
  }
}

function bookkeepingStatements(db: SqliteDb) {
  return {
    due: db.prepare(
      `SELECT seq, payload, attempts FROM outbox
       WHERE subscriber = ? AND dead = 0 AND next_attempt_at <= ? AND lease_until <= ?
       ORDER BY seq LIMIT ?`,
    ),
    lease: db.prepare('UPDATE outbox SET lease_until = ? WHERE seq = ?'),
    remove: db.prepare('DELETE FROM outbox WHERE seq = ?'),
    fail: db.prepare('UPDATE outbox SET attempts = ?, next_attempt_at = ?, lease_until = 0, dead = ?, last_error = ? WHERE seq = ?'),
  };
}
