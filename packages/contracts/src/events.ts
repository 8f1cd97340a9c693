import { z } from 'zod';
import { DateTimeInput, Id, IsoDateTime, isValidTimeZone } from './common.js';
import { endsAfterStart } from './event-time.js';

const Currency = z.string().regex(/^[A-Z]{3}$/, 'must be a three-letter ISO 4217 code such as USD');
const TimeZone = z.string().max(64).refine(isValidTimeZone, 'must be an IANA time zone such as Europe/Berlin');

export const TicketTypeInput = z.strictObject({
  name: z.string().trim().min(1).max(80),
  priceCents: z.number().int().min(0).max(10_000_000),
  currency: Currency.default('USD'),
  capacity: z.number().int().min(1).max(1_000_000),
});

const EventFields = {
  title: z.string().trim().min(1).max(200),
  description: z.string().max(5000),
  venue: z.string().trim().min(1).max(200),
  timezone: TimeZone,
  startsAt: DateTimeInput,
  endsAt: DateTimeInput,
  registrationLimit: z.number().int().min(1).max(1_000_000).nullable(),
};

/** A PATCH may send only one of the two times; the merged event is checked by the events service. */
const givenTimesInOrder = (e: { startsAt?: string; endsAt?: string }) =>
  e.startsAt === undefined || e.endsAt === undefined || endsAfterStart({ startsAt: e.startsAt, endsAt: e.endsAt });

export const CreateEventBody = z
  .strictObject({
    ...EventFields,
    description: EventFields.description.default(''),
    registrationLimit: EventFields.registrationLimit.optional(),
    ticketTypes: z.array(TicketTypeInput).min(1, 'add at least one ticket type').max(20),
  })
  .refine(givenTimesInOrder, { message: 'must be after startsAt', path: ['endsAt'] });
export type CreateEventBody = z.infer<typeof CreateEventBody>;

/**
 * A ticket type in a PATCH: with an id it changes that type, without one it adds a new type.
 * `currency` has no default here: left out, an existing type keeps its currency (a new one gets USD).
 */
export const TicketTypePatch = TicketTypeInput.extend({ id: Id.optional(), currency: Currency.optional() });

export const UpdateEventBody = z
  .strictObject({
    title: EventFields.title,
    description: EventFields.description,
    venue: EventFields.venue,
    timezone: EventFields.timezone,
    startsAt: EventFields.startsAt,
    endsAt: EventFields.endsAt,
    registrationLimit: EventFields.registrationLimit,
    ticketTypes: z.array(TicketTypePatch).min(1).max(20),
  })
  .partial()
  .refine((b) => Object.keys(b).length > 0, 'send at least one field to change')
  .refine(givenTimesInOrder, { message: 'must be after startsAt', path: ['endsAt'] });
export type UpdateEventBody = z.infer<typeof UpdateEventBody>;

export const TicketType = z.object({
  id: Id,
  name: z.string(),
  priceCents: z.number().int(),
  currency: z.string(),
  capacity: z.number().int(),
});
export type TicketType = z.infer<typeof TicketType>;

export const EventStatus = z.enum(['published', 'cancelled']);

/** The banner image types an organizer may upload (checked by content, then re-encoded; see PUT /events/:id/banner). */
export const BANNER_CONTENT_TYPES = ['image/jpeg', 'image/png', 'image/webp'] as const;
/** The largest banner upload, in bytes (5 MB). */
export const BANNER_MAX_BYTES = 5 * 1024 * 1024;
/** The answer (413 PAYLOAD_TOO_LARGE) to a larger upload, from the events service and the gateway alike. */
export const BANNER_TOO_LARGE_MESSAGE = `A banner can be at most ${BANNER_MAX_BYTES / 1024 / 1024} MB; this image is larger. Please choose a smaller one.`;

/** One stored rendition of a banner: re-encoded from the upload, never its original bytes. */
export const BannerSize = z.object({
  width: z.number().int(),
  height: z.number().int(),
  url: z.string(),
});
export type BannerSize = z.infer<typeof BannerSize>;

export const Event = z.object({
  id: Id,
  organizerId: Id,
  title: z.string(),
  description: z.string(),
  venue: z.string(),
  timezone: z.string(),
  startsAt: IsoDateTime,
  endsAt: IsoDateTime,
  status: EventStatus,
  registrationLimit: z.number().int().nullable(),
  registrationCount: z.number().int(),
  ticketTypes: z.array(TicketType),
  /** The banner's largest rendition, or null when the event has none (the web app draws a cover instead). */
  bannerUrl: z.string().nullable(),
  /** Every rendition of the banner, smallest first (for srcset); empty when there is no banner. */
  bannerSizes: z.array(BannerSize),
  createdAt: IsoDateTime,
  updatedAt: IsoDateTime,
});
export type Event = z.infer<typeof Event>;

export const EventListQuery = z.strictObject({
  q: z.string().trim().max(200).optional(),
  from: DateTimeInput.optional(),
  to: DateTimeInput.optional(),
  /** `mine=true`: the caller's own events as organizer, in every status, past ones included. */
  mine: z
    .enum(['true', 'false'])
    .transform((v) => v === 'true')
    .optional(),
  cursor: z.string().max(512).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
});

export const EventPage = z.object({ items: z.array(Event), nextCursor: z.string().nullable() });

export const RegisterBody = z.strictObject({ eventId: Id });

export const Registration = z.object({
  id: Id,
  eventId: Id,
  userId: Id,
  userName: z.string(),
  userEmail: z.string(),
  /**
   * The event as it stands now (not as it was at sign-up): enough for a list of registrations to say when, in the
   * event's own time zone, and whether it was called off, without loading each event.
   */
  eventTitle: z.string(),
  eventStartsAt: IsoDateTime,
  eventEndsAt: IsoDateTime,
  eventTimezone: z.string(),
  eventStatus: EventStatus,
  createdAt: IsoDateTime,
});
export type Registration = z.infer<typeof Registration>;

/** `?cursor=&limit=`: the cursor is the nextCursor of the previous page, passed back verbatim. */
const RegistrationPageQuery = {
  cursor: z.string().max(512).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(50),
};
/** An event's registrations (its organizer's attendee list), earliest sign-up first. */
export const EventRegistrationListQuery = z.strictObject(RegistrationPageQuery);
/** Your registrations, newest published event first; `eventId` narrows them to that event's (zero or one). */
export const RegistrationListQuery = z.strictObject({ ...RegistrationPageQuery, eventId: Id.optional() });

/** A page of registrations; nextCursor is null on the last page. */
export const RegistrationList = z.object({ items: z.array(Registration), nextCursor: z.string().nullable() });
