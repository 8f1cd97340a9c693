import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { Registration } from '@dems/contracts';
import { apiRequest } from '@/lib/api-client';
import { queryKeys } from '@/lib/query-keys';
import { useSession } from '@/lib/session';

interface RegistrationPage {
  items: Registration[];
  nextCursor: string | null;
}

const PAGE_SIZE = 50;

/** My registrations, the most recently published event first, one page per "Show more". */
export function useRegistrations() {
  const { user } = useSession();
  return useInfiniteQuery({
    queryKey: queryKeys.registrations(),
    initialPageParam: undefined as string | undefined,
    queryFn: ({ pageParam, signal }) => {
      const params = new URLSearchParams({ limit: String(PAGE_SIZE) });
      if (pageParam) params.set('cursor', pageParam);
      return apiRequest<RegistrationPage>(`/registrations?${params}`, { auth: true, signal });
    },
    getNextPageParam: (last) => last.nextCursor ?? undefined,
    enabled: Boolean(user),
  });
}

/** My registration for one event, or null: asked for that event alone, however many registrations I have. */
export function useMyRegistration(eventId: string) {
  const { user } = useSession();
  return useQuery({
    queryKey: queryKeys.registrationFor(eventId),
    queryFn: ({ signal }) => apiRequest<RegistrationPage>(`/registrations?${new URLSearchParams({ eventId })}`, { auth: true, signal }).then((r) => r.items[0] ?? null),
    enabled: Boolean(user),
  });
}

/** Register and withdraw change the event's count too, so both refresh the event. */
function useRefresh(eventId: string) {
  const queryClient = useQueryClient();
  return () => {
    void queryClient.invalidateQueries({ queryKey: queryKeys.registrations() });
    void queryClient.invalidateQueries({ queryKey: queryKeys.event(eventId) });
  };
}

export function useRegister(eventId: string) {
  const refresh = useRefresh(eventId);
  return useMutation({
    mutationFn: () => apiRequest<Registration>('/register', { method: 'POST', body: { eventId }, auth: true }),
    onSuccess: refresh,
  });
}

export function useWithdraw(eventId: string) {
  const refresh = useRefresh(eventId);
  return useMutation({
    mutationFn: () => apiRequest<{ ok: true }>(`/register/${encodeURIComponent(eventId)}`, { method: 'DELETE', auth: true }),
    onSuccess: refresh,
  });
}
