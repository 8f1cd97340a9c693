import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Event } from '@dems/contracts';
import { account, eventBody, startInProcess, type Account, type InProcess } from './in-process.js';

/**
 * Capacity against sales, with the real services: events asks ticketing, which owns the sales, to confirm a
 * capacity change in the same transaction as those sales. Once, an organizer's PATCH to capacity 10 raced five
 * buyers of 10 and ticketing ended with capacity 10, sold 50.
 */

let sys: InProcess;
let organizer: Account;
let buyers: Account[];
let keys = 0;

beforeAll(async () => {
  sys = await startInProcess({ ordersPerUserPerMinute: 10_000 });
  organizer = await account(sys, 'organizer', 'olga');
  buyers = await Promise.all(Array.from({ length: 5 }, (_, i) => account(sys, 'attendee', `buyer${i}`)));
});
afterAll(async () => sys?.close());

async function publish(capacity = 100): Promise<Event> {
  const res = await sys.apps.events.inject({
    method: 'POST',
    url: '/events',
    headers: organizer.auth,
    payload: { ...eventBody('Capacity race'), ticketTypes: [{ name: 'General', priceCents: 1000, currency: 'EUR', capacity }] },
  });
  expect(res.statusCode, res.body).toBe(201);
  await sys.settle();
  return res.json<Event>();
}

const patchCapacity = (event: Event, capacity: number) =>
  sys.apps.events.inject({ method: 'PATCH', url: `/events/${event.id}`, headers: organizer.auth, payload: { ticketTypes: [{ ...event.ticketTypes[0]!, capacity }] } });

const buy = (event: Event, buyer: Account, quantity: number) =>
  sys.apps.ticketing.inject({
    method: 'POST',
    url: '/orders',
    headers: { ...buyer.auth, 'idempotency-key': `k${keys++}` },
    payload: { eventId: event.id, ticketTypeId: event.ticketTypes[0]!.id, quantity },
  });

const availability = async (event: Event) => (await sys.apps.ticketing.inject({ url: `/availability/${event.id}` })).json().ticketTypes[0];
const shown = async (event: Event) => (await sys.apps.events.inject({ url: `/events/${event.id}` })).json<Event>().ticketTypes[0]!.capacity;

describe('capacity changes', () => {
  it('refuses a capacity below what ticketing has sold with 409 CAPACITY_BELOW_SOLD, whatever events has heard', async () => {
    const event = await publish();
    expect((await buy(event, buyers[0]!, 10)).statusCode).toBe(201);
    expect((await buy(event, buyers[1]!, 2)).statusCode).toBe(201);
    // No settle(): events has not heard of these sales, and never needs to.
    const refused = await patchCapacity(event, 11);
    expect(refused.statusCode, refused.body).toBe(409);
    expect(refused.json()).toMatchObject({ code: 'CAPACITY_BELOW_SOLD', message: "General has already sold 12 tickets; its capacity can't be lower than that." });
    expect(await shown(event)).toBe(100);
    expect(await availability(event)).toMatchObject({ capacity: 100, sold: 12 });

    const exact = await patchCapacity(event, 12);
    expect(exact.statusCode, exact.body).toBe(200);
    expect(await availability(event)).toMatchObject({ capacity: 12, sold: 12, remaining: 0 });
    expect((await buy(event, buyers[2]!, 1)).json().code).toBe('SOLD_OUT');
    // The snapshot of that change arrives later and leaves the confirmed capacity as it is.
    await sys.settle();
    expect(await availability(event)).toMatchObject({ capacity: 12, sold: 12 });
    expect(await shown(event)).toBe(12);
  });

  it('five buyers of 10 racing a PATCH to capacity 10 never end with capacity below sold, and both services agree', async () => {
    for (let round = 0; round < 8; round++) {
      const event = await publish();
      // Each round starts the PATCH and the rush at different moments relative to each other.
      const later = (ms: number) => new Promise((r) => setTimeout(r, ms));
      const patch = later(round % 2 ? round : 0).then(() => patchCapacity(event, 10));
      const sales = buyers.map((b, i) => later(round % 2 ? 0 : 2 * round + i).then(() => buy(event, b, 10)));
      const [patched, ...bought] = await Promise.all([patch, ...sales]);
      const sold = bought.filter((b) => b.statusCode === 201).length * 10;
      for (const b of bought) expect([201, 409], b.body).toContain(b.statusCode);
      const now = await availability(event);
      expect(now.sold).toBe(sold);
      expect(now.capacity).toBeGreaterThanOrEqual(sold);
      if (patched.statusCode === 200) expect([now.capacity, sold]).toEqual([10, sold <= 10 ? sold : NaN]);
      else expect([patched.statusCode, patched.json().code, now.capacity]).toEqual([409, 'CAPACITY_BELOW_SOLD', 100]);
      await sys.settle();
      expect(await shown(event)).toBe(now.capacity);
      expect((await availability(event)).capacity).toBe(now.capacity);
    }
  });

  it('refuses a capacity change for a ticket type ticketing has not received yet, and changes nothing', async () => {
    const res = await sys.apps.events.inject({ method: 'POST', url: '/events', headers: organizer.auth, payload: eventBody('Not yet on sale') });
    const event = res.json<Event>();
    // Not settled: ticketing has not received EventPublished.
    const early = await patchCapacity(event, 5);
    expect(early.statusCode).toBe(409);
    expect(early.json().code).toBe('EVENT_NOT_ON_SALE');
    expect(await shown(event)).toBe(event.ticketTypes[0]!.capacity);
    await sys.settle();
    expect((await patchCapacity(event, 5)).statusCode).toBe(200);
  });
});
