import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Message, MessageType, Order, Ticket } from '@dems/contracts';
import type { App } from '@dems/kit';
import { deliver, signedHeaders, TEST_SECRET, tempDir, testTokens } from '@dems/kit/testing';
import { buildApp } from '../src/app.js';
import { SqliteTicketingStore } from '../src/store/sqlite.js';
import { cancelled, eventSnapshot, pastEvent, published, ticketType, updated } from './fixtures.js';

type Tokens = Awaited<ReturnType<typeof testTokens>>;
let tokens: Tokens;
let ann: { authorization: string };
let bob: { authorization: string };

beforeAll(async () => {
  tokens = await testTokens();
  ann = await tokens.bearer({ id: 'usr_ann', name: 'Ann' });
  bob = await tokens.bearer({ id: 'usr_bob', name: 'Bob' });
});

let dir: ReturnType<typeof tempDir>;
let store: SqliteTicketingStore;
let app: App;

beforeEach(async () => {
  dir = tempDir('ticketing-routes-');
  store = new SqliteTicketingStore({ file: join(dir.path, 'ticketing.db'), synchronous: 'NORMAL' });
  app = await buildApp({ store, verify: tokens.verify, secret: TEST_SECRET });
  const res = await deliver(app, [published(eventSnapshot()), published(pastEvent())]);
  expect(res.statusCode).toBe(200);
});
afterEach(async () => {
  await app.close();
  dir.cleanup();
});

const body = (over: Record<string, unknown> = {}) => ({ eventId: 'evt_jazz', ticketTypeId: 'tt_ga', quantity: 2, ...over });

function buy(auth: { authorization: string } | undefined, payload: unknown, key: string | null = crypto.randomUUID()) {
  return app.inject({
    method: 'POST',
    url: '/orders',
    headers: { ...auth, ...(key === null ? {} : { 'idempotency-key': key }) },
    payload: payload as Record<string, unknown>,
  });
}

async function outbox<T extends MessageType>(type: T): Promise<Message<T>[]> {
  const entries = await store.outbox.claimDue('engagement', 1000, Date.now(), 1);
  return entries.map((e) => e.message).filter((m) => m.type === type) as Message<T>[];
}

const orderCount = async (auth: { authorization: string }) => (await app.inject({ method: 'GET', url: '/orders', headers: auth })).json<{ items: Order[] }>().items.length;

