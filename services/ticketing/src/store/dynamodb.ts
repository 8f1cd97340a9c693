import { newMessage, type Availability, type CapacityChangeBody, type EventSnapshot, type Message, type Order, type Ticket } from '@dems/contracts';
import { AppError, newId } from '@dems/kit';
import {
  attrNames,
  batchGet,
  ConditionFailed,
  DynamoStoreBase,
  fullJitter,
  getItem,
  orderedKey,
  queryAll,
  transactWrite,
  type DynamoSettings,
  type Item,
  type TableSpec,
  type TransactItem,
} from '@dems/kit/dynamodb';
import {
  notYetReceived,
  orderStateFor,
  refuseCancellation,
  refuseCapacity,
  refusePurchase,
  soldOutMessage,
  type Refusal,
  type SaleEvent,
} from '../domain/purchase.js';
import { newTicketCode } from '../domain/ticket-code.js';
import type { PlaceOrderInput, PlaceOrderResult, TicketingStore } from './ticketing-store.js';

/** Table shapes (docs/dynamodb.md). `Tickets` keeps the seed's name and key. */
export function ticketingTables(prefix: string) {
  return {
    events: { name: `${prefix}TicketingEvents`, pk: { name: 'EventID', type: 'S' } },
    inventory: { name: `${prefix}Inventory`, pk: { name: 'ShardID', type: 'S' } },
    orders: {
      name: `${prefix}Orders`,
      pk: { name: 'OrderID', type: 'S' },
      indexes: [{ name: 'ByUser', pk: { name: 'UserID', type: 'S' }, sk: { name: 'SortKey', type: 'S' } }],
    },
    tickets: {
      name: `${prefix}Tickets`,
      pk: { name: 'TicketID', type: 'S' },
      indexes: [
        { name: 'ByUser', pk: { name: 'UserID', type: 'S' }, sk: { name: 'SortKey', type: 'S' } },
        // Only valid tickets carry ValidEventID: an event's cancellation finds exactly the tickets it must cancel.
        { name: 'ValidByEvent', pk: { name: 'ValidEventID', type: 'S' }, sk: { name: 'TicketID', type: 'S' } },
      ],
    },
    idempotency: { name: `${prefix}IdempotencyKeys`, pk: { name: 'UserID', type: 'S' }, sk: { name: 'IdempotencyKey', type: 'S' } },
  } satisfies Record<string, TableSpec>;
}

/** A ticket type as ticketing's event copy holds it: the definition plus how its inventory is sharded. */
interface TypeDef {
  id: string;
  name: string;
  priceCents: number;
  currency: string;
  capacity: number;
  position: number;
  /** False once the newest snapshot no longer lists it: not for sale, its tickets stay valid. */
  active: boolean;
  shards: number;
}

interface EventCopy {
  id: string;
  title: string;
  startsAt: string;
  endsAt: string;
  status: 'published' | 'cancelled';
  version: number;
  types: TypeDef[];
}

interface Shard {
  id: string;
  capacity: number;
  sold: number;
  onSale: boolean;
  def: number;
  /** The event version of the last capacity change (POST /internal/capacity or a newer snapshot). */
  capVer: number;
  exists: boolean;
}

const shardId = (ticketTypeId: string, n: number) => `${ticketTypeId}#${n}`;

/**
 * An order item's status and refund status. Items written before RefundStatus existed hold a money-only
 * Status (confirmed / partially_refunded / refunded): their state is worked out from what they record.
 */
function storedOrderState(i: Item, cancelledTickets: number): Pick<Order, 'status' | 'refundStatus'> {
  if (i.RefundStatus !== undefined) return { status: i.Status as Order['status'], refundStatus: i.RefundStatus as Order['refundStatus'] };
  return orderStateFor({ quantity: Number(i.Quantity), cancelledTickets, totalCents: Number(i.TotalCents), refundedCents: Number(i.RefundedCents) });
}

function toEventCopy(i: Item): EventCopy {
  return {
    id: String(i.EventID),
    title: String(i.Title),
    startsAt: String(i.StartsAt),
    endsAt: String(i.EndsAt),
    status: i.Status as EventCopy['status'],
    version: Number(i.Version),
    types: (i.TicketTypes ?? []) as TypeDef[],
  };
}

function toShard(id: string, i: Item | undefined): Shard {
  return i
    ? { id, capacity: Number(i.Capacity), sold: Number(i.Sold), onSale: i.OnSale === true, def: Number(i.Def ?? 0), capVer: Number(i.CapVer ?? 0), exists: true }
    : { id, capacity: 0, sold: 0, onSale: false, def: 0, capVer: 0, exists: false };
}

/**
 * Capacity per shard for a declared capacity: each shard keeps what it has sold and the unsold seats are
 * spread evenly, so Σ capacity = max(declared, Σ sold) and no shard is ever below its own sales.
 */
