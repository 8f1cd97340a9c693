import { Link } from 'react-router';
import { EmptyState, PageHeader } from '@/components/page-header';
import { ListStates } from '@/components/query-states';
import { ShowMore } from '@/components/show-more';
import { formatDateTime } from '@/lib/format';
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
            <li key={r.id} className="list-group-item d-flex flex-wrap justify-content-between align-items-center gap-2 py-3">
              <div>
                <Link to={`/events/${r.eventId}`} className="fw-semibold">
                  {r.eventTitle}
                </Link>
                <div className="small text-secondary">{formatDateTime(r.eventStartsAt)}</div>
              </div>
              <span className="badge text-bg-success">Registered</span>
            </li>
          ))}
        </ul>
        <ShowMore list={registrations} label="Show more registrations" loading="Loading more registrations…" />
      </ListStates>
    </>
  );
}
