import { CreateEventBody, endsAfterStart, UpdateEventBody, type Event } from '@dems/contracts';
import type { z } from 'zod';
import { isoToZonedInput, zonedInputToIso } from '@/lib/format';
import { issuesByPath } from '@/lib/zod-errors';

/** A ticket type row as typed: strings until validated; `id` only for types that already exist. */
export interface TicketTypeDraft {
  key: string;
  id?: string;
  name: string;
  price: string;
  currency: string;
  capacity: string;
}

export interface EventDraft {
  title: string;
  description: string;
  venue: string;
  timezone: string;
  startsAt: string;
  endsAt: string;
  registrationLimit: string;
  ticketTypes: TicketTypeDraft[];
}

let keySeq = 0;
export const newTicketType = (over: Partial<TicketTypeDraft> = {}): TicketTypeDraft => ({
  key: `tt-${++keySeq}`,
  name: '',
  price: '',
  currency: 'USD',
  capacity: '',
  ...over,
});

export function emptyDraft(timezone = Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC'): EventDraft {
  return { title: '', description: '', venue: '', timezone, startsAt: '', endsAt: '', registrationLimit: '', ticketTypes: [newTicketType({ name: 'General admission' })] };
}

export function draftFromEvent(e: Event): EventDraft {
  return {
    title: e.title,
    description: e.description,
    venue: e.venue,
    timezone: e.timezone,
    startsAt: isoToZonedInput(e.startsAt, e.timezone),
    endsAt: isoToZonedInput(e.endsAt, e.timezone),
    registrationLimit: e.registrationLimit === null ? '' : String(e.registrationLimit),
    ticketTypes: e.ticketTypes.map((t) => newTicketType({ id: t.id, name: t.name, price: (t.priceCents / 100).toFixed(2), currency: t.currency, capacity: String(t.capacity) })),
  };
}

/** "12.50" → 1250; anything that is not a plain amount becomes NaN, which the schema rejects. */
const toCents = (price: string) => (/^\s*\d+(\.\d{1,2})?\s*$/.test(price) ? Math.round(Number(price) * 100) : Number.NaN);
const toInt = (s: string) => (/^\s*\d+\s*$/.test(s) ? Number(s) : Number.NaN);

/** Plain sentences per field; the rules themselves are the shared zod schemas. */
function friendly(issue: z.core.$ZodIssue, path: string): string {
  const field = path.split('.').pop() ?? '';
  if (field === 'endsAt' && issue.code === 'custom') return 'The event must end after it starts.';
  switch (field) {
    case 'title':
      return issue.code === 'too_big' ? 'Keep the title under 200 characters.' : 'Give your event a title.';
    case 'venue':
      return issue.code === 'too_big' ? 'Keep the venue under 200 characters.' : 'Say where it takes place.';
    case 'description':
      return 'Keep the description under 5,000 characters.';
    case 'timezone':
      return 'Choose a time zone from the list.';
    case 'startsAt':
      return 'Choose when the event starts.';
    case 'endsAt':
      return 'Choose when the event ends.';
    case 'registrationLimit':
      return 'Leave empty for no limit, or enter a whole number of at least 1.';
    case 'ticketTypes':
      return 'Add at least one ticket type.';
    case 'name':
      return 'Name this ticket type.';
    case 'priceCents':
      return 'Enter a price such as 0, 15 or 12.50.';
    case 'currency':
      return 'Use a three-letter code such as USD.';
    case 'capacity':
      return 'Enter how many tickets, at least 1.';
    default:
      return issue.message;
  }
}

export type ValidationResult<T> = { ok: true; body: T } | { ok: false; errors: Record<string, string> };

function commonBody(d: EventDraft) {
  return {
    title: d.title,
    description: d.description,
    venue: d.venue,
    timezone: d.timezone,
    startsAt: zonedInputToIso(d.startsAt, d.timezone) ?? '',
    endsAt: zonedInputToIso(d.endsAt, d.timezone) ?? '',
    registrationLimit: d.registrationLimit.trim() === '' ? null : toInt(d.registrationLimit),
  };
}

function ticketTypesBody(d: EventDraft) {
  return d.ticketTypes.map((t) => ({
    ...(t.id ? { id: t.id } : {}),
    name: t.name,
    priceCents: toCents(t.price),
    currency: t.currency.trim().toUpperCase(),
    capacity: toInt(t.capacity),
  }));
}

/**
 * zod runs an object's refinements only once its fields parse, so "ends before it starts" would show up
 * only after every other fix; checking the order up front shows all problems at once.
 */
