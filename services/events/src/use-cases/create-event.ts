import { newMessage, type CreateEventBody } from '@dems/contracts';
import type { AuthUser, Throttle } from '@dems/kit';
import type { EventRecord } from '../domain/banner.js';
import { buildNewEvent, toSnapshot } from '../domain/event-rules.js';
import type { EventsStore } from '../store/events-store.js';

/**
 * POST /events: build the event from the request (refused when it would already be over), count it against the
 * organizer's daily publishing limit (admins have none), and store it with its EventPublished, which puts it on
 * sale in ticketing and lets engagement tell its followers.
 */
export async function createEvent(deps: { store: EventsStore; publishing: Throttle }, body: CreateEventBody, user: AuthUser, now = new Date()): Promise<EventRecord> {
  const event = buildNewEvent(body, user.id, now);
  if (user.role !== 'admin') await deps.publishing.take(user.id, `You can publish up to ${deps.publishing.limit} events a day.`);
  return storeNewEvent(deps.store, event);
}

/** Stores a built event as version 1 together with the EventPublished announcing it; answers the event. */
export async function storeNewEvent(store: Pick<EventsStore, 'createEvent'>, event: EventRecord): Promise<EventRecord> {
  await store.createEvent(event, [newMessage('events', 'EventPublished', { event: toSnapshot(event, 1) }, new Date(event.createdAt))]);
  return event;
}
