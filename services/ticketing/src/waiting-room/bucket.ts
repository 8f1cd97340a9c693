/**
 * The leaky bucket that fixes each place's admission time when it joins, so no timer has to run:
 * `admitAt(n) = max(joinedAt(n), opensAt, admitAt(n-1) + 60000 / admitPerMinute)`.
 */
export function nextAdmitAt(opts: { lastAdmitAtMs: number; joined: number; joinedAtMs: number; opensAtMs: number; admitPerMinute: number }): number {
  const spaced = opts.joined === 0 ? 0 : opts.lastAdmitAtMs + 60_000 / opts.admitPerMinute;
  return Math.max(opts.joinedAtMs, opts.opensAtMs, spaced);
}

/**
 * The highest position admitted by `nowMs` (0 before any), from the head alone. The places not yet admitted are
 * the tail of the chain, spaced by the bucket's interval (a place can only be later than its join time through the
 * spacing or the opening), so counting intervals back from the last one is exact while the rate holds.
 */
export function admittedThrough(opts: { joined: number; lastAdmitAtMs: number; nowMs: number; admitPerMinute: number }): number {
  if (opts.joined === 0) return 0;
  if (opts.lastAdmitAtMs <= opts.nowMs) return opts.joined;
  const waiting = Math.ceil(((opts.lastAdmitAtMs - opts.nowMs) * opts.admitPerMinute) / 60_000 - 1e-9);
  return Math.max(0, opts.joined - waiting);
}

/** A place whose pass has run out is spent: its holder may queue again, and its token buys nothing more. */
export const isSpent = (place: { passExpiresAtMs: number | null }, nowMs: number): boolean => place.passExpiresAtMs !== null && place.passExpiresAtMs <= nowMs;

interface Place {
  position: number;
  admitAtMs: number;
  passExpiresAtMs: number | null;
}

interface Head {
  settings: { opensAt: string; admitPerMinute: number };
  joined: number;
  lastAdmitAtMs: number;
}

/**
 * Who joins at `nowMs` keeps the live place they hold (created false), or gets a new one at the end of the chain
 * (created true: the next position, its admission time by the bucket, no pass yet). The store writes a new place
 * and the room's new head together, conditioned on the head it read.
 */
export function placeFor<R extends Head>(room: R, held: Place | null | undefined, nowMs: number): { place: Place; created: boolean; room: R } {
  if (held && !isSpent(held, nowMs)) return { place: held, created: false, room };
  const place: Place = {
    position: room.joined + 1,
    admitAtMs: nextAdmitAt({ ...room, joinedAtMs: nowMs, opensAtMs: Date.parse(room.settings.opensAt), admitPerMinute: room.settings.admitPerMinute }),
    passExpiresAtMs: null,
  };
  return { place, created: true, room: { ...room, joined: place.position, lastAdmitAtMs: place.admitAtMs } };
}
