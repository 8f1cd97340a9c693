import { randomBytes } from 'node:crypto';
import type { Message, Notification, User } from '@dems/contracts';
import { newId, nowIso } from '@dems/kit';
import { batchStep, MESSAGING_SCHEMA, migrate, openSqlite, SqliteMessaging, type SqliteDb, type StepOutcome } from '@dems/kit/sqlite';
import type { AudienceMember, Telling } from '../domain/audience.js';
import type { NotificationText } from '../domain/notification-texts.js';
import type {
  AppliedMessage,
  AudienceChange,
  CreatedNotification,
  EngagementStore,
  EventChange,
  EventCopy,
  MessageChange,
  MessageChangeOutcome,
  NewAnnouncement,
  NewUser,
  NotificationCursor,
  NotificationPage,
  RefreshRotation,
  RefreshTokenRecord,
} from './engagement-store.js';
import { UNREAD_COUNT_WINDOW } from './engagement-store.js';

const MIGRATIONS = [
  `${MESSAGING_SCHEMA}
  CREATE TABLE users (
    id TEXT PRIMARY KEY,
    email TEXT NOT NULL UNIQUE COLLATE NOCASE,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at TEXT NOT NULL
  );
  CREATE TABLE notifications (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    type TEXT NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    event_id TEXT,
    created_at TEXT NOT NULL,
    read_at TEXT
  );
  CREATE INDEX notifications_by_user ON notifications (user_id, created_at DESC, id DESC);
  CREATE INDEX notifications_unread ON notifications (user_id) WHERE read_at IS NULL;
  CREATE TABLE events (
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    organizer_id TEXT NOT NULL,
    status TEXT NOT NULL,
    version INTEGER NOT NULL
  );
  CREATE TABLE audience (
    event_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    registered INTEGER NOT NULL DEFAULT 0,
    tickets INTEGER NOT NULL DEFAULT 0,
    tickets_lost_to_cancellation INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (event_id, user_id)
  );
  CREATE TABLE announcements (
    id TEXT PRIMARY KEY,
    event_id TEXT NOT NULL,
    sender_id TEXT NOT NULL,
    message TEXT NOT NULL,
    recipients INTEGER NOT NULL,
    created_at TEXT NOT NULL
  );`,
  `CREATE TABLE refresh_tokens (
    hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    family_id TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at TEXT,
    revoked_at TEXT
  );
  CREATE INDEX refresh_tokens_by_family ON refresh_tokens (family_id);
  CREATE INDEX refresh_tokens_by_user ON refresh_tokens (user_id, expires_at);`,
  `CREATE TABLE settings (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
  );
  CREATE INDEX announcements_by_event ON announcements (event_id, created_at);`,
  // When the RSVP flag was last set, by its message's occurredAt: a late redelivery of an older one is ignored.
  `ALTER TABLE audience ADD COLUMN registration_changed_at TEXT NOT NULL DEFAULT '';`,
];

interface RefreshRow {
  hash: string;
  user_id: string;
  family_id: string;
  expires_at: string;
  used_at: string | null;
  revoked_at: string | null;
}

interface UserRow {
  id: string;
  email: string;
  name: string;
  role: User['role'];
  password_hash: string;
  created_at: string;
}

interface NotificationRow {
  id: string;
  user_id: string;
  type: Notification['type'];
  title: string;
  body: string;
  event_id: string | null;
  created_at: string;
  read_at: string | null;
}

interface EventRow {
  id: string;
  title: string;
  organizer_id: string;
  status: EventCopy['status'];
  version: number;
}

let lastIdMs = 0;
let idCounter = 0;

/**
 * Notification ids sort in creation order even within one millisecond (time, then a per-process counter),
 * so "created time, then id" lists a batch in the order it was written; the random tail keeps them unguessable.
 */
function notificationId(ms: number): string {
  idCounter = ms === lastIdMs ? idCounter + 1 : 0;
  lastIdMs = ms;
  return `ntf_${ms.toString(36).padStart(9, '0')}${idCounter.toString(36).padStart(4, '0')}${randomBytes(8).toString('base64url')}`;
}

const toUser = (r: UserRow): User => ({ id: r.id, email: r.email, name: r.name, role: r.role, createdAt: r.created_at });

const toNotification = (r: NotificationRow): Notification => ({
  id: r.id,
  type: r.type,
  title: r.title,
  body: r.body,
  eventId: r.event_id,
  createdAt: r.created_at,
  readAt: r.read_at,
});

const toEvent = (r: EventRow): EventCopy => ({ id: r.id, title: r.title, organizerId: r.organizer_id, status: r.status, version: r.version });

interface AudienceRow {
  user_id: string;
  registered: number;
  tickets: number;
  tickets_lost_to_cancellation: number;
}

