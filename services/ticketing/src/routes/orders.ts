import { IDEMPOTENCY_HEADER, IdempotencyKey, QUEUE_PASS_HEADER, IdParams, Order, OrderList, OrderListQuery, PlaceOrderBody } from '@dems/contracts';
import { AppError, metricsOf, requireSignedIn, type App, type Throttle } from '@dems/kit';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { TicketingStore } from '../store/ticketing-store.js';
import { placeOrder } from '../use-cases/place-order.js';

const signedIn = async (req: Parameters<typeof requireSignedIn>[0]) => {
  requireSignedIn(req);
};

/** Refuses a purchase its event's waiting room does not admit (waiting-room/rooms.ts); absent: no sale is queued. */
export type PurchaseGate = (purchase: { userId: string; eventId: string; pass: string | undefined; idempotencyKey: string }) => Promise<void> | undefined;

/** `purchases`: per user, across the replicas: a script buying (or retrying) in a loop is slowed down, people are not. */
export function orderRoutes(app: App, store: TicketingStore, purchases: Throttle, gate?: PurchaseGate): void {
  const outcomes = purchaseOutcomes(app);
  app.post(
    '/orders',
    {
      onError: outcomes.onError,
      onResponse: outcomes.onResponse,
      // Auth and the key are checked before the body, so a caller learns first what it must fix first.
      onRequest: async (req) => {
        const user = requireSignedIn(req);
        await purchases.take(user.id, 'You are buying too fast.');
        if (!IdempotencyKey.safeParse(req.headers[IDEMPOTENCY_HEADER]).success) {
          throw new AppError('IDEMPOTENCY_KEY_REQUIRED', 'Send an Idempotency-Key header (1–200 visible characters, e.g. a UUID) so a retry never buys twice.');
        }
      },
      // The event is named in the body, so the waiting room's check runs once the body is validated.
      // A callback hook: for an event known not to be queued the gate answers at once, with no promise.
      preHandler:
        gate &&
        ((req, _reply, done) => {
          const pass = req.headers[QUEUE_PASS_HEADER];
          const key = String(req.headers[IDEMPOTENCY_HEADER]);
          const check = gate({ userId: requireSignedIn(req).id, eventId: req.body.eventId, pass: typeof pass === 'string' ? pass : undefined, idempotencyKey: key });
          if (!check) return done();
          check.then(() => done(), done);
        }),
      schema: {
        tags: ['orders'],
        summary: 'Buy tickets',
        description:
          'Takes the seats, creates the order and its tickets. Retrying with the same Idempotency-Key returns the first order (header idempotent-replayed: true) and creates nothing.',
        security: [{ bearer: [] }],
        headers: z.object({ [IDEMPOTENCY_HEADER]: z.string().optional(), [QUEUE_PASS_HEADER]: z.string().optional() }),
        body: PlaceOrderBody,
        response: { 201: Order },
      },
    },
    async (req, reply) => {
      const user = requireSignedIn(req);
      const { order, replayed } = await placeOrder(store, { ...req.body, userId: user.id, idempotencyKey: String(req.headers[IDEMPOTENCY_HEADER]) });
      if (replayed) reply.header('idempotent-replayed', 'true');
      return reply.code(201).send(order);
    },
  );

  app.get(
    '/orders',
    {
      onRequest: signedIn,
      schema: {
        tags: ['orders'],
        summary: 'My orders, newest first',
        description: 'A page of at most `limit` orders (50 by default); pass `nextCursor` back as `cursor` for the next page, until it is null.',
        security: [{ bearer: [] }],
        querystring: OrderListQuery,
        response: { 200: OrderList },
      },
    },
    async (req) => {
      const { cursor, limit } = req.query;
      const page = await store.listOrders(requireSignedIn(req).id, { cursor, limit });
      return { items: page.items, nextCursor: page.next };
    },
  );

  app.get(
    '/orders/:id',
    {
      onRequest: signedIn,
      schema: { tags: ['orders'], summary: 'One of my orders', security: [{ bearer: [] }], params: IdParams, response: { 200: Order } },
    },
    async (req) => {
      const order = await store.getOrder(requireSignedIn(req).id, req.params.id);
      if (!order) throw new AppError('ORDER_NOT_FOUND', 'You have no order with this id.');
      return order;
    },
  );
}

/** What became of a purchase request: dems_purchases_total{outcome} on /metrics. */
export const PURCHASE_OUTCOMES = ['created', 'replayed', 'sold_out', 'rejected', 'rate_limited', 'unavailable', 'failed'] as const;
export type PurchaseOutcome = (typeof PURCHASE_OUTCOMES)[number];

/**
 * The outcome of a purchase from its answer: 201 is a sale (or the replay of one), SOLD_OUT the one refusal a
 * sale is about; 429 the per-user limit, 503 a replica that shed it or is stopping (nothing was done), other 5xx a
 * failure; any other 4xx a request refused (not signed in, no key, not on sale, ended, cancelled, …).
 */
export function purchaseOutcome(status: number, errorCode: string | undefined, replayed: boolean): PurchaseOutcome {
  if (status === 201) return replayed ? 'replayed' : 'created';
  if (errorCode === 'SOLD_OUT') return 'sold_out';
  if (status === 429) return 'rate_limited';
  if (status === 503) return 'unavailable';
  return status >= 500 ? 'failed' : 'rejected';
}

/** Route hooks that count each answer of POST /orders by outcome (every outcome starts at 0, so each is graphed). */
function purchaseOutcomes(app: App) {
  const counter = metricsOf(app)?.counter('dems_purchases_total', 'Answers to POST /orders by outcome.', ['outcome']);
  for (const outcome of PURCHASE_OUTCOMES) counter?.inc({ outcome }, 0);
  const codes = new WeakMap<FastifyRequest, string>();
  // Callback hooks: a promise per purchase would cost more than the counting.
  return {
    onError: (req: FastifyRequest, _reply: FastifyReply, err: { code?: string }, done: () => void) => {
      if (err.code) codes.set(req, err.code);
      done();
    },
    onResponse: (req: FastifyRequest, reply: FastifyReply, done: () => void) => {
      counter?.inc({ outcome: purchaseOutcome(reply.statusCode, codes.get(req), reply.getHeader('idempotent-replayed') === 'true') });
      done();
    },
  };
}
