import type { Message, Registration, TicketType } from '@dems/contracts';
import { decodeCursor, encodeCursor, invalidCursor } from '@dems/kit';
import { childrenOf, migrate, MESSAGING_SCHEMA, openSqlite, SqliteMessaging, type SqliteDb } from '@dems/kit/sqlite';
import type { BannerRendition, EventRecord } from '../domain/banner.js';
import type { EventChange, EventCursor, EventFilter, EventsStore, Page, PageRequest } from './events-store.js';

const MIGRATIONS = [
  `${MESSAGING_SCHEMA}
  CREATE TABLE events (
    id TEXT PRIMARY KEY,
    organizer_id TEXT NOT NULL,
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    venue TEXT NOT NULL,
    timezone TEXT NOT NULL,
    starts_at TEXT NOT NULL,
    ends_at TEXT NOT NULL,
    status TEXT NOT NULL,
    registration_limit INTEGER,
    registration_count INTEGER NOT NULL DEFAULT 0,
    version INTEGER NOT NULL,
    search_text TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
  );
  CREATE INDEX events_listing ON events (status, starts_at, id);
  CREATE INDEX events_by_organizer ON events (organizer_id, starts_at, id);
  CREATE TABLE ticket_types (
    id TEXT PRIMARY KEY,
    event_id TEXT NOT NULL REFERENCES events (id),
    position INTEGER NOT NULL,
    name TEXT NOT NULL,
    price_cents INTEGER NOT NULL,
    currency TEXT NOT NULL,
    capacity INTEGER NOT NULL
  );
  CREATE INDEX ticket_types_by_event ON ticket_types (event_id, position);
  CREATE TABLE registrations (
    id TEXT PRIMARY KEY,
    event_id TEXT NOT NULL REFERENCES events (id),
    user_id TEXT NOT NULL,
    user_name TEXT NOT NULL,
    user_email TEXT NOT NULL,
    event_title TEXT NOT NULL,
    event_starts_at TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (event_id, user_id)
  );
  CREATE INDEX registrations_by_user ON registrations (user_id, event_starts_at);
  CREATE TABLE tickets_sold (
    ticket_type_id TEXT PRIMARY KEY,
    event_id TEXT NOT NULL,
    sold INTEGER NOT NULL
  );
  CREATE INDEX tickets_sold_by_event ON tickets_sold (event_id);
  `,
  // The projection of ticketing's sales is gone: ticketing checks capacity against sales itself.
  `DROP TABLE tickets_sold;`,
  // The banner's renditions as JSON ([{ width, height, key }], smallest first); NULL when there is none.
  `ALTER TABLE events ADD COLUMN banner TEXT;`,
  // Registration lists are paged in key order: a user's by event id (newest published first), an event's by sign-up.
  `DROP INDEX registrations_by_user;
   CREATE INDEX registrations_by_user ON registrations (user_id, event_id);
   CREATE INDEX registrations_by_event ON registrations (event_id, created_at);`,
];

/** Where a user's registrations continue: after this event id (descending). */
const isUserCursor = (v: unknown): v is { e: string } => typeof v === 'object' && v !== null && typeof (v as { e: unknown }).e === 'string';
/** Where an event's registrations continue: after this sign-up (created_at, then rowid, i.e. insertion order). */
const isEventCursor = (v: unknown): v is { c: string; r: number } =>
  typeof v === 'object' && v !== null && typeof (v as { c: unknown }).c === 'string' && Number.isInteger((v as { r: unknown }).r);

function parseCursor<T>(cursor: string | undefined, isValid: (v: unknown) => v is T): T | undefined {
  const after = decodeCursor(cursor, isValid);
  if (cursor !== undefined && !after) throw invalidCursor();
  return after;
}

interface EventRow {
  id: string;
  organizer_id: string;
  title: string;
  description: string;
  venue: string;
  timezone: string;
  starts_at: string;
  ends_at: string;
  status: 'published' | 'cancelled';
  registration_limit: number | null;
  registration_count: number;
  version: number;
  banner: string | null;
  created_at: string;
  updated_at: string;
}

interface TicketTypeRow {
  id: string;
  event_id: string;
  name: string;
  price_cents: number;
  currency: string;
  capacity: number;
}

interface RegistrationRow {
  id: string;
  event_id: string;
  user_id: string;
  user_name: string;
  user_email: string;
  created_at: string;
  /** From the event's row, joined (REGISTRATION_COLUMNS). */
  event_title: string;
  event_starts_at: string;
  event_ends_at: string;
  event_timezone: string;
  event_status: 'published' | 'cancelled';
}