const toMember = (r: AudienceRow): AudienceMember => ({
  userId: r.user_id,
  registered: r.registered === 1,
  holdsTickets: r.tickets > 0,
  lostTicketsToCancellation: r.tickets_lost_to_cancellation > 0,
});

export class SqliteEngagementStore implements EngagementStore {
  readonly outbox: SqliteMessaging;
  private readonly db: SqliteDb;
  /** Engagement enqueues no messages yet; whoever adds the first must call this after that commit (relay.kick). */
  private readonly onMessagesCommitted?: () => void;
  /** One change of a delivered batch in its own savepoint (its applyOnce transaction nests as a savepoint too). */
  private readonly applyStep: (c: MessageChange) => StepOutcome<AppliedMessage>;

  constructor(opts: { file: string; synchronous?: 'FULL' | 'NORMAL'; onMessagesCommitted?: () => void }) {
    this.db = openSqlite(opts.file, opts.synchronous ?? 'FULL');
    migrate(this.db, MIGRATIONS);
    this.outbox = new SqliteMessaging(this.db);
    this.onMessagesCommitted = opts.onMessagesCommitted;
    this.applyStep = batchStep(this.db, (c: MessageChange) => ('event' in c ? this.eventChange(c.message, c.event) : this.audienceChange(c.message, c.audience)));
  }

  async isReady(): Promise<boolean> {
    return this.db.prepare('SELECT 1 AS ok').get() !== undefined;
  }

  async createUser(user: NewUser): Promise<User | null> {
    const row: UserRow = {
      id: newId('usr_'),
      email: user.email.toLowerCase(),
      name: user.name,
      role: user.role,
      password_hash: user.passwordHash,
      created_at: nowIso(),
    };
    const inserted = this.db
      .prepare(
        `INSERT INTO users (id, email, name, role, password_hash, created_at)
         VALUES (@id, @email, @name, @role, @password_hash, @created_at) ON CONFLICT (email) DO NOTHING`,
      )
      .run(row);
    return inserted.changes === 1 ? toUser(row) : null;
  }

  async findCredentials(email: string): Promise<{ user: User; passwordHash: string } | null> {
    const row = this.db.prepare('SELECT * FROM users WHERE email = ?').get(email.toLowerCase()) as UserRow | undefined;
    return row ? { user: toUser(row), passwordHash: row.password_hash } : null;
  }

  async getUser(id: string): Promise<User | null> {
    const row = this.db.prepare('SELECT * FROM users WHERE id = ?').get(id) as UserRow | undefined;
    return row ? toUser(row) : null;
  }

  async saveRefreshToken(token: RefreshTokenRecord): Promise<void> {
    this.db
      .transaction(() => {
        // Expired tokens of this user are of no further use; dropping them here keeps the table small.
        this.db.prepare('DELETE FROM refresh_tokens WHERE user_id = ? AND expires_at < ?').run(token.userId, token.createdAt);
        this.insertRefresh(token);
      })
      .immediate();
  }

  async rotateRefreshToken(hash: string, next: Omit<RefreshTokenRecord, 'userId' | 'familyId'>, now: string): Promise<RefreshRotation> {
    return this.db
      .transaction((): RefreshRotation => {
        const row = this.db.prepare('SELECT * FROM refresh_tokens WHERE hash = ?').get(hash) as RefreshRow | undefined;
        if (!row || row.revoked_at !== null || row.expires_at <= now) return { outcome: 'invalid' };
        if (row.used_at !== null) {
          this.db.prepare('UPDATE refresh_tokens SET revoked_at = ? WHERE family_id = ? AND revoked_at IS NULL').run(now, row.family_id);
          return { outcome: 'reused', userId: row.user_id, familyId: row.family_id };
        }
        this.db.prepare('UPDATE refresh_tokens SET used_at = ? WHERE hash = ?').run(now, hash);
        this.insertRefresh({ ...next, userId: row.user_id, familyId: row.family_id });
        return { outcome: 'rotated', userId: row.user_id, familyId: row.family_id };
      })
      .immediate();
  }

  async revokeRefreshFamily(hash: string, now: string): Promise<{ userId: string; familyId: string } | null> {
    return this.db
      .transaction(() => {
        const row = this.db.prepare('SELECT user_id, family_id FROM refresh_tokens WHERE hash = ?').get(hash) as { user_id: string; family_id: string } | undefined;
        if (!row) return null;
        this.db.prepare('UPDATE refresh_tokens SET revoked_at = ? WHERE family_id = ? AND revoked_at IS NULL').run(now, row.family_id);
        return { userId: row.user_id, familyId: row.family_id };
      })
      .immediate();
  }

