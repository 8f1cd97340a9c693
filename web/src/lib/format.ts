/** Money in minor units, e.g. 2500 USD → "$25.00"; a zero price reads "Free". */
export function formatMoney(cents: number, currency: string, { freeAsWord = true } = {}): string {
  if (cents === 0 && freeAsWord) return 'Free';
  try {
    return new Intl.NumberFormat('en-US', { style: 'currency', currency }).format(cents / 100);
  } catch {
    return `${(cents / 100).toFixed(2)} ${currency}`;
  }
}

/** "Free", "$25.00" or "$10.00 – $40.00" for a set of ticket prices. */
export function formatPriceRange(prices: { priceCents: number; currency: string }[]): string {
  if (prices.length === 0) return '';
  const sorted = [...prices].sort((a, b) => a.priceCents - b.priceCents);
  const low = sorted[0]!;
  const high = sorted[sorted.length - 1]!;
  if (low.priceCents === high.priceCents) return formatMoney(low.priceCents, low.currency);
  if (low.currency !== high.currency) return `from ${formatMoney(low.priceCents, low.currency)}`;
  return `${formatMoney(low.priceCents, low.currency, { freeAsWord: false })} – ${formatMoney(high.priceCents, high.currency)}`;
}

const safeZone = (timeZone?: string) => {
  if (!timeZone) return undefined;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
    return timeZone;
  } catch {
    return undefined;
  }
};

/** Intl formatters are costly to build and a list formats many times: one per zone and set of options. */
const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(timeZone: string | undefined, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = `${timeZone ?? ''} ${JSON.stringify(options)}`;
  let f = formatters.get(key);
  if (!f) formatters.set(key, (f = new Intl.DateTimeFormat('en-US', { ...options, timeZone })));
  return f;
}

/** An instant as a clock in one zone shows it, in pieces: "Tue, Dec 15" of "2030", "9:00 PM", "PST". */
interface WallClock {
  date: string;
  year: string;
  time: string;
  zone: string;
}

/**
 * `iso` on the wall clock of `timeZone` (the browser's own zone when none, or an unknown one, is given). Put together
 * from parts rather than taken whole, so every page, and Node and every browser alike, join them the same way.
 */
function wallClock(iso: string | number, timeZone?: string): WallClock {
  const parts = formatter(safeZone(timeZone), {
    weekday: 'short',
    month: 'short',
    day: 'numeric',
    year: 'numeric',
    hour: 'numeric',
    minute: '2-digit',
    timeZoneName: 'short',
  }).formatToParts(new Date(iso));
  const part = (type: Intl.DateTimeFormatPartTypes) => parts.find((p) => p.type === type)?.value ?? '';
  return {
    date: `${part('weekday')}, ${part('month')} ${part('day')}`,
    year: part('year'),
    time: `${part('hour')}:${part('minute')} ${part('dayPeriod')}`,
    // The locale's short name where it has one ("PST", "EDT"), else the offset ("GMT+1", "GMT+5:30").
    zone: part('timeZoneName'),
  };
}

/** "Tue, Dec 15", with the year only when it is not `shownYear` (this year, or the start's for an end). */
const dayOf = (clock: WallClock, shownYear: string) => (clock.year === shownYear ? clock.date : `${clock.date}, ${clock.year}`);

/** What an event's times are read with: its start, end and IANA time zone. */
export interface EventTimes {
  startsAt: string;
  endsAt: string;
  timezone: string;
}

/**
 * When an event happens, on its own zone's clock (where attendees will be) and naming that zone, the same on
 * every page: "Tue, Dec 15, 5:00 PM – 9:00 PM PST"; the end's day too when it ends on another day
 * ("Tue, Dec 15, 9:00 PM – Wed, Dec 16, 2:00 AM PST"); and both zone names when the clocks change during the
 * event ("Sun, Nov 3, 1:00 AM PDT – 3:00 AM PST"), since one name would then be wrong for one of the times.
 */