export function distributeCapacity(declared: number, sold: number[]): number[] {
  const unsold = Math.max(0, declared - sold.reduce((a, b) => a + b, 0));
  const n = sold.length;
  return sold.map((s, i) => s + Math.floor(unsold / n) + (i < unsold % n ? 1 : 0));
}

/**
 * How to take `quantity` seats from shards: one random shard that has them all if there is one (spreading
 * writes across shards), else several, fullest first. Null when the shards together have too few.
 */
export function planTake(shards: { id: string; remaining: number }[], quantity: number, random = Math.random): { id: string; take: number }[] | null {
  const open = shards.filter((s) => s.remaining > 0);
  const whole = open.filter((s) => s.remaining >= quantity);
  if (whole.length) return [{ id: whole[Math.floor(random() * whole.length)]!.id, take: quantity }];
  const plan: { id: string; take: number }[] = [];
  let left = quantity;
  for (const s of [...open].sort((a, b) => b.remaining - a.remaining)) {
    const take = Math.min(left, s.remaining);
    plan.push({ id: s.id, take });
    left -= take;
    if (left === 0) return plan;
  }
  return null;
}

export interface DynamoTicketingStoreOptions {
  settings: DynamoSettings;
  /** Inventory shards for a ticket type (INVENTORY_SHARDS), or per event; applied when its inventory is created or grows. */
  shards?: number | ((eventId: string) => number);
  /** Called after a transaction that enqueued messages has committed (serve.ts: relay.kick()). */
  onMessagesCommitted?: () => void;
}

/** A counting semaphore per key: at most `permits` holders run at once, the rest wait in order. */
class Gates {
  private readonly gates = new Map<string, { active: number; waiting: (() => void)[] }>();

  async run<T>(key: string, permits: number, fn: () => Promise<T>): Promise<T> {
    let gate = this.gates.get(key);
    if (!gate) this.gates.set(key, (gate = { active: 0, waiting: [] }));
    if (gate.active >= permits) await new Promise<void>((resolve) => gate!.waiting.push(resolve));
    gate.active++;
    try {
      return await fn();
    } finally {
      gate.active--;
      const next = gate.waiting.shift();
      if (next) next();
      else if (gate.active === 0) this.gates.delete(key);
    }
  }
}

/** How long the purchase path may use an event copy it read before (definition changes are caught by conditions). */
const EVENT_CACHE_MS = 1000;

/** How long a purchase keeps re-planning after losing races for seats before it gives up (a 5xx). */
const PURCHASE_DEADLINE_MS = 20_000;

/**
 * Ticketing on DynamoDB. A purchase is ONE TransactWriteItems: the seat-taking update on each inventory shard
 * it draws from (conditioned on the sold count and capacity it read), the order, its tickets, the outbox items
 * and the idempotency record (conditioned on not existing). Losing a race re-reads and re-plans; only a
 * consistent read showing too few seats on every shard answers SOLD_OUT.
 */
export class DynamoTicketingStore extends DynamoStoreBase implements TicketingStore {
  private readonly t: ReturnType<typeof ticketingTables>;
  private readonly shardsFor: (eventId: string) => number;
  private readonly onMessagesCommitted?: () => void;
  private readonly gates = new Gates();
  private readonly eventCache = new Map<string, { at: number; copy: EventCopy | undefined }>();
  /** Seats left per ticket type as last seen in this process; only ever used to skip work, never to refuse. */
  private readonly seatHints = new Map<string, { remaining: number; at: number }>();

  constructor(opts: DynamoTicketingStoreOptions) {
    super(opts.settings, 'ticketing', Object.values(ticketingTables(opts.settings.tablePrefix)));
    this.t = ticketingTables(opts.settings.tablePrefix);
    const shards = opts.shards ?? 1;
    this.shardsFor = (eventId) => Math.max(1, Math.min(50, Math.floor(typeof shards === 'number' ? shards : shards(eventId))));
    this.onMessagesCommitted = opts.onMessagesCommitted;
  }

  private async eventCopy(id: string): Promise<EventCopy | undefined> {
    const item = await getItem(this.doc, this.t.events.name, { EventID: id });
    return item && toEventCopy(item);
  }

  private async readShards(type: TypeDef): Promise<Shard[]> {
    const ids = Array.from({ length: type.shards }, (_, n) => shardId(type.id, n));
    const items = await batchGet(this.doc, this.t.inventory.name, ids.map((ShardID) => ({ ShardID })));
    const byId = new Map(items.map((i) => [String(i.ShardID), i]));
    return ids.map((id) => toShard(id, byId.get(id)));
  }

  private async titles(eventIds: string[]): Promise<Map<string, EventCopy>> {
    const items = await batchGet(this.doc, this.t.events.name, eventIds.map((EventID) => ({ EventID })), false);
    return new Map(items.map((i) => [String(i.EventID), toEventCopy(i)]));
  }

