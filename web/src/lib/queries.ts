import { queryOptions } from '@tanstack/react-query';
import type { Availability, Event } from '@dems/contracts';
import { ApiError, apiRequest } from './api-client';
import { queryKeys } from './query-keys';

/**
 * Resources that more than one feature reads: one definition each (key, fetcher, what a failure means), so
 * every view shares one cache entry and agrees on it. A feature adds only how its view uses the resource
 * (`useQuery({ ...eventQuery(id), refetchInterval })`).
 */

/** One event, public. A 404 (removed, or a mistyped link) is the answer, not a failure to retry. */
export const eventQuery = (id: string) =>
  queryOptions({
    queryKey: queryKeys.event(id),
    queryFn: ({ signal }) => apiRequest<Event>(`/events/${encodeURIComponent(id)}`, { signal }),
    retry: (count, err) => !(err instanceof ApiError && err.status === 404) && count < 2,
  });

/**
 * Seats sold and left per ticket type. A brand-new event reaches ticketing by message a moment after it is
 * published, so EVENT_NOT_FOUND here means "not on sale yet" and is retried for longer than other failures.
 */
export const availabilityQuery = (eventId: string) =>
  queryOptions({
    queryKey: queryKeys.availability(eventId),
    queryFn: ({ signal }) => apiRequest<Availability>(`/availability/${encodeURIComponent(eventId)}`, { signal }),
    retry: (count, err) => (isNotOnSaleYet(err) ? count < 10 : count < 2),
    retryDelay: 1000,
  });

/** The availability error that means "ticketing has not heard of this new event yet": nothing is on sale, nothing sold. */
export const isNotOnSaleYet = (error: unknown): boolean => error instanceof ApiError && error.code === 'EVENT_NOT_FOUND';
