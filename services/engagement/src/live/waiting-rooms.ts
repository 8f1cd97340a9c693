import { WaitingRoom, type Message, type WaitingRoomSettings } from '@dems/contracts';

export type WaitingRoomSink = (eventId: string, room: WaitingRoomSettings | null) => void;

/** Reads a room from ticketing (GET /waiting-rooms/:eventId): its settings, null when not queued, undefined when unknown. */
export type WaitingRoomLookup = (eventId: string) => Promise<WaitingRoomSettings | null | undefined>;

/** How long a room learned by asking ticketing is trusted: a change another replica received is seen within it. */
const LOOKED_UP_TTL_MS = 10_000;
/** Rooms remembered at most; beyond, the map starts over (each is learned again on the next watch). */
const MAX_ROOMS = 10_000;

interface Known {
  room: WaitingRoomSettings | null;
  /** The WaitingRoomChanged it came from (ms); a message older than what is known changes nothing. */
  occurredAtMs: number;
  /** When it stops being trusted (looked-up entries only). */
  expiresAtMs: number;
}

/**
 * The latest settings of each waiting room, for the sockets watching it (live/socket-io.ts). Learned from the
 * WaitingRoomChanged messages ticketing publishes (kept by occurrence, so a late redelivery never rolls a room
 * back), and, for a room this replica has not heard of (another replica took its message, or it restarted), asked
 * of ticketing once and trusted for LOOKED_UP_TTL_MS. Memory only: ticketing owns the rooms.
 */
export class LiveWaitingRooms {
  private readonly known = new Map<string, Known>();
  private readonly sinks = new Set<WaitingRoomSink>();

  constructor(
    private readonly lookup?: WaitingRoomLookup,
    private readonly clock: () => number = Date.now,
  ) {}

  subscribe(sink: WaitingRoomSink): () => void {
    this.sinks.add(sink);
    return () => this.sinks.delete(sink);
  }

  /** A WaitingRoomChanged arrived: remember it and push it to the room's watchers, unless a newer one is known. */
  changed(message: Message<'WaitingRoomChanged'>): void {
    const { eventId, room } = message.data;
    const occurredAtMs = Date.parse(message.occurredAt);
    const held = this.known.get(eventId);
    if (held && held.occurredAtMs > occurredAtMs) return;
    this.remember(eventId, { room, occurredAtMs, expiresAtMs: Infinity });
    for (const sink of this.sinks) {
      try {
        sink(eventId, room);
      } catch {
        // A push that fails loses nothing: watchers also re-read the room every few seconds.
      }
    }
  }

  /** The room's settings (null: not queued), or undefined when neither a message nor ticketing could tell. */
  async current(eventId: string): Promise<WaitingRoomSettings | null | undefined> {
    const held = this.known.get(eventId);
    if (held && held.expiresAtMs > this.clock()) return held.room;
    const room = await this.lookup?.(eventId).catch(() => undefined);
    if (room === undefined) return held?.room;
    // A message that came in meanwhile is newer than this answer.
    const now = this.known.get(eventId);
    if (now && now !== held) return now.room;
    this.remember(eventId, { room, occurredAtMs: 0, expiresAtMs: this.clock() + LOOKED_UP_TTL_MS });
    return room;
  }

  private remember(eventId: string, known: Known): void {
    if (this.known.size >= MAX_ROOMS && !this.known.has(eventId)) this.known.clear();
    this.known.set(eventId, known);
  }
}

/** Asks ticketing (through its internal address) for a room: the public GET, so no secret is involved. */
export function ticketingLookup(ticketingUrl: string, fetchImpl: typeof fetch = fetch): WaitingRoomLookup {
  return async (eventId) => {
    const res = await fetchImpl(`${ticketingUrl.replace(/\/$/, '')}/waiting-rooms/${encodeURIComponent(eventId)}`, { signal: AbortSignal.timeout(2000) });
    if (res.status === 404) return null;
    if (!res.ok) return undefined;
    const { opensAt, admitPerMinute, passMinutes } = WaitingRoom.parse(await res.json());
    return { opensAt, admitPerMinute, passMinutes };
  };
}
