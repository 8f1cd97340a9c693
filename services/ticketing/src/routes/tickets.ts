import { IdParams, Ticket, TicketList, TicketListQuery } from '@dems/contracts';
import { requireSignedIn, type App } from '@dems/kit';
import type { TicketingStore } from '../store/ticketing-store.js';
import { cancelTicket } from '../use-cases/cancel-tickets.js';

export function ticketRoutes(app: App, store: TicketingStore): void {
  app.get(
    '/tickets',
    {
      onRequest: async (req) => void requireSignedIn(req),
      schema: {
        tags: ['tickets'],
        summary: 'My tickets, newest first',
        description: 'A page of at most `limit` tickets (50 by default); pass `nextCursor` back as `cursor` for the next page, until it is null.',
        security: [{ bearer: [] }],
        querystring: TicketListQuery,
        response: { 200: TicketList },
      },
    },
    async (req) => {
      const { cursor, limit } = req.query;
      const page = await store.listTickets(requireSignedIn(req).id, { cursor, limit });
      return { items: page.items, nextCursor: page.next };
    },
  );

  app.post(
    '/tickets/:id/cancel',
    {
      onRequest: async (req) => void requireSignedIn(req),
      schema: {
        tags: ['tickets'],
        summary: 'Cancel one of my tickets',
        description: 'Refunds its price and puts the seat back on sale.',
        security: [{ bearer: [] }],
        params: IdParams,
        response: { 200: Ticket },
      },
    },
    async (req) => cancelTicket(store, requireSignedIn(req).id, req.params.id),
  );
}
