import type Database from 'better-sqlite3';
import type { Message, WaitingRoomSettings } from '@dems/contracts';
import { openSqlite, PerTurn, SqliteMessaging, type SqliteDb } from '@dems/kit/sqlite';
import { isSpent, placeFor } from '../bucket.js';
import type { JoinResult, PassOutcome, QueuePlace, StoredRoom, WaitingRoomStore } from './waiting-room-store.js';

/**
 * Created by this adapter itself (IF NOT EXISTS) rather than by ticketing's numbered migrations, so the waiting
 * room's tables never compete with the purchase schema's migration order. A deleted room keeps its row (active 0)
 * and its head: queueing the sale again continues the chain, so places already handed out stay unique.
 */
const SCHEMA = `
  CREATE TABLE IF NOT EXISTS waiting_rooms (
    event_id TEXT PRIMARY KEY,
    opens_at TEXT NOT NULL,
    admit_per_minute INTEGER NOT NULL,
    pass_minutes INTEGER NOT NULL,
    active INTEGER NOT NULL,
    joined INTEGER NOT NULL DEFAULT 0,
    last_admit_at REAL NOT NULL DEFAULT 0
  );
  CREATE TABLE IF NOT EXISTS waiting_room_entries (
    event_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    position INTEGER NOT NULL,
    admit_at REAL NOT NULL,
    pass_expires_at INTEGER,
    PRIMARY KEY (event_id, user_id)
  );`;

interface RoomRow {
  event_id: string;
  opens_at: string;
  admit_per_minute: number;
  pass_minutes: number;
  joined: number;
  last_admit_at: number;
}

interface EntryRow {
  position: number;
  admit_at: number;
  pass_expires_at: number | null;
}

const toRoom = (r: RoomRow): StoredRoom => ({
  eventId: r.event_id,
  settings: { opensAt: r.opens_at, admitPerMinute: r.admit_per_minute, passMinutes: r.pass_minutes },
  joined: r.joined,
  lastAdmitAtMs: r.last_admit_at,
});
const toPlace = (e: EntryRow): QueuePlace => ({ position: e.position, admitAtMs: e.admit_at, passExpiresAtMs: e.pass_expires_at });

/** A write waiting for the next group commit: run inside its transaction, answered after the COMMIT. */
interface QueuedWrite {
  run: () => unknown;
  resolve: (value: never) => void;
  reject: (e: unknown) => void;
}

export interface SqliteWaitingRoomOptions {
  /** Ticketing's file, already migrated by SqliteTicketingStore (its events and idempotency tables are read here). */
  file: string;
  synchronous?: 'FULL' | 'NORMAL';
  /** Called after a commit that enqueued a message (serve.ts: the ticketing relay's kick). */
  onMessagesCommitted?: () => void;
}

/**
 * Waiting rooms on ticketing's SQLite file, over a connection of their own: its transactions serialize with the
 * purchases' on the file's write lock (each runs start to commit within one synchronous call, so they never
 * interleave in this process), and the messages it enqueues land in the same outbox table the relay drains. Joins
 * and pass windows are group-committed like purchases: those that arrive while the
 * event loop is busy share one BEGIN IMMEDIATE … COMMIT (one fsync), in arrival order, so a crowd arriving at the
 * opening costs one commit per turn of the loop, not one per person. The write lock makes the head's update
 * atomic across processes sharing the file.
 */
export class SqliteWaitingRoomStore implements WaitingRoomStore {
  private readonly db: SqliteDb;
  private readonly outbox: SqliteMessaging;
  private readonly statements = new Map<string, Database.Statement>();
  private readonly queued = new PerTurn<QueuedWrite>((batch) => this.commitQueued(batch));
  private readonly commitBatch: (batch: QueuedWrite[]) => unknown[];

  constructor(private readonly opts: SqliteWaitingRoomOptions) {
    this.db = openSqlite(opts.file, opts.synchronous ?? 'FULL');
    this.outbox = new SqliteMessaging(this.db);
    this.db.transaction(() => this.db.exec(SCHEMA)).immediate();
    this.commitBatch = this.db.transaction((batch: QueuedWrite[]) => batch.map((q) => q.run())).immediate;
  }

  private sql(source: string): Database.Statement {
    let statement = this.statements.get(source);
    if (!statement) this.statements.set(source, (statement = this.db.prepare(source)));
    return statement;
  }

  private room(eventId: string): StoredRoom | null {
    const row = this.sql('SELECT * FROM waiting_rooms WHERE event_id = ? AND active = 1').get(eventId) as RoomRow | undefined;
    return row ? toRoom(row) : null;
  }

  private entry(eventId: string, userId: string): QueuePlace | null {
    const row = this.sql('SELECT position, admit_at, pass_expires_at FROM waiting_room_entries WHERE event_id = ? AND user_id = ?').get(eventId, userId) as EntryRow | undefined;
    return row ? toPlace(row) : null;
  }

