import type { FastifyInstance } from 'fastify';
import { CapacityChangeBody } from '@dems/contracts';
import { AppError } from '@dems/kit';
import type { TicketingStore } from '../store/ticketing-store.js';
import { changeCapacity } from '../use-cases/change-capacity.js';

/**
 * POST /internal/capacity: the events service asks before it commits an organizer's capacity change, because
 * only ticketing can check it against sales in the same transaction. Signed like every /internal request.
 */
export function capacityRoute(internal: FastifyInstance, store: TicketingStore): void {
  internal.post('/internal/capacity', { schema: { hide: true } }, async (req) => {
    const body = CapacityChangeBody.safeParse(req.body);
    if (!body.success) throw new AppError('VALIDATION_FAILED', 'Expected { eventId, version, ticketTypes: [{ id, capacity }] }.');
    await changeCapacity(store, body.data);
    return { ok: true };
  });
}
