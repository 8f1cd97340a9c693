import { useInfiniteQuery, useQuery } from '@tanstack/react-query';
import type { Event } from '@dems/contracts';
import { apiRequest } from '@/lib/api-client';
import { availabilityQuery, eventQuery } from '@/lib/queries';
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
 * cursor to go on: one "Show more events" follows up to this many such empty pages before showing what it has.
 */
const EMPTY_PAGES_FOLLOWED = 5;

/** Upcoming events, soonest first, one page per "Show more events". */
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
  return useQuery(eventQuery(id));
}

/** Seats left per ticket type; `poll` keeps "N left" current while a buyer looks at it. */
export function useAvailability(eventId: string, { poll = false }: { poll?: boolean } = {}) {
  return useQuery({ ...availabilityQuery(eventId), refetchInterval: poll ? 5000 : false });
}
