import { describe, expect, it } from 'vitest';
import { newMessage } from '@dems/contracts';
import { orderAfterCancelling, purchaseFingerprint, refuseCapacityChange } from '../src/domain/purchase.js';
import { applyEventMessages, changeOf, eventChange } from '../src/use-cases/apply-event-changes.js';
import { byAttendee, byEventCancellation } from '../src/use-cases/cancel-tickets.js';
import { issueOrder, purchaseInput } from '../src/use-cases/place-order.js';
import type { CancelledTicket, MessageChange, TicketingStore } from '../src/store/ticketing-store.js';
import { placeFor } from '../src/waiting-room/bucket.js';
import { cancelled, eventSnapshot, published, updated } from './fixtures.js';

/** The pure halves of the use cases: what they decide and the messages they build, without a store. */

const at = new Date('2030-01-02T03:04:05.000Z');
const sale = {
  event: { id: 'evt_jazz', title: 'Jazz Night' },
  ticketType: { id: 'tt_ga', name: 'General admission', priceCents: 2500, currency: 'EUR' },
};

describe('issueOrder', () => {
  it('issues a confirmed order of valid tickets at the type price, and its OrderPlaced', () => {
    const { order, messages } = issueOrder('usr_ann', 3, at, sale);
    expect(order).toEqual({
      id: expect.stringMatching(/^ord_/),
      userId: 'usr_ann',
      eventId: 'evt_jazz',
      eventTitle: 'Jazz Night',
      ticketTypeId: 'tt_ga',
      quantity: 3,
      totalCents: 7500,
      refundedCents: 0,
      currency: 'EUR',
      status: 'confirmed',
      refundStatus: 'none',
      createdAt: '2030-01-02T03:04:05.000Z',
      tickets: [0, 1, 2].map(() => ({ id: expect.stringMatching(/^tkt_/), code: expect.stringMatching(/^DEMS-/), status: 'valid' })),
    });
    expect(new Set(order.tickets.map((t) => t.id)).size).toBe(3);
    expect(new Set(order.tickets.map((t) => t.code)).size).toBe(3);
    expect(messages).toEqual([
      {
        id: expect.any(String),
        type: 'OrderPlaced',
        source: 'ticketing',
        occurredAt: '2030-01-02T03:04:05.000Z',
        data: {
          orderId: order.id,
          userId: 'usr_ann',
          eventId: 'evt_jazz',
          eventTitle: 'Jazz Night',
          ticketTypeId: 'tt_ga',
          ticketTypeName: 'General admission',
          quantity: 3,
          totalCents: 7500,
          currency: 'EUR',
        },
      },
    ]);
  });

  it('gives the first ticket the id the store asks for, and only the first', () => {
    const { order } = issueOrder('usr_ann', 2, at, { ...sale, firstTicketId: 'tkt_fromkey' });
    expect(order.tickets[0]!.id).toBe('tkt_fromkey');
    expect(order.tickets[1]!.id).not.toBe('tkt_fromkey');
    expect(order.tickets[1]!.id).toMatch(/^tkt_/);
  });
});

describe('purchaseInput', () => {
  it("carries the request, its fingerprint and an issue that uses the request's buyer, quantity and time", () => {
    const input = purchaseInput({ eventId: 'evt_jazz', ticketTypeId: 'tt_ga', quantity: 2, userId: 'usr_bob', idempotencyKey: 'k1', now: at });
    expect(input).toMatchObject({ eventId: 'evt_jazz', ticketTypeId: 'tt_ga', quantity: 2, userId: 'usr_bob', idempotencyKey: 'k1', now: at });
    expect(input.requestHash).toBe(purchaseFingerprint({ eventId: 'evt_jazz', ticketTypeId: 'tt_ga', quantity: 2 }));
    const { order } = input.issue(sale);
    expect(order).toMatchObject({ userId: 'usr_bob', quantity: 2, createdAt: at.toISOString() });
    expect(order.tickets).toHaveLength(2);
  });

  it('happens now unless told otherwise', () => {
    const before = Date.now();
    const input = purchaseInput({ eventId: 'evt_jazz', ticketTypeId: 'tt_ga', quantity: 1, userId: 'usr_bob', idempotencyKey: 'k1' });
    expect(input.now.getTime()).toBeGreaterThanOrEqual(before);
    expect(input.now.getTime()).toBeLessThanOrEqual(Date.now());
  });
});

const gone: CancelledTicket = {
  ticketId: 'tkt_1',
  orderId: 'ord_1',
  userId: 'usr_ann',
  eventId: 'evt_jazz',
  eventTitle: 'Jazz Night',
  ticketTypeId: 'tt_ga',
  refundCents: 2500,
  currency: 'EUR',
};

describe('cancellations', () => {
  it("an attendee's: TicketCancelled with reason attendee at its time, refused as refuseCancellation says", () => {
    const c = byAttendee(at);
    expect(c.now).toBe(at);
    expect(c.announce(gone)).toMatchObject({ type: 'TicketCancelled', source: 'ticketing', occurredAt: at.toISOString(), data: { ...gone, reason: 'attendee' } });
    expect(c.refuse('valid', { status: 'published', endsAt: '2030-01-02T05:00:00.000Z' })).toBeNull();
    expect(c.refuse('cancelled', undefined)).toMatchObject({ code: 'TICKET_ALREADY_CANCELLED' });
    // Over at `at` (the cancellation's time, not the wall clock's).
    expect(c.refuse('valid', { status: 'published', endsAt: '2030-01-02T03:00:00.000Z' })).toMatchObject({ code: 'EVENT_ENDED' });
  });

  it("an event's: TicketCancelled with reason event_cancelled", () => {
    const c = byEventCancellation(at);
    expect(c.now).toBe(at);
    expect(c.announce(gone)).toMatchObject({ type: 'TicketCancelled', occurredAt: at.toISOString(), data: { ...gone, reason: 'event_cancelled' } });
  });

  it('happen now unless told otherwise', () => {
    const before = Date.now();
    for (const c of [byAttendee(), byEventCancellation()]) expect(c.now.getTime()).toBeGreaterThanOrEqual(before);
  });
});

