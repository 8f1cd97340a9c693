import type { Message, WaitingRoomSettings } from '@dems/contracts';

/** A waiting room as stored: its settings and the head of its chain of places (the last one handed out). */
export interface StoredRoom {
  eventId: string;
  settings: WaitingRoomSettings;
  /** Positions handed out so far: the last position. */
  joined: number;
  /** The admission time (ms) of the last position; 0 before any. Fractional: the bucket's interval need not be whole ms. */
  lastAdmitAtMs: number;
}

/** One user's place in a room. */
export interface QueuePlace {
  position: number;
  admitAtMs: number;
  /** When the pass this place bought expires; null while it has bought none. */
  passExpiresAtMs: number | null;
}

export interface JoinResult {
  place: QueuePlace;
  /** False when the user already had a live place (the same one is returned). */
  created: boolean;
  /** The room as of this join (its head includes the place). */
  room: StoredRoom;
}

/** What a token's place gets when it asks for its pass. */
export type PassOutcome =
  | { kind: 'issued'; expiresAtMs: number }
  /** The place already had its pass window and it is over (or the user has since joined again). */
  | { kind: 'expired' }
  /** The user holds no such place (e.g. the token outlived a test database); treated as an invalid token. */
  | { kind: 'unknown' };

/**
 * Where waiting rooms live, beside ticketing's other state (its SQLite file or DynamoDB table), on a port of their
 * own so purchases and queueing evolve separately. Every change of a
 * room's settings enqueues WaitingRoomChanged in the same commit; a join updates the room's head and writes the
 * place atomically, so positions are unique and in join order under any concurrency, across replicas.
 */
export interface WaitingRoomStore {
  /** The organizer of ticketing's copy of the event; null when ticketing has no copy. */
  eventOrganizer(eventId: string): Promise<string | null>;
  /** The room of the event; null when the sale is not queued. */
  getRoom(eventId: string): Promise<StoredRoom | null>;
  /** Creates or changes the room (the head is kept: places already handed out stand), committing `changed` with it. */
  setRoom(eventId: string, settings: WaitingRoomSettings, changed: Message): Promise<StoredRoom>;
  /** Ends the queueing of the sale, committing `changed` with it; false (and nothing committed) when there was no room. */
  deleteRoom(eventId: string, changed: Message): Promise<boolean>;
  /**
   * The user's place as placeFor (bucket.ts) decides it from the room and the place the user holds, read and
   * written in one atomic step. A place whose pass has expired is spent: joining again queues the user anew.
   * Null when the event has no room.
   */
  join(eventId: string, userId: string, now: Date): Promise<JoinResult | null>;
  /**
   * The pass window of the user's place at `position`: opened now for `passMs` the first time, the same window
   * while it lasts, `expired` after (a place never gets a second window).
   */
  issuePass(eventId: string, userId: string, position: number, passMs: number, now: Date): Promise<PassOutcome>;
  /** Whether the user already bought with this Idempotency-Key (so a retry is a replay, whatever its pass). */
  hasPurchase(userId: string, idempotencyKey: string): Promise<boolean>;
  close(): Promise<void>;
}
