import type { Availability, CapacityChangeBody, EventSnapshot, Message, Order, PlaceOrderBody, Ticket } from '@dems/contracts';
import type { OutboxStore, Page, PageRequest } from '@dems/kit';
import type { Refusal, SaleEvent } from '../domain/purchase.js';

export interface PlaceOrderInput extends PlaceOrderBody {
  userId: string;
  idempotencyKey: string;
  /** purchaseFingerprint(body): tells a genuine retry from a reused key. */
  requestHash: string;
  now: Date;
  /**
   * What the purchase commits, from what the adapter read in the atomic step that takes the seats (use-cases/
   * place-order.ts): the order to write and the messages to enqueue with it. Called once per attempt that commits.
   */
  issue: (sale: SaleFacts) => IssuedOrder;
}

/** What the store read of the event and ticket type in the step that takes the seats. */
export interface SaleFacts {
  event: { id: string; title: string };
  ticketType: { id: string; name: string; priceCents: number; currency: string };
  /** The id the adapter needs the first ticket to have (DynamoDB: derived from the Idempotency-Key); otherwise a new one. */
  firstTicketId?: string;
}

/** An order as it is written, with the messages that commit with it. */
export interface IssuedOrder {
  order: Order;
  messages: Message[];
}

/** One ticket as a cancellation leaves it: what its message reports. */
export interface CancelledTicket {
  ticketId: string;
  orderId: string;
  userId: string;
  eventId: string;
  eventTitle: string;
  ticketTypeId: string;
  refundCents: number;
  currency: string;
}

/** How tickets are cancelled (use-cases/cancel-tickets.ts): when, and the message each cancelled ticket commits with. */
export interface Cancellation {
  now: Date;
  announce: (ticket: CancelledTicket) => Message;
}

/** An attendee's cancellation of one ticket: also why it may be refused, checked in the step that cancels it. */
export interface TicketCancellation extends Cancellation {
  refuse: (ticketStatus: Ticket['status'], event: SaleEvent | undefined) => Refusal | null;
}

/** The rule a capacity change is checked by, inside the adapter's atomic step (use-cases/change-capacity.ts). */
export type CapacityRefusal = (ticketType: { name: string; sold: number } | undefined, capacity: number) => Refusal | null;

export interface PlaceOrderResult {
  order: Order;
  /** True when the key was seen before and this is the first order again; nothing new was created. */
  replayed: boolean;
}

/** A delivered message carrying an event snapshot, and what it does to the event's tickets (use-cases/apply-event-changes.ts). */
export interface EventChange {
  message: Message;
  snapshot: EventSnapshot;
  /** Set for a cancelled event: every valid ticket is cancelled this way, in the step that applies the snapshot. */
  cancelTickets: Cancellation | null;
}

/** One delivered message for applyMessages: an event change, or a message ticketing only records (snapshot null). */
export type MessageChange = EventChange | { message: Message; snapshot: null };

/** What became of one change of applyMessages: its result, or the error that undid that change alone. */
export type MessageChangeOutcome = 'applied' | 'duplicate' | { error: unknown };

/**
 * Everything ticketing keeps: its copy of each event, inventory per ticket type, orders, tickets and
 * idempotency records, plus the outbox/inbox that make every change and its message commit together.
 * Refusals are thrown as AppError with the code the API answers with.
 */
export interface TicketingStore {
  /** Check-and-take seats, order, tickets, OrderPlaced and idempotency record in one atomic step; never oversells. */
  placeOrder(input: PlaceOrderInput): Promise<PlaceOrderResult>;
  /** A page of the user's orders with their tickets, newest first. */
  listOrders(userId: string, page: PageRequest): Promise<Page<Order>>;
  /** One of the user's orders; null when it does not exist or belongs to someone else. */
  getOrder(userId: string, orderId: string): Promise<Order | null>;
  /** A page of the user's tickets, newest first (an order's tickets last-issued first, as a page may end inside an order). */
  listTickets(userId: string, page: PageRequest): Promise<Page<Ticket>>;
  /**
   * Cancels and refunds one of the user's tickets, returning its seat to sale and enqueuing the cancellation's
   * message, atomically; refused (AppError) as `cancellation.refuse` says, checked in that same step.
   */
  cancelTicket(userId: string, ticketId: string, cancellation: TicketCancellation): Promise<Ticket>;
  /** Capacity, sold and remaining per ticket type; null when ticketing has no copy of the event. */
  getAvailability(eventId: string): Promise<Availability | null>;
  /**
   * Sets capacities in one atomic step with the sales they must not fall below: the whole change is refused
   * (AppError) as `refuse` says for any type, given its name and sold count as read in that step (undefined when
   * the type is not known here). From then on, snapshots older than `version` leave these capacities alone.
   */
  changeCapacity(change: CapacityChangeBody, refuse: CapacityRefusal): Promise<void>;
  /**
   * Applies an event snapshot from a message exactly once: newer versions replace the copy and inventory
   * definitions (never `sold`; capacity only when the snapshot is newer than the last capacity change, and
   * never below sold); with `cancelTickets`, every valid ticket is cancelled and refunded in the same step.
   */
  applyEventSnapshot(change: EventChange): Promise<'applied' | 'duplicate'>;
  /** Records a message ticketing has no use for, so a redelivery is recognised; no other effect. */
  acknowledge(message: Message): Promise<'applied' | 'duplicate'>;
  /**
   * Applies a delivered batch as applyEventSnapshot (a change with a snapshot) or acknowledge (without) would,
   * answering in order. SQLite commits it in one transaction, each change in its own savepoint so one that throws is
   * undone alone; DynamoDB applies them one by one. A rejection of the whole call means none was applied.
   */
  applyMessages(changes: MessageChange[]): Promise<MessageChangeOutcome[]>;
  /** Whether the store answers (readiness). */
  isReady(): Promise<boolean>;
  /** The outbox the relay delivers from and the dead-letter routes read. */
  readonly outbox: OutboxStore;
  close(): Promise<void>;
}