describe('event changes', () => {
  it('a published or updated snapshot changes the copy only; a cancelled one also cancels its tickets', () => {
    const event = eventSnapshot();
    expect(eventChange(published(event), event, at)).toEqual({ message: expect.objectContaining({ type: 'EventPublished' }), snapshot: event, cancelTickets: null });
    const off = { ...event, status: 'cancelled' as const };
    const change = eventChange(cancelled(event), off, at);
    expect(change.cancelTickets?.now).toBe(at);
    expect(change.cancelTickets?.announce(gone).data).toMatchObject({ reason: 'event_cancelled' });
  });

  it('reads the snapshot of each event message, and only records the others', () => {
    const event = eventSnapshot({ version: 2 });
    for (const message of [published(event), updated(event), cancelled(event)]) {
      expect(changeOf(message, at)).toMatchObject({ message, snapshot: message.data.event });
    }
    expect(changeOf(cancelled(event), at)).toMatchObject({ cancelTickets: { now: at } });
    const misrouted = newMessage('events', 'UserRegistered', { registrationId: 'reg_1', eventId: 'evt_jazz', eventTitle: 'Jazz', userId: 'usr_ann' });
    expect(changeOf(misrouted)).toEqual({ message: misrouted, snapshot: null });
  });

  it('hands a delivered batch to the store in order, in one call, and answers what the store answers', async () => {
    const calls: MessageChange[][] = [];
    /** Test fake: a store that only records what applyMessages receives (the real ones are in store.test.ts). */
    const store = { applyMessages: async (changes: MessageChange[]) => (calls.push(changes), changes.map(() => 'applied' as const)) } as unknown as TicketingStore;
    const a = published(eventSnapshot({ id: 'evt_a' }));
    const b = updated(eventSnapshot({ id: 'evt_b' }));
    expect(await applyEventMessages(store, [a, b], at)).toEqual(['applied', 'applied']);
    expect(calls.map((c) => c.map((x) => x.message.id))).toEqual([[a.id, b.id]]);
  });
});

describe('orderAfterCancelling', () => {
  const order = { quantity: 3, cancelledTickets: 0, totalCents: 7500, refundedCents: 0 };

  it('refunds each ticket its price and follows the tickets to partially cancelled, then cancelled', () => {
    expect(orderAfterCancelling(order, 1, 2500)).toEqual({ ...order, cancelledTickets: 1, refundedCents: 2500, status: 'partially_cancelled', refundStatus: 'partial' });
    expect(orderAfterCancelling({ ...order, cancelledTickets: 1, refundedCents: 2500 }, 2, 2500)).toEqual({
      ...order,
      cancelledTickets: 3,
      refundedCents: 7500,
      status: 'cancelled',
      refundStatus: 'full',
    });
  });

  it('never refunds more than the order cost, and a free order refunds nothing', () => {
    expect(orderAfterCancelling({ ...order, refundedCents: 7000 }, 1, 2500).refundedCents).toBe(7500);
    expect(orderAfterCancelling({ ...order, totalCents: 0 }, 3, 0)).toMatchObject({ refundedCents: 0, status: 'cancelled', refundStatus: 'none' });
  });
});

describe('refuseCapacityChange', () => {
  it('refuses a type not received yet, and a capacity below sold; allows down to sold', () => {
    expect(refuseCapacityChange(undefined, 10)).toMatchObject({ code: 'EVENT_NOT_ON_SALE' });
    expect(refuseCapacityChange({ name: 'VIP', sold: 3 }, 2)).toMatchObject({ code: 'CAPACITY_BELOW_SOLD' });
    expect(refuseCapacityChange({ name: 'VIP', sold: 3 }, 3)).toBeNull();
  });
});

describe('placeFor (waiting room)', () => {
  const room = {
    eventId: 'evt_jazz',
    settings: { opensAt: '2030-01-01T00:00:00.000Z', admitPerMinute: 60, passMinutes: 5 },
    joined: 4,
    lastAdmitAtMs: Date.parse('2030-01-01T00:10:00.000Z'),
  };
  const now = Date.parse('2030-01-01T00:05:00.000Z');

  it('keeps the live place a user holds, and the room as it was', () => {
    const held = { position: 2, admitAtMs: 1, passExpiresAtMs: now + 1 };
    expect(placeFor(room, held, now)).toEqual({ place: held, created: false, room });
  });

  it('queues anew at the end of the chain, one interval after the last place, and moves the head', () => {
    const spent = { position: 2, admitAtMs: 1, passExpiresAtMs: now };
    const next = { position: 5, admitAtMs: room.lastAdmitAtMs + 1000, passExpiresAtMs: null };
    expect(placeFor(room, spent, now)).toEqual({ place: next, created: true, room: { ...room, joined: 5, lastAdmitAtMs: next.admitAtMs } });
    expect(placeFor(room, null, now).place).toEqual(next);
  });
});
