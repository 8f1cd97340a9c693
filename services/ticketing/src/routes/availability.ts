import { Availability, Id } from '@dems/contracts';
import { AppError, etagOf, publicCacheControl, sendAnswer, type App } from '@dems/kit';
import { z } from 'zod';
import type { TicketingStore } from '../store/ticketing-store.js';

/**
 * Browsers poll this during a sale; it is shown, never decided on (a purchase checks the inventory itself). So a
 * shared cache (CloudFront) may answer it for a second, and a browser that has the current answer gets a 304. It is
 * read from the store on every request that reaches here: keeping it in memory would need a version of the inventory
 * that moves with every sale, in every process, which the store does not offer.
 */
const CACHE_CONTROL = publicCacheControl(1, 1);

export function availabilityRoutes(app: App, store: TicketingStore): void {
  app.get(
    '/availability/:eventId',
    {
      schema: {
        tags: ['availability'],
        summary: 'Tickets left per ticket type of an event',
        description: 'Tagged with an ETag (If-None-Match → 304) and public for shared caches for a second.',
        params: z.strictObject({ eventId: Id }),
        response: { 200: Availability },
      },
    },
    async (req, reply) => {
      const availability = await store.getAvailability(req.params.eventId);
      if (!availability) throw new AppError('EVENT_NOT_FOUND', 'Ticketing knows no event with this id (yet).');
      const body = Buffer.from(reply.serialize(availability) as string);
      return sendAnswer(req, reply, { body, etag: etagOf(body) }, CACHE_CONTROL);
    },
  );
}