  private toOrder(i: Item, eventTitle: string): Order {
    const cancelled = (i.CancelledTickets as Set<string> | undefined) ?? new Set<string>();
    return {
      id: String(i.OrderID),
      userId: String(i.UserID),
      eventId: String(i.EventID),
      eventTitle,
      ticketTypeId: String(i.TicketTypeID),
      quantity: Number(i.Quantity),
      totalCents: Number(i.TotalCents),
      refundedCents: Number(i.RefundedCents),
      currency: String(i.Currency),
      ...storedOrderState(i, cancelled.size),
      createdAt: String(i.CreatedAt),
      tickets: ((i.TicketList ?? []) as { id: string; code: string }[]).map((t) => ({ id: t.id, code: t.code, status: cancelled.has(t.id) ? 'cancelled' : 'valid' })),
    };
  }

  private static toTicket(i: Item, event: EventCopy | undefined): Ticket {
    return {
      id: String(i.TicketID),
      code: String(i.Code),
      status: i.Status as Ticket['status'],
      orderId: String(i.OrderID),
      eventId: String(i.EventID),
      eventTitle: event?.title ?? '',
      eventStartsAt: event?.startsAt ?? String(i.CreatedAt),
      ticketTypeId: String(i.TicketTypeID),
      ticketTypeName: String(i.TicketTypeName),
      priceCents: Number(i.PriceCents),
      currency: String(i.Currency),
      createdAt: String(i.CreatedAt),
      cancelledAt: typeof i.CancelledAt === 'string' ? i.CancelledAt : null,
    };
  }

  private async orderById(id: string): Promise<Order | null> {
    const item = await getItem(this.doc, this.t.orders.name, { OrderID: id });
    if (!item) return null;
    const event = await this.eventCopy(String(item.EventID));
    return this.toOrder(item, event?.title ?? '');
  }

  /** The event copy, read at most once a second per process on the purchase path (see placeOrder). */
  private async cachedEventCopy(id: string): Promise<EventCopy | undefined> {
    const hit = this.eventCache.get(id);
    if (hit && Date.now() - hit.at < EVENT_CACHE_MS) return hit.copy;
    const copy = await this.eventCopy(id);
    if (this.eventCache.size > 10_000) this.eventCache.clear();
    this.eventCache.set(id, { at: Date.now(), copy });
    return copy;
  }

  /** The earlier outcome of this Idempotency-Key: its order, a reuse error, or undefined when the key is new. */
  private async replay(input: PlaceOrderInput): Promise<PlaceOrderResult | undefined> {
    const seen = await getItem(this.doc, this.t.idempotency.name, { UserID: input.userId, IdempotencyKey: input.idempotencyKey });
    if (!seen) return undefined;
    if (seen.RequestHash !== input.requestHash) {
      throw new AppError('IDEMPOTENCY_KEY_REUSED', 'This Idempotency-Key was already used for a different purchase. Use a new key for a new purchase.');
    }
    const order = await this.orderById(String(seen.OrderID));
    return order ? { order, replayed: true } : undefined;
  }

  /**
   * The hot path reads two things, the (cached) event copy and the shards, then commits. Correctness never
   * rests on the cache: every shard condition checks the definition version and on-sale flag, and before
   * any refusal everything is read again fresh, the Idempotency-Key included (a retry of a purchase that
   * succeeded must get its order back, even once the event has sold out). A repeated key on the happy path
   * is caught by the idempotency record's condition in the transaction itself.
   */
  async placeOrder(input: PlaceOrderInput): Promise<PlaceOrderResult> {
    const now = input.now ?? new Date();
    const deadline = Date.now() + PURCHASE_DEADLINE_MS;
    let fresh = false;
    for (let attempt = 0; ; attempt++) {
      const event = fresh ? await this.eventCopy(input.eventId) : await this.cachedEventCopy(input.eventId);
      const sale: SaleEvent | undefined = event && { status: event.status, endsAt: event.endsAt };
      const type = event?.types.find((t) => t.id === input.ticketTypeId && t.active);
      // Event-level refusals first (checked against an unlimited type), then seats once the shards are read.
      const early = refusePurchase(sale, type && { capacity: Number.MAX_SAFE_INTEGER, sold: 0 }, input.quantity, now);
      let outcome: Order | Refusal | 'idempotency' | 'lost';
      if (early) outcome = early;
      else if (fresh) {
        // Verifying a refusal: a fresh consistent read, outside the gate (reads never collide); if seats
        // turned up after all, buy them the normal way.
        const seats = await this.seats(type!, input.quantity, sale!, now);
        outcome = seats.refusal ?? (await this.gates.run(type!.id, type!.shards, () => this.tryTake(input, event!, type!, sale!, now, false)));
      } else outcome = await this.gates.run(type!.id, type!.shards, () => this.tryTake(input, event!, type!, sale!, now, true));
      if (outcome === 'lost') {
        if (Date.now() > deadline) throw new Error(`purchase gave up after ${attempt + 1} lost races for seats`);
        await new Promise((r) => setTimeout(r, fullJitter(Math.min(attempt, 6), 5, 200)));
        continue;
      }
      if (outcome === 'idempotency' || 'code' in outcome) {
        const earlier = await this.replay(input);
        if (earlier) return earlier;
        if (outcome === 'idempotency') continue;
        if (!fresh) {
          // Refusals are final only when they come from fresh reads.
          fresh = true;
          continue;
        }
        throw new AppError(outcome.code, outcome.message);
      }
      this.onMessagesCommitted?.();
      return { order: outcome, replayed: false };
    }
  }