/** A registration with what it shows of its event, as the event row is now: SELECT these FROM_REGISTRATIONS. */
const REGISTRATION_COLUMNS =
  'r.id, r.event_id, r.user_id, r.user_name, r.user_email, r.created_at, e.title AS event_title, e.starts_at AS event_starts_at, e.ends_at AS event_ends_at, e.timezone AS event_timezone, e.status AS event_status';
const FROM_REGISTRATIONS = 'FROM registrations r JOIN events e ON e.id = r.event_id';

/** Lower-cased with JavaScript's Unicode rules, so "Über" matches "über" (SQLite's lower() is ASCII only). */
const searchText = (e: Pick<EventRecord, 'title' | 'description' | 'venue'>) => `${e.title}\n${e.description}\n${e.venue}`.toLowerCase();

const bannerColumn = (banner: BannerRendition[]): string | null => (banner.length ? JSON.stringify(banner) : null);

const toTicketType = (r: TicketTypeRow): TicketType => ({ id: r.id, name: r.name, priceCents: r.price_cents, currency: r.currency, capacity: r.capacity });

const toRegistration = (r: RegistrationRow): Registration => ({
  id: r.id,
  eventId: r.event_id,
  userId: r.user_id,
  userName: r.user_name,
  userEmail: r.user_email,
  eventTitle: r.event_title,
  eventStartsAt: r.event_starts_at,
  eventEndsAt: r.event_ends_at,
  eventTimezone: r.event_timezone,
  eventStatus: r.event_status,
  createdAt: r.created_at,
});

export interface SqliteEventsStoreOptions {
  file: string;
  synchronous?: 'FULL' | 'NORMAL';
  /** Called after a commit that enqueued messages (serve.ts: relay.kick()). */
  onMessagesCommitted?: () => void;
}

/** The events store on one SQLite file. Each change and its outbox rows commit in one immediate transaction. */
export class SqliteEventsStore implements EventsStore {
  readonly outbox: SqliteMessaging;
  private readonly db: SqliteDb;
  private readonly onMessagesCommitted: () => void;
  /** PRAGMA data_version moves with commits of other connections only; this counts this store's own writes. */
  private ownWrites = 0;
  private readonly otherWriters;
  readonly dataVersionSeesEveryWriter = true;

  constructor(opts: SqliteEventsStoreOptions) {
    this.db = openSqlite(opts.file, opts.synchronous ?? 'FULL');
    migrate(this.db, MIGRATIONS);
    this.outbox = new SqliteMessaging(this.db);
    this.onMessagesCommitted = opts.onMessagesCommitted ?? (() => {});
    this.otherWriters = this.db.prepare('PRAGMA data_version').pluck();
  }

  dataVersion(): string {
    return `${this.ownWrites}.${this.otherWriters.get() as number}`;
  }

  /** Runs `fn` in an immediate transaction; `enqueue` collects messages written in it and kicks the relay after commit. */
  private write<T>(fn: (enqueue: (messages: readonly Message[]) => void) => T): T {
    let enqueued = false;
    let result: T;
    try {
      result = this.db
        .transaction(() =>
          fn((messages) => {
            this.outbox.enqueue(...messages);
            enqueued ||= messages.length > 0;
          }),
        )
        .immediate();
    } finally {
      // Also when it failed: a version that moves without a change costs a cache rebuild, never a stale answer.
      this.ownWrites++;
    }
    if (enqueued) this.onMessagesCommitted();
    return result;
  }

  private eventRow(id: string): EventRow | undefined {
    return this.db.prepare('SELECT * FROM events WHERE id = ?').get(id) as EventRow | undefined;
  }

  private hydrate(rows: EventRow[]): EventRecord[] {
    if (rows.length === 0) return [];
    const ids = rows.map((r) => r.id);
    const types = this.db.prepare(`SELECT * FROM ticket_types WHERE event_id IN (${ids.map(() => '?').join(',')}) ORDER BY event_id, position`).all(...ids) as TicketTypeRow[];
    const ticketTypesOf = childrenOf(types, (t) => t.event_id, toTicketType);
    return rows.map((r) => ({
      id: r.id,
      organizerId: r.organizer_id,
      title: r.title,
      description: r.description,
      venue: r.venue,
      timezone: r.timezone,
      startsAt: r.starts_at,
      endsAt: r.ends_at,
      status: r.status,
      registrationLimit: r.registration_limit,
      registrationCount: r.registration_count,
      ticketTypes: ticketTypesOf(r.id),
      banner: r.banner ? (JSON.parse(r.banner) as BannerRendition[]) : [],
      createdAt: r.created_at,
      updatedAt: r.updated_at,
    }));
  }

  private loadEvent(id: string): { event: EventRecord; version: number } | null {
    const row = this.eventRow(id);
    const event = row && this.hydrate([row])[0];
    return row && event ? { event, version: row.version } : null;
  }

