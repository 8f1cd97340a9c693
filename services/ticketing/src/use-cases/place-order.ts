import { newMessage, type Order, type PlaceOrderBody } from '@dems/contracts';
import { newId } from '@dems/kit';
import { purchaseFingerprint } from '../domain/purchase.js';
import { newTicketCode } from '../domain/ticket-code.js';
import type { IssuedOrder, PlaceOrderInput, PlaceOrderResult, SaleFacts, TicketingStore } from '../store/ticketing-store.js';

/** A purchase as a buyer asks for it: what, who, and the Idempotency-Key that makes a retry safe. */
export interface PurchaseRequest extends PlaceOrderBody {
  userId: string;
  idempotencyKey: string;
  /** When it happens; now unless a test says otherwise. */
  now?: Date;
}

/**
 * What happens when someone buys tickets: in ONE atomic step the store checks the key (a retry returns the
 * first order and creates nothing), refuses what cannot be sold (domain/purchase.ts refusePurchase), takes the
 * seats without ever overselling, and writes the order, its tickets and OrderPlaced (issueOrder) together.
 */
export function placeOrder(store: TicketingStore, request: PurchaseRequest): Promise<PlaceOrderResult> {
  return store.placeOrder(purchaseInput(request));
}

/** The store's input for a purchase: the request, its fingerprint, and how its order is issued. */
export function purchaseInput(request: PurchaseRequest): PlaceOrderInput {
  const { eventId, ticketTypeId, quantity, userId, idempotencyKey } = request;
  const now = request.now ?? new Date();
  return {
    eventId,
    ticketTypeId,
    quantity,
    userId,
    idempotencyKey,
    now,
    requestHash: purchaseFingerprint(request),
    issue: (sale) => issueOrder(userId, quantity, now, sale),
  };
}

/**
 * The order a purchase commits and its OrderPlaced, from what the store read in the step that takes the seats:
 * `quantity` valid tickets at the type's price, each with a new id and an unguessable code.
 */
export function issueOrder(userId: string, quantity: number, now: Date, { event, ticketType, firstTicketId }: SaleFacts): IssuedOrder {
  const order: Order = {
    id: newId('ord_'),
    userId,
    eventId: event.id,
    eventTitle: event.title,
    ticketTypeId: ticketType.id,
    quantity,
    totalCents: ticketType.priceCents * quantity,
    refundedCents: 0,
    currency: ticketType.currency,
    status: 'confirmed',
    refundStatus: 'none',
    createdAt: now.toISOString(),
    tickets: Array.from({ length: quantity }, (_, i) => ({ id: (i === 0 && firstTicketId) || newId('tkt_'), code: newTicketCode(), status: 'valid' as const })),
  };
  const placed = newMessage(
    'ticketing',
    'OrderPlaced',
    {
      orderId: order.id,
      userId,
      eventId: event.id,
      eventTitle: event.title,
      ticketTypeId: ticketType.id,
      ticketTypeName: ticketType.name,
      quantity,
      totalCents: order.totalCents,
      currency: order.currency,
    },
    now,
  );
  return { order, messages: [placed] };
}
