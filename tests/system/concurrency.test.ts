import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, createEvent, eventually, startTestSystem, waitOnSale } from './helpers.js';

describe('system: concurrency, idempotency and faults with two ticketing processes on one store', () => {
  let t: Awaited<ReturnType<typeof startTestSystem>>;
  beforeAll(async () => {
    t = await startTestSystem({ extraTicketing: 1 });
  }, 60_000);
  afterAll(async () => t?.stop());

  it('300 simultaneous purchases on capacity 100 sell exactly 100; the rest are 409; no 5xx', async () => {
    const { api } = t;
    const organizer = await api.account('organizer');
    const event = await createEvent(api, organizer.token, 100);
    await waitOnSale(api, event.id);
    const buyers = await Promise.all(Array.from({ length: 30 }, (_, i) => api.account('attendee', `buyer-${i}-${Date.now()}`)));
    const ticketings = [client(t.system.urls.ticketing), client(t.system.urlOf('ticketing-2'))];

    const results = await Promise.all(
      Array.from({ length: 300 }, (_, i) => {
        const quantity = 1 + (i % 3);
        return ticketings[i % 2]!.post('/orders', { eventId: event.id, ticketTypeId: event.ticketTypes[0]!.id, quantity }, buyers[i % 30]!.token, {
          'idempotency-key': `flash-${i}`,
        }).then((r) => ({ ...r, quantity }));
      }),
    );

    const sold = results.filter((r) => r.status === 201).reduce((n, r) => n + r.quantity, 0);
    expect(results.filter((r) => r.status >= 500)).toEqual([]);
    expect(results.every((r) => r.status === 201 || (r.status === 409 && r.body.code === 'SOLD_OUT'))).toBe(true);
    expect(sold).toBe(100);
    const availability = await api.get(`/availability/${event.id}`);
    expect(availability.body.ticketTypes[0]).toMatchObject({ capacity: 100, sold: 100, remaining: 0 });
    // Every ticket sold exists exactly once across all buyers.
    const tickets = await Promise.all(buyers.map((b) => api.get('/tickets', b.token)));
    expect(tickets.reduce((n, r) => n + r.body.items.filter((x: { eventId: string }) => x.eventId === event.id).length, 0)).toBe(100);
  });

  it('the same purchase retried 20 times at once with one key creates one order', async () => {
    const { api } = t;
    const organizer = await api.account('organizer');
    const buyer = await api.account('attendee');
    const event = await createEvent(api, organizer.token, 50);
    await waitOnSale(api, event.id);
    const body = { eventId: event.id, ticketTypeId: event.ticketTypes[0]!.id, quantity: 2 };
    const ticketings = [client(t.system.urls.ticketing), client(t.system.urlOf('ticketing-2'))];
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => ticketings[i % 2]!.post('/orders', body, buyer.token, { 'idempotency-key': 'retry-me' })));
    expect(results.every((r) => r.status === 201)).toBe(true);
    expect(new Set(results.map((r) => r.body.id)).size).toBe(1);
    expect((await api.get('/orders', buyer.token)).body.items).toHaveLength(1);
    expect((await api.get(`/availability/${event.id}`)).body.ticketTypes[0].sold).toBe(2);
    const reused = await api.post('/orders', { ...body, quantity: 3 }, buyer.token, { 'idempotency-key': 'retry-me' });
    expect(reused.status).toBe(422);
    expect(reused.body.code).toBe('IDEMPOTENCY_KEY_REUSED');
  });

  it('with engagement stopped a purchase still succeeds; when it is back the notification arrives exactly once', async () => {
    const { api } = t;
    const organizer = await api.account('organizer');
    const buyer = await api.account('attendee');
    const event = await createEvent(api, organizer.token, 20);
    await waitOnSale(api, event.id);

    await t.system.stop('engagement');
    const order = await api.post('/orders', { eventId: event.id, ticketTypeId: event.ticketTypes[0]!.id, quantity: 1 }, buyer.token, {
      'idempotency-key': 'while-down',
    });
    expect(order.status).toBe(201);
    expect((await api.get('/notifications', buyer.token)).status).toBe(502);

    await t.system.start('engagement');
    const notes = await eventually(
      async () => {
        const r = await api.get('/notifications', buyer.token);
        return r.status === 200 && r.body.items.length > 0 ? r.body.items : undefined;
      },
      15_000,
      'the notification after engagement restarted',
    );
    // Give the relay time to (wrongly) deliver again, then check there is still exactly one.
    await new Promise((r) => setTimeout(r, 1500));
    const final = await api.get('/notifications', buyer.token);
    expect(notes[0].type).toBe('order_confirmed');
    expect(final.body.items.filter((n: { type: string }) => n.type === 'order_confirmed')).toHaveLength(1);
  });
});
