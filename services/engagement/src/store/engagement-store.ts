import type { z } from 'zod';
import type { Announcement, EventStatus, Message, Notification, Role, User } from '@dems/contracts';
import type { OutboxStore } from '@dems/kit';
import type { AnnouncementsSent } from '../domain/announcement-limits.js';
import type { Telling } from '../domain/audience.js';
import type { EventNews } from '../domain/event-news.js';
import type { NotificationText } from '../domain/notification-texts.js';

/** Engagement's copy of an event: just what ownership checks and notification texts need. */
export interface EventCopy {
  id: string;
  title: string;
  organizerId: string;
  status: z.infer<typeof EventStatus>;
  version: number;
}

export interface NewUser {
  email: string;
  name: string;
  role: Role;
  passwordHash: string;
}

/** How long notifications are kept after they are created (DynamoDB removes older ones by TTL). */
export const NOTIFICATION_RETENTION_DAYS = 180;

/**
 * The longest a refresh token may live (REFRESH_TOKEN_TTL_SECONDS is capped by it): a record that a sign-in
 * family was revoked is needed no longer than this after the revocation, as every token of the family is
 * expired by then.
 */
export const REFRESH_TOKEN_MAX_LIFETIME_SECONDS = 90 * 24 * 3600;

/** A refresh token as stored: only its SHA-256, never the token itself. */
export interface RefreshTokenRecord {
  hash: string;
  userId: string;
  /** Every token descended from one sign-in shares a family; reuse of a spent token revokes the family. */
  familyId: string;
  createdAt: string;
  expiresAt: string;
}

export type RefreshRotation =
  /** The old token is spent and the new one stored in its family. */
  | { outcome: 'rotated'; userId: string; familyId: string }
  /** The token had already been spent: someone replayed it, so its whole family is now revoked. */
  | { outcome: 'reused'; userId: string; familyId: string }
  /** Unknown, expired or revoked. */
  | { outcome: 'invalid' };

/** A notification just committed, with whom it is for, so the caller can push it live after the commit. */
export interface CreatedNotification {
  userId: string;
  notification: Notification;
}

/** Position in a user's notification list (newest first): the last item of the previous page. */
export interface NotificationCursor {
  createdAt: string;
  id: string;
}

/**
 * The unread count looks at this many of the user's newest notifications: a bounded read however many a
 * user has. It is therefore at most this number, which the web app shows as "99+".
 */
export const UNREAD_COUNT_WINDOW = 100;

export interface NotificationPage {
  items: Notification[];
  next: NotificationCursor | null;
  /** Unread among the newest UNREAD_COUNT_WINDOW notifications. */
  unreadCount: number;
}

export interface AppliedMessage {
  result: 'applied' | 'duplicate';
  created: CreatedNotification[];
}

/** How a message changes one person's place in an event's audience, and what they are told. */
export interface AudienceChange {
  eventId: string;
  userId: string;
  /** Set the RSVP flag (UserRegistered / RegistrationWithdrawn), unless a newer registration message already did. */
  registered?: boolean;
  /**
   * Tickets gained (OrderPlaced), one id per ticket (heldTicketIds). Gained and lost tickets are sets of ids, so
   * applying a change twice adds nothing and the arrival order does not matter: a person holds tickets while
   * they gained more than they lost.
   */
  ticketsHeld?: string[];
  /** Tickets lost (TicketCancelled), by ticket id. */
  ticketsGone?: string[];
  /** The lost tickets went with the event's cancellation, so the holder still hears of it whatever the arrival order. */
  lostToEventCancellation?: boolean;
  text: NotificationText | null;
}

/** An event snapshot from EventPublished / EventUpdated / EventCancelled, and how to decide what it changes. */
export interface EventChange {
  event: EventCopy;
  /**
   * Called with the copy held before (null: none) inside the store's transaction, so the decision stands on what
   * the commit replaces. Pure: DynamoDB calls it again when a concurrent write makes it re-plan.
   */
  decide: (before: EventCopy | null) => EventNews;
}

/** An announcement to record, whom it tells, and what may refuse it. */
export interface NewAnnouncement {
  eventId: string;
  senderId: string;
  message: string;
  tell: Telling;
  /** Throws to refuse one more announcement of the event, given those it has sent (the limits). */
  admit?: (sent: AnnouncementsSent, now: number) => void;
}

/** One delivered message and the change it makes, as applyMessages takes it. */
export type MessageChange = EventMessageChange | AudienceMessageChange;
export interface EventMessageChange {
  message: Message;
  event: EventChange;
}
export interface AudienceMessageChange {
  message: Message;
  audience: AudienceChange;
}