  /**
   * One try at taking seats: reads the shards, plans, commits the purchase transaction. Runs inside the
   * ticket type's gate: one purchase at a time per shard in this process (a type with N shards admits N),
   * so contenders queue here instead of colliding in DynamoDB, where each collision costs round trips.
   */
  /** The shards as a consistent read finds them now, and either a plan to take the seats or the refusal. */
  private async seats(tt: TypeDef, quantity: number, sale: SaleEvent, now: Date) {
    const shards = await this.readShards(tt);
    const usable = shards.filter((s) => s.exists && s.onSale).map((s) => ({ ...s, remaining: Math.max(0, s.capacity - s.sold) }));
    const sold = shards.reduce((n, s) => n + s.sold, 0);
    const remaining = usable.reduce((n, s) => n + s.remaining, 0);
    this.seatHints.set(tt.id, { remaining, at: Date.now() });
    const plan = planTake(usable, quantity);
    const refusal: Refusal | undefined = plan
      ? undefined
      : (refusePurchase(sale, { capacity: sold + remaining, sold }, quantity, now) ?? { code: 'SOLD_OUT', message: soldOutMessage(remaining) });
    return { usable, plan, refusal };
  }

  private async tryTake(input: PlaceOrderInput, ev: EventCopy, tt: TypeDef, sale: SaleEvent, now: Date, useHint: boolean): Promise<Order | Refusal | 'idempotency' | 'lost'> {
    // What the previous holder of the gate saw a moment ago: when that was too few seats, don't spend a read
    // here; the caller verifies the refusal with a fresh read outside the gate.
    const hint = this.seatHints.get(tt.id);
    if (useHint && hint && hint.remaining < input.quantity && Date.now() - hint.at < EVENT_CACHE_MS) {
      return { code: 'SOLD_OUT', message: soldOutMessage(hint.remaining) };
    }
    const { usable, plan, refusal } = await this.seats(tt, input.quantity, sale, now);
    if (!plan) return refusal!;

    const createdAt = now.toISOString();
    const orderId = newId('ord_');
    const sortKey = `${createdAt}#${orderedKey()}`;
    const totalCents = tt.priceCents * input.quantity;
    const tickets = Array.from({ length: input.quantity }, () => ({ id: newId('tkt_'), code: newTicketCode() }));
    const shardOfTicket: string[] = plan.flatMap((p) => Array.from({ length: p.take }, () => p.id));
    const items: TransactItem[] = plan.map((p) => {
      const shard = usable.find((s) => s.id === p.id)!;
      return {
        Update: {
          TableName: this.t.inventory.name,
          Key: { ShardID: p.id },
          UpdateExpression: 'ADD #Sold :take',
          // "sold + take <= capacity" without arithmetic: capacity as read, and sold no higher than leaves room.
          ConditionExpression: '#OnSale = :true AND #Def = :def AND #Capacity = :cap AND #Sold <= :room',
          ExpressionAttributeNames: attrNames('#Sold #OnSale #Def #Capacity'),
          ExpressionAttributeValues: { ':take': p.take, ':true': true, ':def': shard.def, ':cap': shard.capacity, ':room': shard.capacity - p.take },
        },
      };
    });
    items.push({
      Put: {
        TableName: this.t.orders.name,
        ConditionExpression: 'attribute_not_exists(OrderID)',
        Item: {
          OrderID: orderId,
          UserID: input.userId,
          SortKey: sortKey,
          EventID: ev.id,
          TicketTypeID: tt.id,
          Quantity: input.quantity,
          TotalCents: totalCents,
          RefundedCents: 0,
          Currency: tt.currency,
          Status: 'confirmed',
          RefundStatus: 'none',
          CreatedAt: createdAt,
          TicketList: tickets,
        },
      },
    });
    tickets.forEach((t, i) =>
      items.push({
        Put: {
          TableName: this.t.tickets.name,
          Item: {
            TicketID: t.id,
            Code: t.code,
            OrderID: orderId,
            UserID: input.userId,
            SortKey: `${sortKey}#${String(i).padStart(3, '0')}`,
            EventID: ev.id,
            ValidEventID: ev.id,
            TicketTypeID: tt.id,
            TicketTypeName: tt.name,
            ShardID: shardOfTicket[i],
            PriceCents: tt.priceCents,
            Currency: tt.currency,
            Status: 'valid',
            CreatedAt: createdAt,
          },
        },
      }),
    );
    const idempotencyIndex = items.length;
    items.push({
      Put: {
        TableName: this.t.idempotency.name,
        Item: { UserID: input.userId, IdempotencyKey: input.idempotencyKey, RequestHash: input.requestHash, OrderID: orderId, CreatedAt: createdAt },
        ConditionExpression: 'attribute_not_exists(IdempotencyKey)',
      },
    });
    const message = newMessage(
      'ticketing',
      'OrderPlaced',
      { orderId, userId: input.userId, eventId: ev.id, eventTitle: ev.title, ticketTypeId: tt.id, ticketTypeName: tt.name, quantity: input.quantity, totalCents, currency: tt.currency },
      now,
    );
    items.push(...this.outbox.outboxPuts(message));
    try {
      await transactWrite(this.doc, items);
    } catch (err) {
      if (!(err instanceof ConditionFailed)) throw err;
      // Another purchase with the same key won: the caller returns its order.
      if (err.failedAt(idempotencyIndex)) return 'idempotency';
      // Someone took the seats we planned on (or the definition changed): read again and re-plan.
      return 'lost';
    }
    const seen = this.seatHints.get(tt.id);
    if (seen) seen.remaining -= input.quantity;
    return {
      id: orderId,
      userId: input.userId,
      eventId: ev.id,
      eventTitle: ev.title,
      ticketTypeId: tt.id,
      quantity: input.quantity,
      totalCents,
      refundedCents: 0,
      currency: tt.currency,
      status: 'confirmed',
      refundStatus: 'none',
      createdAt,
      tickets: tickets.map((t) => ({ ...t, status: 'valid' as const })),
    };
  }