  /**
   * One immediate transaction; its message goes in the outbox with it when `changed` says the write changed
   * something, and the relay is woken after the commit.
   */
  private changeWith<T>(message: Message, fn: () => T, changed: (value: T) => boolean = () => true): T {
    let enqueued = false;
    const result = this.db
      .transaction(() => {
        const value = fn();
        enqueued = changed(value);
        if (enqueued) this.outbox.enqueue(message);
        return value;
      })
      .immediate();
    if (enqueued) this.opts.onMessagesCommitted?.();
    return result;
  }

  async eventOrganizer(eventId: string): Promise<string | null> {
    const row = this.sql('SELECT organizer_id FROM events WHERE id = ?').get(eventId) as { organizer_id: string } | undefined;
    return row?.organizer_id ?? null;
  }

  async getRoom(eventId: string): Promise<StoredRoom | null> {
    return this.room(eventId);
  }

  async setRoom(eventId: string, settings: WaitingRoomSettings, changed: Message): Promise<StoredRoom> {
    return this.changeWith(changed, () => {
      this.sql(
        `INSERT INTO waiting_rooms (event_id, opens_at, admit_per_minute, pass_minutes, active) VALUES (?, ?, ?, ?, 1)
         ON CONFLICT (event_id) DO UPDATE SET opens_at = excluded.opens_at, admit_per_minute = excluded.admit_per_minute,
           pass_minutes = excluded.pass_minutes, active = 1`,
      ).run(eventId, settings.opensAt, settings.admitPerMinute, settings.passMinutes);
      return this.room(eventId)!;
    });
  }

  async deleteRoom(eventId: string, changed: Message): Promise<boolean> {
    return this.changeWith(
      changed,
      () => this.sql('UPDATE waiting_rooms SET active = 0 WHERE event_id = ? AND active = 1').run(eventId).changes === 1,
      (deleted) => deleted,
    );
  }

  join(eventId: string, userId: string, now: Date): Promise<JoinResult | null> {
    return this.grouped(() => this.joinNow(eventId, userId, now));
  }

  /**
   * Runs `write` in the next group commit: the writes that arrive while the event loop is busy share one
   * transaction and one fsync, in arrival order. None of them is expected to throw (refusals are results); an
   * error fails the whole batch, as after it SQLite may have rolled back all of it.
   */
  private grouped<T>(write: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queued.add({ run: write, resolve: resolve as (value: never) => void, reject });
    });
  }

  private commitQueued(batch: QueuedWrite[]): void {
    try {
      const results = this.commitBatch(batch);
      batch.forEach((q, i) => q.resolve(results[i] as never));
    } catch (error) {
      for (const q of batch) q.reject(error);
    }
  }

  private joinNow(eventId: string, userId: string, now: Date): JoinResult | null {
    const room = this.room(eventId);
    if (!room) return null;
    const joined = placeFor(room, this.entry(eventId, userId), now.getTime());
    if (!joined.created) return joined;
    const { place } = joined;
    this.sql('UPDATE waiting_rooms SET joined = ?, last_admit_at = ? WHERE event_id = ?').run(place.position, place.admitAtMs, eventId);
    this.sql(
      `INSERT INTO waiting_room_entries (event_id, user_id, position, admit_at, pass_expires_at) VALUES (?, ?, ?, ?, NULL)
       ON CONFLICT (event_id, user_id) DO UPDATE SET position = excluded.position, admit_at = excluded.admit_at, pass_expires_at = NULL`,
    ).run(eventId, userId, place.position, place.admitAtMs);
    return joined;
  }

  issuePass(eventId: string, userId: string, position: number, passMs: number, now: Date): Promise<PassOutcome> {
    return this.grouped(() => this.issuePassNow(eventId, userId, position, passMs, now.getTime()));
  }

  private issuePassNow(eventId: string, userId: string, position: number, passMs: number, nowMs: number): PassOutcome {
    // Opened only where no window is open yet; then whatever window the place has decides.
    this.sql('UPDATE waiting_room_entries SET pass_expires_at = ? WHERE event_id = ? AND user_id = ? AND position = ? AND pass_expires_at IS NULL').run(
      nowMs + passMs,
      eventId,
      userId,
      position,
    );
    const place = this.entry(eventId, userId);
    if (!place || place.position < position) return { kind: 'unknown' };
    if (place.position > position || isSpent(place, nowMs)) return { kind: 'expired' };
    return { kind: 'issued', expiresAtMs: place.passExpiresAtMs! };
  }

  async hasPurchase(userId: string, idempotencyKey: string): Promise<boolean> {
    return this.sql('SELECT 1 FROM idempotency WHERE user_id = ? AND key = ?').get(userId, idempotencyKey) !== undefined;
  }

  async close(): Promise<void> {
    this.outbox.close();
    if (this.db.open) this.db.close();
  }
}