  async createEvent(event: EventRecord, messages: readonly Message[]): Promise<void> {
    this.write((enqueue) => {
      this.db
        .prepare(
          `INSERT INTO events (id, organizer_id, title, description, venue, timezone, starts_at, ends_at, status,
             registration_limit, registration_count, version, search_text, banner, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?)`,
        )
        .run(
          event.id,
          event.organizerId,
          event.title,
          event.description,
          event.venue,
          event.timezone,
          event.startsAt,
          event.endsAt,
          event.status,
          event.registrationLimit,
          event.registrationCount,
          searchText(event),
          bannerColumn(event.banner),
          event.createdAt,
          event.updatedAt,
        );
      this.writeTicketTypes(event);
      enqueue(messages);
    });
  }

  /**
   * Writes the event's ticket types in their order: new ones are inserted at their position, known ones changed in
   * place (a change only appends types, so a known type's position stays).
   */
  private writeTicketTypes(event: EventRecord) {
    const upsert = this.db.prepare(
      `INSERT INTO ticket_types (id, event_id, position, name, price_cents, currency, capacity) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET name = excluded.name, price_cents = excluded.price_cents, currency = excluded.currency, capacity = excluded.capacity`,
    );
    event.ticketTypes.forEach((t, i) => upsert.run(t.id, event.id, i, t.name, t.priceCents, t.currency, t.capacity));
  }

  async getEvent(id: string): Promise<EventRecord | null> {
    return this.loadEvent(id)?.event ?? null;
  }

  async listEvents(filter: EventFilter, page: { after?: EventCursor; limit: number }) {
    const where: string[] = [];
    const args: (string | number)[] = [];
    // "Not over by `from`" in SQL: hasEnded (contracts) holds from the end instant on, so it must end after `from`.
    if (filter.kind === 'upcoming') {
      where.push("status = 'published'", 'ends_at > ?');
      args.push(filter.from);
    } else {
      where.push('organizer_id = ?');
      args.push(filter.organizerId);
      if (filter.from) {
        where.push('ends_at > ?');
        args.push(filter.from);
      }
    }
    if (filter.to) {
      where.push('starts_at <= ?');
      args.push(filter.to);
    }
    if (filter.q) {
      // instr() matches the text literally: % and _ in a search are just characters, no LIKE escaping needed.
      where.push('instr(search_text, ?) > 0');
      args.push(filter.q.toLowerCase());
    }
    if (page.after) {
      where.push('(starts_at > ? OR (starts_at = ? AND id > ?))');
      args.push(page.after.startsAt, page.after.startsAt, page.after.id);
    }
    const rows = this.db.prepare(`SELECT * FROM events WHERE ${where.join(' AND ')} ORDER BY starts_at, id LIMIT ?`).all(...args, page.limit + 1) as EventRow[];
    const more = rows.length > page.limit;
    const items = this.hydrate(rows.slice(0, page.limit));
    const last = items[items.length - 1];
    return { items, next: more && last ? { startsAt: last.startsAt, id: last.id } : null };
  }

  async getEventForUpdate(id: string): Promise<{ event: EventRecord; version: number } | null> {
    return this.loadEvent(id);
  }

  async saveEvent({ event, changes, version, messages }: EventChange): Promise<boolean> {
    return this.write((enqueue) => {
      // The conditions of the plan: nobody changed the event since, and the limit covers who registered since.
      const saved = this.db
        .prepare(
          `UPDATE events SET title = ?, description = ?, venue = ?, timezone = ?, starts_at = ?, ends_at = ?, status = ?,
             registration_limit = ?, version = ?, search_text = ?, updated_at = ?
           WHERE id = ? AND version = ? AND (? IS NULL OR registration_count <= ?)`,
        )
        .run(
          event.title,
          event.description,
          event.venue,
          event.timezone,
          event.startsAt,
          event.endsAt,
          event.status,
          event.registrationLimit,
          version,
          searchText(event),
          event.updatedAt,
          event.id,
          version - 1,
          event.registrationLimit,
          event.registrationLimit,
        );
      if (saved.changes === 0) return false;
      if (changes.includes('ticketTypes')) this.writeTicketTypes(event);
      enqueue(messages);
      return true;
    });
  }

  async replaceBanner(id: string, banner: BannerRendition[], now: Date): Promise<{ event: EventRecord; previous: BannerRendition[] } | null> {
    return this.write(() => {
      const current = this.loadEvent(id);
      if (!current) return null;
      const event: EventRecord = { ...current.event, banner, updatedAt: now.toISOString() };
      this.db.prepare('UPDATE events SET banner = ?, updated_at = ? WHERE id = ?').run(bannerColumn(banner), event.updatedAt, id);
      return { event, previous: current.event.banner };
    });
  }