  async listOrders(userId: string): Promise<Order[]> {
    const rows = await queryAll(this.doc, {
      TableName: this.t.orders.name,
      IndexName: 'ByUser',
      KeyConditionExpression: 'UserID = :u',
      ExpressionAttributeValues: { ':u': userId },
      ScanIndexForward: false,
    });
    const events = await this.titles(rows.map((r) => String(r.EventID)));
    return rows.map((r) => this.toOrder(r, events.get(String(r.EventID))?.title ?? ''));
  }

  async getOrder(userId: string, orderId: string): Promise<Order | null> {
    const order = await this.orderById(orderId);
    return order && order.userId === userId ? order : null;
  }

  async listTickets(userId: string): Promise<Ticket[]> {
    const rows = await queryAll(this.doc, {
      TableName: this.t.tickets.name,
      IndexName: 'ByUser',
      KeyConditionExpression: 'UserID = :u',
      ExpressionAttributeValues: { ':u': userId },
      ScanIndexForward: false,
    });
    const events = await this.titles(rows.map((r) => String(r.EventID)));
    return rows.map((r) => DynamoTicketingStore.toTicket(r, events.get(String(r.EventID))));
  }

  /**
   * The transaction items that cancel some valid tickets of ONE order: each ticket (still valid), the seats
   * back on their shards (one update per shard: a transaction may touch an item once), the refund on the
   * order (conditioned on the refund total we read), and one TicketCancelled each.
   */
  private cancellation(order: Item, tickets: Item[], now: Date, reason: 'attendee' | 'event_cancelled', eventTitle: string): { items: TransactItem[]; messages: Message[] } {
    const at = now.toISOString();
    const items: TransactItem[] = tickets.map((t) => ({
      Update: {
        TableName: this.t.tickets.name,
        Key: { TicketID: t.TicketID },
        UpdateExpression: 'SET #Status = :cancelled, #CancelledAt = :at REMOVE #ValidEventID',
        ConditionExpression: '#Status = :valid',
        ExpressionAttributeNames: attrNames('#Status #CancelledAt #ValidEventID'),
        ExpressionAttributeValues: { ':cancelled': 'cancelled', ':valid': 'valid', ':at': at },
      },
    }));
    const perShard = new Map<string, number>();
    for (const t of tickets) perShard.set(String(t.ShardID), (perShard.get(String(t.ShardID)) ?? 0) + 1);
    for (const [id, n] of perShard) {
      items.push({
        Update: {
          TableName: this.t.inventory.name,
          Key: { ShardID: id },
          UpdateExpression: 'ADD #Sold :minus',
          ConditionExpression: 'attribute_exists(ShardID)',
          ExpressionAttributeNames: attrNames('#Sold'),
          ExpressionAttributeValues: { ':minus': -n },
        },
      });
    }
    const total = Number(order.TotalCents);
    const before = Number(order.RefundedCents);
    const refunded = Math.min(total, before + tickets.reduce((n, t) => n + Number(t.PriceCents), 0));
    const cancelledBefore = (order.CancelledTickets as Set<string> | undefined)?.size ?? 0;
    const { status, refundStatus } = orderStateFor({
      quantity: Number(order.Quantity),
      cancelledTickets: cancelledBefore + tickets.length,
      totalCents: total,
      refundedCents: refunded,
    });
    items.push({
      Update: {
        TableName: this.t.orders.name,
        Key: { OrderID: order.OrderID },
        UpdateExpression: 'SET #RefundedCents = :refunded, #Status = :status, #RefundStatus = :refundStatus ADD #CancelledTickets :ids',
        // Both as read: a free ticket refunds nothing, so only the cancelled set shows another cancellation in between.
        ConditionExpression: `#RefundedCents = :before AND ${cancelledBefore === 0 ? 'attribute_not_exists(#CancelledTickets)' : 'size(#CancelledTickets) = :cancelledBefore'}`,
        ExpressionAttributeNames: attrNames('#RefundedCents #Status #RefundStatus #CancelledTickets'),
        ExpressionAttributeValues: {
          ':refunded': refunded,
          ':status': status,
          ':refundStatus': refundStatus,
          ':ids': new Set(tickets.map((t) => String(t.TicketID))),
          ':before': before,
          ...(cancelledBefore === 0 ? {} : { ':cancelledBefore': cancelledBefore }),
        },
      },
    });
    const messages = tickets.map((t) =>
      newMessage(
        'ticketing',
        'TicketCancelled',
        {
          ticketId: String(t.TicketID),
          orderId: String(t.OrderID),
          userId: String(t.UserID),
          eventId: String(t.EventID),
          eventTitle,
          ticketTypeId: String(t.TicketTypeID),
          refundCents: Number(t.PriceCents),
          currency: String(t.Currency),
          reason,
        },
        now,
      ),
    );
    items.push(...this.outbox.outboxPuts(...messages));
    return { items, messages };
  }

