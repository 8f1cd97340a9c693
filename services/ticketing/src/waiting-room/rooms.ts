import { newMessage, type QueueEntry, type QueuePass, type WaitingRoom, type WaitingRoomSettings, type WaitingRoomSettingsBody } from '@dems/contracts';
import { AppError, type AuthUser } from '@dems/kit';
import { admittedThrough } from './bucket.js';
import type { StoredRoom, WaitingRoomStore } from './store/waiting-room-store.js';
import type { QueueTokens } from './tokens.js';

export interface WaitingRoomsOptions {
  store: WaitingRoomStore;
  tokens: QueueTokens;
  /** Tickets left for the event over its ticket types; null when ticketing has no copy of it. */
  remaining: (eventId: string) => Promise<number | null>;
  /** WAITING_ROOM_ADMIT_PER_MINUTE: the rate of a room whose organizer gave none. */
  defaultAdmitPerMinute: number;
  /**
   * How long what this replica read of a room (settings, head, tickets left) is used before it is read again.
   * Its own writes update it at once; another replica's are seen within this window (1 s): a room set or deleted
   * elsewhere starts or stops gating purchases here up to that much later.
   */
  refreshMs?: number;
  clock?: () => number;
}

/**
 * Values read from the store, each used for `ttlMs` after it was read; one read at a time per key, shared by
 * whoever asks meanwhile.
 */
class ReadCache<T> {
  private readonly values = new Map<string, { value: T; at: number }>();
  private readonly reads = new Map<string, Promise<T>>();

  constructor(
    private readonly ttlMs: number,
    private readonly now: () => number,
  ) {}

  get(key: string, read: () => Promise<T>): Promise<T> {
    const hit = this.values.get(key);
    if (hit && this.now() - hit.at < this.ttlMs) return Promise.resolve(hit.value);
    let pending = this.reads.get(key);
    if (!pending) {
      const started = this.now();
      pending = read()
        .then((value) => {
          this.set(key, value, started);
          return value;
        })
        .finally(() => this.reads.delete(key));
      this.reads.set(key, pending);
    }
    return pending;
  }

  /** The value read less than ttlMs ago, if any (no promise: for the purchase path's common case). */
  fresh(key: string): { value: T } | undefined {
    const hit = this.values.get(key);
    return hit && this.now() - hit.at < this.ttlMs ? hit : undefined;
  }

  peek(key: string): T | undefined {
    return this.values.get(key)?.value;
  }

  set(key: string, value: T, at = this.now()): void {
    // A bound on memory, not an eviction policy: rooms are few; at worst everything is read once more.
    if (this.values.size >= 100_000) this.values.clear();
    this.values.set(key, { value, at });
  }
}

/**
 * The waiting room's rules over its store: who may queue a sale, places, passes, and the purchase gate. What it
 * reads of a room is kept in memory for `refreshMs`, so polling the room and gating purchases cost no storage read
 * each (one per room per window, shared by concurrent callers).
 */
export class WaitingRooms {
  private readonly rooms: ReadCache<StoredRoom | null>;
  private readonly soldOut: ReadCache<boolean>;
  private readonly now: () => number;

  constructor(private readonly opts: WaitingRoomsOptions) {
    this.now = opts.clock ?? Date.now;
    this.rooms = new ReadCache(opts.refreshMs ?? 1000, this.now);
    this.soldOut = new ReadCache(opts.refreshMs ?? 1000, this.now);
  }

  private remember(eventId: string, room: StoredRoom | null): void {
    this.rooms.set(eventId, room);
  }

  /** The room of the event as this replica knows it (at most refreshMs old); null when its sale is not queued. */
  room(eventId: string): Promise<StoredRoom | null> {
    return this.rooms.get(eventId, () => this.opts.store.getRoom(eventId));
  }

  private async requireRoom(eventId: string): Promise<StoredRoom> {
    const room = await this.room(eventId);
    if (!room) throw new AppError('WAITING_ROOM_NOT_FOUND', 'The sale of this event is not queued: there is no waiting room.');
    return room;
  }

  private isSoldOut(eventId: string): Promise<boolean> {
    return this.soldOut.get(eventId, async () => (await this.opts.remaining(eventId)) === 0);
  }

  private async view(room: StoredRoom): Promise<WaitingRoom> {
    const nowMs = this.now();
    return {
      eventId: room.eventId,
      ...room.settings,
      joined: room.joined,
      admittedThrough: admittedThrough({ ...room, nowMs, admitPerMinute: room.settings.admitPerMinute }),
      soldOut: await this.isSoldOut(room.eventId),
      now: new Date(nowMs).toISOString(),
    };
  }

  async get(eventId: string): Promise<WaitingRoom> {
    return this.view(await this.requireRoom(eventId));
  }

  private async requireOrganizer(user: AuthUser, eventId: string): Promise<void> {
    const organizer = await this.opts.store.eventOrganizer(eventId);
    if (organizer === null) throw new AppError('EVENT_NOT_FOUND', 'Ticketing knows no event with this id (yet).');
    if (user.role !== 'admin' && organizer !== user.id) throw new AppError('FORBIDDEN', "Only the event's organizer or an admin can queue its sale.");
  }

  async set(user: AuthUser, eventId: string, body: WaitingRoomSettingsBody): Promise<WaitingRoom> {
    await this.requireOrganizer(user, eventId);
    const settings: WaitingRoomSettings = {
      opensAt: body.opensAt,
      admitPerMinute: body.admitPerMinute ?? this.opts.defaultAdmitPerMinute,
      passMinutes: body.passMinutes,
    };
    const room = await this.opts.store.setRoom(eventId, settings, roomChanged(eventId, settings, new Date(this.now())));
    this.remember(eventId, room);
    return this.view(room);
  }