/** What became of one change of applyMessages: its result, or the error that undid that change alone. */
export type MessageChangeOutcome = AppliedMessage | { error: unknown };

/**
 * Everything engagement keeps: accounts, notifications, event copies and audiences, and the messaging
 * inbox. Every method that writes notifications does so in one transaction and returns what it created.
 */
export interface EngagementStore {
  /** The outbox the relay and the dead-letter routes use (engagement publishes nothing yet). */
  readonly outbox: OutboxStore;
  /** True when the store answers a trivial query; backs /readyz. */
  isReady(): Promise<boolean>;
  /** Creates an account; null when the (lower-cased) email is already taken — decided by a unique index, not a race-prone read. */
  createUser(user: NewUser): Promise<User | null>;
  /** The account and its password hash, for sign-in only. */
  findCredentials(email: string): Promise<{ user: User; passwordHash: string } | null>;
  getUser(id: string): Promise<User | null>;
  /** Stores the first refresh token of a new family (a sign-in). */
  saveRefreshToken(token: RefreshTokenRecord): Promise<void>;
  /**
   * Spends the token with hash `hash` and stores `next` in its family, atomically. A token spent before
   * revokes its whole family (`reused`); an unknown, expired or revoked one is `invalid`.
   */
  rotateRefreshToken(hash: string, next: Omit<RefreshTokenRecord, 'userId' | 'familyId'>, now: string): Promise<RefreshRotation>;
  /** Revokes the family of the token with hash `hash` (sign-out) and says whose it was; null when there is no such token. */
  revokeRefreshFamily(hash: string, now: string): Promise<{ userId: string; familyId: string } | null>;
  /** Revokes every live refresh token of the user (sign out everywhere); returns how many. */
  revokeUserRefreshTokens(userId: string, now: string): Promise<number>;
  /**
   * False once the sign-in family `familyId` of `userId` was signed out, signed out everywhere or revoked for
   * reuse: access tokens carry their family as `sid`, and a live socket is only opened for a session that lives.
   */
  isSessionActive(userId: string, familyId: string): Promise<boolean>;
  /** One page of a user's notifications, newest first (created time, then id), with their unread count. */
  listNotifications(userId: string, page: { after?: NotificationCursor; limit: number }): Promise<NotificationPage>;
  /** Marks one of the user's notifications read (keeping the first read time); null when it is not theirs. */
  markNotificationRead(userId: string, notificationId: string): Promise<Notification | null>;
  /** Marks all the user's unread notifications read; returns how many changed. */
  markAllNotificationsRead(userId: string): Promise<number>;
  getEvent(eventId: string): Promise<EventCopy | null>;
  /**
   * Records an announcement and tells the event's audience (`tell`); null when the event is unknown. With
   * `admit`, first counts the event's announcements and hands them to it, atomically with the insert, so that
   * concurrent requests cannot together get past what it admits; it throws to refuse.
   */
  createAnnouncement(input: NewAnnouncement): Promise<{ announcement: z.infer<typeof Announcement>; created: CreatedNotification[] } | null>;
  /**
   * Applies an event message with its inbox record in one transaction: the snapshot replaces the copy and the
   * audience is told as `change.decide` says; a duplicate changes nothing.
   */
  applyEventChange(message: Message, change: EventChange): Promise<AppliedMessage>;
  /**
   * Applies an audience message; a duplicate changes nothing and notifies nobody again. A change of tickets
   * only (no `registered`) may be applied without an inbox record, since its effects are idempotent by
   * construction (sets of ticket ids, a notification at a key derived from the message): a redelivery finds
   * its notification and is reported `duplicate`, unless the change has no text to tell.
   */
  applyAudienceChange(message: Message, change: AudienceChange): Promise<AppliedMessage>;
  /**
   * Applies a delivered batch as applyEventChange / applyAudienceChange would, answering in order. SQLite commits it
   * in one transaction (one fsync), each change in its own savepoint so one that throws is undone alone; DynamoDB
   * applies them one by one. A rejection of the whole call means none was applied.
   */
  applyMessages(changes: MessageChange[]): Promise<MessageChangeOutcome[]>;
  /** The first signing key this store's deployment created (its key file's), so a lost file is noticed; null before any. */
  recordedSigningKey(): Promise<{ kid: string; createdAt: string } | null>;
  /** Remembers the signing key a new key file was created with; the first record stays. */
  recordSigningKey(key: { kid: string; createdAt: string }): Promise<void>;
  close(): Promise<void>;
}