function withOrderError(errors: Record<string, string>, body: { startsAt: string; endsAt: string }): Record<string, string> {
  if (!errors.endsAt && body.startsAt && body.endsAt && !endsAfterStart(body)) {
    return { ...errors, endsAt: 'The event must end after it starts.' };
  }
  return errors;
}

/** Validates the form with the very schema the events service uses for POST /events. */
export function validateCreate(d: EventDraft): ValidationResult<CreateEventBody> {
  const common = commonBody(d);
  const parsed = CreateEventBody.safeParse({
    ...common,
    ticketTypes: ticketTypesBody(d).map(({ name, priceCents, currency, capacity }) => ({ name, priceCents, currency, capacity })),
  });
  return parsed.success ? { ok: true, body: parsed.data } : { ok: false, errors: withOrderError(issuesByPath(parsed.error, friendly), common) };
}

/** Validates with the PATCH schema and sends only what changed. */
export function validateUpdate(d: EventDraft, original: Event): ValidationResult<UpdateEventBody> {
  const full = { ...commonBody(d), ticketTypes: ticketTypesBody(d) };
  const check = UpdateEventBody.safeParse(full);
  if (!check.success) return { ok: false, errors: withOrderError(issuesByPath(check.error, friendly), full) };
  const body: Record<string, unknown> = {};
  const same = (a: string, b: string) => Date.parse(a) === Date.parse(b);
  if (full.title.trim() !== original.title) body.title = full.title;
  if (full.description !== original.description) body.description = full.description;
  if (full.venue.trim() !== original.venue) body.venue = full.venue;
  if (full.timezone !== original.timezone) body.timezone = full.timezone;
  if (!same(full.startsAt, original.startsAt)) body.startsAt = full.startsAt;
  if (!same(full.endsAt, original.endsAt)) body.endsAt = full.endsAt;
  if (full.registrationLimit !== original.registrationLimit) body.registrationLimit = full.registrationLimit;
  const typesChanged = full.ticketTypes.some((t) => {
    if (!('id' in t)) return true;
    const o = original.ticketTypes.find((x) => x.id === t.id);
    return !o || o.name !== t.name.trim() || o.priceCents !== t.priceCents || o.currency !== t.currency || o.capacity !== t.capacity;
  });
  if (typesChanged) body.ticketTypes = full.ticketTypes;
  if (Object.keys(body).length === 0) return { ok: false, errors: { form: 'Nothing has changed yet.' } };
  const parsed = UpdateEventBody.safeParse(body);
  return parsed.success ? { ok: true, body: parsed.data } : { ok: false, errors: issuesByPath(parsed.error, friendly) };
}

/** "America/New_York" as people read it: "America/New York". */
export const zoneLabel = (zone: string) => zone.replace(/_/g, ' ');

/** What changing the zone from `from` to `to` means for a time typed as `local` ("2099-07-14T19:00") in `from`. */
export interface ZoneChangeEffect {
  /** Keeping the typed wall-clock time in the new zone moves the event by this much (positive: later). */
  movesByMinutes: number;
  /** Keeping the moment instead shows it as this wall-clock time in the new zone. */
  sameMoment: string;
}

/** Null when there is no readable time, or when both readings are the same instant (zones with the same offset then). */
export function zoneChangeEffect(local: string, from: string, to: string): ZoneChangeEffect | null {
  const asTyped = zonedInputToIso(local, from);
  const inNewZone = zonedInputToIso(local, to);
  if (asTyped === null || inNewZone === null) return null;
  const movesByMinutes = (Date.parse(inNewZone) - Date.parse(asTyped)) / 60_000;
  return movesByMinutes === 0 ? null : { movesByMinutes, sameMoment: isoToZonedInput(asTyped, to) };
}

/** Start and end typed in `from`, rewritten to show the same instants in `to`; an empty or unreadable value is kept. */
export function sameMomentsIn(d: Pick<EventDraft, 'startsAt' | 'endsAt'>, from: string, to: string): Pick<EventDraft, 'startsAt' | 'endsAt'> {
  const convert = (local: string) => zoneChangeEffect(local, from, to)?.sameMoment ?? local;
  return { startsAt: convert(d.startsAt), endsAt: convert(d.endsAt) };
}

/** Every IANA zone the browser knows, with the current one first-class in the list. */
export function timeZones(): string[] {
  try {
    return Intl.supportedValuesOf('timeZone');
  } catch {
    return ['UTC'];
  }
}