  async isSessionActive(userId: string, familyId: string): Promise<boolean> {
    // A family lives in its one unspent token: sign-out, reuse and sign-out-everywhere all revoke that one.
    return (
      this.db.prepare('SELECT 1 FROM refresh_tokens WHERE family_id = ? AND user_id = ? AND used_at IS NULL AND revoked_at IS NULL LIMIT 1').get(familyId, userId) !== undefined
    );
  }

  async revokeUserRefreshTokens(userId: string, now: string): Promise<number> {
    return this.db.prepare('UPDATE refresh_tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL AND used_at IS NULL AND expires_at > ?').run(now, userId, now)
      .changes;
  }

  private insertRefresh(t: RefreshTokenRecord): void {
    this.db
      .prepare('INSERT INTO refresh_tokens (hash, user_id, family_id, created_at, expires_at) VALUES (?, ?, ?, ?, ?)')
      .run(t.hash, t.userId, t.familyId, t.createdAt, t.expiresAt);
  }

  async listNotifications(userId: string, page: { after?: NotificationCursor; limit: number }): Promise<NotificationPage> {
    const rows = (
      page.after
        ? this.db
            .prepare(
              `SELECT * FROM notifications WHERE user_id = ? AND (created_at < ? OR (created_at = ? AND id < ?))
               ORDER BY created_at DESC, id DESC LIMIT ?`,
            )
            .all(userId, page.after.createdAt, page.after.createdAt, page.after.id, page.limit + 1)
        : this.db.prepare('SELECT * FROM notifications WHERE user_id = ? ORDER BY created_at DESC, id DESC LIMIT ?').all(userId, page.limit + 1)
    ) as NotificationRow[];
    const items = rows.slice(0, page.limit).map(toNotification);
    const last = items[items.length - 1];
    const unread = this.db
      .prepare(
        `SELECT COUNT(*) AS n FROM (SELECT read_at FROM notifications WHERE user_id = ? ORDER BY created_at DESC, id DESC LIMIT ?)
         WHERE read_at IS NULL`,
      )
      .get(userId, UNREAD_COUNT_WINDOW) as { n: number };
    return {
      items,
      next: rows.length > page.limit && last ? { createdAt: last.createdAt, id: last.id } : null,
      unreadCount: unread.n,
    };
  }

  async markNotificationRead(userId: string, notificationId: string): Promise<Notification | null> {
    return this.db
      .transaction(() => {
        this.db.prepare('UPDATE notifications SET read_at = ? WHERE id = ? AND user_id = ? AND read_at IS NULL').run(nowIso(), notificationId, userId);
        const row = this.db.prepare('SELECT * FROM notifications WHERE id = ? AND user_id = ?').get(notificationId, userId) as NotificationRow | undefined;
        return row ? toNotification(row) : null;
      })
      .immediate();
  }

  async markAllNotificationsRead(userId: string): Promise<number> {
    return this.db.prepare('UPDATE notifications SET read_at = ? WHERE user_id = ? AND read_at IS NULL').run(nowIso(), userId).changes;
  }

  async getEvent(eventId: string): Promise<EventCopy | null> {
    const row = this.db.prepare('SELECT * FROM events WHERE id = ?').get(eventId) as EventRow | undefined;
    return row ? toEvent(row) : null;
  }

  async createAnnouncement(input: NewAnnouncement) {
    return this.db
      .transaction(() => {
        if (!this.db.prepare('SELECT 1 FROM events WHERE id = ?').get(input.eventId)) return null;
        const createdAt = nowIso();
        if (input.admit) {
          const now = Date.parse(createdAt);
          const { total } = this.db.prepare('SELECT COUNT(*) AS total FROM announcements WHERE event_id = ?').get(input.eventId) as { total: number };
          const recent = this.db
            .prepare('SELECT created_at FROM announcements WHERE event_id = ? AND created_at > ?')
            .all(input.eventId, new Date(now - 3600_000).toISOString()) as { created_at: string }[];
          input.admit({ total, recent: recent.map((r) => r.created_at) }, now);
        }
        const created = this.tell(input.eventId, input.tell, createdAt);
        const announcement = { id: newId('ann_'), eventId: input.eventId, message: input.message, recipients: created.length, createdAt };
        this.db
          .prepare('INSERT INTO announcements (id, event_id, sender_id, message, recipients, created_at) VALUES (?, ?, ?, ?, ?, ?)')
          .run(announcement.id, announcement.eventId, input.senderId, announcement.message, announcement.recipients, createdAt);
        return { announcement, created };
      })
      .immediate();
  }

  async applyEventChange(message: Message, change: EventChange): Promise<AppliedMessage> {
    return this.eventChange(message, change);
  }

  async applyAudienceChange(message: Message, change: AudienceChange): Promise<AppliedMessage> {
    return this.audienceChange(message, change);
  }

