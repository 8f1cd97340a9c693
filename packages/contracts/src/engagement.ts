import { z } from 'zod';
import { Id, IsoDateTime } from './common.js';
import { WaitingRoomSettings } from './waiting-room.js';

export const Role = z.enum(['attendee', 'organizer', 'admin']);
export type Role = z.infer<typeof Role>;

const Email = z
  .email()
  .max(254)
  .transform((e) => e.toLowerCase());

/** True when a password is just the email address (or its part before the @), whatever the case. */
export function passwordIsEmail(password: string, email: string): boolean {
  const p = password.trim().toLowerCase();
  const e = email.trim().toLowerCase();
  return p === e || p === e.split('@')[0];
}

/** A new password: long enough, and more than spaces (a run of blanks has the length but none of the secret). */
export const NewPassword = z
  .string()
  .min(10, 'must be at least 10 characters')
  .max(200)
  .refine((p) => p.trim().length > 0, 'must contain something besides spaces');

export const SignUpBody = z
  .strictObject({
    email: Email,
    password: NewPassword,
    name: z.string().trim().min(1).max(100),
    role: z.enum(['attendee', 'organizer']).default('attendee'),
  })
  .refine((b) => !passwordIsEmail(b.password, b.email), { message: 'must not be your email address', path: ['password'] });
export type SignUpBody = z.infer<typeof SignUpBody>;

export const User = z.object({
  id: Id,
  email: z.string(),
  name: z.string(),
  role: Role,
  createdAt: IsoDateTime,
});
export type User = z.infer<typeof User>;

/**
 * A solved sign-in challenge: `answer` is any string that makes SHA-256(`challenge:answer`) start with at least
 * the challenge's number of zero bits (see proofOfWorkBits). Asked for after repeated failures (428 CHALLENGE_REQUIRED).
 */
export const SignInProof = z.strictObject({
  challenge: z.string().min(1).max(300),
  answer: z.string().min(1).max(32),
});
export type SignInProof = z.infer<typeof SignInProof>;

export const SignInBody = z.strictObject({
  email: Email,
  password: z.string().min(1).max(200),
  proof: SignInProof.optional(),
});

export const SignInChallengeBody = z.strictObject({ email: Email });

/** A sign-in challenge: signed by engagement, bound to one email, single-use, valid until `expiresAt`. */
export const SignInChallenge = z.object({
  challenge: z.string(),
  /** Leading zero bits the answer's hash needs; 0 when no proof is needed right now. */
  difficulty: z.number().int().min(0),
  expiresAt: IsoDateTime,
});
export type SignInChallenge = z.infer<typeof SignInChallenge>;

/** The text whose SHA-256 a proof's answer is judged by; the server and the web app must agree on it. */
export const proofOfWorkInput = (challenge: string, answer: string): string => `${challenge}:${answer}`;

/** How many zero bits a hash starts with. */
export function proofOfWorkBits(hash: Uint8Array): number {
  let bits = 0;
  for (const byte of hash) {
    if (byte === 0) {
      bits += 8;
      continue;
    }
    return bits + Math.clz32(byte) - 24;
  }
  return bits;
}

export const Session = z.object({
  /** Short-lived access token (EdDSA JWT, at most 15 minutes): send as `Authorization: Bearer <token>`. */
  token: z.string(),
  expiresAt: IsoDateTime,
  /** Opaque, single-use: exchange it at POST /sessions/refresh for a new session (and a new refresh token). */
  refreshToken: z.string(),
  refreshExpiresAt: IsoDateTime,
  user: User,
});
export type Session = z.infer<typeof Session>;

/** A refresh token as issued; it is all the client keeps besides the access token. */
export const RefreshToken = z
  .string()
  .min(20)
  .max(200)
  .regex(/^[A-Za-z0-9_-]+$/, 'must be a refresh token you were given');

export const RefreshBody = z.strictObject({ refreshToken: RefreshToken });
export const LogoutBody = z.strictObject({ refreshToken: RefreshToken });
export const LogoutEverywhereResult = z.object({ ok: z.literal(true), revoked: z.number().int() });

/** What a verified access token says about its bearer; carried in the JWT so no service needs a lookup. */
export const TokenClaims = z.object({ sub: Id, role: Role, email: z.string(), name: z.string() });

export const NotificationType = z.enum([
  'order_confirmed',
  'ticket_cancelled',
  'registration_confirmed',
  'registration_withdrawn',
  'event_updated',
  'event_cancelled',
  'announcement',
]);

export const Notification = z.object({
  id: Id,
  type: NotificationType,
  title: z.string(),
  body: z.string(),
  eventId: Id.nullable(),
  createdAt: IsoDateTime,
  readAt: IsoDateTime.nullable(),
});
export type Notification = z.infer<typeof Notification>;

export const NotificationPage = z.object({
  items: z.array(Notification),
  nextCursor: z.string().nullable(),
  /** Unread among the caller's newest 100 notifications, so at most 100: the web app shows more than 99 as "99+". */
  unreadCount: z.number().int().min(0).max(100),
});

export const ReadAllResult = z.object({ updated: z.number().int() });

export const AnnouncementBody = z.strictObject({
  eventId: Id,
  message: z.string().trim().min(1).max(2000),
});

export const Announcement = z.object({
  id: Id,
  eventId: Id,
  message: z.string(),
  recipients: z.number().int(),
  createdAt: IsoDateTime,
});

/** Socket.IO event name the engagement service emits to a user's sockets for each new notification. */
export const LIVE_NOTIFICATION_EVENT = 'notification';

/**
 * Socket.IO event a client emits with `{ token }` (a renewed access token of the same user) to keep its socket
 * open past the old token's expiry; the server closes a socket whose token expires without one.
 */
export const LIVE_AUTHENTICATE_EVENT = 'authenticate';
export const LiveAuthenticateBody = z.strictObject({ token: z.string().min(1).max(4096) });
/** The acknowledgement of LIVE_AUTHENTICATE_EVENT. */
export const LiveAuthenticateResult = z.discriminatedUnion('ok', [
  z.object({ ok: z.literal(true), expiresAt: IsoDateTime }),
  z.object({ ok: z.literal(false), code: z.string(), message: z.string() }),
]);
export type LiveAuthenticateResult = z.infer<typeof LiveAuthenticateResult>;

/** Socket.IO: a client emits `{ eventId }` to receive WAITING_ROOM_EVENT for that room (at once, then on every change). */
export const WAITING_ROOM_WATCH_EVENT = 'waiting-room:watch';
/** Socket.IO: a client emits `{ eventId }` to stop receiving that room's changes. */
export const WAITING_ROOM_UNWATCH_EVENT = 'waiting-room:unwatch';
/** Socket.IO: the server emits WaitingRoomLive to the watchers of a room. */
export const WAITING_ROOM_EVENT = 'waiting-room';

export const WaitingRoomWatchBody = z.strictObject({ eventId: Id });
export type WaitingRoomWatchBody = z.infer<typeof WaitingRoomWatchBody>;

/** The payload of WAITING_ROOM_EVENT: the room's live settings, `null` when the sale is no longer queued. */
export const WaitingRoomLive = z.object({
  eventId: Id,
  room: WaitingRoomSettings.nullable(),
  now: IsoDateTime,
});
export type WaitingRoomLive = z.infer<typeof WaitingRoomLive>;
