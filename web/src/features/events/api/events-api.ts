import { useInfiniteQuery, useQuery } from '@tanstack/react-query';
import type { Availability, Event } from '@dems/contracts';
import { ApiError, apiRequest } from '@/lib/api-client';
import { queryKeys } from '@/lib/query-keys';

export interface EventFilters {
  q?: string;
  from?: string;
  to?: string;
}
interface EventPage {
  items: Event[];
  nextCursor: string | null;
}

const PAGE_SIZE = 12;
/**
 * A search reads a bounded slice of the events per request, so a rare word can come back with no events and a
 * cursor to go on: one "Load more" follows up to this many such empty pages before showing what it has.
 */
const EMPTY_PAGES_FOLLOWED = 5;

/** Upcoming events, soonest first, one page per "Load more". */
export function useEventList(filters: EventFilters) {
  return useInfiniteQuery({
    queryKey: queryKeys.events(filters),
    initialPageParam: undefined as string | undefined,
    queryFn: async ({ pageParam, signal }) => {
      let cursor = pageParam;
      for (let followed = 1; ; followed++) {
        const params = new URLSearchParams({ limit: String(PAGE_SIZE) });
        if (filters.q) params.set('q', filters.q);
        if (filters.from) params.set('from', filters.from);
        if (filters.to) params.set('to', filters.to);
        if (cursor) params.set('cursor', cursor);
        const page = await apiRequest<EventPage>(`/events?${params}`, { signal });
        if (page.items.length > 0 || page.nextCursor === null || followed >= EMPTY_PAGES_FOLLOWED) return page;
        cursor = page.nextCursor;
      }
    },
    getNextPageParam: (last) => last.nextCursor ?? undefined,
  });
}

export function useEvent(id: string) {
  return useQuery({
    queryKey: queryKeys.event(id),
    queryFn: ({ signal }) => apiRequest<Event>(`/events/${encodeURIComponent(id)}`, { signal }),
    retry: (count, err) => !(err instanceof ApiError && err.status === 404) && count < 2,
  });
}

/**
 * Seats left per ticket type. A brand-new event reaches ticketing by message a moment after it is
 * published, so a 404 here means "not on sale yet" and is retried rather than shown as an error.
 */
export function useAvailability(eventId: string, { poll = false }: { poll?: boolean } = {}) {
  return useQuery({
    queryKey: queryKeys.availability(eventId),
    queryFn: ({ signal }) => apiRequest<Availability>(`/availability/${encodeURIComponent(eventId)}`, { signal }),
    refetchInterval: poll ? 5000 : false,
    retry: (count, err) => (err instanceof ApiError && err.code === 'EVENT_NOT_FOUND' ? count < 10 : count < 2),
    retryDelay: 1000,
  });
}
