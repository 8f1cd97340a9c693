import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { Registration } from '@dems/contracts';
import { apiRequest } from '../../../lib/api-client';
import { queryKeys } from '../../../lib/query-keys';
import { useSession } from '../../../lib/session';

export function useRegistrations() {
  const { user } = useSession();
  return useQuery({
    queryKey: queryKeys.registrations(),
    queryFn: ({ signal }) => apiRequest<{ items: Registration[] }>('/registrations', { auth: true, signal }).then((r) => r.items),
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
