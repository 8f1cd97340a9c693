import { z } from 'zod';
import { CreateEventBody, ErrorBody, Event, EventListQuery, EventPage, Id, IdParams, IsoDateTime, UpdateEventBody } from '@dems/contracts';
import { AppError, decodeCursor, encodeCursor, PRIVATE_NO_STORE, requireRole, requireSignedIn, type App, type Throttle } from '@dems/kit';
import { presentEvent, type EventRecord } from '../domain/banner.js';
import type { EventCursor, EventFilter, EventsStore } from '../store/events-store.js';
import { onBehalfOf, type TicketingInventory } from '../ticketing/inventory.js';
import { cancelEvent } from '../use-cases/cancel-event.js';
import { createEvent } from '../use-cases/create-event.js';
import { eventNotFound } from '../use-cases/event-to-manage.js';
import { updateEvent } from '../use-cases/update-event.js';
import { publicReads, type PublicCacheSettings } from './public-reads.js';

const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody, 429: ErrorBody, 503: ErrorBody };
const security = [{ bearer: [] }];

const isCursor = (v: unknown): v is EventCursor =>
  typeof v === 'object' && v !== null && IsoDateTime.safeParse((v as EventCursor).startsAt).success && Id.safeParse((v as EventCursor).id).success;

export async function eventRoutes(
  app: App,
  /** `publishing`: events per organizer per day; `bannerBaseUrl`: BANNER_PUBLIC_URL; `publicCache`: app.ts. */
  {
    store,
    inventory,
    publishing,
    bannerBaseUrl,
    publicCache,
  }: { store: EventsStore; inventory: TicketingInventory; publishing: Throttle; bannerBaseUrl: string; publicCache: PublicCacheSettings },
): Promise<void> {
  const present = (event: EventRecord) => presentEvent(event, bannerBaseUrl);
  const shared = publicReads(store, publicCache);
  // Shown only: a second's lag behind a change is harmless, and an eventually consistent read costs half.
  const findEvent = async (id: string) => {
    const event = await store.getEvent(id, 'eventual');
    if (!event) throw eventNotFound();
    return event;
  };

  app.post(
    '/events',
    {
      schema: {
        tags: ['events'],
        summary: 'Publish an event (organizer or admin)',
        security,
        body: CreateEventBody,
        response: { 201: Event, ...errors },
      },
    },
    async (req, reply) => {
      const user = requireRole(req, 'organizer', 'admin');
      return reply.code(201).send(present(await createEvent({ store, publishing }, req.body, user)));
    },
  );

  app.get(
    '/events',
    {
      onRequest: shared.serveKept,
      schema: {
        tags: ['events'],
        summary: 'Search published events that have not ended, soonest first; mine=true lists your own events',
        querystring: EventListQuery,
        response: { 200: EventPage, ...errors },
      },
    },
    async (req, reply) => {
      const { q, from, to, mine, cursor, limit } = req.query;
      const after = decodeCursor(cursor, isCursor);
      if (cursor && !after) throw new AppError('VALIDATION_FAILED', 'query.cursor: this cursor is not valid; use the nextCursor of a previous page.');
      const text = q ? q : undefined;
      const listPage = async (filter: EventFilter) => {
        const page = await store.listEvents(filter, { after, limit });
        return { items: page.items.map(present), nextCursor: page.next ? encodeCursor(page.next) : null };
      };
      if (mine) {
        // The caller's own events, drafts of a dashboard: never in the shared cache, nor in anyone else's.
        const user = requireRole(req, 'organizer', 'admin');
        reply.header('cache-control', PRIVATE_NO_STORE);
        return listPage({ kind: 'organizer', organizerId: user.id, from, to, q: text });
      }
      // The same for everyone. Without `from` it means "not over now": the page changes when one of its events ends.
      return shared.send(req, reply, async () => {
        const page = await listPage({ kind: 'upcoming', from: from ?? new Date().toISOString(), to, q: text });
        const validUntil = from === undefined ? Math.min(...page.items.map((e) => Date.parse(e.endsAt))) : undefined;
        return { data: page, validUntil };
      });
    },
  );

  app.get(
    '/events/:id',
    { onRequest: shared.serveKept, schema: { tags: ['events'], summary: 'One event, in any status', params: IdParams, response: { 200: Event, ...errors } } },
    async (req, reply) => shared.send(req, reply, async () => ({ data: present(await findEvent(req.params.id)) })),
  );

  app.patch(
    '/events/:id',
    {
      schema: {
        tags: ['events'],
        summary: "Change an event's details or ticket types (its organizer or an admin)",
        description:
          'Ticket types with an id are changed, ones without an id are added, unlisted ones stay. A capacity change is confirmed by ticketing against its sales first: below tickets sold is 409 CAPACITY_BELOW_SOLD, and while ticketing cannot be reached 503 TICKETING_UNAVAILABLE (nothing is changed).',
        security,
        params: IdParams,
        body: UpdateEventBody,
        response: { 200: Event, ...errors },
      },
    },
    async (req) => present(await updateEvent({ store, inventory: onBehalfOf(inventory, req.id) }, req.params.id, req.body, requireSignedIn(req))),
  );

  app.post(
    '/events/:id/cancel',
    {
      schema: {
        tags: ['events'],
        summary: 'Cancel an event (its organizer or an admin); tickets are refunded and everyone is told',
        security,
        params: IdParams,
        response: { 200: Event, ...errors },
      },
    },
    async (req) => present(await cancelEvent(store, req.params.id, requireSignedIn(req))),
  );
}

/** Used by the registrations routes too. */
export const EventIdParams = z.strictObject({ eventId: Id });
