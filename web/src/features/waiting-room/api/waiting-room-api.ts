import { useEffect } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { QueueEntry, QueuePass, WaitingRoom, WaitingRoomSettingsBody, WaitingRoomLive } from '@dems/contracts';
import { ApiError, apiRequest } from '@/lib/api-client';
import { useNow } from '@/lib/clock';
import { useLive } from '@/lib/live';
import { queryKeys } from '@/lib/query-keys';

const roomPath = (eventId: string) => `/waiting-rooms/${encodeURIComponent(eventId)}`;

/** How often an open room is re-read for what the socket does not push (joined, admitted through, sold out). */
export const ROOM_REFRESH_MS = 10_000;

/**
 * The event's waiting room, or null when its sale is not queued. Re-read every 10 s while there is one, and
 * its settings kept live over the socket (a room set, changed or turned off shows at once).
 */
export function useWaitingRoom(eventId: string) {
  const queryClient = useQueryClient();
  const { watchWaitingRoom } = useLive();
  const query = useQuery({
    queryKey: queryKeys.waitingRoom(eventId),
    queryFn: async ({ signal }) => {
      try {
        return await apiRequest<WaitingRoom>(roomPath(eventId), { signal });
      } catch (err) {
        if (err instanceof ApiError && err.code === 'WAITING_ROOM_NOT_FOUND') return null;
        throw err;
      }
    },
    refetchInterval: (q) => (q.state.data ? ROOM_REFRESH_MS : false),
  });
  useEffect(
    () =>
      watchWaitingRoom(eventId, (update: WaitingRoomLive) => {
        const key = queryKeys.waitingRoom(eventId);
        const known = queryClient.getQueryData<WaitingRoom | null>(key);
        if (update.room === null) queryClient.setQueryData(key, null);
        else if (known) queryClient.setQueryData<WaitingRoom>(key, { ...known, ...update.room, now: update.now });
        // A room this page did not know: its counts come only from a read.
        else void queryClient.invalidateQueries({ queryKey: key });
      }),
    [eventId, watchWaitingRoom, queryClient],
  );
  return query;
}

/**
 * How far the server's clock is ahead of this one, from the room's `now` and when it arrived. Admission times
 * are the server's, so a phone whose clock is a minute off still counts down to the right moment.
 */
export function serverOffsetMs(room: { now: string }, receivedAtMs: number): number {
  const now = Date.parse(room.now);
  return Number.isNaN(now) || receivedAtMs === 0 ? 0 : now - receivedAtMs;
}

/** The server's time now, re-rendered once a second. */
export function useServerNow(offsetMs: number): number {
  return useNow(1000) + offsetMs;
}

/** Takes a place in the queue (or gets back the one this user already has). */
export function useJoinQueue(eventId: string) {
  return useMutation({
    mutationFn: () => apiRequest<QueueEntry>(`${roomPath(eventId)}/entries`, { method: 'POST', auth: true }),
  });
}

/** Trades an admitted entry's token for the pass that lets the Buy button through; idempotent until it expires. */
export function requestPass(eventId: string, token: string): Promise<QueuePass> {
  return apiRequest<QueuePass>(`${roomPath(eventId)}/passes`, { method: 'POST', body: { token }, auth: true });
}

/** The organizer queues the sale, or changes how; the answer replaces the cached room. */
export function useSaveWaitingRoom(eventId: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (body: WaitingRoomSettingsBody) => apiRequest<WaitingRoom>(roomPath(eventId), { method: 'PUT', body, auth: true }),
    onSuccess: (room) => queryClient.setQueryData(queryKeys.waitingRoom(eventId), room),
  });
}

/** The organizer turns the waiting room off: buyers buy directly again. */
export function useRemoveWaitingRoom(eventId: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: () => apiRequest<null>(roomPath(eventId), { method: 'DELETE', auth: true }),
    onSuccess: () => queryClient.setQueryData(queryKeys.waitingRoom(eventId), null),
  });
}
