import { Link } from 'react-router';
import { EmptyState, PageHeader } from '@/components/page-header';
import { ListStates } from '@/components/query-states';
import { ShowMore } from '@/components/show-more';
import { formatEventTime } from '@/lib/format';
import { useMyEvents } from '@/features/organizer/api/organizer-api';

export function MyEventsPage() {
  const list = useMyEvents();
  const events = list.data?.pages.flatMap((p) => p.items) ?? [];
  return (
    <>
      <PageHeader
        title="My events"
        subtitle="Everything you organize, past and upcoming."
        actions={
          <Link to="/organizer/events/new" className="btn btn-primary">
            Create event
          </Link>
        }
      />
      <ListStates
        list={list}
        count={events.length}
        loading={{ lines: 5, label: 'Loading your events…' }}
        empty={
          <EmptyState title="You have not created an event yet">
            <Link to="/organizer/events/new">Create your first event</Link> — it takes a minute.
          </EmptyState>
        }
      >
        <ul className="list-group shadow-sm rounded-4">
          {events.map((e) => (
            <li key={e.id} className="list-group-item py-3 d-flex flex-wrap align-items-center gap-3" data-testid="my-event">
              <div className="flex-grow-1 min-w-0">
                <Link to={`/organizer/events/${e.id}`} className="fw-semibold fs-5">
                  {e.title}
                </Link>
                <div className="small text-secondary">
                  <span data-testid="event-time">{formatEventTime(e)}</span> · {e.venue}
                </div>
              </div>
              {e.status === 'cancelled' ? <span className="badge text-bg-danger">Cancelled</span> : <span className="badge text-bg-success">Published</span>}
              <div className="d-flex gap-2">
                <Link to={`/organizer/events/${e.id}`} className="btn btn-sm btn-primary">
                  Dashboard<span className="visually-hidden"> for {e.title}</span>
                </Link>
                {e.status !== 'cancelled' && (
                  <Link to={`/organizer/events/${e.id}/edit`} className="btn btn-sm btn-outline-secondary">
                    Edit<span className="visually-hidden"> {e.title}</span>
                  </Link>
                )}
              </div>
            </li>
          ))}
        </ul>
        <ShowMore list={list} label="Show more events" loading="Loading more events…" />
      </ListStates>
    </>
  );
}
