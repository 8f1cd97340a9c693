import { describe, expect, it } from 'vitest';
import {
  Availability,
  CapacityChangeBody,
  IDEMPOTENCY_HEADER,
  IdempotencyKey,
  MAX_TICKETS_PER_ORDER,
  Order,
  OrderList,
  OrderListQuery,
  OrderStatus,
  PlaceOrderBody,
  RefundStatus,
  Ticket,
  TicketCode,
  TicketList,
  TicketListQuery,
  TicketStatus,
} from '@dems/contracts';
import { refusedPaths } from './issues.js';

describe('PlaceOrderBody', () => {
  const order = { eventId: 'evt_1', ticketTypeId: 'tt_1', quantity: 1 };

  it(`takes 1 to ${MAX_TICKETS_PER_ORDER} tickets`, () => {
    expect(MAX_TICKETS_PER_ORDER).toBe(10);
    expect(PlaceOrderBody.parse(order)).toEqual(order);
    expect(PlaceOrderBody.parse({ ...order, quantity: 10 }).quantity).toBe(10);
  });

  it.each([
    ['quantity', 0],
    ['quantity', 11],
    ['quantity', 1.5],
    ['quantity', '2'],
    ['eventId', 'a b'],
    ['ticketTypeId', ''],
    ['ticketTypeId', undefined],
  ])('refuses %s = %j, naming the field', (field, value) => {
    expect(refusedPaths(PlaceOrderBody, { ...order, [field]: value })).toEqual([field]);
  });

  it('refuses unknown fields', () => {
    expect(refusedPaths(PlaceOrderBody, { ...order, priceCents: 0 })).toEqual(['']);
  });
});

describe('IdempotencyKey: 1–200 visible ASCII characters', () => {
  it('travels in the idempotency-key header', () => {
    expect(IDEMPOTENCY_HEADER).toBe('idempotency-key');
  });

  it.each(['a', '!', '~', 'k'.repeat(200), 'order-2030-01-01#1'])('accepts %j', (key) => {
    expect(IdempotencyKey.parse(key)).toBe(key);
  });

  it.each(['', 'k'.repeat(201), 'a b', ' a', 'a\n', 'ä', '\x7f'])('refuses %j', (key) => {
    expect(IdempotencyKey.safeParse(key).success).toBe(false);
  });
});

describe('TicketCode', () => {
  it.each([
    ['c'.repeat(8), true],
    ['c'.repeat(64), true],
    ['c'.repeat(7), false],
    ['c'.repeat(65), false],
  ])('%j → %s', (code, ok) => {
    expect(TicketCode.safeParse(code).success).toBe(ok);
  });
});

const ticket = {
  id: 'tkt_1',
  code: 'ABCDEFGH12',
  status: 'valid',
  orderId: 'ord_1',
  eventId: 'evt_1',
  eventTitle: 'Jazz Night',
  eventVenue: 'Blue Room',
  eventTimezone: 'Europe/Berlin',
  eventStartsAt: '2030-01-01T19:00:00.000Z',
  eventEndsAt: '2030-01-01T22:00:00.000Z',
  eventStatus: 'published',
  ticketTypeId: 'tt_1',
  ticketTypeName: 'General',
  priceCents: 2500,
  currency: 'USD',
  createdAt: '2029-01-01T00:00:00.000Z',
  cancelledAt: null,
};

