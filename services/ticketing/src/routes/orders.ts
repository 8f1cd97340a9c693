import { IDEMPOTENCY_HEADER, IdempotencyKey, IdParams, Order, OrderList, PlaceOrderBody } from '@dems/contracts';
import { AppError, requireUser, Throttle, type App } from '@dems/kit';
import { z } from 'zod';
import { purchaseFingerprint } from '../domain/purchase.js';
import type { TicketingStore } from '../store/ticketing-store.js';

const signedIn = async (req: Parameters<typeof requireUser>[0]) => {
  requireUser(req);
};

export function orderRoutes(app: App, store: TicketingStore, limits: { ordersPerUserPerMinute: number }): void {
  // Per user, in this process: a script buying (or retrying) in a loop is slowed down, people are not.
  const purchases = new Throttle(limits.ordersPerUserPerMinute, 60_000);
  app.post(
    '/orders',
    {
      // Auth and the key are checked before the body, so a caller learns first what it must fix first.
      onRequest: async (req) => {
        const user = requireUser(req);
        purchases.take(user.id, 'You are buying too fast.');
        if (!IdempotencyKey.safeParse(req.headers[IDEMPOTENCY_HEADER]).success) {
          throw new AppError('IDEMPOTENCY_KEY_REQUIRED', 'Send an Idempotency-Key header (1–200 visible characters, e.g. a UUID) so a retry never buys twice.');
        }
      },
      schema: {
        tags: ['orders'],
        summary: 'Buy tickets',
        description: 'Takes the seats, creates the order and its tickets. Retrying with the same Idempotency-Key returns the first order (header idempotent-replayed: true) and creates nothing.',
        security: [{ bearer: [] }],
        headers: z.object({ [IDEMPOTENCY_HEADER]: z.string().optional() }),
        body: PlaceOrderBody,
        response: { 201: Order },
      },
    },
    async (req, reply) => {
      const user = requireUser(req);
      const { order, replayed } = await store.placeOrder({
        ...req.body,
        userId: user.id,
        idempotencyKey: String(req.headers[IDEMPOTENCY_HEADER]),
        requestHash: purchaseFingerprint(req.body),
      });
      if (replayed) reply.header('idempotent-replayed', 'true');
      return reply.code(201).send(order);
    },
  );

  app.get(
    '/orders',
    {
      onRequest: signedIn,
      schema: { tags: ['orders'], summary: 'My orders, newest first', security: [{ bearer: [] }], response: { 200: OrderList } },
    },
    async (req) => ({ items: await store.listOrders(requireUser(req).id) }),
  );

  app.get(
    '/orders/:id',
    {
      onRequest: signedIn,
      schema: { tags: ['orders'], summary: 'One of my orders', security: [{ bearer: [] }], params: IdParams, response: { 200: Order } },
    },
    async (req) => {
      const order = await store.getOrder(requireUser(req).id, req.params.id);
      if (!order) throw new AppError('ORDER_NOT_FOUND', 'You have no order with this id.');
      return order;
    },
  );
}
