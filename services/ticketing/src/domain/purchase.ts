import { createHash } from 'node:crypto';
import { hasEnded, type ErrorCode, type OrderStatus, type PlaceOrderBody, type RefundStatus } from '@dems/contracts';

/** What ticketing knows about an event when deciding whether it can be bought. */
export interface SaleEvent {
  status: 'published' | 'cancelled';
  endsAt: string;
}

export interface SaleTicketType {
  capacity: number;
  sold: number;
}

export interface Refusal {
  code: ErrorCode;
  message: string;
}

/** Capacity can drop below sold when a change races a purchase; never report a negative number left. */
export const remainingOf = (t: SaleTicketType): number => Math.max(0, t.capacity - t.sold);

export function soldOutMessage(remaining: number): string {
  if (remaining <= 0) return 'Sorry — this ticket type is sold out.';
  return `Sorry — only ${remaining} ${remaining === 1 ? 'ticket' : 'tickets'} left.`;
}

/**
 * Why a purchase cannot go ahead, in the order a buyer finds most useful, or null when it can.
 * The caller runs this inside the transaction that then takes the seats, so the answer cannot go stale.
 */
export function refusePurchase(event: SaleEvent | undefined, ticketType: SaleTicketType | undefined, quantity: number, now: Date): Refusal | null {
  if (!event) return { code: 'EVENT_NOT_ON_SALE', message: 'This event is not on sale yet. Please try again in a moment.' };
  if (event.status === 'cancelled') return { code: 'EVENT_CANCELLED', message: 'This event has been cancelled, so tickets are no longer sold.' };
  if (hasEnded(event, now)) return { code: 'EVENT_ENDED', message: 'This event is already over.' };
  if (!ticketType) return { code: 'TICKET_TYPE_NOT_FOUND', message: 'This event has no such ticket type.' };
  const remaining = remainingOf(ticketType);
  if (quantity > remaining) return { code: 'SOLD_OUT', message: soldOutMessage(remaining) };
  return null;
}

/**
 * A ticket type's capacity may never be set below what it has sold. Ticketing owns the rule because it owns
 * the sales: the check runs in the same transaction as the seats it protects.
 */
export function refuseCapacity(ticketType: { name: string; sold: number }, capacity: number): Refusal | null {
  if (capacity >= ticketType.sold) return null;
  return {
    code: 'CAPACITY_BELOW_SOLD',
    message: `${ticketType.name} has already sold ${ticketType.sold} ${ticketType.sold === 1 ? 'ticket' : 'tickets'}; its capacity can't be lower than that.`,
  };
}

export const notYetReceived: Refusal = {
  code: 'EVENT_NOT_ON_SALE',
  message: 'Ticketing has not received this event or ticket type yet. Please try again in a moment.',
};

/** refuseCapacity for a ticket type ticketing may not know yet (undefined): that is refused as not received. */
export function refuseCapacityChange(ticketType: { name: string; sold: number } | undefined, capacity: number): Refusal | null {
  return ticketType ? refuseCapacity(ticketType, capacity) : notYetReceived;
}

/** Whether a ticket can still be handed back for a refund. */
export function refuseCancellation(ticketStatus: 'valid' | 'cancelled', event: SaleEvent | undefined, now: Date): Refusal | null {
  if (ticketStatus === 'cancelled') return { code: 'TICKET_ALREADY_CANCELLED', message: 'This ticket was already cancelled.' };
  if (event && hasEnded(event, now)) {
    return { code: 'EVENT_ENDED', message: 'This event is already over, so its tickets can no longer be cancelled.' };
  }
  return null;
}

/** What an order's state is decided from; stores keep these and persist the answer. */
export interface OrderProgress {
  quantity: number;
  cancelledTickets: number;
  totalCents: number;
  refundedCents: number;
}

/**
 * An order's status follows its tickets and its refund follows its money, separately: two free tickets both
 * cancelled are a cancelled order with nothing refunded, not a confirmed one.
 */
export function orderStateFor(o: OrderProgress): { status: OrderStatus; refundStatus: RefundStatus } {
  const status: OrderStatus = o.cancelledTickets <= 0 ? 'confirmed' : o.cancelledTickets >= o.quantity ? 'cancelled' : 'partially_cancelled';
  const refundStatus: RefundStatus = o.refundedCents <= 0 ? 'none' : o.refundedCents >= o.totalCents ? 'full' : 'partial';
  return { status, refundStatus };
}

/**
 * An order once `count` more of its tickets, each bought at `priceCents`, are cancelled: each refunds its price,
 * never more in all than the order cost; status and refund status follow (orderStateFor).
 */
export function orderAfterCancelling(o: OrderProgress, count: number, priceCents: number): OrderProgress & { status: OrderStatus; refundStatus: RefundStatus } {
  const after = { ...o, cancelledTickets: o.cancelledTickets + count, refundedCents: Math.min(o.totalCents, o.refundedCents + priceCents * count) };
  return { ...after, ...orderStateFor(after) };
}

/**
 * Fingerprint of a purchase request, stored with its Idempotency-Key: the same key with another body is
 * a client bug we must report rather than silently answer with an unrelated order.
 */
export function purchaseFingerprint(body: PlaceOrderBody): string {
  return createHash('sha256')
    .update(JSON.stringify([body.eventId, body.ticketTypeId, body.quantity]))
    .digest('hex');
}
