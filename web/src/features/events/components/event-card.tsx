import { Link } from 'react-router';
import type { Event } from '@dems/contracts';
import { EventCover } from '@/components/event-cover';
import { PinIcon } from '@/components/icons';
import { formatEventTime, formatPriceRange } from '@/lib/format';
import { useAvailability } from '@/features/events/api/events-api';
import { RemainingBadge, remainingTotal } from './availability-badge';

/** One event in the discover grid; the whole card is one link, named by the title. */
export function EventCard({ event }: { event: Event }) {
  const availability = useAvailability(event.id);
  const remaining = remainingTotal(availability.data);
  return (
    <article className="card event-card h-100 border-0 shadow-sm" data-testid="event-card">
      <EventCover event={event} variant="card" className="card-img-top" />
      <div className="card-body d-flex flex-column">
        <div className="d-flex justify-content-between align-items-start gap-2 mb-1">
          <h2 className="h5 card-title mb-0">
            <Link to={`/events/${event.id}`} className="stretched-link text-reset text-decoration-none">
              {event.title}
            </Link>
          </h2>
          <RemainingBadge remaining={remaining} cancelled={event.status === 'cancelled'} className="flex-shrink-0" />
        </div>
        <p className="text-primary-emphasis small fw-semibold mb-1" data-testid="event-time">
          {formatEventTime(event)}
        </p>
        <p className="text-secondary small mb-3">
          <PinIcon /> <span className="ms-1">{event.venue}</span>
        </p>
        <p className="mt-auto mb-0 fw-semibold">{formatPriceRange(event.ticketTypes)}</p>
      </div>
    </article>
  );
}
