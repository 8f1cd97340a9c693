import type { CapacityChangeBody } from '@dems/contracts';
import { AppError, signedJsonHeaders, type Upstreams } from '@dems/kit';

/**
 * Ticketing, as the events service needs it: only the service that sells the seats can check a capacity
 * change against its sales, in the same transaction as those sales.
 */
export interface TicketingInventory {
  /**
   * Resolves once ticketing has applied the capacities. Throws CAPACITY_BELOW_SOLD or EVENT_NOT_ON_SALE (409)
   * as ticketing answered, or TICKETING_UNAVAILABLE (503) when it could not be asked. `requestId`: of the request
   * this change serves, sent along so that one id follows it into ticketing's log.
   */
  changeCapacity(change: CapacityChangeBody, requestId?: string): Promise<void>;
}

/** The inventory as one request uses it: every call carries that request's id. */
export function onBehalfOf(inventory: TicketingInventory, requestId: string): TicketingInventory {
  return { changeCapacity: (change) => inventory.changeCapacity(change, requestId) };
}

const REFUSALS = new Set(['CAPACITY_BELOW_SOLD', 'EVENT_NOT_ON_SALE']);

/**
 * Asks ticketing over HTTP (POST /internal/capacity, signed with the service secret), failing over to another
 * replica when one gives no answer or answers 503. Sending the change twice is safe: it sets absolute capacities
 * (not "add n") for one event version, and a repeat passes the same checks (nothing can sell past the capacity
 * the first one set) and leaves the same state. A 409 refusal is an answer and is never sent elsewhere.
 */
export function ticketingInventory(opts: { ticketing: Upstreams; secret: string; timeoutMs?: number }): TicketingInventory {
  const unavailable = (why: string) =>
    new AppError('TICKETING_UNAVAILABLE', `Ticketing could not confirm the new capacity (${why}), so nothing was changed. Please try again in a moment.`);
  return {
    async changeCapacity(change, requestId) {
      const body = JSON.stringify(change);
      let res: Response;
      try {
        res = await opts.ticketing.fetch('/internal/capacity', {
          method: 'POST',
          headers: { ...signedJsonHeaders(opts.secret, body), ...(requestId ? { 'x-request-id': requestId } : {}) },
          body,
          signal: AbortSignal.timeout(opts.timeoutMs ?? 5000),
        });
      } catch {
        throw unavailable('it did not answer');
      }
      if (res.ok) return;
      const reply = (await res.json().catch(() => ({}))) as { code?: string; message?: string };
      if (res.status === 409 && reply.code && REFUSALS.has(reply.code)) throw new AppError(reply.code as 'CAPACITY_BELOW_SOLD', reply.message ?? '');
      throw unavailable(`it answered ${res.status}`);
    },
  };
}
