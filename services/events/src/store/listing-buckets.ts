import type { EventCursor } from './events-store.js';

/**
 * How the DynamoDB listing keys published events so that "upcoming" is a range of keys, not a filter over every
 * event ever published (docs/dynamodb.md). An event is filed under the month it starts in (`YYYY-MM`, UTC); one
 * longer than MONTH_BUCKET_MAX_DAYS goes to the LONG_BUCKET instead, which every listing also reads. So an event
 * still running at `from` started after `from − MONTH_BUCKET_MAX_DAYS` or is in the long bucket, and a listing
 * reads month buckets from that instant on, in key order, and never the months before.
 */

/** The longest an event filed by its start month may last; longer ones are few and kept apart. */
export const MONTH_BUCKET_MAX_DAYS = 31;
const MAX_MS = MONTH_BUCKET_MAX_DAYS * 24 * 3600 * 1000;
export const LONG_BUCKET = 'long';

/** The listing bucket of an event: its start month, or LONG_BUCKET when it lasts more than MONTH_BUCKET_MAX_DAYS. */
export function listingBucket(event: { startsAt: string; endsAt: string }): string {
  return Date.parse(event.endsAt) - Date.parse(event.startsAt) > MAX_MS ? LONG_BUCKET : monthOf(event.startsAt);
}

/** `YYYY-MM` of a stored (UTC ISO) instant; also the prefix of every StartKey that starts in that month. */
export const monthOf = (iso: string): string => iso.slice(0, 7);

/** The sort key of the listing indexes: start instant, then id ('#' sorts before every id character). */
export const startKey = (startsAt: string, id: string): string => `${startsAt}#${id}`;

/**
 * Where an upcoming listing starts reading (exclusive): after the cursor, and never before the earliest start of
 * a month-bucketed event that is not over at `from`.
 */
export function lowerKey(from: string, after?: EventCursor): string {
  const earliest = new Date(Date.parse(from) - MAX_MS).toISOString();
  const cursor = after ? startKey(after.startsAt, after.id) : '';
  return cursor > earliest ? cursor : earliest;
}

/** The upper end of the key range (inclusive): every event starting at or before `to`; '~' sorts after every id. */
export const upperKey = (to?: string): string => (to ? `${to}#~` : '~');

/** The month buckets a listing reads, in order: those that ever had a published event, from `lower`'s month to `to`'s. */
export function monthsToRead(months: Iterable<string>, lower: string, to?: string): string[] {
  const first = monthOf(lower);
  const last = to ? monthOf(to) : undefined;
  return [...months].filter((m) => m >= first && (last === undefined || m <= last)).sort();
}

/** A key just after every event of `month` and at or before every event of the months after it. */
export function endOfMonthKey(month: string): string {
  const [year, mm] = month.split('-').map(Number) as [number, number];
  return new Date(Date.UTC(year, mm, 1)).toISOString();
}

/**
 * The page cursor at a key: an item's own key `startsAt#id`, or a bare instant (a boundary that is no item's key),
 * which becomes id '0' — it sorts before every real id, so the next page starts with events at that instant.
 */
export function cursorAt(key: string): EventCursor {
  const [startsAt = key, id = '0'] = key.split('#');
  return { startsAt, id };
}

/** What one key-ordered read brought: the matching items, and how far it read when it stopped short (null: to the end). */
export interface StreamRead<T> {
  items: T[];
  /** Every item with a key at or below this one was read; null when the stream was read to its end. */
  readUpTo: string | null;
}

/**
 * Merges key-ordered reads of several streams into one page of at most `limit` items. Only items up to the lowest
 * `readUpTo` are certain to have no unread item before them, so the page ends there: `next` is the last item when
 * the page is full, else that boundary, else null (every stream read to its end).
 */
export function mergePage<T>(reads: StreamRead<T>[], limit: number, keyOf: (item: T) => string): { items: T[]; next: string | null } {
  const bounds = reads.map((r) => r.readUpTo).filter((b): b is string => b !== null);
  const boundary = bounds.length ? bounds.reduce((a, b) => (b < a ? b : a)) : null;
  const candidates = reads
    .flatMap((r) => r.items)
    .filter((i) => boundary === null || keyOf(i) <= boundary)
    .sort((a, b) => (keyOf(a) < keyOf(b) ? -1 : keyOf(a) > keyOf(b) ? 1 : 0));
  const items = candidates.slice(0, limit);
  const last = items.at(-1);
  if (candidates.length > limit && last) return { items, next: keyOf(last) };
  return { items, next: boundary };
}
