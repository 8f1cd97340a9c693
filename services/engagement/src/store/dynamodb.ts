import { createHash } from 'node:crypto';
import { DeleteCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Message, Notification, User } from '@dems/contracts';
import { newId, nowIso } from '@dems/kit';
import {
  attrNames,
  ConditionFailed,
  DynamoStoreBase,
  getItem,
  queryAll,
  queryPages,
  transactWrite,
  withRetry,
  type DynamoSettings,
  type Item,
  type TableSpec,
  type TransactItem,
} from '@dems/kit/dynamodb';
import { withinLastHour, type AnnouncementsSent } from '../domain/announcement-limits.js';
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
import { NOTIFICATION_RETENTION_DAYS, REFRESH_TOKEN_MAX_LIFETIME_SECONDS, UNREAD_COUNT_WINDOW } from './engagement-store.js';

/** Table shapes (docs/dynamodb.md). `Notifications` keeps the seed's name and keys (UserID + Timestamp, a number). */
export function engagementTables(prefix: string) {
  return {
    users: { name: `${prefix}Users`, pk: { name: 'UserID', type: 'S' } },
    /** One item per (lower-cased) email: the unique constraint a Put condition can enforce. */
    userEmails: { name: `${prefix}UserEmails`, pk: { name: 'Email', type: 'S' } },
    /**
     * No index: the unread count reads the user's newest notifications, so a notification costs one write,
     * not two. Notifications expire NOTIFICATION_RETENTION_DAYS after they were created.
     */
    notifications: { name: `${prefix}Notifications`, pk: { name: 'UserID', type: 'S' }, sk: { name: 'Timestamp', type: 'N' }, ttl: 'ExpiresAt' },
    events: { name: `${prefix}EngagementEvents`, pk: { name: 'EventID', type: 'S' } },
    /**
     * Who follows an event, spread over AUDIENCE_BUCKETS partitions per event (`EventBucket` = `<eventId>#<n>`,
     * n from the user id), so a big sale's audience updates do not all land on one partition.
     */
    audiences: { name: `${prefix}EventAudiences`, pk: { name: 'EventBucket', type: 'S' }, sk: { name: 'UserID', type: 'S' } },
    /** Announcements, plus `event#<id>` rate-limit counters and `setting#<name>` items (the signing key's creation). */
    announcements: { name: `${prefix}Announcements`, pk: { name: 'AnnouncementID', type: 'S' } },
    /**
     * Sign-in sessions: refresh tokens by SHA-256 (`Hash`), and one `family#<id>` item per sign-in family that a
     * revocation marks: checking that item in the rotation's transaction makes reuse detection immediate, with
     * no index lag. Both expire (`ExpiresAt`, epoch seconds): a token at its own expiry, a family record once
     * no token of the family can still be alive.
     */
    sessions: {
      name: `${prefix}Sessions`,
      pk: { name: 'Hash', type: 'S' },
      ttl: 'ExpiresAt',
      indexes: [
        {
          name: 'ByUserExpiry',
          pk: { name: 'UserID', type: 'S' },
          sk: { name: 'ExpiresAt', type: 'N' },
          // All "sign out everywhere" needs. Spending a token (UsedAt) changes nothing projected, so it does
          // not write the index; the family items carry no UserID and stay out of it.
          projection: { include: ['FamilyID'] },
        },
      ],
    },
  } satisfies Record<string, TableSpec>;
}

/** Partitions of one event's audience: a sale of 10,000 orders/s writes ~625/s to each, under a partition's 1,000. */
export const AUDIENCE_BUCKETS = 16;

/** The audience partition of a user, from a hash of their id: stable, and even across users. */
export function audienceBucket(userId: string): number {
  return createHash('sha256').update(userId).digest().readUInt16BE(0) % AUDIENCE_BUCKETS;
}

const DAY_SECONDS = 24 * 3600;
const epochSeconds = (ms: number) => Math.floor(ms / 1000);
/** The size of a string set as the document client returns it (a Set), 0 when absent. */
const sizeOf = (v: unknown) => (v instanceof Set ? v.size : 0);

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