  async applyMessages(changes: MessageChange[]): Promise<MessageChangeOutcome[]> {
    return this.db
      .transaction(() =>
        changes.map((c) => {
          const outcome = this.applyStep(c);
          return outcome.ok ? outcome.value : { error: outcome.error };
        }),
      )
      .immediate();
  }

  private eventChange(message: Message, change: EventChange): AppliedMessage {
    return this.applyOnce(message, () => {
      const { event } = change;
      const before = this.db.prepare('SELECT * FROM events WHERE id = ?').get(event.id) as EventRow | undefined;
      const plan = change.decide(before ? toEvent(before) : null);
      if (plan.keepCopy) {
        this.db
          .prepare(
            `INSERT INTO events (id, title, organizer_id, status, version) VALUES (@id, @title, @organizerId, @status, @version)
             ON CONFLICT (id) DO UPDATE SET title = excluded.title, organizer_id = excluded.organizer_id,
               status = excluded.status, version = excluded.version`,
          )
          .run(event);
      }
      return plan.tell ? this.tell(event.id, plan.tell, nowIso()) : [];
    });
  }

  private audienceChange(message: Message, change: AudienceChange): AppliedMessage {
    return this.applyOnce(message, () => {
      this.db.prepare('INSERT INTO audience (event_id, user_id) VALUES (?, ?) ON CONFLICT DO NOTHING').run(change.eventId, change.userId);
      if (change.registered !== undefined) {
        this.db
          .prepare(
            `UPDATE audience SET registered = ?, registration_changed_at = ?
             WHERE event_id = ? AND user_id = ? AND registration_changed_at <= ?`,
          )
          .run(change.registered ? 1 : 0, message.occurredAt, change.eventId, change.userId, message.occurredAt);
      }
      const gained = change.ticketsHeld?.length ?? 0;
      const lost = change.ticketsGone?.length ?? 0;
      if (gained || lost) {
        // A plain sum (the inbox makes each message count once): right whatever order orders and cancellations arrive in.
        this.db
          .prepare(
            `UPDATE audience SET tickets = tickets + @delta,
               tickets_lost_to_cancellation = tickets_lost_to_cancellation + @lostToCancellation
             WHERE event_id = @eventId AND user_id = @userId`,
          )
          .run({
            delta: gained - lost,
            lostToCancellation: change.lostToEventCancellation ? lost : 0,
            eventId: change.eventId,
            userId: change.userId,
          });
      }
      return change.text ? this.notify([change.userId], change.text, nowIso()) : [];
    });
  }

  async recordedSigningKey(): Promise<{ kid: string; createdAt: string } | null> {
    const row = this.db.prepare("SELECT value FROM settings WHERE name = 'signing-key'").get() as { value: string } | undefined;
    return row ? (JSON.parse(row.value) as { kid: string; createdAt: string }) : null;
  }

  async recordSigningKey(key: { kid: string; createdAt: string }): Promise<void> {
    this.db.prepare("INSERT INTO settings (name, value) VALUES ('signing-key', ?) ON CONFLICT (name) DO NOTHING").run(JSON.stringify({ kid: key.kid, createdAt: key.createdAt }));
  }

  async close(): Promise<void> {
    this.outbox.close();
    if (this.db.open) this.db.close();
  }

  /** The inbox record and the effect commit together; a message seen before changes nothing. */
  private applyOnce(message: Message, effect: () => CreatedNotification[]): AppliedMessage {
    return this.db
      .transaction((): AppliedMessage => {
        if (!this.outbox.recordReceived(message)) return { result: 'duplicate', created: [] };
        return { result: 'applied', created: effect() };
      })
      .immediate();
  }

  /** Tells the members of the event's audience that `tell.hears` picks; call inside a transaction. */
  private tell(eventId: string, tell: Telling, createdAt: string): CreatedNotification[] {
    const members = (this.db.prepare('SELECT * FROM audience WHERE event_id = ?').all(eventId) as AudienceRow[]).map(toMember);
    return this.notify(
      members.filter(tell.hears).map((m) => m.userId),
      tell.text,
      createdAt,
    );
  }

  /** Inserts one notification per user; call inside a transaction. */
  private notify(userIds: string[], text: NotificationText, createdAt: string): CreatedNotification[] {
    const insert = this.db.prepare('INSERT INTO notifications (id, user_id, type, title, body, event_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)');
    return userIds.map((userId) => {
      const notification: Notification = {
        id: notificationId(Date.parse(createdAt)),
        type: text.type,
        title: text.title,
        body: text.body,
        eventId: text.eventId,
        createdAt,
        readAt: null,
      };
      insert.run(notification.id, userId, notification.type, notification.title, notification.body, notification.eventId, createdAt);
      return { userId, notification };
    });
  }
}