  async cancelTicket(userId: string, ticketId: string, now = new Date()): Promise<Ticket> {
    for (let attempt = 0; ; attempt++) {
      const ticket = await getItem(this.doc, this.t.tickets.name, { TicketID: ticketId });
      if (!ticket || ticket.UserID !== userId) throw new AppError('TICKET_NOT_FOUND', 'You have no ticket with this id.');
      const event = await this.eventCopy(String(ticket.EventID));
      const refusal = refuseCancellation(ticket.Status as Ticket['status'], event && { status: event.status, endsAt: event.endsAt }, now);
      if (refusal) throw new AppError(refusal.code, refusal.message);
      const order = await getItem(this.doc, this.t.orders.name, { OrderID: ticket.OrderID });
      if (!order) throw new Error(`order ${String(ticket.OrderID)} of ticket ${ticketId} is missing`);
      const { items } = this.cancellation(order, [ticket], now, 'attendee', event?.title ?? '');
      try {
        await transactWrite(this.doc, items);
      } catch (err) {
        // Cancelled meanwhile (the next read says so) or another ticket of the order refunded first: re-read.
        if (err instanceof ConditionFailed && attempt < 20) continue;
        throw err;
      }
      this.onMessagesCommitted?.();
      return DynamoTicketingStore.toTicket({ ...ticket, Status: 'cancelled', CancelledAt: now.toISOString() }, event);
    }
  }

  async getAvailability(eventId: string): Promise<Availability | null> {
    const event = await this.eventCopy(eventId);
    if (!event) return null;
    const types = event.types.filter((t) => t.active).sort((a, b) => a.position - b.position);
    const shards = await batchGet(
      this.doc,
      this.t.inventory.name,
      types.flatMap((t) => Array.from({ length: t.shards }, (_, n) => ({ ShardID: shardId(t.id, n) }))),
    );
    // Capacity and sold are summed over the shards: the shards are the truth, the copy only defines the type.
    const byType = new Map<string, { capacity: number; sold: number }>();
    for (const s of shards) {
      const sum = byType.get(String(s.TicketTypeID)) ?? { capacity: 0, sold: 0 };
      byType.set(String(s.TicketTypeID), { capacity: sum.capacity + Number(s.Capacity), sold: sum.sold + Number(s.Sold) });
    }
    return {
      eventId,
      ticketTypes: types.map((t) => {
        const { capacity, sold } = byType.get(t.id) ?? { capacity: t.capacity, sold: 0 };
        return { ticketTypeId: t.id, name: t.name, priceCents: t.priceCents, currency: t.currency, capacity, sold, remaining: Math.max(0, capacity - sold) };
      }),
    };
  }

