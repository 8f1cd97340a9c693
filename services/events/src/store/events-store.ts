import type { Message, Registration } from '@dems/contracts';
import type { OutboxStore, Page, PageRequest } from '@dems/kit';
import type { BannerRendition, EventRecord } from '../domain/banner.js';

/** A change a use case planned on the stored event, to be committed as `version` together with its messages. */
export interface EventChange {
  /** The event as it is to be stored. */
  event: EventRecord;
  /** Names of the fields that differ from the stored event, so a store rewrites only what depends on them. */
  changes: readonly string[];
  /** The version it becomes: one more than the version it was planned on. */
  version: number;
  /** What announces the change (EventUpdated, EventCancelled), written in the same commit. */
  messages: readonly Message[];
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

/** What a registration shows of its event: its title, times, zone and status. */
export type RegistrationEvent = Pick<Registration, 'eventTitle' | 'eventStartsAt' | 'eventEndsAt' | 'eventTimezone' | 'eventStatus'>;

/**
 * A registration's view of its event, taken from the event as stored now. Both stores read it at read time from the
 * event they hold rather than keep a copy in step with every registration: an event is changed or cancelled in one
 * write then, however many people registered (a copy would rewrite each registration in the same commit, past what
 * one DynamoDB transaction may hold), and no list can show a cancelled event as still on.
 */
export const registrationEventOf = (event: Pick<EventRecord, 'title' | 'startsAt' | 'endsAt' | 'timezone' | 'status'>): RegistrationEvent => ({
  eventTitle: event.title,
  eventStartsAt: event.startsAt,
  eventEndsAt: event.endsAt,
  eventTimezone: event.timezone,
  eventStatus: event.status,
});

/**
 * How fresh a read must be: `consistent` where a decision depends on it, `eventual` for what is only shown
 * (a public page may lag a second behind a write).
 */
export type ReadConsistency = 'consistent' | 'eventual';

/**
 * The Event Registration service's storage: persistence only. The use cases decide what a change is and which
 * messages announce it; every method that changes state writes the change and those messages atomically. A write
 * that rests on what was read carries that as a condition and answers false when it no longer holds (another
 * writer came first), so the use case plans again on what is stored now: that is how the registration limit and
 * event versions hold across any number of processes.
 */
export interface EventsStore {
  /** The outbox the relay drains and operators inspect (dead letters). */
  readonly outbox: OutboxStore;
  /** Stores a new event with its ticket types as version 1, with the messages announcing it. */
  createEvent(event: EventRecord, messages: readonly Message[]): Promise<void>;
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
   * Commits a planned change with its messages if the event is still at `version - 1` and its registration limit
   * (if any) still covers everyone registered at commit; false otherwise (another change or registrations came
   * first: plan again).
   */
  saveEvent(change: EventChange): Promise<boolean>;
  /**
   * Puts `banner` in place of the event's banner (an empty list removes it) and sets updatedAt, in one step, and
   * returns the event as changed with the banner it replaced — exactly what was replaced, even when two uploads
   * race — so its files can be deleted; null when there is no such event. The version stays and no message is
   * sent: the banner is no part of what other services keep of an event.
   */
  replaceBanner(id: string, banner: BannerRendition[], now: Date): Promise<{ event: EventRecord; previous: BannerRendition[] } | null>;
  /**
   * Adds the registration with its messages if, at commit, its event is still published, below its registration
   * limit, and the user is not registered for it yet; false otherwise (plan again). What a registration shows of its
   * event (registrationEventOf) is always the event's current state, whatever `registration` carries.
   */
  addRegistration(registration: Registration, messages: readonly Message[]): Promise<boolean>;
  /** Removes this registration (by its id) with its messages; false when it is gone already. */
  removeRegistration(registration: Registration, messages: readonly Message[]): Promise<boolean>;
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
