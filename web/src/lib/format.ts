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

/** "Sat, Jun 14, 2025, 7:30 PM WEST" — in the event's own time zone, which is where attendees will be. */
export function formatDateTime(iso: string, timeZone?: string): string {
  return new Intl.DateTimeFormat('en-US', {
    weekday: 'short',
    month: 'short',
    day: 'numeric',
    year: 'numeric',
    hour: 'numeric',
    minute: '2-digit',
    timeZone: safeZone(timeZone),
    timeZoneName: 'short',
  }).format(new Date(iso));
}

export function formatDate(iso: string, timeZone?: string): string {
  return new Intl.DateTimeFormat('en-US', { weekday: 'short', month: 'short', day: 'numeric', year: 'numeric', timeZone: safeZone(timeZone) }).format(new Date(iso));
}

export function formatTime(iso: string, timeZone?: string): string {
  return new Intl.DateTimeFormat('en-US', { hour: 'numeric', minute: '2-digit', timeZone: safeZone(timeZone), timeZoneName: 'short' }).format(new Date(iso));
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
function zoneOffset(utcMs: number, timeZone: string): number {
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