export function formatEventTime(event: EventTimes, now = Date.now()): string {
  const start = wallClock(event.startsAt, event.timezone);
  const end = wallClock(event.endsAt, event.timezone);
  const thisYear = wallClock(now, event.timezone).year;
  const sameDay = start.date === end.date && start.year === end.year;
  const from = `${dayOf(start, thisYear)}, ${start.time}`;
  // The end's year is said only when it is not the start's: "Dec 31, 2030, 9:00 PM – Jan 1, 2031, 4:00 AM".
  const to = sameDay ? end.time : `${dayOf(end, start.year)}, ${end.time}`;
  return start.zone === end.zone ? `${from} – ${to} ${end.zone}` : `${from} ${start.zone} – ${to} ${end.zone}`;
}

/**
 * One instant with its zone named: "Sat, Jun 14, 7:30 PM GMT+1". Pass the event's zone for times of an event (a sale
 * opening); leave it out for times that are the reader's own (when a notification arrived, when someone registered).
 */
export function formatDateTime(iso: string, timeZone?: string, now = Date.now()): string {
  const clock = wallClock(iso, timeZone);
  return `${dayOf(clock, wallClock(now, timeZone).year)}, ${clock.time} ${clock.zone}`;
}

/** The zone's name at that instant, as the other functions here show it: "PDT", "GMT+5:30". */
export function zoneNameAt(utcMs: number, timeZone: string): string {
  return wallClock(utcMs, timeZone).zone;
}

/** A time of day with its zone named: "7:30 PM PST". */
export function formatTime(iso: string, timeZone?: string): string {
  const clock = wallClock(iso, timeZone);
  return `${clock.time} ${clock.zone}`;
}

/** Month and day for the date chip on a card: { month: "JUN", day: "14" }. */
export function dateChip(iso: string, timeZone?: string): { month: string; day: string } {
  const parts = new Intl.DateTimeFormat('en-US', { month: 'short', day: 'numeric', timeZone: safeZone(timeZone) }).formatToParts(new Date(iso));
  return {
    month: (parts.find((p) => p.type === 'month')?.value ?? '').toUpperCase(),
    day: parts.find((p) => p.type === 'day')?.value ?? '',
  };
}

/** "2 hours ago", "just now" — for notifications. */
export function formatRelative(iso: string, now = Date.now()): string {
  const seconds = Math.round((Date.parse(iso) - now) / 1000);
  const abs = Math.abs(seconds);
  const rtf = new Intl.RelativeTimeFormat('en-US', { numeric: 'auto' });
  if (abs < 45) return 'just now';
  if (abs < 3600) return rtf.format(Math.round(seconds / 60), 'minute');
  if (abs < 86_400) return rtf.format(Math.round(seconds / 3600), 'hour');
  return rtf.format(Math.round(seconds / 86_400), 'day');
}

/** Offset of `timeZone` from UTC at `utcMs`, in ms (positive east of Greenwich). */
export function zoneOffset(utcMs: number, timeZone: string): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(new Date(utcMs));
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  const asUtc = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  return asUtc - Math.floor(utcMs / 1000) * 1000;
}

/**
 * A wall-clock time typed into a datetime-local input ("2025-06-14T19:30"), read in the event's time zone,
 * as a UTC ISO string; null when the input is empty or not a time.
 */
export function zonedInputToIso(local: string, timeZone: string): string | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})$/.exec(local);
  if (!m) return null;
  const wall = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]));
  const zone = safeZone(timeZone) ?? 'UTC';
  // Two passes settle the offset on either side of a daylight-saving change.
  let utc = wall - zoneOffset(wall, zone);
  utc = wall - zoneOffset(utc, zone);
  return new Date(utc).toISOString();
}

/** The inverse: a UTC instant as the wall-clock value a datetime-local input shows in `timeZone`. */
export function isoToZonedInput(iso: string, timeZone: string): string {
  const zone = safeZone(timeZone) ?? 'UTC';
  const utc = Date.parse(iso);
  const wall = new Date(utc + zoneOffset(utc, zone));
  return wall.toISOString().slice(0, 16);
}
