import { AppError, newId, type AuthUser } from '@dems/kit';
import { endsAfterStart, hasEnded, type CreateEventBody, type EventSnapshot, type TicketType, type UpdateEventBody } from '@dems/contracts';
import type { EventRecord } from './banner.js';

/** The most ticket types one event may have, after any number of PATCHes. */
export const MAX_TICKET_TYPES = 20;

/**
 * A new published event from a create request; refuses an event that is already over. Times arrive in UTC
 * (DateTimeInput in the contracts normalises them), so string order is time order in every store.
 */
export function buildNewEvent(body: CreateEventBody, organizerId: string, now: Date): EventRecord {
  const { startsAt, endsAt } = body;
  assertEndsAfterStart(body);
  if (hasEnded(body, now)) {
    throw new AppError('VALIDATION_FAILED', 'body.endsAt: this event would already be over; choose an end time in the future.');
  }
  const at = now.toISOString();
  return {
    id: newId('evt_'),
    organizerId,
    title: body.title,
    description: body.description,
    venue: body.venue,
    timezone: body.timezone,
    startsAt,
    endsAt,
    status: 'published',
    registrationLimit: body.registrationLimit ?? null,
    registrationCount: 0,
    ticketTypes: body.ticketTypes.map((t) => ({ id: newId('tt_'), name: t.name, priceCents: t.priceCents, currency: t.currency, capacity: t.capacity })),
    banner: [],
    createdAt: at,
    updatedAt: at,
  };
}

/** Only the event's organizer, or an admin, may change or cancel it. */
export function assertCanManage(event: EventRecord, user: AuthUser): void {
  if (user.role === 'admin') return;
  if (user.role === 'organizer' && event.organizerId === user.id) return;
  throw new AppError('FORBIDDEN', 'Only the organizer of this event can do this.');
}

export function toSnapshot(event: EventRecord, version: number): EventSnapshot {
  return {
    id: event.id,
    organizerId: event.organizerId,
    title: event.title,
    venue: event.venue,
    timezone: event.timezone,
    startsAt: event.startsAt,
    endsAt: event.endsAt,
    status: event.status,
    ticketTypes: event.ticketTypes,
    version,
  };
}

export interface PlannedUpdate {
  event: EventRecord;
  /** Names of the fields that changed, in a stable order; empty for a no-op PATCH. */
  changes: string[];
}

const SIMPLE_FIELDS = ['title', 'description', 'venue', 'timezone', 'startsAt', 'endsAt', 'registrationLimit'] as const;

/**
 * Merges a PATCH into the current event and checks every rule that needs the merged result: end after start,
 * limit not below current registrations. Capacity against sales is ticketing's rule (it owns the sales):
 * the use case asks ticketing to confirm the capacities this plan changes (`capacityChanges`).
 */
export function planEventUpdate(current: EventRecord, patch: UpdateEventBody, now: Date): PlannedUpdate {
  if (current.status === 'cancelled') throw new AppError('EVENT_CANCELLED', 'This event has been cancelled and can no longer be changed.');
  const next: EventRecord = { ...current, ticketTypes: current.ticketTypes.map((t) => ({ ...t })) };
  const changes: string[] = [];

  for (const field of SIMPLE_FIELDS) {
    const given = patch[field];
    if (given === undefined) continue;
    if (given !== current[field]) {
      (next as Record<string, unknown>)[field] = given;
      changes.push(field);
    }
  }

  assertEndsAfterStart(next);
  if (changes.includes('endsAt') && hasEnded(next, now)) {
    throw new AppError('VALIDATION_FAILED', 'body.endsAt: the end time is already past; choose one in the future.');
  }
  assertLimitCovers(next, current.registrationCount);

  let typesChanged = false;
  for (const entry of patch.ticketTypes ?? []) {
    // Every stored type has an id, so an entry without one (a new type) finds none.
    const existing = next.ticketTypes.find((t) => t.id === entry.id);
    const currency = entry.currency ?? existing?.currency ?? 'USD';
    const fields: Omit<TicketType, 'id'> = { name: entry.name, priceCents: entry.priceCents, currency, capacity: entry.capacity };
    if (entry.id === undefined) {
      next.ticketTypes.push({ id: newId('tt_'), ...fields });
      typesChanged = true;
      continue;
    }
    if (!existing) throw new AppError('TICKET_TYPE_NOT_FOUND', `This event has no ticket type with id ${entry.id}.`);
    if (existing.name !== fields.name || existing.priceCents !== fields.priceCents || existing.currency !== fields.currency || existing.capacity !== fields.capacity) {
      Object.assign(existing, fields);
      typesChanged = true;
    }
  }
  if (next.ticketTypes.length > MAX_TICKET_TYPES) {
    throw new AppError('VALIDATION_FAILED', `body.ticketTypes: an event can have at most ${MAX_TICKET_TYPES} ticket types.`);
  }
  if (typesChanged) changes.push('ticketTypes');
  if (changes.length) next.updatedAt = now.toISOString();
  return { event: next, changes };
}

function assertEndsAfterStart(event: Pick<EventRecord, 'startsAt' | 'endsAt'>): void {
  if (!endsAfterStart(event)) throw new AppError('VALIDATION_FAILED', 'body.endsAt: the event must end after it starts.');
}

/** A registration limit may not be below the people already registered. */
export function assertLimitCovers(event: Pick<EventRecord, 'registrationLimit'>, registrationCount: number): void {
  if (event.registrationLimit !== null && event.registrationLimit < registrationCount) {
    throw new AppError('VALIDATION_FAILED', `body.registrationLimit: ${registrationCount} people are already registered; the limit can't be lower than that.`);
  }
}

/** The existing ticket types whose capacity a plan changes: what ticketing must confirm against its sales. */
export function capacityChanges(before: EventRecord, after: EventRecord): { id: string; capacity: number }[] {
  const was = new Map(before.ticketTypes.map((t) => [t.id, t.capacity]));
  return after.ticketTypes.filter((t) => was.has(t.id) && was.get(t.id) !== t.capacity).map((t) => ({ id: t.id, capacity: t.capacity }));
}

/** Whether a registration can be taken now; the caller has already returned an existing registration. */
export function assertCanRegister(event: EventRecord, now: Date): void {
  if (event.status === 'cancelled') throw new AppError('EVENT_CANCELLED', 'This event has been cancelled, so registration is closed.');
  if (hasEnded(event, now)) throw new AppError('EVENT_ENDED', 'This event is already over.');
  if (event.registrationLimit !== null && event.registrationCount >= event.registrationLimit) {
    throw new AppError('EVENT_FULL', 'This event has reached its registration limit.');
  }
}
