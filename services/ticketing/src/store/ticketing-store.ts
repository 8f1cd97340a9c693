import type { Availability, CapacityChangeBody, EventSnapshot, Message, Order, PlaceOrderBody, Ticket } from '@dems/contracts';
import type { OutboxStore, Page, PageRequest } from '@dems/kit';

export interface PlaceOrderInput extends PlaceOrderBody {
  userId: string;
  idempotencyKey: string;
  /** purchaseFingerprint(body): tells a genuine retry from a reused key. */
  requestHash: string;
  now?: Date;
}

export interface PlaceOrderResult {
  order: Order;
  /** True when the key was seen before and this is the first order again; nothing new was created. */
  replayed: boolean;
}

/** One delivered message and the event snapshot it carries (null: a message ticketing only records), for applyMessages. */
export interface MessageChange {
  message: Message;
  snapshot: EventSnapshot | null;
}

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
  /** Cancels and refunds one of the user's tickets, returning its seat to sale and enqueuing TicketCancelled, atomically. */
  cancelTicket(userId: string, ticketId: string, now?: Date): Promise<Ticket>;
  /** Capacity, sold and remaining per ticket type; null when ticketing has no copy of the event. */
  getAvailability(eventId: string): Promise<Availability | null>;
  /**
   * Sets capacities in one atomic step with the sales they must not fall below: the whole change is refused
   * with CAPACITY_BELOW_SOLD when any type has sold more, or EVENT_NOT_ON_SALE when a type is not known yet.
   * From then on, snapshots older than `version` leave these capacities alone.
   */
  changeCapacity(change: CapacityChangeBody): Promise<void>;
  /**
   * Applies an event snapshot from a message exactly once: newer versions replace the copy and inventory
   * definitions (never `sold`; capacity only when the snapshot is newer than the last capacity change, and
   * never below sold); a cancelled snapshot cancels and refunds every valid ticket in the same step.
   */
  applyEventSnapshot(message: Message, event: EventSnapshot): Promise<'applied' | 'duplicate'>;
  /** Records a message ticketing has no use for, so a redelivery is recognised; no other effect. */
  acknowledgeMessage(message: Message): Promise<'applied' | 'duplicate'>;
  /**
   * Applies a delivered batch as applyEventSnapshot (a change with a snapshot) or acknowledgeMessage (without) would,
   * answering in order. SQLite commits it in one transaction, each change in its own savepoint so one that throws is
   * undone alone; DynamoDB applies them one by one. A rejection of the whole call means none was applied.
   */
  applyMessages(changes: MessageChange[]): Promise<MessageChangeOutcome[]>;
  /** Whether the store answers (readiness). */
  ping(): Promise<boolean>;
  /** The outbox the relay delivers from and the dead-letter routes read. */
  readonly outbox: OutboxStore;
  close(): Promise<void>;
}
