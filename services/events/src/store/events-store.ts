import type { Message, Registration } from '@dems/contracts';
import type { OutboxStore, Page, PageRequest } from '@dems/kit';
import type { BannerRendition, EventRecord } from '../domain/banner.js';

/** A change planned by the domain rules, to be committed as `version`. */
export interface PlannedEventUpdate {
  event: EventRecord;
  /** Names of the fields that changed (for EventUpdated). */
  changes: string[];
  version: number;
}

/** Where a listing page continues: the last item's start time and id (events are ordered by both). */
export interface EventCursor {
  startsAt: string;
  id: string;
}

export type EventFilter =
  /** Published events that have not ended by `from` and (optionally) start by `to`. */
  | { kind: 'upcoming'; from: string; to?: string; q?: string }
  /** One organizer's events in every status, past ones included. */
  | { kind: 'organizer'; organizerId: string; from?: string; to?: string; q?: string };

export type { Page, PageRequest };

/**
 * How fresh a read must be: `consistent` where a decision depends on it, `eventual` for what is only shown
 * (a public page may lag a second behind a write).
 */
export type ReadConsistency = 'consistent' | 'eventual';

export interface Registrant {
  id: string;
  name: string;
  email: string;
}

/**
 * The Event Registration service's storage. Every method that changes state writes the change and its
 * outbox messages atomically; rule violations are thrown as AppError with the code the API answers.
 */
export interface EventsStore {
  /** The outbox the relay drains and operators inspect (dead letters). */
  readonly outbox: OutboxStore;
  /** Stores a fully built event with its ticket types and enqueues EventPublished (version 1). */
  createEvent(event: EventRecord): Promise<EventRecord>;
  /** One event in any status, or null; `eventual` for pages that only show it. */
  getEvent(id: string, read?: ReadConsistency): Promise<EventRecord | null>;
  /**
   * A page ordered by startsAt then id, starting after `after`; `next` is set when more may follow. A store may
   * stop early after a bounded read (a search that matches little): the page then holds fewer items, possibly
   * none, and `next` says where to continue.
   */
  listEvents(filter: EventFilter, page: { after?: EventCursor; limit: number }): Promise<{ items: EventRecord[]; next: EventCursor | null }>;
  /** One event with the version a change to it builds on, or null. */
  getEventForUpdate(id: string): Promise<{ event: EventRecord; version: number } | null>;
  /**
   * Commits a planned change with its EventUpdated message if the event is still at `version - 1`; false when
   * another change came first (plan again). Refuses a registration limit below the registrations at commit.
   */
  saveEventUpdate(update: PlannedEventUpdate): Promise<boolean>;
  /**
   * Puts `banner` in place of the event's banner (an empty list removes it) and sets updatedAt, in one step, and
   * returns the event as changed with the banner it replaced — exactly what was replaced, even when two uploads
   * race — so its files can be deleted; null when there is no such event. The version stays and no message is
   * sent: the banner is no part of what other services keep of an event.
   */
  replaceBanner(id: string, banner: BannerRendition[], now: Date): Promise<{ event: EventRecord; previous: BannerRendition[] } | null>;
  /** Cancels once (version+1, EventCancelled); cancelling a cancelled event changes nothing. */
  cancelEvent(id: string, now: Date): Promise<{ event: EventRecord; changed: boolean }>;
  /** Registers the user, or returns their existing registration; the limit check and insert are one serialized step. */
  register(eventId: string, user: Registrant, now: Date): Promise<{ registration: Registration; created: boolean }>;
  /** Removes the user's registration and enqueues RegistrationWithdrawn; false when there was none. */
  withdraw(eventId: string, userId: string, now: Date): Promise<boolean>;
  /** The user's registration for one event, or null (read consistently: the user has just changed it). */
  registrationOf(eventId: string, userId: string): Promise<Registration | null>;
  /**
   * A page of the user's own registrations, the most recently published event first (event ids sort by
   * publication): a key both stores page on without rewriting registrations when an event moves.
   */
  registrationsOfUser(userId: string, page: PageRequest): Promise<Page<Registration>>;
  /** A page of everyone registered for an event, earliest registration first (sign-ups of one millisecond in the order they were made). */
  registrationsOfEvent(eventId: string, page: PageRequest): Promise<Page<Registration>>;
  /** Records a message that has no effect here, so the inbox still shows it was seen. */
  acknowledge(message: Message): Promise<'applied' | 'duplicate'>;
  /**
   * A mark that changes whenever data this store answers with may have changed, for caches of its answers: after
   * every write of this store, and, where `dataVersionSeesEveryWriter`, after every commit of any other process
   * sharing the data (SQLite: other connections to the file). Cheap enough to read on every request.
   */
  dataVersion(): string;
  /** False where other processes' writes do not move dataVersion (DynamoDB replicas): caches must then also expire. */
  readonly dataVersionSeesEveryWriter: boolean;
  /** Whether the store answers a trivial query (for /readyz). */
  isReady(): Promise<boolean>;
  close(): Promise<void>;
}
