import { createHash } from 'node:crypto';
import { PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Message, Notification, User } from '@dems/contracts';
import { newId, nowIso } from '@dems/kit';
import {
  attrNames,
  ConditionFailed,
  DynamoStoreBase,
  getItem,
  queryAll,
  transactWrite,
  withRetry,
  type DynamoSettings,
  type Item,
  type TableSpec,
  type TransactItem,
} from '@dems/kit/dynamodb';
import { checkAnnouncementLimits, withinLastHour, type AnnouncementLimits } from '../domain/announcement-limits.js';
import type { NotificationText } from '../domain/notification-texts.js';
import type {
  AppliedMessage,
  AudienceChange,
  CreatedNotification,
  EngagementStore,
  EventChange,
  EventCopy,
  NewUser,
  NotificationCursor,
  NotificationPage,
  RefreshRotation,
  RefreshTokenRecord,
} from './engagement-store.js';

/** Table shapes (docs/dynamodb.md). `Notifications` keeps the seed's name and keys (UserID + Timestamp, a number). */
export function engagementTables(prefix: string) {
  return {
    users: { name: `${prefix}Users`, pk: { name: 'UserID', type: 'S' } },
    /** One item per (lower-cased) email: the unique constraint a Put condition can enforce. */
    userEmails: { name: `${prefix}UserEmails`, pk: { name: 'Email', type: 'S' } },
    notifications: {
      name: `${prefix}Notifications`,
      pk: { name: 'UserID', type: 'S' },
      sk: { name: 'Timestamp', type: 'N' },
      // Only unread notifications carry UnreadUserID: the unread count and "mark all read" touch just those.
      indexes: [{ name: 'Unread', pk: { name: 'UnreadUserID', type: 'S' }, sk: { name: 'Timestamp', type: 'N' }, projection: 'KEYS_ONLY' }],
    },
    events: { name: `${prefix}EngagementEvents`, pk: { name: 'EventID', type: 'S' } },
    audiences: { name: `${prefix}Audiences`, pk: { name: 'EventID', type: 'S' }, sk: { name: 'UserID', type: 'S' } },
    /** Announcements, plus `setting#<name>` items for the service's own records (the signing key's creation). */
    announcements: { name: `${prefix}Announcements`, pk: { name: 'AnnouncementID', type: 'S' } },
    /**
     * Refresh tokens by SHA-256 (`Hash`), and one `family#<id>` item per sign-in family that a revocation marks:
     * checking that item in the rotation's transaction makes reuse detection immediate, with no index lag.
     */
    refreshTokens: {
      name: `${prefix}RefreshTokens`,
      pk: { name: 'Hash', type: 'S' },
      indexes: [{ name: 'ByUser', pk: { name: 'UserID', type: 'S' }, sk: { name: 'ExpiresAt', type: 'S' } }],
    },
  } satisfies Record<string, TableSpec>;
}

/**
 * The Notifications key of the notification that `sourceId` (a message or announcement id) makes for `userId`:
 * milliseconds × 1000 plus a sequence taken from a hash of the pair (a number, as the seed's table has it, and
 * still a time in ms when divided by 1000). The same pair always gets the same key, so writing a notification
 * again — a redelivery, a re-plan, a retry after a crash between chunks — finds it instead of adding a second
 * one. Two different notifications of one user can still land on the same key (same millisecond, same
 * sequence): the later one then takes the next free key, `probe` steps on, walking the same path on every retry.
 * The id encodes the key (so an id alone finds its item) and ends in the pair's hash (so the item says whose it is).
 */
export function notificationKey(ms: number, sourceId: string, userId: string, probe = 0): { timestamp: number; id: string } {
  const digest = createHash('sha256').update(`${sourceId}\n${userId}`).digest();
  const timestamp = ms * 1000 + (digest.readUInt16BE(0) % 1000) + probe;
  return { timestamp, id: `ntf_${timestamp.toString(36).padStart(11, '0')}${digest.subarray(2, 10).toString('base64url')}` };
}

/** The Timestamp key an id was made from, or null for a string that is not one of our ids. */
export function timestampOf(id: string): number | null {
  const m = /^ntf_([0-9a-z]{11})[A-Za-z0-9_-]{11}$/.exec(id);
  if (!m) return null;
  const n = parseInt(m[1]!, 36);
  return Number.isSafeInteger(n) ? n : null;
}

