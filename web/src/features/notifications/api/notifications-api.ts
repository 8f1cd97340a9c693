import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { Notification } from '@dems/contracts';
import { apiRequest } from '../../../lib/api-client';
import { queryKeys } from '../../../lib/query-keys';
import { useSession } from '../../../lib/session';

export interface NotificationPage {
  items: Notification[];
  nextCursor: string | null;
  unreadCount: number;
}

/** Just the unread count for the bell (a one-item page carries it). */
export function useUnreadCount() {
  const { token } = useSession();
  return useQuery({
    queryKey: [...queryKeys.notifications(), 'unread'],
    queryFn: ({ signal }) => apiRequest<NotificationPage>('/notifications?limit=1', { token, signal }).then((p) => p.unreadCount),
    enabled: Boolean(token),
    // A safety net for a missed push; the live connection normally refreshes it at once.
    refetchInterval: 60_000,
  });
}

export function useNotificationList() {
  const { token } = useSession();
  return useInfiniteQuery({
    queryKey: [...queryKeys.notifications(), 'list'],
    initialPageParam: undefined as string | undefined,
    queryFn: ({ pageParam, signal }) => {
      const params = new URLSearchParams({ limit: '20' });
      if (pageParam) params.set('cursor', pageParam);
      return apiRequest<NotificationPage>(`/notifications?${params}`, { token, signal });
    },
    getNextPageParam: (last) => last.nextCursor ?? undefined,
    enabled: Boolean(token),
  });
}

export function useMarkRead() {
  const { token } = useSession();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => apiRequest<Notification>(`/notifications/${encodeURIComponent(id)}/read`, { method: 'POST', token }),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: queryKeys.notifications() }),
  });
}

export function useMarkAllRead() {
  const { token } = useSession();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: () => apiRequest<{ updated: number }>('/notifications/read-all', { method: 'POST', token }),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: queryKeys.notifications() }),
  });
}
