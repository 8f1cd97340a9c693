import { Availability, Id } from '@dems/contracts';
import { AppError, type App } from '@dems/kit';
import { z } from 'zod';
import type { TicketingStore } from '../store/ticketing-store.js';

export function availabilityRoutes(app: App, store: TicketingStore): void {
  app.get(
    '/availability/:eventId',
    {
      schema: {
        tags: ['availability'],
        summary: 'Tickets left per ticket type of an event',
        params: z.strictObject({ eventId: Id }),
        response: { 200: Availability },
      },
    },
    async (req) => {
      const availability = await store.getAvailability(req.params.eventId);
      if (!availability) throw new AppError('EVENT_NOT_FOUND', 'Ticketing knows no event with this id (yet).');
      return availability;
    },
  );
}