  /**
   * Brings one ticket type's shards to a definition: creates missing shards (a new type, or more shards than
   * before), spreads the declared capacity over them and sets name, price and whether it is on sale. Each
   * shard's write is conditioned on the sold count we read, so a purchase in between makes us re-read.
   */
  private async syncShards(eventId: string, type: TypeDef, onSale: boolean, version: number): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const shards = await this.readShards(type);
      if (shards.some((s) => s.def > version)) return; // a newer snapshot already defined this type
      // A capacity confirmed by POST /internal/capacity for this version or later stands; new shards start empty.
      const keepCapacity = shards.some((s) => s.capVer >= version);
      const capacities = keepCapacity ? shards.map((s) => s.capacity) : distributeCapacity(type.capacity, shards.map((s) => s.sold));
      const capVer = Math.max(version, ...shards.map((s) => s.capVer));
      const items: TransactItem[] = shards.map((s, n) =>
        s.exists
          ? {
              Update: {
                TableName: this.t.inventory.name,
                Key: { ShardID: s.id },
                UpdateExpression:
                  'SET #Capacity = :cap, #CapVer = :capVer, #OnSale = :onSale, #Def = :v, #Name = :name, #PriceCents = :price, #Currency = :currency',
                // Sold and capacity as read: a purchase or a capacity change in between makes us re-read.
                ConditionExpression: '#Sold = :sold AND #Capacity = :readCap AND #Def <= :v',
                ExpressionAttributeNames: attrNames('#Capacity #CapVer #OnSale #Def #Name #PriceCents #Currency #Sold'),
                ExpressionAttributeValues: {
                  ':cap': capacities[n],
                  ':capVer': capVer,
                  ':readCap': s.capacity,
                  ':onSale': onSale,
                  ':v': version,
                  ':name': type.name,
                  ':price': type.priceCents,
                  ':currency': type.currency,
                  ':sold': s.sold,
                },
              },
            }
          : {
              Put: {
                TableName: this.t.inventory.name,
                ConditionExpression: 'attribute_not_exists(ShardID)',
                Item: {
                  ShardID: s.id,
                  EventID: eventId,
                  TicketTypeID: type.id,
                  Shard: n,
                  Capacity: capacities[n],
                  CapVer: capVer,
                  Sold: 0,
                  OnSale: onSale,
                  Def: version,
                  Name: type.name,
                  PriceCents: type.priceCents,
                  Currency: type.currency,
                },
              },
            },
      );
      try {
        for (let i = 0; i < items.length; i += 100) await transactWrite(this.doc, items.slice(i, i + 100));
        return;
      } catch (err) {
        if (!(err instanceof ConditionFailed) || attempt >= 50) throw err;
        await new Promise((r) => setTimeout(r, fullJitter(Math.min(attempt, 6), 5, 200)));
      }
    }
  }

  async changeCapacity({ eventId, version, ticketTypes }: CapacityChangeBody): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const copy = await this.eventCopy(eventId);
      const items: TransactItem[] = [];
      for (const wanted of ticketTypes) {
        const type = copy?.types.find((t) => t.id === wanted.id);
        const shards = type ? await this.readShards(type) : [];
        const refusal = type ? refuseCapacity({ name: type.name, sold: shards.reduce((n, s) => n + s.sold, 0) }, wanted.capacity) : notYetReceived;
        if (refusal) throw new AppError(refusal.code, refusal.message);
        const capacities = distributeCapacity(wanted.capacity, shards.map((s) => s.sold));
        shards.forEach((s, n) => {
          if (!s.exists) return; // created by the snapshot that adds the shard, with this capacity kept (CapVer)
          items.push({
            Update: {
              TableName: this.t.inventory.name,
              Key: { ShardID: s.id },
              UpdateExpression: 'SET #Capacity = :cap, #CapVer = :v',
              // Every shard exactly as read: the check against sales and the change are one atomic step.
              ConditionExpression: '#Sold = :sold AND #Capacity = :readCap',
              ExpressionAttributeNames: attrNames('#Capacity #CapVer #Sold'),
              ExpressionAttributeValues: { ':cap': capacities[n], ':v': Math.max(version, s.capVer), ':sold': s.sold, ':readCap': s.capacity },
            },
          });
        });
      }
      try {
        // One transaction: up to 100 shards (20 types × 5 shards); more shards than that are changed type by type.
        for (let i = 0; i < items.length; i += 100) await transactWrite(this.doc, items.slice(i, i + 100));
        this.seatHints.clear();
        return;
      } catch (err) {
        // A purchase (or another change) touched a shard after we read it: read again and re-check.
        if (!(err instanceof ConditionFailed) || attempt >= 50) throw err;
        await new Promise((r) => setTimeout(r, fullJitter(Math.min(attempt, 6), 5, 200)));
      }
    }
  }

  async applyEventSnapshot(message: Message, snapshot: EventSnapshot): Promise<'applied' | 'duplicate'> {
    if (await this.outbox.seen(message)) return 'duplicate';
    this.eventCache.delete(snapshot.id);
    const stored = await this.eventCopy(snapshot.id);
    const newer = !stored || stored.version < snapshot.version;
    let enqueued = false;
    if (newer) {
      const previous = new Map((stored?.types ?? []).map((t) => [t.id, t]));
      const wanted = this.shardsFor(snapshot.id);
      const listed = new Set(snapshot.ticketTypes.map((t) => t.id));
      const types: TypeDef[] = [
        ...snapshot.ticketTypes.map((t, position) => ({
          id: t.id,
          name: t.name,
          priceCents: t.priceCents,
          currency: t.currency,
          capacity: t.capacity,
          position,
          active: true,
          // Shards are never removed (they hold sales); a higher setting adds more.
          shards: Math.max(previous.get(t.id)?.shards ?? 0, wanted),
        })),
        ...[...previous.values()].filter((t) => !listed.has(t.id)).map((t) => ({ ...t, active: false, position: 1000 + t.position })),
      ];
      const onSale = snapshot.status === 'published';
      // Shards first, then the copy: a purchase reads the copy, and finds shards that match it or are newer.
      for (const type of types) await this.syncShards(snapshot.id, type, onSale && type.active, snapshot.version);
      try {
        await transactWrite(this.doc, [
          {
            Put: {
              TableName: this.t.events.name,
              ConditionExpression: 'attribute_not_exists(EventID) OR #Version < :v',
              ExpressionAttributeNames: attrNames('#Version'),
              ExpressionAttributeValues: { ':v': snapshot.version },
              Item: {
                EventID: snapshot.id,
                OrganizerID: snapshot.organizerId,
                Title: snapshot.title,
                Venue: snapshot.venue,
                Timezone: snapshot.timezone,
                StartsAt: snapshot.startsAt,
                EndsAt: snapshot.endsAt,
                Status: snapshot.status,
                Version: snapshot.version,
                TicketTypes: types,
                UpdatedAt: new Date().toISOString(),
              },
            },
          },
        ]);
      } catch (err) {
        // A newer snapshot was applied concurrently; ours is stale and changes nothing more.
        if (!(err instanceof ConditionFailed)) throw err;
      }
    }
    // A cancellation cancels every valid ticket; re-running it (a redelivery after a crash) finds only the rest.
    if (snapshot.status === 'cancelled' && (newer || stored?.version === snapshot.version)) {
      enqueued = await this.cancelAllTickets(snapshot.id, snapshot.title);
    }
    const result = await this.outbox.acknowledge(message);
    if (enqueued) this.onMessagesCommitted?.();
    return result;
  }

  /** Cancels the valid tickets of a cancelled event, one transaction per order; true when any were cancelled. */
  private async cancelAllTickets(eventId: string, eventTitle: string): Promise<boolean> {
    const now = new Date();
    let any = false;
    for (let round = 0; round < 50; round++) {
      const valid = await queryAll(this.doc, {
        TableName: this.t.tickets.name,
        IndexName: 'ValidByEvent',
        KeyConditionExpression: 'ValidEventID = :e',
        ExpressionAttributeValues: { ':e': eventId },
      });
      if (valid.length === 0) return any;
      const byOrder = new Map<string, string[]>();
      for (const t of valid) byOrder.set(String(t.OrderID), [...(byOrder.get(String(t.OrderID)) ?? []), String(t.TicketID)]);
      for (const [orderId, ticketIds] of byOrder) {
        const order = await getItem(this.doc, this.t.orders.name, { OrderID: orderId });
        // The index may lag: read each ticket itself and keep the ones still valid.
        const tickets = (await batchGet(this.doc, this.t.tickets.name, ticketIds.map((TicketID) => ({ TicketID })))).filter((t) => t.Status === 'valid');
        if (!order || tickets.length === 0) continue;
        const { items } = this.cancellation(order, tickets, now, 'event_cancelled', eventTitle);
        try {
          await transactWrite(this.doc, items);
          any = true;
        } catch (err) {
          if (!(err instanceof ConditionFailed)) throw err; // an attendee cancelled one meanwhile: next round
        }
      }
    }
    throw new Error(`could not cancel every ticket of event ${eventId}`);
  }

  async acknowledgeMessage(message: Message): Promise<'applied' | 'duplicate'> {
    return this.outbox.acknowledge(message);
  }

  ping(): Promise<boolean> {
    return this.answers(this.t.events, { EventID: '_ping' });
  }

}