describe('POST /orders', () => {
  it('buys tickets: 201 with totals and printable codes, and OrderPlaced waits in the outbox', async () => {
    const res = await buy(ann, body({ quantity: 3 }));
    expect(res.statusCode).toBe(201);
    expect(res.headers['idempotent-replayed']).toBeUndefined();
    const order = res.json<Order>();
    expect(order).toMatchObject({
      userId: 'usr_ann',
      eventId: 'evt_jazz',
      eventTitle: 'Jazz Night',
      ticketTypeId: 'tt_ga',
      quantity: 3,
      totalCents: 7500,
      refundedCents: 0,
      currency: 'USD',
      status: 'confirmed',
    });
    expect(order.tickets).toHaveLength(3);
    for (const t of order.tickets) expect(t).toMatchObject({ id: expect.stringMatching(/^tkt_/), code: expect.stringMatching(/^DEMS-/), status: 'valid' });

    const placed = await outbox('OrderPlaced');
    expect(placed.map((m) => m.data)).toEqual([expect.objectContaining({ orderId: order.id, userId: 'usr_ann', quantity: 3, totalCents: 7500 })]);
    const availability = await app.inject({ method: 'GET', url: '/availability/evt_jazz' });
    expect(availability.json().ticketTypes[0]).toMatchObject({ sold: 3, remaining: 97 });
  });

  it('needs a signed-in caller', async () => {
    const none = await buy(undefined, body());
    expect(none.statusCode).toBe(401);
    expect(none.json()).toMatchObject({ code: 'UNAUTHENTICATED', requestId: expect.any(String) });
    const forged = await buy({ authorization: 'Bearer not.a.token' }, body());
    expect(forged.statusCode).toBe(401);
    const expired = await buy({ authorization: `Bearer ${await tokens.tokenFor({ id: 'usr_ann' }, '-1m')}` }, body());
    expect(expired.json()).toMatchObject({ code: 'UNAUTHENTICATED', message: expect.stringMatching(/expired/) });
    expect(await orderCount(ann)).toBe(0);
  });

  it('needs an Idempotency-Key', async () => {
    for (const key of [null, '', 'has space', 'x'.repeat(201)]) {
      const res = await buy(ann, body(), key);
      expect(res.statusCode, String(key)).toBe(400);
      expect(res.json().code).toBe('IDEMPOTENCY_KEY_REQUIRED');
    }
    expect(await orderCount(ann)).toBe(0);
  });

  it('rejects unknown, missing and malformed fields with 400 VALIDATION_FAILED', async () => {
    const bad = [
      body({ coupon: 'FREE' }),
      body({ quantity: 0 }),
      body({ quantity: 11 }),
      body({ quantity: 1.5 }),
      body({ quantity: '2' }),
      body({ eventId: '../etc' }),
      { eventId: 'evt_jazz', quantity: 1 },
    ];
    for (const payload of bad) {
      const res = await buy(ann, payload);
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
      expect(res.json().code).toBe('VALIDATION_FAILED');
    }
    expect(await orderCount(ann)).toBe(0);
  });

  it('rejects malformed JSON with 400 MALFORMED_JSON', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/orders',
      headers: { ...ann, 'idempotency-key': 'k1', 'content-type': 'application/json' },
      payload: '{"eventId": "evt_jazz",',
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().code).toBe('MALFORMED_JSON');
  });

  it('answers with the reason an event or ticket type cannot be bought', async () => {
    const gone = eventSnapshot({ id: 'evt_gone', version: 2 });
    await deliver(app, [cancelled(gone)]);
    const cases: [Record<string, unknown>, number, string][] = [
      [body({ eventId: 'evt_unknown' }), 409, 'EVENT_NOT_ON_SALE'],
      [body({ eventId: 'evt_gone' }), 409, 'EVENT_CANCELLED'],
      [body({ eventId: 'evt_past' }), 409, 'EVENT_ENDED'],
      [body({ ticketTypeId: 'tt_none' }), 404, 'TICKET_TYPE_NOT_FOUND'],
      [body({ ticketTypeId: 'tt_vip', quantity: 5 }), 409, 'SOLD_OUT'],
    ];
    for (const [payload, status, code] of cases) {
      const res = await buy(ann, payload);
      expect(res.statusCode, code).toBe(status);
      expect(res.json()).toMatchObject({ code, message: expect.any(String), requestId: expect.any(String) });
    }
    expect((await buy(ann, body({ ticketTypeId: 'tt_vip', quantity: 5 }))).json().message).toBe('Sorry — only 3 tickets left.');
    expect((await buy(ann, body({ ticketTypeId: 'tt_vip', quantity: 3 }))).statusCode).toBe(201);
    expect((await buy(ann, body({ ticketTypeId: 'tt_vip', quantity: 1 }))).json().message).toBe('Sorry — this ticket type is sold out.');
    expect(await orderCount(ann)).toBe(1);
  });

  it('replays a retried key: the same order, 201 again, marked replayed, nothing created', async () => {
    const first = await buy(ann, body(), 'retry-me');
    const again = await buy(ann, body(), 'retry-me');
    expect(again.statusCode).toBe(201);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.json()).toEqual(first.json());
    expect(await orderCount(ann)).toBe(1);
    expect(await outbox('OrderPlaced')).toHaveLength(1);
    // The key belongs to Ann: Bob using the same string buys his own tickets.
    const bobs = await buy(bob, body(), 'retry-me');
    expect(bobs.statusCode).toBe(201);
    expect(bobs.json().id).not.toBe(first.json().id);
  });

  it('rejects a key reused for a different body with 422', async () => {
    await buy(ann, body({ quantity: 1 }), 'one-key');
    const res = await buy(ann, body({ quantity: 2 }), 'one-key');
    expect(res.statusCode).toBe(422);
    expect(res.json().code).toBe('IDEMPOTENCY_KEY_REUSED');
    expect(await orderCount(ann)).toBe(1);
  });

  it('creates one order when the same purchase is sent 20 times at once', async () => {
    const results = await Promise.all(Array.from({ length: 20 }, () => buy(ann, body({ quantity: 2 }), 'double-click')));
    expect(results.map((r) => r.statusCode)).toEqual(Array(20).fill(201));
    expect(new Set(results.map((r) => r.json<Order>().id)).size).toBe(1);
    expect(results.filter((r) => r.headers['idempotent-replayed'] === 'true')).toHaveLength(19);
    expect(await orderCount(ann)).toBe(1);
    const availability = await app.inject({ method: 'GET', url: '/availability/evt_jazz' });
    expect(availability.json().ticketTypes[0].sold).toBe(2);
  });
});

