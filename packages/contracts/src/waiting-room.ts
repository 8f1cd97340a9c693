import { z } from 'zod';
import { DateTimeInput, Id, IsoDateTime } from './common.js';

/**
 * The virtual waiting room of a queued sale (served by ticketing under /waiting-rooms/:eventId).
 *
 * From `opensAt` on, POST /orders for the event needs a queue pass (header QUEUE_PASS_HEADER). Arrivals join and get
 * an ordered position whose admission time is fixed when they join, by a leaky bucket:
 * `admitAt(n) = max(joinedAt(n), opensAt, admitAt(n-1) + 60000 / admitPerMinute)` (ms). Once admitted, the entry's
 * token buys one pass, valid for `passMinutes`.
 */

export const WAITING_ROOM_MIN_ADMIT_PER_MINUTE = 1;
export const WAITING_ROOM_MAX_ADMIT_PER_MINUTE = 100_000;
export const WAITING_ROOM_MIN_PASS_MINUTES = 1;
export const WAITING_ROOM_MAX_PASS_MINUTES = 60;
export const WAITING_ROOM_DEFAULT_PASS_MINUTES = 10;

/** The request header that carries a queue pass on POST /orders. */
export const QUEUE_PASS_HEADER = 'queue-pass';

export const WaitingRoomParams = z.strictObject({ eventId: Id });

/** PUT /waiting-rooms/:eventId. `admitPerMinute` defaults to the service's WAITING_ROOM_ADMIT_PER_MINUTE (600). */
export const WaitingRoomSettingsBody = z.strictObject({
  opensAt: DateTimeInput,
  admitPerMinute: z.number().int().min(WAITING_ROOM_MIN_ADMIT_PER_MINUTE).max(WAITING_ROOM_MAX_ADMIT_PER_MINUTE).optional(),
  passMinutes: z.number().int().min(WAITING_ROOM_MIN_PASS_MINUTES).max(WAITING_ROOM_MAX_PASS_MINUTES).default(WAITING_ROOM_DEFAULT_PASS_MINUTES),
});
export type WaitingRoomSettingsBody = z.infer<typeof WaitingRoomSettingsBody>;

/** A room's settings as they are stored, published (WaitingRoomChanged) and pushed live. */
export const WaitingRoomSettings = z.object({
  opensAt: IsoDateTime,
  admitPerMinute: z.number().int().min(WAITING_ROOM_MIN_ADMIT_PER_MINUTE).max(WAITING_ROOM_MAX_ADMIT_PER_MINUTE),
  passMinutes: z.number().int().min(WAITING_ROOM_MIN_PASS_MINUTES).max(WAITING_ROOM_MAX_PASS_MINUTES),
});
export type WaitingRoomSettings = z.infer<typeof WaitingRoomSettings>;

/** GET/PUT /waiting-rooms/:eventId. */
export const WaitingRoom = WaitingRoomSettings.extend({
  eventId: Id,
  /** Positions handed out so far. */
  joined: z.number().int().min(0),
  /** The highest position whose admitAt ≤ now; 0 before any. */
  admittedThrough: z.number().int().min(0),
  /** The event has no tickets left: nobody is told to wait for nothing. */
  soldOut: z.boolean(),
  /** The server's clock, so a client can correct its own. */
  now: IsoDateTime,
});
export type WaitingRoom = z.infer<typeof WaitingRoom>;

/** POST /waiting-rooms/:eventId/entries: 201 the first time, 200 with the same place when the caller already has one. */
export const QueueEntry = z.object({
  eventId: Id,
  /** 1-based, in join order. */
  position: z.number().int().min(1),
  admitAt: IsoDateTime,
  /** Bound to the caller and the event; exchange it at POST /waiting-rooms/:eventId/passes once admitAt has passed. */
  token: z.string(),
  admittedThrough: z.number().int().min(0),
  admitPerMinute: z.number().int(),
  soldOut: z.boolean(),
});
export type QueueEntry = z.infer<typeof QueueEntry>;

export const QueuePassBody = z.strictObject({ token: z.string().min(1).max(4096) });
export type QueuePassBody = z.infer<typeof QueuePassBody>;

/** POST /waiting-rooms/:eventId/passes: send `pass` as the QUEUE_PASS_HEADER header of POST /orders until expiresAt. */
export const QueuePass = z.object({ pass: z.string(), expiresAt: IsoDateTime });
export type QueuePass = z.infer<typeof QueuePass>;

/**
 * People ahead of an entry, as the web app shows it: the positions the bucket still has to let through before
 * `admitAt`, at the room's current rate (0 once admitted).
 */
export function peopleAhead(admitAtMs: number, nowMs: number, admitPerMinute: number): number {
  return Math.max(0, Math.ceil(((admitAtMs - nowMs) * admitPerMinute) / 60_000));
}
