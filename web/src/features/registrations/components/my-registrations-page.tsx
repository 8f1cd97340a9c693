import { Link } from 'react-router';
import type { Registration } from '@dems/contracts';
import { EmptyState, PageHeader } from '@/components/page-header';
import { ListStates } from '@/components/query-states';
import { ShowMore } from '@/components/show-more';
import { useHasEnded } from '@/lib/clock';
import { formatEventTime } from '@/lib/format';
import { useRegistrations } from '@/features/registrations/api/registrations-api';

export function MyRegistrationsPage() {
  const registrations = useRegistrations();
  const items = registrations.data?.pages.flatMap((p) => p.items) ?? [];
  return (
    <>
      <PageHeader title="My registrations" subtitle="Events you have RSVP’d to." />
      <ListStates
        list={registrations}
        count={items.length}
        loading={{ lines: 4, label: 'Loading your registrations…' }}
        empty={
          <EmptyState title="No registrations yet">
            <Link to="/">Browse events</Link> and press Register on one you like.
          </EmptyState>
        }
      >
        <ul className="list-group shadow-sm rounded-4">
          {items.map((r) => (
            <RegistrationItem key={r.id} registration={r} />
          ))}
        </ul>
        <ShowMore list={registrations} label="Show more registrations" loading="Loading more registrations…" />
      </ListStates>
    </>
  );
}

/** One registration, with its event's time in the event's zone and what became of the event. */
function RegistrationItem({ registration: r }: { registration: Registration }) {
  const ended = useHasEnded({ endsAt: r.eventEndsAt });
  // A called-off event says so first, even once its date has passed: it never took place.
  const badge =
    r.eventStatus === 'cancelled'
      ? { text: 'Event cancelled', className: 'text-bg-danger' }
      : ended
        ? { text: 'Took place', className: 'text-bg-secondary' }
        : { text: 'Registered', className: 'text-bg-success' };
  return (
    <li className="list-group-item d-flex flex-wrap justify-content-between align-items-center gap-2 py-3" data-testid="registration">
      <div className="min-w-0">
        <Link to={`/events/${r.eventId}`} className="fw-semibold">
          {r.eventTitle}
        </Link>
        <div className="small text-secondary" data-testid="event-time">
          {formatEventTime({ startsAt: r.eventStartsAt, endsAt: r.eventEndsAt, timezone: r.eventTimezone })}
        </div>
      </div>
      <span className={`badge ${badge.className}`}>{badge.text}</span>
    </li>
  );
}
