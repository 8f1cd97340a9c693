import { useInfiniteQuery, useMutation, useQueryClient } from '@tanstack/react-query';
import { IDEMPOTENCY_HEADER, QUEUE_PASS_HEADER, type Order, type PlaceOrderBody, type Ticket } from '@dems/contracts';
import { ApiError, apiRequest } from '@/lib/api-client';
import { retryDelay, retryIdempotent } from '@/lib/retry-policy';
import { queryKeys } from '@/lib/query-keys';
import { useSession } from '@/lib/session';

export interface TicketPage {
  items: Ticket[];
  nextCursor: string | null;
}

/** How many tickets a page brings: a few events' worth; "Show more" asks for the next page. */
export const TICKETS_PER_PAGE = 50;

/** The caller's tickets, newest first, a page at a time (fetchNextPage while hasNextPage). */
export function useTickets() {
  const { user } = useSession();
  return useInfiniteQuery({
    queryKey: queryKeys.tickets(),
    initialPageParam: undefined as string | undefined,
    queryFn: ({ pageParam, signal }) => {
      const params = new URLSearchParams({ limit: String(TICKETS_PER_PAGE) });
      if (pageParam) params.set('cursor', pageParam);
      return apiRequest<TicketPage>(`/tickets?${params}`, { auth: true, signal });
    },
    getNextPageParam: (last) => last.nextCursor ?? undefined,
    enabled: Boolean(user),
  });
}

export function useCancelTicket() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (ticketId: string) => apiRequest<Ticket>(`/tickets/${encodeURIComponent(ticketId)}/cancel`, { method: 'POST', auth: true }),
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: queryKeys.tickets() });
      void queryClient.invalidateQueries({ queryKey: ['availability'] });
    },
  });
}

export interface PlaceOrderInput extends PlaceOrderBody {
  /** One key per checkout attempt: a retry or a double click with the same key buys once. */
  idempotencyKey: string;
  /** The waiting room's pass, when the event's sale is queued and this buyer was let in. */
  queuePass?: string;
}

const QUEUED_SALE_REFUSALS = new Set(['QUEUE_PASS_REQUIRED', 'SALE_NOT_OPEN_YET']);

export function usePlaceOrder() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ idempotencyKey, queuePass, ...body }: PlaceOrderInput) =>
      apiRequest<Order>('/orders', {
        method: 'POST',
        body,
        auth: true,
        headers: { [IDEMPOTENCY_HEADER]: idempotencyKey, ...(queuePass ? { [QUEUE_PASS_HEADER]: queuePass } : {}) },
      }),
    // The key makes a repeat safe: a busy ticketing (503) or a lost answer is tried again with the same key.
    retry: retryIdempotent,
    retryDelay,
    onSettled: (_order, err, input) => {
      void queryClient.invalidateQueries({ queryKey: queryKeys.availability(input.eventId) });
      // Refused because the sale is (now) queued: the event page re-reads its waiting room and offers the queue.
      if (err instanceof ApiError && QUEUED_SALE_REFUSALS.has(err.code)) void queryClient.invalidateQueries({ queryKey: queryKeys.waitingRoom(input.eventId) });
      void queryClient.invalidateQueries({ queryKey: queryKeys.tickets() });
      void queryClient.invalidateQueries({ queryKey: queryKeys.orders() });
    },
  });
}
