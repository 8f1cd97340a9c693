import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { context, propagation, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, NodeTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-node';
import { FastifyOtelInstrumentation } from '@fastify/otel';
import type { App } from '@dems/kit';
import { deliver, TEST_SECRET, tempDir, testTokens } from '@dems/kit/testing';
import { buildApp } from '../src/app.js';
import { purchaseOutcome } from '../src/routes/orders.js';
import { SqliteTicketingStore } from '../src/store/sqlite.js';
import { eventSnapshot, pastEvent, published, ticketType } from './fixtures.js';

/** Purchases as /metrics counts them, and as traces follow them into the outbox (real SQLite store, real app). */

type Tokens = Awaited<ReturnType<typeof testTokens>>;
let tokens: Tokens;
let ann: { authorization: string };
let bob: { authorization: string };

// A real tracer provider with the official Fastify instrumentation, spans kept in memory.
const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(new InMemorySpanExporter())] });
let fastifyOtel: FastifyOtelInstrumentation;

beforeAll(async () => {
  provider.register();
  fastifyOtel = new FastifyOtelInstrumentation({ registerOnInitialization: true });
  tokens = await testTokens();
  ann = await tokens.bearer({ id: 'usr_ann', name: 'Ann' });
  bob = await tokens.bearer({ id: 'usr_bob', name: 'Bob' });
});
afterAll(async () => {
  fastifyOtel.disable();
  await provider.shutdown();
  trace.disable();
  context.disable();
  propagation.disable();
});

let dir: ReturnType<typeof tempDir>;
let store: SqliteTicketingStore;
let app: App;

beforeEach(async () => {
  dir = tempDir('ticketing-observability-');
  store = new SqliteTicketingStore({ file: join(dir.path, 'ticketing.db'), synchronous: 'NORMAL' });
  const event = eventSnapshot({ ticketTypes: [ticketType(), ticketType({ id: 'tt_last', name: 'Last seats', capacity: 2 })] });
  app = await buildApp({ store, verify: tokens.verify, secret: TEST_SECRET, ordersPerUserPerMinute: 8 });
  expect((await deliver(app, [published(event), published(pastEvent())])).statusCode).toBe(200);
});
afterEach(async () => {
  await app.close();
  dir.cleanup();
});

function buy(auth: { authorization: string } | undefined, over: Record<string, unknown> = {}, headers: Record<string, string> = { 'idempotency-key': crypto.randomUUID() }) {
  return app.inject({ method: 'POST', url: '/orders', headers: { ...auth, ...headers }, payload: { eventId: 'evt_jazz', ticketTypeId: 'tt_ga', quantity: 1, ...over } });
}

async function purchases(): Promise<Record<string, number>> {
  const text = (await app.inject({ method: 'GET', url: '/metrics' })).body;
  return Object.fromEntries([...text.matchAll(/^dems_purchases_total\{outcome="(\w+)"\} (\d+)$/gm)].map((m) => [m[1]!, Number(m[2])]));
}

describe('dems_purchases_total: each answer of POST /orders by outcome', () => {
  it('starts every outcome at 0, so each is on a graph before it first happens', async () => {
    expect(await purchases()).toEqual({ created: 0, replayed: 0, sold_out: 0, rejected: 0, rate_limited: 0, unavailable: 0, failed: 0 });
  });

  it('counts sales, replays, sold-out and refused purchases, and the per-user limit', async () => {
    const key = { 'idempotency-key': 'ann-1' };
    expect((await buy(ann, {}, key)).statusCode).toBe(201);
    expect((await buy(ann, {}, key)).statusCode).toBe(201); // the same purchase again: replayed
    expect((await buy(ann, { ticketTypeId: 'tt_last', quantity: 2 })).statusCode).toBe(201);
    expect((await buy(ann, { ticketTypeId: 'tt_last' })).statusCode).toBe(409); // SOLD_OUT
    expect((await buy(ann, { eventId: 'evt_past' })).statusCode).toBe(409); // EVENT_ENDED: refused, not sold out
    expect((await buy(ann, { quantity: 2 }, key)).statusCode).toBe(422); // the key of another purchase
    expect((await buy(ann, {}, {})).statusCode).toBe(400); // no key
    expect((await buy(undefined)).statusCode).toBe(401);
    expect(await purchases()).toEqual({ created: 2, replayed: 1, sold_out: 1, rejected: 4, rate_limited: 0, unavailable: 0, failed: 0 });

    // Ann has made 7 purchase requests this minute (the limit is 8): the 9th is refused.
    expect((await buy(ann)).statusCode).toBe(201);
    expect((await buy(ann)).statusCode).toBe(429);
    expect((await buy(bob)).statusCode).toBe(201);
    expect(await purchases()).toMatchObject({ created: 4, rate_limited: 1 });
  });

  it.each([
    [201, undefined, false, 'created'],
    [201, undefined, true, 'replayed'],
    [409, 'SOLD_OUT', false, 'sold_out'],
    [409, 'EVENT_CANCELLED', false, 'rejected'],
    [404, 'TICKET_TYPE_NOT_FOUND', false, 'rejected'],
    [429, 'RATE_LIMITED', false, 'rate_limited'],
    [503, 'OVERLOADED', false, 'unavailable'],
    [503, 'SHUTTING_DOWN', false, 'unavailable'],
    [500, 'INTERNAL', false, 'failed'],
    [502, undefined, false, 'failed'],
    [499, undefined, false, 'rejected'],
  ])('an answer %i (%s, replayed: %s) is %s', (status, code, replayed, outcome) => {
    expect(purchaseOutcome(status, code, replayed)).toBe(outcome);
  });
});

describe('trace context of purchases committed together', () => {
  const traceId = (n: number) => n.toString(16).padStart(32, 'a');

  it('each OrderPlaced carries the trace of its own request, though one group commit wrote them all', async () => {
    // Sent together, they are committed in one batch (one transaction), run from whichever request came first.
    const answers = await Promise.all([1, 2, 3].map((n) => buy(n === 2 ? bob : ann, {}, { 'idempotency-key': `k${n}`, traceparent: `00-${traceId(n)}-${'b'.repeat(15)}${n}-01` })));
    expect(answers.map((a) => a.statusCode)).toEqual([201, 201, 201]);
    const orderIds = answers.map((a) => a.json<{ id: string }>().id);
    const entries = await store.outbox.claimDue('engagement', 10, Date.now(), 1);
    const traceOf = new Map(entries.map((e) => [(e.message.data as { orderId: string }).orderId, e.message.traceparent?.split('-')[1]]));
    expect(orderIds.map((id) => traceOf.get(id))).toEqual([traceId(1), traceId(2), traceId(3)]);
  });
});