describe('Ticket', () => {
  it('has the statuses valid and cancelled', () => {
    expect(TicketStatus.options).toEqual(['valid', 'cancelled']);
  });

  it('accepts a valid and a cancelled ticket', () => {
    expect(Ticket.parse(ticket)).toEqual(ticket);
    const cancelled = { ...ticket, status: 'cancelled', eventStatus: 'cancelled', cancelledAt: '2029-06-01T00:00:00.000Z' };
    expect(Ticket.parse(cancelled)).toEqual(cancelled);
    expect(TicketList.parse({ items: [ticket], nextCursor: null })).toEqual({ items: [ticket], nextCursor: null });
    expect(TicketList.parse({ items: [], nextCursor: 'abc' })).toEqual({ items: [], nextCursor: 'abc' });
    expect(refusedPaths(TicketList, { items: [] })).toEqual(['nextCursor']);
  });

  it.each([
    ['id', 'a b'],
    ['code', 'short'],
    ['status', 'used'],
    ['orderId', ''],
    ['eventId', undefined],
    ['eventTitle', 1],
    ['eventVenue', undefined],
    ['eventTimezone', 7],
    ['eventStartsAt', 'soon'],
    ['eventEndsAt', undefined],
    ['eventEndsAt', 'later'],
    ['eventStatus', 'draft'],
    ['eventStatus', undefined],
    ['ticketTypeId', 'a/b'],
    ['ticketTypeName', null],
    ['priceCents', 1.5],
    ['currency', undefined],
    ['createdAt', '2030-01-01T19:00:00+01:00'],
    ['cancelledAt', 'yesterday'],
    ['cancelledAt', undefined],
  ])('refuses %s = %j', (field, value) => {
    expect(refusedPaths(Ticket, { ...ticket, [field]: value })).toEqual([field]);
    expect(refusedPaths(TicketList, { items: [{ ...ticket, [field]: value }], nextCursor: null })).toEqual([`items.0.${field}`]);
  });
});

describe('Order', () => {
  const order = {
    id: 'ord_1',
    userId: 'usr_1',
    eventId: 'evt_1',
    eventTitle: 'Jazz Night',
    ticketTypeId: 'tt_1',
    quantity: 2,
    totalCents: 5000,
    refundedCents: 0,
    currency: 'USD',
    status: 'confirmed',
    refundStatus: 'none',
    createdAt: '2029-01-01T00:00:00.000Z',
    tickets: [
      { id: 'tkt_1', code: 'ABCDEFGH12', status: 'valid' },
      { id: 'tkt_2', code: 'ABCDEFGH13', status: 'cancelled' },
    ],
  };

  it('has the statuses of its tickets and of its money', () => {
    expect(OrderStatus.options).toEqual(['confirmed', 'partially_cancelled', 'cancelled']);
    expect(RefundStatus.options).toEqual(['none', 'partial', 'full']);
  });

  it('accepts an order as the service answers it', () => {
    expect(Order.parse(order)).toEqual(order);
    const refunded = { ...order, status: 'cancelled', refundStatus: 'full', refundedCents: 5000 };
    expect(Order.parse(refunded)).toEqual(refunded);
    expect(OrderList.parse({ items: [order], nextCursor: 'next' })).toEqual({ items: [order], nextCursor: 'next' });
    expect(refusedPaths(OrderList, { items: [order] })).toEqual(['nextCursor']);
  });

  it.each([
    ['id', 'a b'],
    ['userId', ''],
    ['eventId', undefined],
    ['eventTitle', 1],
    ['ticketTypeId', 'a/b'],
    ['quantity', 1.5],
    ['totalCents', '5000'],
    ['refundedCents', 0.5],
    ['currency', null],
    ['status', 'pending'],
    ['refundStatus', 'some'],
    ['refundStatus', undefined],
    ['createdAt', 'now'],
    ['tickets', undefined],
  ])('refuses %s = %j', (field, value) => {
    expect(refusedPaths(Order, { ...order, [field]: value })).toEqual([field]);
    expect(refusedPaths(OrderList, { items: [{ ...order, [field]: value }], nextCursor: null })).toEqual([`items.0.${field}`]);
  });

  it.each([
    ['id', 'a b'],
    ['code', 'short'],
    ['status', 'used'],
  ])('refuses a ticket with %s = %j', (field, value) => {
    expect(refusedPaths(Order, { ...order, tickets: [{ ...order.tickets[0], [field]: value }] })).toEqual([`tickets.0.${field}`]);
  });
});

