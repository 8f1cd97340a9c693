import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { Notification } from '@dems/contracts';
import { apiRequest } from '@/lib/api-client';
import { queryKeys } from '@/lib/query-keys';
import { useSession } from '@/lib/session';

export interface NotificationPage {
  items: Notification[];
  nextCursor: string | null;
  /** Unread among the newest 100 notifications, so at most 100. */
  unreadCount: number;
}

/** How an unread count reads: the server counts up to 100, so anything above 99 is "99+". */
export const unreadText = (count: number): string => (count > 99 ? '99+' : String(count));

/** Just the unread count for the bell (a one-item page carries it). */
export function useUnreadCount() {
  const { user } = useSession();
  return useQuery({
    queryKey: queryKeys.unreadCount(),
    queryFn: ({ signal }) => apiRequest<NotificationPage>('/notifications?limit=1', { auth: true, signal }).then((p) => p.unreadCount),
    enabled: Boolean(user),
    // A safety net for a missed push; the live connection normally refreshes it at once.
    refetchInterval: 60_000,
  });
}

export function useNotificationList() {
  const { user } = useSession();
  return useInfiniteQuery({
    queryKey: queryKeys.notificationList(),
    initialPageParam: undefined as string | undefined,
    queryFn: ({ pageParam, signal }) => {
      const params = new URLSearchParams({ limit: '20' });
      if (pageParam) params.set('cursor', pageParam);
      return apiRequest<NotificationPage>(`/notifications?${params}`, { auth: true, signal });
    },
    getNextPageParam: (last) => last.nextCursor ?? undefined,
    enabled: Boolean(user),
  });
}

export function useMarkRead() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => apiRequest<Notification>(`/notifications/${encodeURIComponent(id)}/read`, { method: 'POST', auth: true }),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: queryKeys.notifications() }),
  });
}

export function useMarkAllRead() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: () => apiRequest<{ updated: number }>('/notifications/read-all', { method: 'POST', auth: true }),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: queryKeys.notifications() }),
  });
}