  async addRegistration(registration: Registration, messages: readonly Message[]): Promise<boolean> {
    // Inside the immediate transaction the write lock is held: the conditions read here cannot change before the
    // commit, even with other processes writing the same file.
    return this.write((enqueue) => {
      const open = this.db
        .prepare("SELECT 1 FROM events WHERE id = ? AND status = 'published' AND (registration_limit IS NULL OR registration_count < registration_limit)")
        .get(registration.eventId);
      if (!open) return false;
      // What it shows of its event is read from the event row whenever it is read (REGISTRATION_COLUMNS). The
      // event_title and event_starts_at columns are still filled, as at sign-up, and no longer read: a process of the
      // previous version that shares this file during a rolling upgrade reads and writes them, so they stay.
      const inserted = this.db
        .prepare(
          `INSERT INTO registrations (id, event_id, user_id, user_name, user_email, event_title, event_starts_at, created_at)
           SELECT ?, id, ?, ?, ?, title, starts_at, ? FROM events WHERE id = ?
           ON CONFLICT (event_id, user_id) DO NOTHING`,
        )
        .run(registration.id, registration.userId, registration.userName, registration.userEmail, registration.createdAt, registration.eventId);
      if (inserted.changes === 0) return false;
      this.db.prepare('UPDATE events SET registration_count = registration_count + 1 WHERE id = ?').run(registration.eventId);
      enqueue(messages);
      return true;
    });
  }

  async removeRegistration(registration: Registration, messages: readonly Message[]): Promise<boolean> {
    return this.write((enqueue) => {
      if (this.db.prepare('DELETE FROM registrations WHERE id = ?').run(registration.id).changes === 0) return false;
      this.db.prepare('UPDATE events SET registration_count = registration_count - 1 WHERE id = ?').run(registration.eventId);
      enqueue(messages);
      return true;
    });
  }

  async registrationOf(eventId: string, userId: string): Promise<Registration | null> {
    const row = this.db.prepare(`SELECT ${REGISTRATION_COLUMNS} ${FROM_REGISTRATIONS} WHERE r.event_id = ? AND r.user_id = ?`).get(eventId, userId) as RegistrationRow | undefined;
    return row ? toRegistration(row) : null;
  }

  async registrationsOfUser(userId: string, page: PageRequest): Promise<Page<Registration>> {
    const after = parseCursor(page.cursor, isUserCursor);
    const rows = this.db
      .prepare(`SELECT ${REGISTRATION_COLUMNS} ${FROM_REGISTRATIONS} WHERE r.user_id = ? ${after ? 'AND r.event_id < ?' : ''} ORDER BY r.event_id DESC LIMIT ?`)
      .all(...[userId, ...(after ? [after.e] : []), page.limit + 1]) as RegistrationRow[];
    return pageOf(rows, page.limit, (last) => ({ e: last.event_id }));
  }

  async registrationsOfEvent(eventId: string, page: PageRequest): Promise<Page<Registration>> {
    const after = parseCursor(page.cursor, isEventCursor);
    // rowid (registrations is a rowid table) breaks ties in insertion order: sign-ups in one millisecond
    // come back in the order they were made, not in the order of their random ids.
    const rows = this.db
      .prepare(
        `SELECT r.rowid AS seq, ${REGISTRATION_COLUMNS} ${FROM_REGISTRATIONS} WHERE r.event_id = ? ${after ? 'AND (r.created_at > ? OR (r.created_at = ? AND r.rowid > ?))' : ''}
         ORDER BY r.created_at, r.rowid LIMIT ?`,
      )
      .all(...[eventId, ...(after ? [after.c, after.c, after.r] : []), page.limit + 1]) as (RegistrationRow & { seq: number })[];
    return pageOf(rows, page.limit, (last) => ({ c: last.created_at, r: last.seq }));
  }

  async acknowledge(message: Message): Promise<'applied' | 'duplicate'> {
    return this.write(() => (this.outbox.recordReceived(message) ? 'applied' : 'duplicate'));
  }

  async isReady(): Promise<boolean> {
    return this.db.open && this.db.prepare('SELECT 1 AS ok').get() !== undefined;
  }

  async close(): Promise<void> {
    this.outbox.close();
    if (this.db.open) this.db.close();
  }
}

/** The first `limit` of `rows` (read with one extra to tell whether more follow) and the cursor after the last. */
function pageOf<R extends RegistrationRow>(rows: R[], limit: number, cursorOf: (last: R) => unknown): Page<Registration> {
  const shown = rows.slice(0, limit);
  const last = shown.at(-1);
  return { items: shown.map(toRegistration), next: rows.length > limit && last ? encodeCursor(cursorOf(last)) : null };
}
