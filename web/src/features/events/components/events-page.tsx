import { useEffect, useId, useMemo, useState } from 'react';
import { useSearchParams } from 'react-router';
import { ErrorAlert } from '@/components/error-alert';
import { SearchIcon } from '@/components/icons';
import { EmptyState, useDocumentTitle } from '@/components/page-header';
import { CardSkeletons } from '@/components/skeleton';
import { ShowMore } from '@/components/show-more';
import { Spinner } from '@/components/spinner';
import { useEventList, type EventFilters } from '@/features/events/api/events-api';
import { EventCard } from './event-card';

export const DATE_PRESETS = {
  any: 'Any date',
  today: 'Today',
  week: 'Next 7 days',
  month: 'Next 30 days',
} as const;
export type DatePreset = keyof typeof DATE_PRESETS;

/** The time window of a date preset, from now; "today" ends at local midnight. */
export function presetRange(preset: DatePreset, now = new Date()): Pick<EventFilters, 'from' | 'to'> {
  if (preset === 'any') return {};
  const end = new Date(now);
  if (preset === 'today') end.setHours(23, 59, 59, 999);
  else end.setDate(end.getDate() + (preset === 'week' ? 7 : 30));
  return { from: now.toISOString(), to: end.toISOString() };
}

const isPreset = (v: string | null): v is DatePreset => v !== null && v in DATE_PRESETS;

/** Discover: search and date filter (kept in the URL so a reload or shared link keeps them), then cards. */
export function EventsPage() {
  useDocumentTitle('Discover events');
  const [params, setParams] = useSearchParams();
  const q = params.get('q') ?? '';
  const when = isPreset(params.get('when')) ? (params.get('when') as DatePreset) : 'any';
  const [text, setText] = useState(q);
  const searchId = useId();
  const whenId = useId();

  // Typing refreshes the results after a short pause rather than on every key.
  useEffect(() => {
    const timer = setTimeout(() => {
      if (text.trim() === q) return;
      setParams(
        (p) => {
          const next = new URLSearchParams(p);
          if (text.trim()) next.set('q', text.trim());
          else next.delete('q');
          return next;
        },
        { replace: true },
      );
    }, 300);
    return () => clearTimeout(timer);
  }, [text, q, setParams]);

  // The window is fixed when the preset is picked, so the query key stays stable while the page is open.
  const filters = useMemo<EventFilters>(() => ({ q: q || undefined, ...presetRange(when) }), [q, when]);
  const list = useEventList(filters);
  const events = list.data?.pages.flatMap((p) => p.items) ?? [];

  return (
    <>
      <section className="hero rounded-4 p-4 p-md-5 mb-4 text-white">
        <h1 className="display-6 fw-bold mb-2">Find your next night out</h1>
        <p className="lead mb-4 hero-lead">Concerts, talks, workshops and meetups — get tickets in seconds.</p>
        <form
          className="row g-2"
          role="search"
          onSubmit={(e) => {
            e.preventDefault();
            setParams((p) => {
              const next = new URLSearchParams(p);
              if (text.trim()) next.set('q', text.trim());
              else next.delete('q');
              return next;
            });
          }}
        >
          <div className="col-12 col-md-8">
            <label htmlFor={searchId} className="visually-hidden">
              Search events
            </label>
            <div className="input-group input-group-lg">
              <span className="input-group-text bg-white border-0">
                <SearchIcon />
              </span>
              <input id={searchId} type="search" className="form-control border-0" placeholder="Search events, venues…" value={text} onChange={(e) => setText(e.target.value)} />
            </div>
          </div>
          <div className="col-12 col-md-4">
            <label htmlFor={whenId} className="visually-hidden">
              Date
            </label>
            <select
              id={whenId}
              className="form-select form-select-lg border-0"
              value={when}
              onChange={(e) =>
                setParams((p) => {
                  const next = new URLSearchParams(p);
                  if (e.target.value === 'any') next.delete('when');
                  else next.set('when', e.target.value);
                  return next;
                })
              }
            >
              {Object.entries(DATE_PRESETS).map(([value, label]) => (
                <option key={value} value={value}>
                  {label}
                </option>
              ))}
            </select>
          </div>
        </form>
      </section>

      <h2 className="h4 fw-bold mb-3">{q ? `Results for “${q}”` : 'Upcoming events'}</h2>
      {list.isPending ? (
        <CardSkeletons />
      ) : list.isError && events.length === 0 ? (
        <ErrorAlert error={list.error} onRetry={() => void list.refetch()} />
      ) : events.length === 0 && list.hasNextPage ? (
        <EmptyState title="No matches yet">
          <p className="mb-3">We have looked through part of the events and are not done yet.</p>
          <button type="button" className="btn btn-outline-primary" onClick={() => void list.fetchNextPage()} disabled={list.isFetchingNextPage}>
            {list.isFetchingNextPage ? <Spinner small label="Searching further…" /> : 'Keep searching'}
          </button>
        </EmptyState>
      ) : events.length === 0 ? (
        <EmptyState title={q ? 'No events match your search' : 'No upcoming events yet'}>
          {q || when !== 'any' ? 'Try another word or a wider date range.' : 'Check back soon — organizers are busy.'}
        </EmptyState>
      ) : (
        <>
          <div className="row g-4" aria-live="polite">
            {events.map((event) => (
              <div className="col-12 col-sm-6 col-lg-4" key={event.id}>
                <EventCard event={event} />
              </div>
            ))}
          </div>
          <ShowMore list={list} label="Show more events" loading="Loading more events…" />
        </>
      )}
    </>
  );
}
