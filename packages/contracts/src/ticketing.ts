import { z } from 'zod';
import { Id, IsoDateTime } from './common.js';

export const MAX_TICKETS_PER_ORDER = 10;

export const PlaceOrderBody = z.strictObject({
  eventId: Id,
  ticketTypeId: Id,
  quantity: z.number().int().min(1).max(MAX_TICKETS_PER_ORDER),
});
export type PlaceOrderBody = z.infer<typeof PlaceOrderBody>;

/** Printable, unguessable; what the QR code on a ticket encodes and what check-in scans. */
export const TicketCode = z.string().min(8).max(64);

export const TicketStatus = z.enum(['valid', 'cancelled']);

export const Ticket = z.object({
  id: Id,
  code: TicketCode,
  status: TicketStatus,
  orderId: Id,
  eventId: Id,
  eventTitle: z.string(),
  /**
   * The event as ticketing's copy of it stands now (updated by every EventUpdated): enough for My tickets to show
   * where and when, in the event's own time zone, without asking events.
   */
  eventVenue: z.string(),
  eventTimezone: z.string(),
  eventStartsAt: IsoDateTime,
  eventEndsAt: IsoDateTime,
  /** cancelled: the event was called off (its tickets were cancelled and refunded with it). */
  eventStatus: z.enum(['published', 'cancelled']),
  ticketTypeId: Id,
  ticketTypeName: z.string(),
  priceCents: z.number().int(),
  currency: z.string(),
  createdAt: IsoDateTime,
  cancelledAt: IsoDateTime.nullable(),
});
export type Ticket = z.infer<typeof Ticket>;

/** What became of an order's tickets: all valid, some cancelled, or all cancelled (free tickets included). */
export const OrderStatus = z.enum(['confirmed', 'partially_cancelled', 'cancelled']);
export type OrderStatus = z.infer<typeof OrderStatus>;

/** What became of its money, apart from its tickets: a free order never has anything to refund. */
export const RefundStatus = z.enum(['none', 'partial', 'full']);
export type RefundStatus = z.infer<typeof RefundStatus>;

export const Order = z.object({
  id: Id,
  userId: Id,
  eventId: Id,
  eventTitle: z.string(),
  ticketTypeId: Id,
  quantity: z.number().int(),
  totalCents: z.number().int(),
  refundedCents: z.number().int(),
  currency: z.string(),
  status: OrderStatus,
  refundStatus: RefundStatus,
  createdAt: IsoDateTime,
  tickets: z.array(z.object({ id: Id, code: TicketCode, status: TicketStatus })),
});
export type Order = z.infer<typeof Order>;

/** `?cursor=&limit=`: the cursor is the nextCursor of the previous page, passed back verbatim. */
const OwnListQuery = z.strictObject({
  cursor: z.string().max(512).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(50),
});
export const OrderListQuery = OwnListQuery;
export const TicketListQuery = OwnListQuery;

/** A page of the caller's orders, newest first; nextCursor is null on the last page. */
export const OrderList = z.object({ items: z.array(Order), nextCursor: z.string().nullable() });
/** A page of the caller's tickets, newest first; nextCursor is null on the last page. */
export const TicketList = z.object({ items: z.array(Ticket), nextCursor: z.string().nullable() });

export const Availability = z.object({
  eventId: Id,
  ticketTypes: z.array(
    z.object({
      ticketTypeId: Id,
      name: z.string(),
      priceCents: z.number().int(),
      currency: z.string(),
      capacity: z.number().int(),
      sold: z.number().int(),
      remaining: z.number().int(),
    }),
  ),
});
export type Availability = z.infer<typeof Availability>;

export const IDEMPOTENCY_HEADER = 'idempotency-key';
export const IdempotencyKey = z.string().regex(/^[\x21-\x7e]{1,200}$/);

/**
 * POST /internal/capacity (events → ticketing, signed with the service secret): the capacities an organizer
 * asks for, applied by ticketing in one step with its sales, or refused when a type has sold more.
 */
export const CapacityChangeBody = z.strictObject({
  eventId: Id,
  /** The version the event will have once the events service commits this change. */
  version: z.number().int().min(1),
  ticketTypes: z
    .array(z.strictObject({ id: Id, capacity: z.number().int().min(1).max(1_000_000) }))
    .min(1)
    .max(20),
});
export type CapacityChangeBody = z.infer<typeof CapacityChangeBody>;
