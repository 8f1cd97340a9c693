import { isValidTimeZone } from '@dems/contracts';
import { isoToZonedInput, zoneNameAt, zoneOffset } from './format';

/** What a calendar entry needs from an event. */
export interface CalendarEvent {
  id: string;
  title: string;
  description: string;
  venue: string;
  startsAt: string;
  endsAt: string;
  /** The event's IANA zone: the entry keeps it, so calendars show it and know where the event happens. */
  timezone: string;
}

const stamp = (iso: string) =>
  new Date(iso)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');

/** RFC 5545 text escaping: backslash, semicolon, comma and newlines. */
const escapeText = (s: string) => s.replace(/\\/g, '\\\\').replace(/;/g, '\\;').replace(/,/g, '\\,').replace(/\r?\n/g, '\\n');

/** Lines longer than 75 octets must be folded (continuation lines start with a space). */
function fold(line: string): string {
  const out: string[] = [];
  let rest = line;
  while (rest.length > 73) {
    out.push(rest.slice(0, 73));
    rest = ` ${rest.slice(73)}`;
  }
  out.push(rest);
  return out.join('\r\n');
}

/** "20301215T170000": the instant on the wall clock of `timeZone`, for a DTSTART;TZID=… */
const localStamp = (iso: string, timeZone: string) => `${isoToZonedInput(iso, timeZone).replace(/[-:]/g, '')}00`;

/** An offset in ms as iCalendar writes it: "-0800", "+0530". */
function offsetText(ms: number): string {
  const minutes = Math.abs(ms) / 60_000;
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${ms < 0 ? '-' : '+'}${pad(Math.floor(minutes / 60))}${pad(minutes % 60)}`;
}

/** The first instant in (fromMs, toMs] whose offset differs from fromMs's (the caller knows toMs's does), by bisection. */
function nextTransition(fromMs: number, toMs: number, timeZone: string): number {
  const before = zoneOffset(fromMs, timeZone);
  let lo = fromMs;
  let hi = toMs;
  while (hi - lo > 1) {
    const mid = lo + Math.floor((hi - lo) / 2);
    if (zoneOffset(mid, timeZone) === before) lo = mid;
    else hi = mid;
  }
  return hi;
}

/**
 * The VTIMEZONE that a TZID must come with (RFC 5545 3.6.5): the zone's offset from the event's start on, and, when
 * the clocks change before it ends, that change. Only the event's own times need it, so no yearly rules: each
 * calendar that knows the IANA name uses its own; the others read these offsets, which are right for this event.
 */
function vtimezone(event: CalendarEvent): string[] {
  const startMs = Date.parse(event.startsAt);
  const endMs = Date.parse(event.endsAt);
  const atStart = zoneOffset(startMs, event.timezone);
  const observance = (onset: string, from: number, atMs: number) => {
    const to = zoneOffset(atMs, event.timezone);
    return ['BEGIN:STANDARD', `DTSTART:${onset}`, `TZOFFSETFROM:${offsetText(from)}`, `TZOFFSETTO:${offsetText(to)}`, `TZNAME:${zoneNameAt(atMs, event.timezone)}`, 'END:STANDARD'];
  };
  const lines = ['BEGIN:VTIMEZONE', `TZID:${event.timezone}`, ...observance('19700101T000000', atStart, startMs)];
  if (zoneOffset(endMs, event.timezone) !== atStart) {
    const change = nextTransition(startMs, endMs, event.timezone);
    // An onset is written on the clock as it was just before the change.
    lines.push(...observance(stamp(new Date(change + atStart).toISOString()).replace(/Z$/, ''), atStart, change));
  }
  return [...lines, 'END:VTIMEZONE'];
}

/**
 * An .ics file with one VEVENT at the event's own wall-clock times in its zone (TZID), so a calendar shows where
 * and in which zone it happens, and converts it to the reader's zone like any other entry. An event whose zone
 * this browser does not know is written in UTC, which every calendar reads.
 */
export function toIcs(event: CalendarEvent, now = new Date()): string {
  const zoned = isValidTimeZone(event.timezone);
  const when = (name: string, iso: string) => (zoned ? `${name};TZID=${event.timezone}:${localStamp(iso, event.timezone)}` : `${name}:${stamp(iso)}`);
  const lines = [
    'BEGIN:VCALENDAR',
    'VERSION:2.0',
    'PRODID:-//DEMS//Events//EN',
    'CALSCALE:GREGORIAN',
    ...(zoned ? vtimezone(event) : []),
    'BEGIN:VEVENT',
    `UID:${event.id}@dems`,
    `DTSTAMP:${stamp(now.toISOString())}`,
    when('DTSTART', event.startsAt),
    when('DTEND', event.endsAt),
    `SUMMARY:${escapeText(event.title)}`,
    `LOCATION:${escapeText(event.venue)}`,
    `DESCRIPTION:${escapeText(event.description)}`,
    'END:VEVENT',
    'END:VCALENDAR',
  ];
  return `${lines.map(fold).join('\r\n')}\r\n`;
}

/** Starts a download of the event's .ics file. */
export function downloadIcs(event: CalendarEvent): void {
  const blob = new Blob([toIcs(event)], { type: 'text/calendar;charset=utf-8' });
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = `${
    event.title
      .replace(/[^\w-]+/g, '-')
      .replace(/^-|-$/g, '')
      .toLowerCase() || 'event'
  }.ics`;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