describe('Availability', () => {
  const type = { ticketTypeId: 'tt_1', name: 'General', priceCents: 2500, currency: 'USD', capacity: 100, sold: 3, remaining: 97 };

  it('accepts what ticketing answers', () => {
    const availability = { eventId: 'evt_1', ticketTypes: [type] };
    expect(Availability.parse(availability)).toEqual(availability);
  });

  it.each([
    ['ticketTypeId', 'a b'],
    ['name', undefined],
    ['priceCents', 1.5],
    ['currency', 1],
    ['capacity', 1.5],
    ['sold', undefined],
    ['remaining', 0.5],
  ])('refuses a ticket type with %s = %j', (field, value) => {
    expect(refusedPaths(Availability, { eventId: 'evt_1', ticketTypes: [{ ...type, [field]: value }] })).toEqual([`ticketTypes.0.${field}`]);
  });

  it('needs a proper event id', () => {
    expect(refusedPaths(Availability, { eventId: 'a b', ticketTypes: [] })).toEqual(['eventId']);
  });
});

describe('CapacityChangeBody (events → ticketing)', () => {
  const body = { eventId: 'evt_1', version: 1, ticketTypes: [{ id: 'tt_1', capacity: 1 }] };

  it('accepts a change of 1 to 20 types, capacities 1–1,000,000, versions from 1', () => {
    expect(CapacityChangeBody.parse(body)).toEqual(body);
    const twenty = Array.from({ length: 20 }, (_, i) => ({ id: `tt_${i}`, capacity: 1_000_000 }));
    expect(CapacityChangeBody.safeParse({ ...body, ticketTypes: twenty }).success).toBe(true);
  });

  it.each([
    ['version', 0],
    ['version', 1.5],
    ['eventId', 'a b'],
    ['ticketTypes', []],
    ['ticketTypes', Array.from({ length: 21 }, (_, i) => ({ id: `tt_${i}`, capacity: 1 }))],
  ])('refuses %s = %j', (field, value) => {
    expect(refusedPaths(CapacityChangeBody, { ...body, [field]: value })).toEqual([field]);
  });

  it.each([
    [{ id: 'tt_1', capacity: 0 }, 'ticketTypes.0.capacity'],
    [{ id: 'tt_1', capacity: 1_000_001 }, 'ticketTypes.0.capacity'],
    [{ id: 'tt_1', capacity: 2.5 }, 'ticketTypes.0.capacity'],
    [{ id: 'a b', capacity: 1 }, 'ticketTypes.0.id'],
    [{ id: 'tt_1', capacity: 1, sold: 0 }, 'ticketTypes.0'],
  ])('refuses the type %j at %s', (type, path) => {
    expect(refusedPaths(CapacityChangeBody, { ...body, ticketTypes: [type] })).toEqual([path]);
  });

  it('refuses unknown fields', () => {
    expect(refusedPaths(CapacityChangeBody, { ...body, force: true })).toEqual(['']);
  });
});

describe.each([
  ['OrderListQuery', OrderListQuery],
  ['TicketListQuery', TicketListQuery],
])('%s', (_name, query) => {
  it('takes a cursor and a limit of 1–100, 50 by default', () => {
    expect(query.parse({})).toEqual({ limit: 50 });
    expect(query.parse({ cursor: 'abc', limit: '1' })).toEqual({ cursor: 'abc', limit: 1 });
    expect(query.parse({ limit: '100' })).toEqual({ limit: 100 });
  });

  it.each([
    ['limit', '0'],
    ['limit', '101'],
    ['limit', '2.5'],
    ['cursor', 'x'.repeat(513)],
  ])('refuses %s = %j', (field, value) => {
    expect(refusedPaths(query, { [field]: value })).toEqual([field]);
  });

  it('refuses unknown parameters', () => {
    expect(refusedPaths(query, { page: '2' })).toEqual(['']);
  });
});