describe('GET /orders, /orders/:id, /tickets', () => {
  it("shows the caller's own, newest first, and hides everyone else's", async () => {
    const first = (await buy(ann, body({ quantity: 1 }))).json<Order>();
    const second = (await buy(ann, body({ quantity: 2 }))).json<Order>();
    const bobs = (await buy(bob, body({ quantity: 1 }))).json<Order>();

    const orders = await app.inject({ method: 'GET', url: '/orders', headers: ann });
    expect(orders.json<{ items: Order[] }>().items.map((o) => o.id)).toEqual([second.id, first.id]);
    const one = await app.inject({ method: 'GET', url: `/orders/${first.id}`, headers: ann });
    expect(one.json()).toEqual(first);

    const foreign = await app.inject({ method: 'GET', url: `/orders/${bobs.id}`, headers: ann });
    expect(foreign.statusCode).toBe(404);
    expect(foreign.json().code).toBe('ORDER_NOT_FOUND');
    expect((await app.inject({ method: 'GET', url: '/orders/ord_missing', headers: ann })).json().code).toBe('ORDER_NOT_FOUND');
    expect((await app.inject({ method: 'GET', url: '/orders/not%20an%20id', headers: ann })).statusCode).toBe(400);

    const tickets = (await app.inject({ method: 'GET', url: '/tickets', headers: ann })).json<{ items: Ticket[] }>().items;
    expect(tickets).toHaveLength(3);
    expect(tickets.every((t) => t.orderId !== bobs.id)).toBe(true);
    expect(tickets[0]).toMatchObject({ orderId: second.id, eventTitle: 'Jazz Night', ticketTypeName: 'General admission', priceCents: 2500, status: 'valid' });
  });

  it('a ticket carries its event (venue, time zone, start, end, status) as the latest EventUpdated left it', async () => {
    await buy(ann, body({ quantity: 1 }));
    const ticket = async () => (await app.inject({ method: 'GET', url: '/tickets', headers: ann })).json<{ items: Ticket[] }>().items[0]!;
    const before = await ticket();
    expect(before).toMatchObject({ eventTitle: 'Jazz Night', eventVenue: 'Blue Room', eventTimezone: 'Europe/Berlin', eventStatus: 'published' });
    // The fixture's event lasts three hours from a start a day ahead.
    expect(Date.parse(before.eventEndsAt) - Date.parse(before.eventStartsAt)).toBe(3 * 3_600_000);

    const moved = eventSnapshot({ venue: 'Great Hall', timezone: 'America/New_York', startsAt: '2031-03-01T19:00:00.000Z', endsAt: '2031-03-01T23:00:00.000Z', version: 2 });
    expect((await deliver(app, [updated(moved, ['venue', 'timezone', 'startsAt', 'endsAt'])])).statusCode).toBe(200);
    expect(await ticket()).toMatchObject({
      eventVenue: 'Great Hall',
      eventTimezone: 'America/New_York',
      eventStartsAt: '2031-03-01T19:00:00.000Z',
      eventEndsAt: '2031-03-01T23:00:00.000Z',
      eventStatus: 'published',
    });
  });

  it('pages with cursor and limit: nextCursor leads through every order and ticket once, then is null', async () => {
    const placed: Order[] = [];
    for (const quantity of [2, 1, 3]) placed.push((await buy(ann, body({ quantity }))).json<Order>());
    await buy(bob, body({ quantity: 1 }));
    type Page<T> = { items: T[]; nextCursor: string | null };
    const walk = async <T>(path: string, limit: number) => {
      const pages: Page<T>[] = [];
      let cursor: string | null = null;
      do {
        const res = await app.inject({ method: 'GET', url: `${path}?limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, headers: ann });
        expect(res.statusCode).toBe(200);
        pages.push(res.json<Page<T>>());
        cursor = pages.at(-1)!.nextCursor;
      } while (cursor && pages.length < 20);
      return pages;
    };
    const orders = await walk<Order>('/orders', 2);
    expect(orders.map((p) => p.items.length)).toEqual([2, 1]);
    expect(orders.flatMap((p) => p.items.map((o) => o.id))).toEqual(placed.map((o) => o.id).reverse());
    const tickets = await walk<Ticket>('/tickets', 4);
    expect(tickets.map((p) => p.items.length)).toEqual([4, 2]);
    expect(tickets.flatMap((p) => p.items.map((t) => t.id))).toEqual(placed.flatMap((o) => o.tickets.map((t) => t.id)).reverse());
    // Without a limit: one page of up to 50, and no next page.
    expect((await app.inject({ method: 'GET', url: '/tickets', headers: ann })).json<Page<Ticket>>()).toMatchObject({ nextCursor: null });
    expect((await app.inject({ method: 'GET', url: '/orders', headers: ann })).json<Page<Order>>().items).toHaveLength(3);
  });

  it('refuses a limit outside 1–100, a cursor it did not make and unknown parameters with 400', async () => {
    await buy(ann, body());
    for (const path of ['/orders', '/tickets']) {
      for (const query of ['limit=0', 'limit=101', 'limit=two', 'cursor=not-a-cursor', 'page=2']) {
        const res = await app.inject({ method: 'GET', url: `${path}?${query}`, headers: ann });
        expect([path, query, res.statusCode, res.json().code]).toEqual([path, query, 400, 'VALIDATION_FAILED']);
      }
      expect((await app.inject({ method: 'GET', url: `${path}?limit=100`, headers: ann })).statusCode).toBe(200);
    }
  });

  it('needs a signed-in caller', async () => {
    for (const url of ['/orders', '/orders/ord_x', '/tickets']) {
      expect((await app.inject({ method: 'GET', url })).statusCode, url).toBe(401);
    }
  });
});

describe('POST /tickets/:id/cancel', () => {
  it('cancels and refunds the ticket and puts its seat back on sale', async () => {
    const order = (await buy(ann, body({ quantity: 2 }))).json<Order>();
    const ticketId = order.tickets[0]!.id;
    const res = await app.inject({ method: 'POST', url: `/tickets/${ticketId}/cancel`, headers: ann });
    expect(res.statusCode).toBe(200);
    expect(res.json<Ticket>()).toMatchObject({ id: ticketId, status: 'cancelled', cancelledAt: expect.any(String) });

    const availability = await app.inject({ method: 'GET', url: '/availability/evt_jazz' });
    expect(availability.json().ticketTypes[0]).toMatchObject({ sold: 1, remaining: 99 });
    const after = await app.inject({ method: 'GET', url: `/orders/${order.id}`, headers: ann });
    expect(after.json()).toMatchObject({ status: 'partially_cancelled', refundStatus: 'partial', refundedCents: 2500 });
    expect((await outbox('TicketCancelled')).map((m) => m.data)).toEqual([expect.objectContaining({ ticketId, reason: 'attendee', refundCents: 2500 })]);

    const twice = await app.inject({ method: 'POST', url: `/tickets/${ticketId}/cancel`, headers: ann });
    expect(twice.statusCode).toBe(409);
    expect(twice.json().code).toBe('TICKET_ALREADY_CANCELLED');
  });

  it('a free order is cancelled once its tickets are, with nothing refunded', async () => {
    await deliver(app, [updated(eventSnapshot({ version: 2, ticketTypes: [ticketType(), ticketType({ id: 'tt_free', name: 'Free entry', priceCents: 0 })] }), ['ticketTypes'])]);
    const order = (await buy(ann, body({ ticketTypeId: 'tt_free', quantity: 2 }))).json<Order>();
    expect(order).toMatchObject({ totalCents: 0, status: 'confirmed', refundStatus: 'none' });
    const orderNow = async () => (await app.inject({ method: 'GET', url: `/orders/${order.id}`, headers: ann })).json<Order>();

    expect((await app.inject({ method: 'POST', url: `/tickets/${order.tickets[0]!.id}/cancel`, headers: ann })).statusCode).toBe(200);
    expect(await orderNow()).toMatchObject({ status: 'partially_cancelled', refundStatus: 'none', refundedCents: 0 });
    expect((await app.inject({ method: 'POST', url: `/tickets/${order.tickets[1]!.id}/cancel`, headers: ann })).statusCode).toBe(200);
    expect(await orderNow()).toMatchObject({ status: 'cancelled', refundStatus: 'none', refundedCents: 0 });
    const list = (await app.inject({ method: 'GET', url: '/orders', headers: ann })).json<{ items: Order[] }>();
    expect(list.items.map((o) => [o.id, o.status])).toEqual([[order.id, 'cancelled']]);
  });

  it("hides another user's ticket and refuses after the event is over", async () => {
    const order = (await buy(ann, body({ quantity: 1 }))).json<Order>();
    const ticketId = order.tickets[0]!.id;
    const foreign = await app.inject({ method: 'POST', url: `/tickets/${ticketId}/cancel`, headers: bob });
    expect(foreign.statusCode).toBe(404);
    expect(foreign.json().code).toBe('TICKET_NOT_FOUND');
    expect((await app.inject({ method: 'POST', url: `/tickets/${ticketId}/cancel` })).statusCode).toBe(401);

    // The organizer moves the event into the past (a later version of it arrives).
    await deliver(app, [updated(pastEvent({ id: 'evt_jazz', version: 2 }), ['startsAt', 'endsAt'])]);
    const ended = await app.inject({ method: 'POST', url: `/tickets/${ticketId}/cancel`, headers: ann });
    expect(ended.statusCode).toBe(409);
    expect(ended.json().code).toBe('EVENT_ENDED');
  });
});

describe('GET /availability/:eventId', () => {
  it('is public and lists every ticket type', async () => {
    const res = await app.inject({ method: 'GET', url: '/availability/evt_jazz' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      eventId: 'evt_jazz',
      ticketTypes: [
        { ticketTypeId: 'tt_ga', name: 'General admission', priceCents: 2500, currency: 'USD', capacity: 100, sold: 0, remaining: 100 },
        { ticketTypeId: 'tt_vip', name: 'VIP', priceCents: 9900, currency: 'USD', capacity: 3, sold: 0, remaining: 3 },
      ],
    });
  });

  it('answers 404 EVENT_NOT_FOUND for an event ticketing does not know', async () => {
    const res = await app.inject({ method: 'GET', url: '/availability/evt_nope' });
    expect(res.statusCode).toBe(404);
    expect(res.json().code).toBe('EVENT_NOT_FOUND');
  });
});

describe('incoming messages', () => {
  it('applies a message delivered twice only once', async () => {
    const message = updated(eventSnapshot({ version: 2, ticketTypes: [ticketType({ capacity: 120 })] }), ['ticketTypes']);
    const first = await deliver(app, [message]);
    const second = await deliver(app, [message]);
    expect(first.json().results).toEqual([{ id: message.id, result: 'applied' }]);
    expect(second.json().results).toEqual([{ id: message.id, result: 'duplicate' }]);
    const availability = await app.inject({ method: 'GET', url: '/availability/evt_jazz' });
    expect(availability.json().ticketTypes).toEqual([expect.objectContaining({ ticketTypeId: 'tt_ga', capacity: 120 })]);
  });

  it('ignores versions older than the one it holds', async () => {
    await deliver(app, [updated(eventSnapshot({ version: 3, title: 'Jazz Night (moved)', ticketTypes: [ticketType({ capacity: 80 })] }))]);
    await deliver(app, [updated(eventSnapshot({ version: 2, title: 'Jazz Night (old)', ticketTypes: [ticketType({ capacity: 10 })] }))]);
    const availability = await app.inject({ method: 'GET', url: '/availability/evt_jazz' });
    expect(availability.json().ticketTypes[0].capacity).toBe(80);
    expect((await buy(ann, body())).json().eventTitle).toBe('Jazz Night (moved)');
  });

  it('on event cancellation cancels every ticket, refunds, frees seats and enqueues TicketCancelled once', async () => {
    const annOrder = (await buy(ann, body({ quantity: 2 }))).json<Order>();
    const bobOrder = (await buy(bob, body({ ticketTypeId: 'tt_vip', quantity: 1 }))).json<Order>();
    const message = cancelled(eventSnapshot({ version: 2 }));
    await deliver(app, [message]);
    await deliver(app, [message]);

    const annTickets = (await app.inject({ method: 'GET', url: '/tickets', headers: ann })).json<{ items: Ticket[] }>().items;
    expect(annTickets.map((t) => t.status)).toEqual(['cancelled', 'cancelled']);
    expect(annTickets.map((t) => t.eventStatus)).toEqual(['cancelled', 'cancelled']);
    expect((await app.inject({ method: 'GET', url: `/orders/${annOrder.id}`, headers: ann })).json()).toMatchObject({
      status: 'cancelled',
      refundStatus: 'full',
      refundedCents: 5000,
    });
    expect((await app.inject({ method: 'GET', url: `/orders/${bobOrder.id}`, headers: bob })).json()).toMatchObject({
      status: 'cancelled',
      refundStatus: 'full',
      refundedCents: 9900,
    });
    const availability = await app.inject({ method: 'GET', url: '/availability/evt_jazz' });
    expect(availability.json().ticketTypes.map((t: { sold: number }) => t.sold)).toEqual([0, 0]);

    const notices = await outbox('TicketCancelled');
    expect(notices).toHaveLength(3);
    expect(notices.every((m) => m.data.reason === 'event_cancelled')).toBe(true);
    expect((await buy(ann, body())).json().code).toBe('EVENT_CANCELLED');
  });

  it('refuses unsigned deliveries', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/internal/messages',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ messages: [published(eventSnapshot({ id: 'evt_forged' }))] }),
    });
    expect(res.statusCode).toBe(401);
    expect(res.json().code).toBe('BAD_SIGNATURE');
    expect((await app.inject({ method: 'GET', url: '/availability/evt_forged' })).statusCode).toBe(404);
  });
});

describe('service basics', () => {
  it('answers health, readiness and documents its routes', async () => {
    expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url: '/readyz' })).json()).toMatchObject({ status: 'ready' });
    const spec = (await app.inject({ method: 'GET', url: '/openapi.json' })).json<{ paths: Record<string, unknown> }>();
    expect(Object.keys(spec.paths)).toEqual(expect.arrayContaining(['/orders', '/orders/{id}', '/tickets', '/tickets/{id}/cancel', '/availability/{eventId}']));
  });

  it('reports not ready once its store is closed', async () => {
    await store.close();
    expect((await app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(503);
  });
});

describe('POST /internal/capacity', () => {
  const change = (payload: unknown, headers?: Record<string, string>) => {
    const text = JSON.stringify(payload);
    return app.inject({ method: 'POST', url: '/internal/capacity', headers: headers ?? signedHeaders(text), payload: text });
  };

  it('confirms a capacity the sales allow, refuses one below them with 409, and needs the service signature', async () => {
    expect((await buy(ann, body({ quantity: 4 }))).statusCode).toBe(201);
    const ok = await change({ eventId: 'evt_jazz', version: 2, ticketTypes: [{ id: 'tt_ga', capacity: 4 }] });
    expect(ok.statusCode, ok.body).toBe(200);
    expect((await app.inject({ url: '/availability/evt_jazz' })).json().ticketTypes[0]).toMatchObject({ capacity: 4, sold: 4, remaining: 0 });

    const below = await change({ eventId: 'evt_jazz', version: 3, ticketTypes: [{ id: 'tt_ga', capacity: 3 }] });
    expect(below.statusCode).toBe(409);
    expect(below.json()).toMatchObject({ code: 'CAPACITY_BELOW_SOLD' });

    const unsigned = await change({ eventId: 'evt_jazz', version: 3, ticketTypes: [{ id: 'tt_ga', capacity: 50 }] }, { 'content-type': 'application/json' });
    expect(unsigned.statusCode).toBe(401);
    expect((await change({ eventId: 'evt_jazz', version: 0, ticketTypes: [] })).statusCode).toBe(400);
    expect((await app.inject({ url: '/availability/evt_jazz' })).json().ticketTypes[0].capacity).toBe(4);
  });
});
