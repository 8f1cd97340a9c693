import { peopleAhead, type QueueEntry, type QueuePass } from '@dems/contracts';

/**
 * What a buyer's queue card shows, worked out from their own entry, the room's live settings and the server's
 * clock. Pure, so each state is tested without timers: the card calls it once a second.
 */
export type QueueView =
  | { kind: 'waiting'; position: number; ahead: number; admitAtMs: number; opensAtMs: number; beforeOpening: boolean }
  | { kind: 'admitting' }
  | { kind: 'admitted'; pass: string; expiresAtMs: number; leftMs: number }
  | { kind: 'expired' };

/** A buyer's place as this tab keeps it (sessionStorage): the entry and, once admitted, its pass. */
export interface QueuePlace {
  /** Whose place it is: another user signing in on this tab does not inherit it. */
  userId: string;
  entry: QueueEntry;
  pass?: QueuePass;
  /** The server said the pass window of this entry is over (QUEUE_PASS_EXPIRED) or refused its pass. */
  spent?: boolean;
}

export function queueView(place: QueuePlace, room: { opensAt: string; admitPerMinute: number }, nowMs: number): QueueView {
  if (place.spent) return { kind: 'expired' };
  if (place.pass) {
    const expiresAtMs = Date.parse(place.pass.expiresAt);
    const leftMs = expiresAtMs - nowMs;
    return leftMs > 0 ? { kind: 'admitted', pass: place.pass.pass, expiresAtMs, leftMs } : { kind: 'expired' };
  }
  const admitAtMs = Date.parse(place.entry.admitAt);
  if (admitAtMs <= nowMs) return { kind: 'admitting' };
  const opensAtMs = Date.parse(room.opensAt);
  const beforeOpening = nowMs < opensAtMs;
  // Before the sale opens nobody is let through, so the time until opening is not people: count from the opening.
  const ahead = peopleAhead(admitAtMs, Math.max(nowMs, opensAtMs), room.admitPerMinute);
  return { kind: 'waiting', position: place.entry.position, ahead, admitAtMs, opensAtMs, beforeOpening };
}

/** "4:07" for a countdown; hours when it is that long ("1:02:03"). Never negative. */
export function formatCountdown(ms: number): string {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}

/** "about 3 minutes", "less than a minute": how long until `ms` from now, for the estimate. */
export function formatWait(ms: number): string {
  if (ms < 60_000) return 'less than a minute';
  const minutes = Math.round(ms / 60_000);
  if (minutes < 90) return `about ${minutes} ${minutes === 1 ? 'minute' : 'minutes'}`;
  const hours = Math.round(minutes / 60);
  return `about ${hours} hours`;
}