const toUser = (i: Item): User => ({ id: String(i.UserID), email: String(i.Email), name: String(i.Name), role: i.Role as User['role'], createdAt: String(i.CreatedAt) });

const toNotification = (i: Item): Notification => ({
  id: String(i.NotificationID),
  type: i.Type as Notification['type'],
  title: String(i.Title),
  body: String(i.Body),
  eventId: typeof i.EventID === 'string' ? i.EventID : null,
  createdAt: String(i.CreatedAt),
  readAt: typeof i.ReadAt === 'string' ? i.ReadAt : null,
});

const toEvent = (i: Item): EventCopy => ({
  id: String(i.EventID),
  title: String(i.Title),
  organizerId: String(i.OrganizerID),
  status: i.Status as EventCopy['status'],
  version: Number(i.Version),
});

/** A notification to write: what it says, for whom, and the source and time its key is made from. */
interface PlannedNotification {
  userId: string;
  sourceId: string;
  keyMs: number;
  createdAt: string;
  text: NotificationText;
}

/** The writes of one effect: state items (conditioned on what was read) and the notifications it creates. */
interface Effect {
  state: TransactItem[];
  notifications: PlannedNotification[];
}

const MAX_REPLANS = 25;
/** How far a notification walks past keys taken by the user's other notifications; a few steps is already rare. */
const MAX_KEY_PROBES = 1000;
/** Notification Puts in flight at once for a large audience. */
const FAN_OUT_CONCURRENCY = 25;

export class DynamoEngagementStore extends DynamoStoreBase implements EngagementStore {
  private readonly t: ReturnType<typeof engagementTables>;
  /** Engagement enqueues no messages yet; whoever adds the first must call this after that commit (relay.kick). */
  readonly onMessagesCommitted?: () => void;

  constructor(opts: { settings: DynamoSettings; onMessagesCommitted?: () => void }) {
    super(opts.settings, 'engagement', Object.values(engagementTables(opts.settings.tablePrefix)));
    this.t = engagementTables(opts.settings.tablePrefix);
    this.onMessagesCommitted = opts.onMessagesCommitted;
  }

  ping(): Promise<boolean> {
    return this.answers(this.t.users, { UserID: '_ping' });
  }

  async createUser(user: NewUser): Promise<User | null> {
    const created: User = { id: newId('usr_'), email: user.email.toLowerCase(), name: user.name, role: user.role, createdAt: nowIso() };
    try {
      await transactWrite(this.doc, [
        { Put: { TableName: this.t.userEmails.name, Item: { Email: created.email, UserID: created.id }, ConditionExpression: 'attribute_not_exists(Email)' } },
        {
          Put: {
            TableName: this.t.users.name,
            Item: { UserID: created.id, Email: created.email, Name: created.name, Role: created.role, PasswordHash: user.passwordHash, CreatedAt: created.createdAt },
            ConditionExpression: 'attribute_not_exists(UserID)',
          },
        },
      ]);
      return created;
    } catch (err) {
      if (err instanceof ConditionFailed) return null;
      throw err;
    }
  }

  async findCredentials(email: string): Promise<{ user: User; passwordHash: string } | null> {
    const claim = await getItem(this.doc, this.t.userEmails.name, { Email: email.toLowerCase() });
    if (!claim) return null;
    const item = await getItem(this.doc, this.t.users.name, { UserID: claim.UserID });
    return item ? { user: toUser(item), passwordHash: String(item.PasswordHash) } : null;
  }

  async getUser(id: string): Promise<User | null> {
    const item = await getItem(this.doc, this.t.users.name, { UserID: id });
    return item ? toUser(item) : null;
  }

  async saveRefreshToken(token: RefreshTokenRecord): Promise<void> {
    await transactWrite(this.doc, [
      {
        Put: {
          TableName: this.t.refreshTokens.name,
          Item: { Hash: token.hash, UserID: token.userId, FamilyID: token.familyId, CreatedAt: token.createdAt, ExpiresAt: token.expiresAt },
          ConditionExpression: 'attribute_not_exists(#Hash)',
          ExpressionAttributeNames: attrNames('#Hash'),
        },
      },
    ]);
  }