  async remove(user: AuthUser, eventId: string): Promise<void> {
    await this.requireOrganizer(user, eventId);
    const deleted = await this.opts.store.deleteRoom(eventId, roomChanged(eventId, null, new Date(this.now())));
    this.remember(eventId, null);
    if (!deleted) throw new AppError('WAITING_ROOM_NOT_FOUND', 'The sale of this event is not queued: there is no waiting room.');
  }

  async join(user: AuthUser, eventId: string): Promise<{ entry: QueueEntry; created: boolean }> {
    const joined = await this.opts.store.join(eventId, user.id, new Date(this.now()));
    if (!joined) {
      this.remember(eventId, null);
      throw new AppError('WAITING_ROOM_NOT_FOUND', 'The sale of this event is not queued: there is no waiting room.');
    }
    // The head only grows: keep the furthest one seen (concurrent joins resolve in any order).
    const known = this.rooms.peek(eventId);
    if (!known || joined.room.joined >= known.joined) this.remember(eventId, joined.room);
    const { place } = joined;
    const view = await this.view(joined.room);
    const token = await this.opts.tokens.token({ userId: user.id, eventId, position: place.position, admitAtMs: place.admitAtMs });
    return {
      created: joined.created,
      entry: {
        eventId,
        position: place.position,
        admitAt: new Date(Math.ceil(place.admitAtMs)).toISOString(),
        token,
        admittedThrough: view.admittedThrough,
        admitPerMinute: view.admitPerMinute,
        soldOut: view.soldOut,
      },
    };
  }

  async pass(user: AuthUser, eventId: string, token: string): Promise<QueuePass> {
    const room = await this.requireRoom(eventId);
    const claims = await this.opts.tokens.verifyToken(token, user.id, eventId);
    if (!claims) throw invalidToken();
    const nowMs = this.now();
    if (claims.admitAtMs > nowMs) {
      const seconds = Math.max(1, Math.ceil((claims.admitAtMs - nowMs) / 1000));
      throw new AppError('NOT_ADMITTED_YET', `Your place is admitted at ${new Date(claims.admitAtMs).toISOString()}; ask again then.`, {
        'retry-after': String(seconds),
      });
    }
    const outcome = await this.opts.store.issuePass(eventId, user.id, claims.position, room.settings.passMinutes * 60_000, new Date(nowMs));
    if (outcome.kind === 'unknown') throw invalidToken();
    if (outcome.kind === 'expired') throw new AppError('QUEUE_PASS_EXPIRED', 'The pass of this place has expired; join the waiting room again.');
    const pass = await this.opts.tokens.pass({ userId: user.id, eventId, expiresAtMs: outcome.expiresAtMs });
    return { pass, expiresAt: new Date(Math.floor(outcome.expiresAtMs / 1000) * 1000).toISOString() };
  }

  /**
   * The purchase gate: nothing for an event whose sale is not queued; before opening, SALE_NOT_OPEN_YET; after,
   * a valid pass of this user for this event. A refused request that retries a purchase already made (same
   * Idempotency-Key) goes through, so the retry replays: that one read is paid only by refused requests.
   * Undefined (no check to wait for) when this replica knows the sale is not queued.
   */
  admitPurchase(userId: string, eventId: string, pass: string | undefined, idempotencyKey: string): Promise<void> | undefined {
    // Most purchases are for events whose sale is not queued: known so, they pass without a promise.
    if (this.rooms.fresh(eventId)?.value === null) return undefined;
    return this.checkPurchase(userId, eventId, pass, idempotencyKey);
  }

  private async checkPurchase(userId: string, eventId: string, pass: string | undefined, idempotencyKey: string): Promise<void> {
    const room = await this.room(eventId);
    if (!room) return;
    const refusal = await this.refusal(room, userId, eventId, pass);
    if (refusal && !(await this.opts.store.hasPurchase(userId, idempotencyKey))) throw refusal;
  }

  private async refusal(room: StoredRoom, userId: string, eventId: string, pass: string | undefined): Promise<AppError | null> {
    const nowMs = this.now();
    if (Date.parse(room.settings.opensAt) > nowMs) {
      return new AppError('SALE_NOT_OPEN_YET', `The sale opens at ${room.settings.opensAt}; join the waiting room at /waiting-rooms/${eventId} meanwhile.`);
    }
    if (!pass) {
      return new AppError(
        'QUEUE_PASS_REQUIRED',
        `The sale of this event is queued: join the waiting room at /waiting-rooms/${eventId} and send its pass in the queue-pass header.`,
      );
    }
    if (!(await this.opts.tokens.verifyPass(pass, userId, eventId, nowMs))) {
      return new AppError('QUEUE_PASS_INVALID', 'This queue pass is not valid for you and this event, or it has expired; join the waiting room again.');
    }
    return null;
  }

  close(): Promise<void> {
    return this.opts.store.close();
  }
}

/** What a room's change tells events (which shows buyers that the sale is queued): the settings, or null once deleted. */
export const roomChanged = (eventId: string, room: WaitingRoomSettings | null, now: Date) => newMessage('ticketing', 'WaitingRoomChanged', { eventId, room }, now);

const invalidToken = () => new AppError('QUEUE_TOKEN_INVALID', 'This waiting-room token is not yours or not for this event; join the waiting room.');