/** A person holds tickets while they gained more ticket ids than they lost. */
const toMember = (i: Item): AudienceMember => ({
  userId: String(i.UserID),
  registered: i.Registered === true,
  holdsTickets: sizeOf(i.Held) > sizeOf(i.Gone),
  lostTicketsToCancellation: i.LostToCancellation === true,
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
  /**
   * Engagement publishes no messages yet; whoever adds the first must write it through `this.commit(items)`
   * (which hands it to the relay) and call this after that commit (relay.kick).
   */
  readonly onMessagesCommitted?: () => void;

  constructor(opts: { settings: DynamoSettings; onMessagesCommitted?: () => void }) {
    super(opts.settings, 'engagement', Object.values(engagementTables(opts.settings.tablePrefix)));
    this.t = engagementTables(opts.settings.tablePrefix);
    this.onMessagesCommitted = opts.onMessagesCommitted;
  }

  isReady(): Promise<boolean> {
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
    await withRetry(() => this.doc.send(new PutCommand(this.refreshTokenPut(token))));
  }

  /** A new token: its expiry in epoch seconds (the TTL attribute), never overwriting a token of the same hash. */
  private refreshTokenPut(token: RefreshTokenRecord): NonNullable<TransactItem['Put']> {
    return {
      TableName: this.t.sessions.name,
      Item: { Hash: token.hash, UserID: token.userId, FamilyID: token.familyId, CreatedAt: token.createdAt, ExpiresAt: epochSeconds(Date.parse(token.expiresAt)) },
      ConditionExpression: 'attribute_not_exists(#Hash)',
      ExpressionAttributeNames: attrNames('#Hash'),
    };
  }

  private familyKey(familyId: string) {
    return { Hash: `family#${familyId}` };
  }

  /**
   * Marks the family revoked; true when it was not before. The record expires once every token the family
   * had is expired too.
   */
  private async revokeFamily(familyId: string, now: string): Promise<boolean> {
    const res = await withRetry(() =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.t.sessions.name,
          Key: this.familyKey(familyId),
          UpdateExpression: 'SET #RevokedAt = if_not_exists(#RevokedAt, :now), #ExpiresAt = if_not_exists(#ExpiresAt, :expires)',
          ExpressionAttributeNames: attrNames('#RevokedAt #ExpiresAt'),
          ExpressionAttributeValues: { ':now': now, ':expires': epochSeconds(Date.parse(now)) + REFRESH_TOKEN_MAX_LIFETIME_SECONDS },
          ReturnValues: 'UPDATED_OLD',
        }),
      ),
    );
    return res.Attributes?.RevokedAt === undefined;
  }

  async rotateRefreshToken(hash: string, next: Omit<RefreshTokenRecord, 'userId' | 'familyId'>, now: string): Promise<RefreshRotation> {
    for (let attempt = 0; ; attempt++) {
      const row = await getItem(this.doc, this.t.sessions.name, { Hash: hash });
      // Expiry to the second (the TTL attribute is all a token stores of it).
      const expired = typeof row?.ExpiresAt !== 'number' || row.ExpiresAt <= epochSeconds(Date.parse(now));
      if (!row || typeof row.FamilyID !== 'string' || expired) return { outcome: 'invalid' };
      const family = await getItem(this.doc, this.t.sessions.name, this.familyKey(row.FamilyID));
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
              TableName: this.t.sessions.name,
              Key: { Hash: hash },
              UpdateExpression: 'SET #UsedAt = :now',
              ConditionExpression: 'attribute_not_exists(#UsedAt)',
              ExpressionAttributeNames: attrNames('#UsedAt'),
              ExpressionAttributeValues: { ':now': now },
            },
          },
          {
            ConditionCheck: {
              TableName: this.t.sessions.name,
              Key: this.familyKey(row.FamilyID),
              ConditionExpression: 'attribute_not_exists(#RevokedAt)',
              ExpressionAttributeNames: attrNames('#RevokedAt'),
            },
          },
          { Put: this.refreshTokenPut({ ...next, userId, familyId: row.FamilyID }) },
        ]);
        return { outcome: 'rotated', userId, familyId: row.FamilyID };
      } catch (err) {
        // Spent or revoked by a concurrent request: the next read tells which.
        if (!(err instanceof ConditionFailed) || attempt >= MAX_REPLANS) throw err;
      }
    }
  }

  async revokeRefreshFamily(hash: string, now: string): Promise<{ userId: string; familyId: string } | null> {
    const row = await getItem(this.doc, this.t.sessions.name, { Hash: hash });
    if (!row || typeof row.FamilyID !== 'string') return null;
    await this.revokeFamily(row.FamilyID, now);
    return { userId: String(row.UserID), familyId: row.FamilyID };
  }

  async isSessionActive(_userId: string, familyId: string): Promise<boolean> {
    // Every revocation marks the family item (read strongly consistent); the ByUserExpiry index may lag a fresh sign-in.
    const family = await getItem(this.doc, this.t.sessions.name, this.familyKey(familyId));
    return typeof family?.RevokedAt !== 'string';
  }

  /**
   * Revokes the family of each of the user's live tokens: the family items are what rotation and
   * isSessionActive check, so no token needs a write of its own. Counts the families this call revoked
   * (each holds exactly one live token: the newest, unspent one).
   */
  async revokeUserRefreshTokens(userId: string, now: string): Promise<number> {
    const live = await queryAll(this.doc, {
      TableName: this.t.sessions.name,
      IndexName: 'ByUserExpiry',
      KeyConditionExpression: 'UserID = :u AND ExpiresAt > :now',
      ExpressionAttributeValues: { ':u': userId, ':now': epochSeconds(Date.parse(now)) },
    });
    let revoked = 0;
    for (const familyId of new Set(live.map((t) => String(t.FamilyID)))) if (await this.revokeFamily(familyId, now)) revoked++;
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
    const [res, unreadCount] = await Promise.all([
      withRetry(() =>
        this.doc.send(
          new QueryCommand({
            TableName: this.t.notifications.name,
            KeyConditionExpression: 'UserID = :u',
            ExpressionAttributeValues: { ':u': userId },
            ScanIndexForward: false,
            // A list a second behind is harmless, and an eventually consistent read costs half.
            ConsistentRead: false,
            Limit: page.limit + 1,
            // The cursor's id carries the Timestamp key: together with the user it is DynamoDB's ExclusiveStartKey.
            ...(after !== null ? { ExclusiveStartKey: { UserID: userId, Timestamp: after } } : {}),
          }),
        ),
      ),
      this.unreadCount(userId),
    ]);
    const rows = (res.Items ?? []) as Item[];
    const items = rows.slice(0, page.limit).map(toNotification);
    const last = items[items.length - 1];
    return { items, next: rows.length > page.limit && last ? { createdAt: last.createdAt, id: last.id } : null, unreadCount };
  }

  /** Unread among the user's newest UNREAD_COUNT_WINDOW notifications: one bounded query (Limit applies before the filter). */
  private async unreadCount(userId: string): Promise<number> {
    const res = await withRetry(() =>
      this.doc.send(
        new QueryCommand({
          TableName: this.t.notifications.name,
          KeyConditionExpression: 'UserID = :u',
          FilterExpression: 'attribute_not_exists(#ReadAt)',
          ExpressionAttributeNames: attrNames('#ReadAt'),
          ExpressionAttributeValues: { ':u': userId },
          ScanIndexForward: false,
          Limit: UNREAD_COUNT_WINDOW,
          Select: 'COUNT',
          ConsistentRead: false,
        }),
      ),
    );
    return res.Count ?? 0;
  }

  /** Marks one notification read if it is unread; the item as it is now when this call changed it, else null. */
  private async markRead(userId: string, timestamp: number, at: string): Promise<Item | null> {
    try {
      const res = await withRetry(() =>
        this.doc.send(
          new UpdateCommand({
            TableName: this.t.notifications.name,
            Key: { UserID: userId, Timestamp: timestamp },
            UpdateExpression: 'SET #ReadAt = :at',
            ConditionExpression: 'attribute_exists(#UserID) AND attribute_not_exists(#ReadAt)',
            ExpressionAttributeNames: attrNames('#ReadAt #UserID'),
            ExpressionAttributeValues: { ':at': at },
            ReturnValues: 'ALL_NEW',
          }),
        ),
      );
      return (res.Attributes as Item | undefined) ?? null;
    } catch (err) {
      if ((err as Error).name === 'ConditionalCheckFailedException') return null;
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
    // Null only when a concurrent call marked it first: its read time is the one to keep and show.
    const marked = (await this.markRead(userId, timestamp, nowIso())) ?? (await getItem(this.doc, this.t.notifications.name, key));
    return marked ? toNotification(marked) : null;
  }

  /** Walks the user's notifications newest first, a page at a time, marking the unread ones (no index to ask). */
  async markAllNotificationsRead(userId: string): Promise<number> {
    const at = nowIso();
    let changed = 0;
    const unreadOfUser = {
      TableName: this.t.notifications.name,
      KeyConditionExpression: 'UserID = :u',
      FilterExpression: 'attribute_not_exists(#ReadAt)',
      ProjectionExpression: '#Timestamp',
      ExpressionAttributeNames: attrNames('#ReadAt #Timestamp'),
      ExpressionAttributeValues: { ':u': userId },
      ScanIndexForward: false,
      Limit: 100,
    };
    for await (const page of queryPages(this.doc, unreadOfUser)) {
      const unread = (page.Items ?? []) as Item[];
      for (let i = 0; i < unread.length; i += FAN_OUT_CONCURRENCY) {
        const results = await Promise.all(unread.slice(i, i + FAN_OUT_CONCURRENCY).map((k) => this.markRead(userId, Number(k.Timestamp), at)));
        changed += results.filter((r) => r !== null).length;
      }
    }
    return changed;
  }

  async getEvent(eventId: string): Promise<EventCopy | null> {
    const item = await getItem(this.doc, this.t.events.name, { EventID: eventId });
    return item ? toEvent(item) : null;
  }

  private audienceKey(eventId: string, userId: string): Item {
    return { EventBucket: `${eventId}#${audienceBucket(userId)}`, UserID: userId };
  }

  /**
   * The members of the event's audience that `hears` picks: every bucket of the event, read strongly
   * consistent, since who is told depends on it.
   */
  private async audience(eventId: string, hears: Telling['hears']): Promise<string[]> {
    const buckets = await Promise.all(
      Array.from({ length: AUDIENCE_BUCKETS }, (_, n) =>
        queryAll(this.doc, {
          TableName: this.t.audiences.name,
          KeyConditionExpression: 'EventBucket = :b',
          ExpressionAttributeValues: { ':b': `${eventId}#${n}` },
          ConsistentRead: true,
        }),
      ),
    );
    return buckets
      .flat()
      .map(toMember)
      .filter(hears)
      .map((m) => m.userId);
  }

  /**
   * The update of one person's audience item for `change`: ticket ids added to the `Held` / `Gone` string sets
   * (blind, commutative and idempotent: no read, no condition), and with `registration` the RSVP flag, on
   * the condition that the registration time it was planned from is still the item's.
   */
  private audienceUpdate(change: AudienceChange, registration?: { at: string; seen: string | null }): NonNullable<TransactItem['Update']> {
    const set = ['#EventID = :eventId'];
    const add: string[] = [];
    const values: Item = { ':eventId': change.eventId };
    if (change.ticketsHeld?.length) {
      add.push('#Held :held');
      values[':held'] = new Set(change.ticketsHeld);
    }
    if (change.ticketsGone?.length) {
      add.push('#Gone :gone');
      values[':gone'] = new Set(change.ticketsGone);
      if (change.lostToEventCancellation) {
        set.push('#LostToCancellation = :true');
        values[':true'] = true;
      }
    }
    let condition: string | undefined;
    if (registration) {
      set.push('#Registered = :registered', '#RegistrationChangedAt = :at');
      values[':registered'] = change.registered === true;
      values[':at'] = registration.at;
      condition = registration.seen === null ? 'attribute_not_exists(#RegistrationChangedAt)' : '#RegistrationChangedAt = :seen';
      if (registration.seen !== null) values[':seen'] = registration.seen;
    }
    const expression = `SET ${set.join(', ')}${add.length ? ` ADD ${add.join(', ')}` : ''}`;
    return {
      TableName: this.t.audiences.name,
      Key: this.audienceKey(change.eventId, change.userId),
      UpdateExpression: expression,
      ...(condition ? { ConditionExpression: condition } : {}),
      ExpressionAttributeNames: attrNames(expression, condition),
      ExpressionAttributeValues: values,
    };
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
      ExpiresAt: epochSeconds(p.keyMs) + NOTIFICATION_RETENTION_DAYS * DAY_SECONDS,
    };
    return { item, created: { userId, notification } };
  }

  /**
   * Writes one notification unless it exists already: its key is taken either by itself (written by an earlier
   * attempt: nothing to do, and what is stored is what was created; `fresh` is false) or by another
   * notification of the user (try the next key). Every attempt walks the same keys, so it finds its own item
   * wherever it landed. A plain conditional Put: 1 write unit, half of what a transaction charges for it.
   */
  private async writeNotification(p: PlannedNotification): Promise<{ created: CreatedNotification; fresh: boolean }> {
    for (let probe = 0; probe < MAX_KEY_PROBES; probe++) {
      const { item, created } = this.notificationItem(p, probe);
      try {
        await withRetry(() =>
          this.doc.send(
            new PutCommand({
              TableName: this.t.notifications.name,
              Item: item,
              ConditionExpression: 'attribute_not_exists(#Timestamp)',
              ExpressionAttributeNames: attrNames('#Timestamp'),
            }),
          ),
        );
        return { created, fresh: true };
      } catch (err) {
        if ((err as Error).name !== 'ConditionalCheckFailedException') throw err;
      }
      const existing = await getItem(this.doc, this.t.notifications.name, { UserID: p.userId, Timestamp: item.Timestamp });
      if (existing?.NotificationID === created.notification.id) return { created: { userId: p.userId, notification: toNotification(existing) }, fresh: false };
    }
    throw new Error(`No free Notifications key for user ${p.userId} after ${MAX_KEY_PROBES} tries.`);
  }

  /**
   * Writes items that must commit together: one item as a plain conditional write (1 write unit per KB, where a
   * transaction charges 2), more as one transaction. A false condition is ConditionFailed either way.
   */
  private async writeAtomically(items: TransactItem[]): Promise<void> {
    const write = items.length === 1 ? this.singleWrite(items[0]!) : null;
    if (!write) return transactWrite(this.doc, items);
    try {
      await withRetry(write);
    } catch (err) {
      if ((err as Error).name === 'ConditionalCheckFailedException') throw new ConditionFailed(['ConditionalCheckFailed']);
      throw err;
    }
  }

  /** The plain write that does what one transaction item does; null for a ConditionCheck, which has none. */
  private singleWrite(item: TransactItem): (() => Promise<unknown>) | null {
    const { Put, Update, Delete } = item;
    if (Put) return () => this.doc.send(new PutCommand(Put));
    if (Update) return () => this.doc.send(new UpdateCommand(Update));
    if (Delete) return () => this.doc.send(new DeleteCommand(Delete));
    return null;
  }

  /**
   * Commits an effect and returns the notifications it created. The notifications go first, each on its own
   * and idempotently (writeNotification), then the state with the inbox record in one write. A crash in
   * between leads to a redelivery that finds the notifications already there: never a second copy, nor a
   * loss. (A notification found from an earlier attempt is returned again: that attempt never pushed it.)
   */
  private async commitEffect(effect: Effect, first: TransactItem[] = []): Promise<CreatedNotification[]> {
    const created: CreatedNotification[] = [];
    for (let i = 0; i < effect.notifications.length; i += FAN_OUT_CONCURRENCY) {
      const written = await Promise.all(effect.notifications.slice(i, i + FAN_OUT_CONCURRENCY).map((p) => this.writeNotification(p)));
      created.push(...written.map((w) => w.created));
    }
    await this.writeAtomically([...first, ...effect.state]);
    return created;
  }

  /**
   * Counts one announcement of the event on its `event#<id>` item once `admit` lets it, conditioned on the count
   * it read. Taken before any notification is written, so a refused or lost race never leaves notifications behind;
   * a crash after it only counts an announcement that was not sent.
   */
  private async reserveAnnouncement(eventId: string, admit: (sent: AnnouncementsSent, now: number) => void, createdAt: string): Promise<void> {
    const key = { AnnouncementID: `event#${eventId}` };
    for (let attempt = 0; ; attempt++) {
      const counter = await getItem(this.doc, this.t.announcements.name, key);
      const total = Number(counter?.Total ?? 0);
      // Only the times the hourly limit still counts are kept: the item stays small.
      const recent = withinLastHour(Array.isArray(counter?.Recent) ? counter.Recent.map(String) : [], Date.parse(createdAt));
      admit({ total, recent }, Date.parse(createdAt));
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

  async createAnnouncement(input: NewAnnouncement) {
    const id = newId('ann_');
    const createdAt = nowIso();
    if (!(await this.getEvent(input.eventId))) return null;
    if (input.admit) await this.reserveAnnouncement(input.eventId, input.admit, createdAt);
    const notifications = this.notify(await this.audience(input.eventId, input.tell.hears), input.tell.text, id, Date.parse(createdAt));
    const announcement = { id, eventId: input.eventId, message: input.message, recipients: notifications.length, createdAt };
    const record: TransactItem = {
      Put: {
        TableName: this.t.announcements.name,
        Item: { AnnouncementID: id, EventID: input.eventId, SenderID: input.senderId, Message: input.message, Recipients: notifications.length, CreatedAt: createdAt },
      },
    };
    // The notifications, then the announcement's record: one write each, nothing conditional to re-plan.
    return { announcement, created: await this.commitEffect({ state: [record], notifications }) };
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
      const plan = change.decide(before);
      const state: TransactItem[] = plan.keepCopy
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
      const notifications = plan.tell ? this.notify(await this.audience(event.id, plan.tell.hears), plan.tell.text, message.id, Date.parse(message.occurredAt)) : [];
      return { state, notifications };
    });
  }

  /** One by one, in order: DynamoDB has no transaction that spans a batch's notifications and inbox records. */
  async applyMessages(changes: MessageChange[]): Promise<MessageChangeOutcome[]> {
    const outcomes: MessageChangeOutcome[] = [];
    for (const c of changes) {
      try {
        outcomes.push(await ('event' in c ? this.applyEventChange(c.message, c.event) : this.applyAudienceChange(c.message, c.audience)));
      } catch (error) {
        outcomes.push({ error });
      }
    }
    return outcomes;
  }

  async applyAudienceChange(message: Message, change: AudienceChange): Promise<AppliedMessage> {
    if (change.registered === undefined) return this.applyTicketChange(message, change);
    return this.applyOnce(message, async () => {
      const current = await getItem(this.doc, this.t.audiences.name, this.audienceKey(change.eventId, change.userId));
      const seen = typeof current?.RegistrationChangedAt === 'string' ? current.RegistrationChangedAt : null;
      // The RSVP flag follows the newest registration message: a late redelivery of an older one changes nothing.
      const takesRegistration = seen === null || message.occurredAt >= seen;
      const hasTickets = Boolean(change.ticketsHeld?.length || change.ticketsGone?.length);
      const state = takesRegistration || hasTickets ? [{ Update: this.audienceUpdate(change, takesRegistration ? { at: message.occurredAt, seen } : undefined) }] : [];
      return { state, notifications: change.text ? this.notify([change.userId], change.text, message.id, Date.parse(message.occurredAt)) : [] };
    });
  }

  /**
   * A change of tickets only (OrderPlaced, TicketCancelled), with no inbox record and no transaction: 2 write
   * units. Both writes are idempotent by construction. The audience update goes first and the notification
   * last, so a notification found already written means the message was fully applied before: it is a
   * duplicate and nobody is told again. A crash between the two is completed by the redelivery.
   */
  private async applyTicketChange(message: Message, change: AudienceChange): Promise<AppliedMessage> {
    await withRetry(() => this.doc.send(new UpdateCommand(this.audienceUpdate(change))));
    if (!change.text) return { result: 'applied', created: [] };
    const [planned] = this.notify([change.userId], change.text, message.id, Date.parse(message.occurredAt));
    const { created, fresh } = await this.writeNotification(planned!);
    return fresh ? { result: 'applied', created: [created] } : { result: 'duplicate', created: [] };
  }
}
