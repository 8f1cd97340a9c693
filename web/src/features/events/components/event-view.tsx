import type { ReactNode } from 'react';
import { Link } from 'react-router';
import type { Availability, Event } from '@dems/contracts';
import { ErrorAlert } from '@/components/error-alert';
import { EventCover } from '@/components/event-cover';
import { CalendarIcon, PeopleIcon, PinIcon } from '@/components/icons';
import { useDocumentTitle } from '@/components/page-header';
import { LoadingCard } from '@/components/query-states';
import { attendanceText, sellsPaidTickets, ticketsSold } from '@/lib/admission';
import { ApiError } from '@/lib/api-client';
import { formatEventTime, formatPriceRange } from '@/lib/format';
import { downloadIcs } from '@/lib/ics';
import { isNotOnSaleYet } from '@/lib/queries';
import { useSession } from '@/lib/session';
import { useAvailability, useEvent } from '@/features/events/api/events-api';

export interface EventSlots {
  /** The ticket section: given the event and its live availability (undefined while it loads). */
  tickets: (event: Event, availability: { data: Availability | undefined; isPending: boolean; error: unknown }) => ReactNode;
  /** The RSVP section: a free place on a free event, interest only next to paid tickets. */
  rsvp: (event: Event) => ReactNode;
}

/**
 * The event page. Buying and RSVP belong to other features, so the route passes them in as slots; this
 * feature owns the event, its live availability (polled every 5 s and refreshed by notifications) and the layout.
 */
export function EventView({ id, slots }: { id: string; slots: EventSlots }) {
  const event = useEvent(id);
  const availability = useAvailability(id, { poll: event.data?.status === 'published' });
  const { user } = useSession();
  useDocumentTitle(event.data?.title ?? 'Event');

  if (event.isPending) {
    return <LoadingCard lines={6} label="Loading the event…" />;
  }
  if (event.isError) {
    const missing = event.error instanceof ApiError && event.error.status === 404;
    return (
      <div className="py-4">
        <ErrorAlert error={event.error} onRetry={missing ? undefined : () => void event.refetch()} />
        <Link to="/">Back to all events</Link>
      </div>
    );
  }

  const e = event.data;
  const cancelled = e.status === 'cancelled';
  const isOwner = user?.id === e.organizerId;
  const paid = sellsPaidTickets(e);
  // Not on sale yet (ticketing has not heard of the event) means nothing sold; any other failure leaves it unknown.
  const attendance = attendanceText({
    sold: isNotOnSaleYet(availability.error) ? 0 : ticketsSold(availability.data),
    rsvps: e.registrationCount,
    paid,
    rsvpLimit: e.registrationLimit,
  });
  return (
    <article>
      <div className="event-hero rounded-4 overflow-hidden shadow-sm mb-4 position-relative">
        <EventCover event={e} variant="hero" />
      </div>
      {cancelled && (
        <div className="alert alert-danger" role="alert" data-testid="event-cancelled">
          <strong>This event has been cancelled.</strong> Tickets have been refunded.
        </div>
      )}
      <div className="row g-4">
        <div className="col-12 col-lg-7">
          <h1 className="display-6 fw-bold mb-3">{e.title}</h1>
          <ul className="list-unstyled event-facts mb-4">
            <li>
              <CalendarIcon />
              <strong data-testid="event-time">{formatEventTime(e)}</strong>
            </li>
            <li>
              <PinIcon />
              <span>{e.venue}</span>
            </li>
            {attendance && (
              <li>
                <PeopleIcon />
                <span data-testid="attendance">{attendance}</span>
              </li>
            )}
          </ul>
          <div className="d-flex flex-wrap gap-2 mb-4">
            <button type="button" className="btn btn-outline-primary" onClick={() => downloadIcs(e)}>
              <CalendarIcon /> <span className="ms-1">Add to calendar</span>
            </button>
            {isOwner && (
              <Link className="btn btn-outline-secondary" to={`/organizer/events/${e.id}`}>
                Manage this event
              </Link>
            )}
          </div>
          <h2 className="h5 fw-bold">About this event</h2>
          <p className="event-description">{e.description || 'The organizer has not added a description yet.'}</p>
          <p className="text-secondary small">Times are shown in the event's time zone ({e.timezone}).</p>
        </div>
        <div className="col-12 col-lg-5">
          <section className="card border-0 shadow-sm mb-4" aria-labelledby="tickets-heading">
            <div className="card-body">
              <div className="d-flex justify-content-between align-items-baseline mb-3">
                <h2 className="h5 fw-bold mb-0" id="tickets-heading">
                  Tickets
                </h2>
                <span className="text-secondary small">{formatPriceRange(e.ticketTypes)}</span>
              </div>
              {slots.tickets(e, { data: availability.data, isPending: availability.isPending, error: availability.error })}
            </div>
          </section>
          <section className="card border-0 shadow-sm" aria-labelledby="rsvp-heading">
            <div className="card-body">
              <h2 className="h5 fw-bold" id="rsvp-heading">
                {paid ? 'Interested? RSVP' : 'Free RSVP'}
              </h2>
              {slots.rsvp(e)}
            </div>
          </section>
        </div>
      </div>
    </article>
  );
}
