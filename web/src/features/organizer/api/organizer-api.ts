import { useRef, useState } from 'react';
import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { Announcement as AnnouncementSchema, CreateEventBody, Event, Registration, UpdateEventBody } from '@dems/contracts';
import type { z } from 'zod';
import { apiRequest, apiUpload, type UploadProgress } from '@/lib/api-client';
import { availabilityQuery, eventQuery } from '@/lib/queries';
import { queryKeys } from '@/lib/query-keys';
import { useSession } from '@/lib/session';

export function useMyEvents() {
  const { user } = useSession();
  return useInfiniteQuery({
    queryKey: queryKeys.myEvents(),
    initialPageParam: undefined as string | undefined,
    queryFn: ({ pageParam, signal }) => {
      const params = new URLSearchParams({ mine: 'true', limit: '20' });
      if (pageParam) params.set('cursor', pageParam);
      return apiRequest<{ items: Event[]; nextCursor: string | null }>(`/events?${params}`, { auth: true, signal });
    },
    getNextPageParam: (last) => last.nextCursor ?? undefined,
    enabled: Boolean(user),
  });
}

/** One of the organizer's events; `poll` refreshes it while a live page shows it (the dashboard's counts). */
export function useManagedEvent(id: string, { poll }: { poll?: number } = {}) {
  return useQuery({ ...eventQuery(id), ...(poll ? { refetchInterval: poll } : {}) });
}

/** Sold and remaining per type; polled while the dashboard is open, like a box office screen. */
export function useSales(eventId: string) {
  return useQuery({ ...availabilityQuery(eventId), refetchInterval: 5000 });
}

/** An event's attendees, earliest sign-up first, one page per "Show more"; refreshed while the dashboard is open. */
export function useAttendees(eventId: string) {
  const { user } = useSession();
  return useInfiniteQuery({
    queryKey: queryKeys.eventRegistrations(eventId),
    initialPageParam: undefined as string | undefined,
    queryFn: ({ pageParam, signal }) => {
      const params = new URLSearchParams({ limit: '50' });
      if (pageParam) params.set('cursor', pageParam);
      return apiRequest<{ items: Registration[]; nextCursor: string | null }>(`/events/${encodeURIComponent(eventId)}/registrations?${params}`, { auth: true, signal });
    },
    getNextPageParam: (last) => last.nextCursor ?? undefined,
    enabled: Boolean(user),
    refetchInterval: 15_000,
  });
}

function useEventsRefresh() {
  const queryClient = useQueryClient();
  return (event: Event) => {
    queryClient.setQueryData(queryKeys.event(event.id), event);
    void queryClient.invalidateQueries({ queryKey: queryKeys.allEvents() });
    void queryClient.invalidateQueries({ queryKey: queryKeys.allAvailability() });
  };
}

export function useCreateEvent() {
  const refresh = useEventsRefresh();
  return useMutation({
    mutationFn: (body: CreateEventBody) => apiRequest<Event>('/events', { method: 'POST', body, auth: true }),
    onSuccess: refresh,
  });
}

export function useUpdateEvent(id: string) {
  const refresh = useEventsRefresh();
  return useMutation({
    mutationFn: (body: UpdateEventBody) => apiRequest<Event>(`/events/${encodeURIComponent(id)}`, { method: 'PATCH', body, auth: true }),
    onSuccess: refresh,
  });
}

export function useCancelEvent(id: string) {
  const refresh = useEventsRefresh();
  return useMutation({
    mutationFn: () => apiRequest<Event>(`/events/${encodeURIComponent(id)}/cancel`, { method: 'POST', auth: true }),
    onSuccess: refresh,
  });
}

const bannerPath = (id: string) => `/events/${encodeURIComponent(id)}/banner`;

/**
 * Uploads (or replaces) an event's banner: the file is the body, sent with its image type. Progress is
 * reported as it goes out and the upload can be cancelled. On success the event the server answers
 * replaces the cached one and lists refresh, so cards show the new banner.
 */
export function useUploadBanner(id: string) {
  const refresh = useEventsRefresh();
  const queryClient = useQueryClient();
  const [progress, setProgress] = useState<UploadProgress | null>(null);
  const inFlight = useRef<AbortController | null>(null);
  const mutation = useMutation({
    mutationFn: ({ file, contentType }: { file: Blob; contentType: string }) => {
      const controller = new AbortController();
      inFlight.current = controller;
      // The type the checks settled on (a file may report none), not whatever the browser guessed.
      const body = file.type === contentType ? file : new Blob([file], { type: contentType });
      return apiUpload<Event>(bannerPath(id), body, { method: 'PUT', onProgress: setProgress, signal: controller.signal });
    },
    onSuccess: refresh,
    // A cancelled or failed upload may still have been applied (cancelled after the body was sent): re-read the event.
    onError: () => void queryClient.invalidateQueries({ queryKey: queryKeys.event(id) }),
    onSettled: () => {
      inFlight.current = null;
      setProgress(null);
    },
  });
  return { ...mutation, progress, cancel: () => inFlight.current?.abort() };
}

export function useRemoveBanner(id: string) {
  const refresh = useEventsRefresh();
  return useMutation({
    mutationFn: () => apiRequest<Event>(bannerPath(id), { method: 'DELETE', auth: true }),
    onSuccess: refresh,
  });
}

export function useAnnounce() {
  return useMutation({
    mutationFn: (body: { eventId: string; message: string }) => apiRequest<z.infer<typeof AnnouncementSchema>>('/announcements', { method: 'POST', body, auth: true }),
  });
}