  private familyKey(familyId: string) {
    return { Hash: `family#${familyId}` };
  }

  private async revokeFamily(familyId: string, now: string): Promise<void> {
    await withRetry(() =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.t.refreshTokens.name,
          Key: this.familyKey(familyId),
          UpdateExpression: 'SET #RevokedAt = if_not_exists(#RevokedAt, :now)',
          ExpressionAttributeNames: attrNames('#RevokedAt'),
          ExpressionAttributeValues: { ':now': now },
        }),
      ),
    );
  }

  async rotateRefreshToken(hash: string, next: Omit<RefreshTokenRecord, 'userId' | 'familyId'>, now: string): Promise<RefreshRotation> {
    for (let attempt = 0; ; attempt++) {
      const row = await getItem(this.doc, this.t.refreshTokens.name, { Hash: hash });
      if (!row || typeof row.FamilyID !== 'string' || typeof row.RevokedAt === 'string' || String(row.ExpiresAt) <= now) return { outcome: 'invalid' };
      const family = await getItem(this.doc, this.t.refreshTokens.name, this.familyKey(row.FamilyID));
      if (typeof family?.RevokedAt === 'string') return { outcome: 'invalid' };
      const userId = String(row.UserID);
      if (typeof row.UsedAt === 'string') {
        await this.revokeFamily(row.FamilyID, now);
        return { outcome: 'reused', userId, familyId: row.FamilyID };
      }
      try {
        await transactWrite(this.doc, [
          {
            Update: {
              TableName: this.t.refreshTokens.name,
              Key: { Hash: hash },
              UpdateExpression: 'SET #UsedAt = :now',
              ConditionExpression: 'attribute_not_exists(#UsedAt) AND attribute_not_exists(#RevokedAt)',
              ExpressionAttributeNames: attrNames('#UsedAt #RevokedAt'),
              ExpressionAttributeValues: { ':now': now },
            },
          },
          {
            ConditionCheck: {
              TableName: this.t.refreshTokens.name,
              Key: this.familyKey(row.FamilyID),
              ConditionExpression: 'attribute_not_exists(#RevokedAt)',
              ExpressionAttributeNames: attrNames('#RevokedAt'),
            },
          },
          {
            Put: {
              TableName: this.t.refreshTokens.name,
              Item: { Hash: next.hash, UserID: userId, FamilyID: row.FamilyID, CreatedAt: next.createdAt, ExpiresAt: next.expiresAt },
              ConditionExpression: 'attribute_not_exists(#Hash)',
              ExpressionAttributeNames: attrNames('#Hash'),
            },
          },
        ]);
        return { outcome: 'rotated', userId, familyId: row.FamilyID };
      } catch (err) {
        // Spent or revoked by a concurrent request: the next read tells which.
        if (!(err instanceof ConditionFailed) || attempt >= MAX_REPLANS) throw err;
      }
    }
  }

  async revokeRefreshFamily(hash: string, now: string): Promise<{ userId: string; familyId: string } | null> {
    const row = await getItem(this.doc, this.t.refreshTokens.name, { Hash: hash });
    if (!row || typeof row.FamilyID !== 'string') return null;
    await this.revokeFamily(row.FamilyID, now);
    return { userId: String(row.UserID), familyId: row.FamilyID };
  }

  async isSessionActive(_userId: string, familyId: string): Promise<boolean> {
    // Every revocation marks the family item (read strongly consistent); the ByUser index may lag a fresh sign-in.
    const family = await getItem(this.doc, this.t.refreshTokens.name, this.familyKey(familyId));
    return typeof family?.RevokedAt !== 'string';
  }

  async revokeUserRefreshTokens(userId: string, now: string): Promise<number> {
    const live = await queryAll(this.doc, {
      TableName: this.t.refreshTokens.name,
      IndexName: 'ByUser',
      KeyConditionExpression: 'UserID = :u AND ExpiresAt > :now',
      FilterExpression: 'attribute_not_exists(RevokedAt) AND attribute_not_exists(UsedAt)',
      ExpressionAttributeValues: { ':u': userId, ':now': now },
    });
    let revoked = 0;
    // The family items too: they are what isSessionActive and rotation read with strong consistency.
    for (const familyId of new Set(live.map((t) => String(t.FamilyID)))) await this.revokeFamily(familyId, now);
    for (const t of live) {
      try {
        await withRetry(() =>
          this.doc.send(
            new UpdateCommand({
              TableName: this.t.refreshTokens.name,
              Key: { Hash: t.Hash },
              UpdateExpression: 'SET #RevokedAt = :now',
              ConditionExpression: 'attribute_not_exists(#RevokedAt) AND attribute_not_exists(#UsedAt)',
              ExpressionAttributeNames: attrNames('#RevokedAt #UsedAt'),
              ExpressionAttributeValues: { ':now': now },
            }),
          ),
        );
        revoked++;
      } catch (err) {
        if ((err as Error).name !== 'ConditionalCheckFailedException') throw err;
      }
    }
    return revoked;
  }

  async recordedSigningKey(): Promise<{ kid: string; createdAt: string } | null> {
    const item = await getItem(this.doc, this.t.announcements.name, { AnnouncementID: 'setting#signing-key' });
    return item ? { kid: String(item.Kid), createdAt: String(item.CreatedAt) } : null;
  }

  async recordSigningKey(key: { kid: string; createdAt: string }): Promise<void> {
    try {
      await withRetry(() =>
        this.doc.send(
          new PutCommand({
            TableName: this.t.announcements.name,
            Item: { AnnouncementID: 'setting#signing-key', Kid: key.kid, CreatedAt: key.createdAt },
            ConditionExpression: 'attribute_not_exists(AnnouncementID)',
          }),
        ),
      );
    } catch (err) {
      if ((err as Error).name !== 'ConditionalCheckFailedException') throw err;
    }
  }

  async listNotifications(userId: string, page: { after?: NotificationCursor; limit: number }): Promise<NotificationPage> {
    const after = page.after ? timestampOf(page.after.id) : null;
    const res = await withRetry(() =>
      this.doc.send(
        new QueryCommand({
          TableName: this.t.notifications.name,
          KeyConditionExpression: 'UserID = :u',
          ExpressionAttributeValues: { ':u': userId },
          ScanIndexForward: false,
          ConsistentRead: true,
          Limit: page.limit + 1,
          // The cursor's id carries the Timestamp key: together with the user it is DynamoDB's ExclusiveStartKey.
          ...(after !== null ? { ExclusiveStartKey: { UserID: userId, Timestamp: after } } : {}),
        }),
      ),
    );
    const rows = (res.Items ?? []) as Item[];
    const items = rows.slice(0, page.limit).map(toNotification);
    const last = items[items.length - 1];
    return {
      items,
      next: rows.length > page.limit && last ? { createdAt: last.createdAt, id: last.id } : null,
      unreadCount: await this.unreadCount(userId),
    };
  }

  private async unreadCount(userId: string): Promise<number> {
    let total = 0;
    let start: Item | undefined;
    do {
      const res = await withRetry(() =>
        this.doc.send(
          new QueryCommand({
            TableName: this.t.notifications.name,
            IndexName: 'Unread',
            KeyConditionExpression: 'UnreadUserID = :u',
            ExpressionAttributeValues: { ':u': userId },
            Select: 'COUNT',
            ExclusiveStartKey: start,
          }),
        ),
      );
      total += res.Count ?? 0;
      start = res.LastEvaluatedKey as Item | undefined;
    } while (start);
    return total;
  }

  /** Marks one notification read if it is unread; true when this call changed it. */
  private async markRead(userId: string, timestamp: number, at: string): Promise<boolean> {
    try {
      await withRetry(() =>
        this.doc.send(
          new UpdateCommand({
            TableName: this.t.notifications.name,
            Key: { UserID: userId, Timestamp: timestamp },
            UpdateExpression: 'SET #ReadAt = :at REMOVE #UnreadUserID',
            ConditionExpression: 'attribute_exists(#UserID) AND attribute_not_exists(#ReadAt)',
            ExpressionAttributeNames: attrNames('#ReadAt #UnreadUserID #UserID'),
            ExpressionAttributeValues: { ':at': at },
          }),
        ),
      );
      return true;
    } catch (err) {
      if ((err as Error).name === 'ConditionalCheckFailedException') return false;
      throw err;
    }
  }

  async markNotificationRead(userId: string, notificationId: string): Promise<Notification | null> {
    const timestamp = timestampOf(notificationId);
    if (timestamp === null) return null;
    const key = { UserID: userId, Timestamp: timestamp };
    const item = await getItem(this.doc, this.t.notifications.name, key);
    if (!item || item.NotificationID !== notificationId) return null;
    if (typeof item.ReadAt === 'string') return toNotification(item);
    await this.markRead(userId, timestamp, nowIso());
    const after = await getItem(this.doc, this.t.notifications.name, key);
    return after ? toNotification(after) : null;
  }

  async markAllNotificationsRead(userId: string): Promise<number> {
    const unread = await queryAll(this.doc, {
      TableName: this.t.notifications.name,
      IndexName: 'Unread',
      KeyConditionExpression: 'UnreadUserID = :u',
      ExpressionAttributeValues: { ':u': userId },
    });
    const at = nowIso();
    let changed = 0;
    for (let i = 0; i < unread.length; i += 25) {
      const results = await Promise.all(unread.slice(i, i + 25).map((k) => this.markRead(userId, Number(k.Timestamp), at)));
      changed += results.filter(Boolean).length;
    }
    return changed;
  }

  async getEvent(eventId: string): Promise<EventCopy | null> {
    const item = await getItem(this.doc, this.t.events.name, { EventID: eventId });
    return item ? toEvent(item) : null;
  }

  /** People registered or holding tickets (plus, for a cancellation, those whose tickets it took). */
  private async audience(eventId: string, forCancellation: boolean): Promise<string[]> {
    const rows = await queryAll(this.doc, {
      TableName: this.t.audiences.name,
      KeyConditionExpression: 'EventID = :e',
      ExpressionAttributeValues: { ':e': eventId },
      ConsistentRead: true,
    });
    return rows
      .filter((r) => r.Registered === true || Number(r.Tickets) > 0 || (forCancellation && Number(r.TicketsLost) > 0))
      .map((r) => String(r.UserID));
  }

  /**
   * One notification per user, keyed by `sourceId` (a message or announcement id) so any retry finds what it
   * wrote. Its time is the source's (a message's occurredAt), not the attempt's, so a retry plans the same item.
   */
  private notify(userIds: string[], text: NotificationText, sourceId: string, keyMs: number): PlannedNotification[] {
    const createdAt = new Date(keyMs).toISOString();
    return userIds.map((userId) => ({ userId, sourceId, keyMs, createdAt, text }));
  }

  private notificationItem(p: PlannedNotification, probe: number): { item: Item; created: CreatedNotification } {
    const { timestamp, id } = notificationKey(p.keyMs, p.sourceId, p.userId, probe);
    const { text, createdAt, userId } = p;
    const notification: Notification = { id, type: text.type, title: text.title, body: text.body, eventId: text.eventId, createdAt, readAt: null };
    const item = {
      UserID: userId,
      Timestamp: timestamp,
      NotificationID: id,
      Type: text.type,
      Title: text.title,
      Body: text.body,
      EventID: text.eventId ?? undefined,
      CreatedAt: createdAt,
      UnreadUserID: userId,
    };
    return { item, created: { userId, notification } };
  }

  private notificationPut(item: Item): NonNullable<TransactItem['Put']> {
    return { TableName: this.t.notifications.name, Item: item, ConditionExpression: 'attribute_not_exists(#Timestamp)', ExpressionAttributeNames: attrNames('#Timestamp') };
  }

  /**
   * Writes one notification unless it exists already: its key is taken either by itself (written by an earlier
   * attempt: nothing to do, and what is stored is what was created) or by another notification of the user
   * (try the next key). Every attempt walks the same keys, so it finds its own item wherever it landed.
   */
  private async writeNotification(p: PlannedNotification): Promise<CreatedNotification> {
    for (let probe = 0; probe < MAX_KEY_PROBES; probe++) {
      const { item, created } = this.notificationItem(p, probe);
      try {
        await withRetry(() => this.doc.send(new PutCommand(this.notificationPut(item))));
        return created;
      } catch (err) {
        if ((err as Error).name !== 'ConditionalCheckFailedException') throw err;
      }
      const existing = await getItem(this.doc, this.t.notifications.name, { UserID: p.userId, Timestamp: item.Timestamp });
      if (existing?.NotificationID === created.notification.id) return { userId: p.userId, notification: toNotification(existing) };
    }
    throw new Error(`No free Notifications key for user ${p.userId} after ${MAX_KEY_PROBES} tries.`);
  }

  /**
   * Commits an effect and returns the notifications it created. When it fits one transaction (≤ 100 items with
   * the inbox record) it is exactly one. A larger fan-out — or one whose notification keys are taken — writes
   * each notification on its own first, idempotently (see writeNotification), and the state (and inbox record)
   * last: a crash in between leads to a redelivery that finds the notifications already there, never to a
   * second copy or a loss.
   */
  private async commitEffect(effect: Effect, first: TransactItem[] = []): Promise<CreatedNotification[]> {
    const head = [...first, ...effect.state];
    if (head.length + effect.notifications.length <= 100) {
      const planned = effect.notifications.map((p) => this.notificationItem(p, 0));
      try {
        await transactWrite(this.doc, [...head, ...planned.map(({ item }) => ({ Put: this.notificationPut(item) }))]);
        return planned.map((p) => p.created);
      } catch (err) {
        // The state or inbox record refused: the caller re-plans or sees a duplicate. Only taken notification keys fall through.
        if (!(err instanceof ConditionFailed) || head.some((_, i) => err.failedAt(i))) throw err;
      }
    }
    const created: CreatedNotification[] = [];
    for (let i = 0; i < effect.notifications.length; i += FAN_OUT_CONCURRENCY) {
      created.push(...(await Promise.all(effect.notifications.slice(i, i + FAN_OUT_CONCURRENCY).map((p) => this.writeNotification(p)))));
    }
    await transactWrite(this.doc, head);
    return created;
  }

  /**
   * Counts one announcement of the event against `limits` on its `event#<id>` item, conditioned on the count it
   * read. Taken before any notification is written, so a refused or lost race never leaves notifications behind;
   * a crash after it only counts an announcement that was not sent.
   */
  private async reserveAnnouncement(eventId: string, limits: AnnouncementLimits, createdAt: string): Promise<void> {
    const key = { AnnouncementID: `event#${eventId}` };
    for (let attempt = 0; ; attempt++) {
      const counter = await getItem(this.doc, this.t.announcements.name, key);
      const total = Number(counter?.Total ?? 0);
      const recent = withinLastHour(Array.isArray(counter?.Recent) ? counter.Recent.map(String) : [], Date.parse(createdAt));
      checkAnnouncementLimits({ total, recent }, limits, Date.parse(createdAt));
      try {
        await withRetry(() =>
          this.doc.send(
            new PutCommand({
              TableName: this.t.announcements.name,
              Item: { ...key, Total: total + 1, Recent: [...recent, createdAt] },
              ConditionExpression: counter ? '#Total = :total' : 'attribute_not_exists(AnnouncementID)',
              ...(counter ? { ExpressionAttributeNames: attrNames('#Total'), ExpressionAttributeValues: { ':total': total } } : {}),
            }),
          ),
        );
        return;
      } catch (err) {
        if ((err as Error).name !== 'ConditionalCheckFailedException' || attempt >= MAX_REPLANS) throw err;
      }
    }
  }

  async createAnnouncement(input: { eventId: string; senderId: string; message: string; text: NotificationText; limits?: AnnouncementLimits }) {
    // Fixed before any attempt, so a re-plan's notification keys are the ones the last attempt may have written.
    const id = newId('ann_');
    const createdAt = nowIso();
    if (!(await this.getEvent(input.eventId))) return null;
    if (input.limits) await this.reserveAnnouncement(input.eventId, input.limits, createdAt);
    for (let attempt = 0; ; attempt++) {
      const notifications = this.notify(await this.audience(input.eventId, false), input.text, id, Date.parse(createdAt));
      const announcement = { id, eventId: input.eventId, message: input.message, recipients: notifications.length, createdAt };
      const state: TransactItem[] = [
        {
          Put: {
            TableName: this.t.announcements.name,
            Item: { AnnouncementID: id, EventID: input.eventId, SenderID: input.senderId, Message: input.message, Recipients: notifications.length, CreatedAt: createdAt },
          },
        },
      ];
      try {
        const created = await this.commitEffect({ state, notifications });
        return { announcement, created };
      } catch (err) {
        if (!(err instanceof ConditionFailed) || attempt >= MAX_REPLANS) throw err;
      }
    }
  }

  /** Plans an effect from fresh reads, commits it with the inbox record; a lost race re-plans. */
  private async applyOnce(message: Message, plan: () => Promise<Effect>): Promise<AppliedMessage> {
    for (let attempt = 0; ; attempt++) {
      if (await this.outbox.seen(message)) return { result: 'duplicate', created: [] };
      const effect = await plan();
      try {
        return { result: 'applied', created: await this.commitEffect(effect, [this.outbox.inboxPut(message)]) };
      } catch (err) {
        if (!(err instanceof ConditionFailed)) throw err;
        if (err.failedAt(0)) return { result: 'duplicate', created: [] };
        if (attempt >= MAX_REPLANS) throw err;
      }
    }
  }

  async applyEventChange(message: Message, change: EventChange): Promise<AppliedMessage> {
    return this.applyOnce(message, async () => {
      const { event } = change;
      const before = await this.getEvent(event.id);
      const newer = !before || event.version > before.version;
      const state: TransactItem[] = newer
        ? [
            {
              Put: {
                TableName: this.t.events.name,
                Item: { EventID: event.id, Title: event.title, OrganizerID: event.organizerId, Status: event.status, Version: event.version },
                // What we read must still hold: no other version landed meanwhile.
                ConditionExpression: before ? '#Version = :seen' : 'attribute_not_exists(EventID)',
                ...(before ? { ExpressionAttributeNames: attrNames('#Version'), ExpressionAttributeValues: { ':seen': before.version } } : {}),
              },
            },
          ]
        : [];
      let recipients: string[] = [];
      if (change.text && change.kind === 'updated' && newer && before?.status !== 'cancelled') recipients = await this.audience(event.id, false);
      // A cancellation is news once, even if a later version of the event arrived before it.
      if (change.text && change.kind === 'cancelled' && before?.status !== 'cancelled') recipients = await this.audience(event.id, true);
      return { state, notifications: change.text ? this.notify(recipients, change.text, message.id, Date.parse(message.occurredAt)) : [] };
    });
  }

  async applyAudienceChange(message: Message, change: AudienceChange): Promise<AppliedMessage> {
    return this.applyOnce(message, async () => {
      const key = { EventID: change.eventId, UserID: change.userId };
      const current = await getItem(this.doc, this.t.audiences.name, key);
      const tickets = Number(current?.Tickets ?? 0);
      const lost = change.lostToEventCancellation && change.ticketsDelta && change.ticketsDelta < 0 ? -change.ticketsDelta : 0;
      const rev = Number(current?.Rev ?? 0);
      // The RSVP flag follows the newest registration message (a late redelivery of an older one changes
      // nothing); tickets are a plain sum, right whatever order orders and cancellations arrive in.
      const registrationChangedAt = String(current?.RegistrationChangedAt ?? '');
      const takesRegistration = change.registered !== undefined && message.occurredAt >= registrationChangedAt;
      const state: TransactItem[] = [
        {
          Put: {
            TableName: this.t.audiences.name,
            Item: {
              ...key,
              Registered: takesRegistration ? change.registered : current?.Registered === true,
              RegistrationChangedAt: takesRegistration ? message.occurredAt : registrationChangedAt,
              Tickets: tickets + (change.ticketsDelta ?? 0),
              TicketsLost: Number(current?.TicketsLost ?? 0) + lost,
              Rev: rev + 1,
            },
            // Read-modify-write: the revision we read must still be the current one.
            ConditionExpression: current ? '#Rev = :rev' : 'attribute_not_exists(UserID)',
            ...(current ? { ExpressionAttributeNames: attrNames('#Rev'), ExpressionAttributeValues: { ':rev': rev } } : {}),
          },
        },
      ];
      return { state, notifications: change.text ? this.notify([change.userId], change.text, message.id, Date.parse(message.occurredAt)) : [] };
    });
  }

}
