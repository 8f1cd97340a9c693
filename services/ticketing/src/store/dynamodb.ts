import { createHash } from 'node:crypto';
import type { Availability, CapacityChangeBody, Message, Order, Ticket } from '@dems/contracts';
import { AppError, decodeCursor, encodeCursor, invalidCursor, type Page, type PageRequest } from '@dems/kit';
import {
  attrNames,
  batchGet,
  ConditionFailed,
  DynamoStoreBase,
  fullJitter,
  getItem,
  queryAll,
  queryUpTo,
  transactWrite,
  type DynamoSettings,
  type Item,
  type TableSpec,
  type TransactItem,
} from '@dems/kit/dynamodb';
import { orderAfterCancelling, orderStateFor, refusePurchase, soldOutMessage, type Refusal, type SaleEvent } from '../domain/purchase.js';
import type {
  CapacityRefusal,
  Cancellation,
  EventChange,
  MessageChange,
  MessageChangeOutcome,
  PlaceOrderInput,
  PlaceOrderResult,
  TicketCancellation,
  TicketingStore,
} from './ticketing-store.js';
import { MAX_INVENTORY_SHARDS } from '../config.js';

/**
 * Table shapes (docs/dynamodb.md). One table holds ticketing's own items, addressed by PK/SK:
 * - `event#<eventId>` / `copy`: ticketing's copy of an event (definitions and shard counts of its ticket types);
 * - `shard#<ticketTypeId>#<n>` / `shard`: one inventory shard (capacity, sold);
 * - `user#<userId>` / `order#<orderId>`: an order with everything My orders and My tickets show, so a user's
 *   lists are one Query of their partition. `ValidShard` (the order's first shard, only while it has a valid
 *   ticket) keys the sparse `ByShard` index an event's cancellation walks, shard by shard: no event-wide key.
 * `Tickets` keeps the seed's name and key: one item per ticket (what a check-in or a cancellation looks up by
 * id). The first ticket of an order has an id derived from the Idempotency-Key: its Put is the idempotency check.
 */
export function ticketingTables(prefix: string) {
  return {
    ticketing: {
      name: `${prefix}Ticketing`,
      pk: { name: 'PK', type: 'S' },
      sk: { name: 'SK', type: 'S' },
      indexes: [{ name: 'ByShard', pk: { name: 'ValidShard', type: 'S' }, sk: { name: 'SK', type: 'S' }, projection: 'KEYS_ONLY' }],
    },
    tickets: { name: `${prefix}Tickets`, pk: { name: 'TicketID', type: 'S' } },
  } satisfies Record<string, TableSpec>;
}

/** The keys of the items in the Ticketing table. */
const keys = {
  event: (eventId: string) => ({ PK: `event#${eventId}`, SK: 'copy' }),
  shard: (shardId: string) => ({ PK: `shard#${shardId}`, SK: 'shard' }),
  user: (userId: string) => `user#${userId}`,
  order: (userId: string, orderId: string) => ({ PK: `user#${userId}`, SK: `${ORDER_PREFIX}${orderId}` }),
};
const ORDER_PREFIX = 'order#';

/**
 * The id of an order's first ticket: derived from the user and the Idempotency-Key, so the ticket's
 * conditional Put refuses a second purchase with the same key, and a retry finds the first order with one
 * GetItem. 192 bits of SHA-256 keep it unguessable without the key and well inside the Id format.
 */
export function idempotentTicketId(userId: string, idempotencyKey: string): string {
  return `tkt_${createHash('sha256').update(`${userId}\n${idempotencyKey}`).digest('base64url').slice(0, 32)}`;
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
  venue: string;
  timezone: string;
  startsAt: string;
  endsAt: string;
  status: 'published' | 'cancelled';
  version: number;
  types: TypeDef[];
}

interface Shard {
  /** `<ticketTypeId>#<n>`: what tickets record (ShardID) and orders are indexed by (ValidShard). */
  id: string;
  n: number;
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
    // Written with every copy since the first version of this adapter (and carried over by dynamodb-migration.ts).
    venue: String(i.Venue ?? ''),
    timezone: String(i.Timezone ?? 'UTC'),
    startsAt: String(i.StartsAt),
    endsAt: String(i.EndsAt),
    status: i.Status as EventCopy['status'],
    version: Number(i.Version),
    types: (i.TicketTypes ?? []) as TypeDef[],
  };
}

function toShard(ticketTypeId: string, n: number, i: Item | undefined): Shard {
  const id = shardId(ticketTypeId, n);
  return i
    ? { id, n, capacity: Number(i.Capacity), sold: Number(i.Sold), onSale: i.OnSale === true, def: Number(i.Def ?? 0), capVer: Number(i.CapVer ?? 0), exists: true }
    : { id, n, capacity: 0, sold: 0, onSale: false, def: 0, capVer: 0, exists: false };
}

/** A ticket as the order item lists it; `shard` is the number of the inventory shard its seat came from. */
interface OrderTicket {
  id: string;
  code: string;
  shard: number;
}

const ticketsOf = (order: Item) => (order.Tickets ?? []) as OrderTicket[];
const cancelledOf = (order: Item) => (order.CancelledTickets as Set<string> | undefined) ?? new Set<string>();

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

/** How many shards' ByShard queries an event's cancellation runs at once. */
const SWEEP_QUERIES_AT_ONCE = 16;
/** How long a global index may lag behind its table, for the event cancellation's last look (see cancelAllTickets). */
const INDEX_LAG_MS = 1000;

/** How long this process trusts what it last saw of a shard when choosing one to buy from (never to refuse). */
const SHARD_BELIEF_MS = 2000;

/** Where a page of orders or tickets starts: that order (inclusive), after `skip` of its tickets (newest first). */
interface ListCursor {
  order: string;
  skip: number;
}
const isListCursor = (v: unknown): v is ListCursor =>
  typeof v === 'object' &&
  v !== null &&
  typeof (v as ListCursor).order === 'string' &&
  /^[A-Za-z0-9_-]{1,64}$/.test((v as ListCursor).order) &&
  Number.isSafeInteger((v as ListCursor).skip) &&
  (v as ListCursor).skip >= 0;

/**
 * Ticketing on DynamoDB. A purchase is ONE TransactWriteItems: the seat-taking update on each inventory shard
 * it draws from (conditioned on the sold count and capacity it read), the order item in the buyer's
 * partition, one item per ticket (the first one's conditional Put is the Idempotency-Key's check) and the
 * OrderPlaced outbox entry. Losing a race re-reads and re-plans; only a consistent read showing too few
 * seats on every shard answers SOLD_OUT.
 */
export class DynamoTicketingStore extends DynamoStoreBase implements TicketingStore {
  private readonly t: ReturnType<typeof ticketingTables>;
  private readonly shardsFor: (eventId: string) => number;
  private readonly onMessagesCommitted?: () => void;
  private readonly gates = new Gates();
  private readonly eventCache = new Map<string, { at: number; copy: EventCopy | undefined }>();
  /** Seats left per ticket type as last seen in this process; only ever used to skip work, never to refuse. */
  private readonly seatHints = new Map<string, { remaining: number; at: number }>();
  /** Seats left per shard as last seen in this process: which shard a purchase reads first (never a refusal). */
  private readonly shardBeliefs = new Map<string, { remaining: number; at: number }>();

  constructor(opts: DynamoTicketingStoreOptions) {
    super(opts.settings, 'ticketing', Object.values(ticketingTables(opts.settings.tablePrefix)));
    this.t = ticketingTables(opts.settings.tablePrefix);
    const shards = opts.shards ?? 1;
    this.shardsFor = (eventId) => Math.max(1, Math.min(MAX_INVENTORY_SHARDS, Math.floor(typeof shards === 'number' ? shards : shards(eventId))));
    this.onMessagesCommitted = opts.onMessagesCommitted;
  }

  private get table(): string {
    return this.t.ticketing.name;
  }

  /** Strongly consistent where a decision follows (purchase, cancellation, snapshots); eventually for display. */
  private async eventCopy(id: string, consistent = true): Promise<EventCopy | undefined> {
    const item = await getItem(this.doc, this.table, keys.event(id), consistent);
    return item && toEventCopy(item);
  }

  private async readShards(type: TypeDef, consistent = true): Promise<Shard[]> {
    const all = Array.from({ length: type.shards }, (_, n) => n);
    const items = await batchGet(
      this.doc,
      this.table,
      all.map((n) => keys.shard(shardId(type.id, n))),
      consistent,
    );
    const byId = new Map(items.map((i) => [String(i.ShardID), i]));
    const shards = all.map((n) => toShard(type.id, n, byId.get(shardId(type.id, n))));
    for (const s of shards) this.believe(s);
    return shards;
  }

  private believe(s: Shard): void {
    if (this.shardBeliefs.size > 100_000) this.shardBeliefs.clear();
    this.shardBeliefs.set(s.id, { remaining: s.exists && s.onSale ? Math.max(0, s.capacity - s.sold) : 0, at: Date.now() });
  }

  /** Event copies for display (titles, start times), eventually consistent: a second-old title is harmless. */
  private async titles(eventIds: string[]): Promise<Map<string, EventCopy>> {
    const items = await batchGet(this.doc, this.table, eventIds.map(keys.event), false);
    return new Map(items.map((i) => [String(i.EventID), toEventCopy(i)]));
  }

  private toOrder(i: Item, eventTitle: string): Order {
    const cancelled = cancelledOf(i);
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
      tickets: ticketsOf(i).map((t) => ({ id: t.id, code: t.code, status: cancelled.has(t.id) ? 'cancelled' : 'valid' })),
    };
  }

  /** An order's tickets as My tickets lists them: the last issued first, as SQLite lists them. */
  private static ticketsOfOrder(i: Item, event: EventCopy | undefined): Ticket[] {
    const cancelled = cancelledOf(i);
    const cancelledAt = (i.CancelledAt ?? {}) as Record<string, string>;
    const createdAt = String(i.CreatedAt);
    return ticketsOf(i)
      .map((t) => ({
        id: t.id,
        code: t.code,
        status: cancelled.has(t.id) ? ('cancelled' as const) : ('valid' as const),
        orderId: String(i.OrderID),
        eventId: String(i.EventID),
        // A copy is always there before its tickets; the fallbacks only keep a damaged table listable.
        eventTitle: event?.title ?? '',
        eventVenue: event?.venue ?? '',
        eventTimezone: event?.timezone ?? 'UTC',
        eventStartsAt: event?.startsAt ?? createdAt,
        eventEndsAt: event?.endsAt ?? createdAt,
        eventStatus: event?.status ?? 'published',
        ticketTypeId: String(i.TicketTypeID),
        ticketTypeName: String(i.TicketTypeName),
        priceCents: Number(i.PriceCents),
        currency: String(i.Currency),
        createdAt,
        cancelledAt: cancelled.has(t.id) ? (cancelledAt[t.id] ?? null) : null,
      }))
      .reverse();
  }

  /** One of the user's orders by its key; strongly consistent, as a buyer looks at it right after buying. */
  private async orderOf(userId: string, orderId: string): Promise<Order | null> {
    const item = await getItem(this.doc, this.table, keys.order(userId, orderId));
    if (!item) return null;
    const event = await this.eventCopy(String(item.EventID), false);
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
    const first = await getItem(this.doc, this.t.tickets.name, { TicketID: idempotentTicketId(input.userId, input.idempotencyKey) });
    if (!first) return undefined;
    if (first.RequestHash !== input.requestHash) {
      throw new AppError('IDEMPOTENCY_KEY_REUSED', 'This Idempotency-Key was already used for a different purchase. Use a new key for a new purchase.');
    }
    const order = await this.orderOf(input.userId, String(first.OrderID));
    return order ? { order, replayed: true } : undefined;
  }

  /**
   * The hot path reads two things, the (cached) event copy and one shard, then commits. Correctness never
   * rests on the cache: every shard condition checks the definition version and on-sale flag, and before
   * any refusal everything is read again fresh, the Idempotency-Key included (a retry of a purchase that
   * succeeded must get its order back, even once the event has sold out). A repeated key on the happy path
   * is caught by the condition on the first ticket's Put in the transaction itself.
   */
  async placeOrder(input: PlaceOrderInput): Promise<PlaceOrderResult> {
    const { now } = input;
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
        // Verifying a refusal: a fresh consistent read of every shard, outside the gate (reads never
        // collide); if seats turned up after all, buy them the normal way.
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

  /** Every shard as a consistent read finds them now, and either a plan to take the seats or the refusal. */
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

  /**
   * The cheap way to seats: ONE consistent GetItem of a random shard that this process does not know to be
   * short of them. Undefined when that shard lacks them (or every shard is known to): then all are read.
   */
  private async oneShardWithSeats(tt: TypeDef, quantity: number): Promise<Shard | undefined> {
    const candidates = Array.from({ length: tt.shards }, (_, n) => n).filter((n) => {
      const belief = this.shardBeliefs.get(shardId(tt.id, n));
      return !belief || belief.remaining >= quantity || Date.now() - belief.at > SHARD_BELIEF_MS;
    });
    if (candidates.length === 0) return undefined;
    const n = candidates[Math.floor(Math.random() * candidates.length)]!;
    const shard = toShard(tt.id, n, await getItem(this.doc, this.table, keys.shard(shardId(tt.id, n))));
    this.believe(shard);
    return shard.exists && shard.onSale && shard.capacity - shard.sold >= quantity ? shard : undefined;
  }

  /**
   * One try at taking seats: reads a shard (all of them when that one is short), plans, commits the purchase
   * transaction. Runs inside the ticket type's gate: one purchase at a time per shard in this process (a
   * type with N shards admits N), so contenders queue here instead of colliding in DynamoDB.
   */
  private async tryTake(input: PlaceOrderInput, ev: EventCopy, tt: TypeDef, sale: SaleEvent, now: Date, useHint: boolean): Promise<Order | Refusal | 'idempotency' | 'lost'> {
    // What the previous holder of the gate saw a moment ago: when that was too few seats, don't spend a read
    // here; the caller verifies the refusal with a fresh read outside the gate.
    const hint = this.seatHints.get(tt.id);
    if (useHint && hint && hint.remaining < input.quantity && Date.now() - hint.at < EVENT_CACHE_MS) {
      return { code: 'SOLD_OUT', message: soldOutMessage(hint.remaining) };
    }
    let shards: Shard[];
    let plan: { id: string; take: number }[];
    const one = await this.oneShardWithSeats(tt, input.quantity);
    if (one) {
      shards = [one];
      plan = [{ id: one.id, take: input.quantity }];
    } else {
      const seats = await this.seats(tt, input.quantity, sale, now);
      if (!seats.plan) return seats.refusal!;
      shards = seats.usable;
      plan = seats.plan;
    }

    const { order, messages } = input.issue({
      event: ev,
      ticketType: { id: tt.id, name: tt.name, priceCents: tt.priceCents, currency: tt.currency },
      firstTicketId: idempotentTicketId(input.userId, input.idempotencyKey),
    });
    const shardOf = new Map(shards.map((s) => [s.id, s]));
    // Ticket i takes its seat from the i-th seat of the plan; the first ticket's id carries the Idempotency-Key.
    const seatShards = plan.flatMap((p) => Array.from({ length: p.take }, () => shardOf.get(p.id)!));
    const tickets: OrderTicket[] = order.tickets.map((t, i) => ({ id: t.id, code: t.code, shard: seatShards[i]!.n }));
    const items: TransactItem[] = plan.map((p) => {
      const shard = shardOf.get(p.id)!;
      return {
        Update: {
          TableName: this.table,
          Key: keys.shard(p.id),
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
        TableName: this.table,
        ConditionExpression: 'attribute_not_exists(PK)',
        Item: {
          ...keys.order(input.userId, order.id),
          OrderID: order.id,
          UserID: input.userId,
          EventID: ev.id,
          TicketTypeID: tt.id,
          TicketTypeName: tt.name,
          Quantity: input.quantity,
          PriceCents: tt.priceCents,
          TotalCents: order.totalCents,
          RefundedCents: order.refundedCents,
          Currency: order.currency,
          Status: order.status,
          RefundStatus: order.refundStatus,
          CreatedAt: order.createdAt,
          Tickets: tickets,
          // While the order has a valid ticket: an event's cancellation finds it under its (first) shard.
          ValidShard: plan[0]!.id,
        },
      },
    });
    const firstTicketIndex = items.length;
    tickets.forEach((t, i) =>
      items.push({
        Put: {
          TableName: this.t.tickets.name,
          ...(i === 0 ? { ConditionExpression: 'attribute_not_exists(TicketID)' } : {}),
          Item: {
            TicketID: t.id,
            Code: t.code,
            OrderID: order.id,
            UserID: input.userId,
            EventID: ev.id,
            TicketTypeID: tt.id,
            TicketTypeName: tt.name,
            ShardID: shardId(tt.id, t.shard),
            PriceCents: tt.priceCents,
            Currency: tt.currency,
            Status: 'valid',
            CreatedAt: order.createdAt,
            // The first ticket is the Idempotency-Key's record: a retry compares its request with this one.
            ...(i === 0 ? { RequestHash: input.requestHash } : {}),
          },
        },
      }),
    );
    items.push(...this.outbox.outboxPuts(...messages));
    try {
      await this.commit(items);
    } catch (err) {
      if (!(err instanceof ConditionFailed)) throw err;
      // Another purchase with the same key won: the caller returns its order.
      if (err.failedAt(firstTicketIndex)) return 'idempotency';
      // Someone took the seats we planned on (or the definition changed): read again and re-plan.
      for (const p of plan) this.shardBeliefs.delete(p.id);
      return 'lost';
    }
    const seen = this.seatHints.get(tt.id);
    if (seen) seen.remaining -= input.quantity;
    for (const p of plan) {
      const belief = this.shardBeliefs.get(p.id);
      if (belief) belief.remaining -= p.take;
    }
    return order;
  }

  /**
   * The user's order items from the cursor's order on (newest first, eventually consistent), at least `orders`
   * of them when there are that many. The cursor's order is included: a page may start inside it.
   */
  private async userOrders(userId: string, cursor: string | undefined, orders: number): Promise<{ rows: Item[]; from: ListCursor | undefined }> {
    const from = cursor === undefined ? undefined : decodeCursor(cursor, isListCursor);
    if (cursor !== undefined && !from) throw invalidCursor();
    const rows = await queryUpTo(
      this.doc,
      {
        TableName: this.table,
        KeyConditionExpression: from ? 'PK = :pk AND SK BETWEEN :first AND :from' : 'PK = :pk AND begins_with(SK, :first)',
        ExpressionAttributeValues: { ':pk': keys.user(userId), ':first': ORDER_PREFIX, ...(from ? { ':from': keys.order(userId, from.order).SK } : {}) },
        ScanIndexForward: false,
        ConsistentRead: false,
      },
      orders,
    );
    return { rows, from };
  }

  async listOrders(userId: string, page: PageRequest): Promise<Page<Order>> {
    const { rows } = await this.userOrders(userId, page.cursor, page.limit + 1);
    const kept = rows.slice(0, page.limit);
    const events = await this.titles(kept.map((r) => String(r.EventID)));
    const next = rows[page.limit];
    return {
      items: kept.map((r) => this.toOrder(r, events.get(String(r.EventID))?.title ?? '')),
      next: next ? encodeCursor({ order: String(next.OrderID), skip: 0 } satisfies ListCursor) : null,
    };
  }

  async getOrder(userId: string, orderId: string): Promise<Order | null> {
    return this.orderOf(userId, orderId);
  }

  /**
   * A page of tickets from the user's orders: every order holds 1–10 tickets, so limit + 1 orders always hold
   * the page and the first ticket of the next one, whose position (order, tickets skipped in it) is the cursor.
   */
  async listTickets(userId: string, page: PageRequest): Promise<Page<Ticket>> {
    const { rows, from } = await this.userOrders(userId, page.cursor, page.limit + 1);
    const events = await this.titles(rows.map((r) => String(r.EventID)));
    const positioned = rows.flatMap((r) => {
      const skip = from && String(r.OrderID) === from.order ? from.skip : 0;
      return DynamoTicketingStore.ticketsOfOrder(r, events.get(String(r.EventID)))
        .map((ticket, position) => ({ ticket, position }))
        .slice(skip);
    });
    const next = positioned[page.limit];
    return {
      items: positioned.slice(0, page.limit).map((p) => p.ticket),
      next: next ? encodeCursor({ order: next.ticket.orderId, skip: next.position } satisfies ListCursor) : null,
    };
  }

  /**
   * The transaction items that cancel some valid tickets of ONE order: each ticket (still valid), the seats
   * back on their shards (one update per shard: a transaction may touch an item once), the refund and the
   * cancellation times on the order (conditioned on the refund total and cancelled set we read; the last valid
   * ticket takes the order out of the ByShard index), and one TicketCancelled each.
   */
  private cancellation(order: Item, ticketIds: string[], { now, announce }: Cancellation, eventTitle: string): TransactItem[] {
    const at = now.toISOString();
    const ticketTypeId = String(order.TicketTypeID);
    const price = Number(order.PriceCents);
    const items: TransactItem[] = ticketIds.map((id) => ({
      Update: {
        TableName: this.t.tickets.name,
        Key: { TicketID: id },
        UpdateExpression: 'SET #Status = :cancelled, #CancelledAt = :at',
        ConditionExpression: '#Status = :valid',
        ExpressionAttributeNames: attrNames('#Status #CancelledAt'),
        ExpressionAttributeValues: { ':cancelled': 'cancelled', ':valid': 'valid', ':at': at },
      },
    }));
    const perShard = new Map<number, number>();
    const shardOfTicket = new Map(ticketsOf(order).map((t) => [t.id, t.shard]));
    for (const id of ticketIds) perShard.set(shardOfTicket.get(id)!, (perShard.get(shardOfTicket.get(id)!) ?? 0) + 1);
    for (const [n, count] of perShard) {
      items.push({
        Update: {
          TableName: this.table,
          Key: keys.shard(shardId(ticketTypeId, n)),
          UpdateExpression: 'ADD #Sold :minus',
          ConditionExpression: 'attribute_exists(PK)',
          ExpressionAttributeNames: attrNames('#Sold'),
          ExpressionAttributeValues: { ':minus': -count },
        },
      });
    }
    const before = Number(order.RefundedCents);
    const cancelledBefore = cancelledOf(order).size;
    const after = orderAfterCancelling(
      { quantity: Number(order.Quantity), cancelledTickets: cancelledBefore, totalCents: Number(order.TotalCents), refundedCents: before },
      ticketIds.length,
      price,
    );
    // The first cancellation creates the map of cancellation times; later ones add their tickets to it.
    const times =
      cancelledBefore === 0
        ? { set: '#CancelledAt = :times', names: {}, values: { ':times': Object.fromEntries(ticketIds.map((id) => [id, at])) } }
        : {
            set: ticketIds.map((_, i) => `#CancelledAt.#t${i} = :at`).join(', '),
            names: Object.fromEntries(ticketIds.map((id, i) => [`#t${i}`, id])),
            values: { ':at': at },
          };
    const noneLeft = after.cancelledTickets >= after.quantity;
    const update = `SET #RefundedCents = :refunded, #Status = :status, #RefundStatus = :refundStatus, ${times.set} ADD #CancelledTickets :ids${noneLeft ? ' REMOVE #ValidShard' : ''}`;
    // Both as read: a free ticket refunds nothing, so only the cancelled set shows another cancellation in between.
    const condition = `#RefundedCents = :before AND ${cancelledBefore === 0 ? 'attribute_not_exists(#CancelledTickets)' : 'size(#CancelledTickets) = :cancelledBefore'}`;
    items.push({
      Update: {
        TableName: this.table,
        Key: keys.order(String(order.UserID), String(order.OrderID)),
        UpdateExpression: update,
        ConditionExpression: condition,
        ExpressionAttributeNames: { ...attrNames(update, condition), ...times.names },
        ExpressionAttributeValues: {
          ':refunded': after.refundedCents,
          ':status': after.status,
          ':refundStatus': after.refundStatus,
          ':ids': new Set(ticketIds),
          ':before': before,
          ...times.values,
          ...(cancelledBefore === 0 ? {} : { ':cancelledBefore': cancelledBefore }),
        },
      },
    });
    const messages = ticketIds.map((ticketId) =>
      announce({
        ticketId,
        orderId: String(order.OrderID),
        userId: String(order.UserID),
        eventId: String(order.EventID),
        eventTitle,
        ticketTypeId,
        refundCents: price,
        currency: String(order.Currency),
      }),
    );
    items.push(...this.outbox.outboxPuts(...messages));
    return items;
  }

  async cancelTicket(userId: string, ticketId: string, cancellation: TicketCancellation): Promise<Ticket> {
    const { now } = cancellation;
    for (let attempt = 0; ; attempt++) {
      const ticket = await getItem(this.doc, this.t.tickets.name, { TicketID: ticketId });
      if (!ticket || ticket.UserID !== userId) throw new AppError('TICKET_NOT_FOUND', 'You have no ticket with this id.');
      const event = await this.eventCopy(String(ticket.EventID));
      const refusal = cancellation.refuse(ticket.Status as Ticket['status'], event && { status: event.status, endsAt: event.endsAt });
      if (refusal) throw new AppError(refusal.code, refusal.message);
      const order = await getItem(this.doc, this.table, keys.order(userId, String(ticket.OrderID)));
      if (!order) throw new Error(`order ${String(ticket.OrderID)} of ticket ${ticketId} is missing`);
      try {
        await this.commit(this.cancellation(order, [ticketId], cancellation, event?.title ?? ''));
      } catch (err) {
        // Cancelled meanwhile (the next read says so) or another ticket of the order refunded first: re-read.
        if (err instanceof ConditionFailed && attempt < 20) continue;
        throw err;
      }
      this.onMessagesCommitted?.();
      const cancelled = {
        ...order,
        CancelledTickets: new Set([...cancelledOf(order), ticketId]),
        CancelledAt: { ...(order.CancelledAt as object), [ticketId]: now.toISOString() },
      };
      return DynamoTicketingStore.ticketsOfOrder(cancelled, event).find((t) => t.id === ticketId)!;
    }
  }

  /** Public and shown to browsers: eventually consistent reads (a second-old count is harmless); sold = Σ shards. */
  async getAvailability(eventId: string): Promise<Availability | null> {
    const event = await this.eventCopy(eventId, false);
    if (!event) return null;
    const types = event.types.filter((t) => t.active).sort((a, b) => a.position - b.position);
    const shards = await batchGet(
      this.doc,
      this.table,
      types.flatMap((t) => Array.from({ length: t.shards }, (_, n) => keys.shard(shardId(t.id, n)))),
      false,
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
      const capacities = keepCapacity
        ? shards.map((s) => s.capacity)
        : distributeCapacity(
            type.capacity,
            shards.map((s) => s.sold),
          );
      const capVer = Math.max(version, ...shards.map((s) => s.capVer));
      const items: TransactItem[] = shards.map((s, n) =>
        s.exists
          ? {
              Update: {
                TableName: this.table,
                Key: keys.shard(s.id),
                UpdateExpression: 'SET #Capacity = :cap, #CapVer = :capVer, #OnSale = :onSale, #Def = :v, #Name = :name, #PriceCents = :price, #Currency = :currency',
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
                TableName: this.table,
                ConditionExpression: 'attribute_not_exists(PK)',
                Item: {
                  ...keys.shard(s.id),
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

  async changeCapacity({ eventId, version, ticketTypes }: CapacityChangeBody, refuse: CapacityRefusal): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const copy = await this.eventCopy(eventId);
      const items: TransactItem[] = [];
      for (const wanted of ticketTypes) {
        const type = copy?.types.find((t) => t.id === wanted.id);
        const shards = type ? await this.readShards(type) : [];
        const refusal = refuse(type && { name: type.name, sold: shards.reduce((n, s) => n + s.sold, 0) }, wanted.capacity);
        if (refusal) throw new AppError(refusal.code, refusal.message);
        const capacities = distributeCapacity(
          wanted.capacity,
          shards.map((s) => s.sold),
        );
        shards.forEach((s, n) => {
          if (!s.exists) return; // created by the snapshot that adds the shard, with this capacity kept (CapVer)
          items.push({
            Update: {
              TableName: this.table,
              Key: keys.shard(s.id),
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
        this.shardBeliefs.clear();
        return;
      } catch (err) {
        // A purchase (or another change) touched a shard after we read it: read again and re-check.
        if (!(err instanceof ConditionFailed) || attempt >= 50) throw err;
        await new Promise((r) => setTimeout(r, fullJitter(Math.min(attempt, 6), 5, 200)));
      }
    }
  }

  async applyEventSnapshot({ message, snapshot, cancelTickets }: EventChange): Promise<'applied' | 'duplicate'> {
    if (await this.outbox.seen(message)) return 'duplicate';
    this.eventCache.delete(snapshot.id);
    const stored = await this.eventCopy(snapshot.id);
    const newer = !stored || stored.version < snapshot.version;
    let types = stored?.types ?? [];
    let enqueued = false;
    let closedAt = 0;
    if (newer) {
      const previous = new Map(types.map((t) => [t.id, t]));
      const wanted = this.shardsFor(snapshot.id);
      const listed = new Set(snapshot.ticketTypes.map((t) => t.id));
      types = [
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
      closedAt = Date.now();
      try {
        await transactWrite(this.doc, [
          {
            Put: {
              TableName: this.table,
              ConditionExpression: 'attribute_not_exists(PK) OR #Version < :v',
              ExpressionAttributeNames: attrNames('#Version'),
              ExpressionAttributeValues: { ':v': snapshot.version },
              Item: {
                ...keys.event(snapshot.id),
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
    if (cancelTickets && (newer || stored?.version === snapshot.version)) {
      enqueued = await this.cancelAllTickets(snapshot.title, types, closedAt, cancelTickets);
    }
    const result = await this.outbox.acknowledge(message);
    if (enqueued) this.onMessagesCommitted?.();
    return result;
  }

  /**
   * Cancels the valid tickets of a cancelled event, one transaction per order; true when any were cancelled.
   * Orders are found shard by shard in the sparse ByShard index (keys only), so no key is event-wide; the
   * index may lag, so each order is read itself, and rounds repeat until a round finds nothing left to cancel.
   */
  /**
   * `closedAt`: when this call closed the shards to sales (0 when they were closed before, as on a redelivery). An
   * order committed just before may not be in the `ByShard` index yet (global indexes lag, usually well under a
   * second), so "nothing left" only counts once INDEX_LAG_MS has passed since then.
   */
  private async cancelAllTickets(eventTitle: string, types: TypeDef[], closedAt: number, cancellation: Cancellation): Promise<boolean> {
    const shardIds = types.flatMap((t) => Array.from({ length: t.shards }, (_, n) => shardId(t.id, n)));
    let any = false;
    for (let round = 0; round < 50; round++) {
      const found: Item[] = [];
      // A few shards' queries at a time: an event may have 20 types × 50 shards.
      for (let i = 0; i < shardIds.length; i += SWEEP_QUERIES_AT_ONCE) {
        const pages = await Promise.all(
          shardIds.slice(i, i + SWEEP_QUERIES_AT_ONCE).map((id) =>
            queryAll(this.doc, {
              TableName: this.table,
              IndexName: 'ByShard',
              KeyConditionExpression: 'ValidShard = :shard',
              ExpressionAttributeValues: { ':shard': id },
            }),
          ),
        );
        found.push(...pages.flat());
      }
      let left = false;
      for (const key of found) {
        const order = await getItem(this.doc, this.table, { PK: key.PK, SK: key.SK });
        const cancelled = order ? cancelledOf(order) : new Set<string>();
        const valid = order ? ticketsOf(order).filter((t) => !cancelled.has(t.id)) : [];
        if (!order || valid.length === 0) continue;
        left = true;
        try {
          await this.commit(
            this.cancellation(
              order,
              valid.map((t) => t.id),
              cancellation,
              eventTitle,
            ),
          );
          any = true;
        } catch (err) {
          if (!(err instanceof ConditionFailed)) throw err; // an attendee cancelled one meanwhile: next round
        }
      }
      if (left) continue;
      const settling = closedAt + INDEX_LAG_MS - Date.now();
      if (settling <= 0) return any;
      await new Promise((r) => setTimeout(r, settling));
    }
    throw new Error(`could not cancel every ticket of the event's ${shardIds.length} shards`);
  }

  /** One by one, in order: a snapshot's writes are transactions of their own (and may span several). */
  async applyMessages(changes: MessageChange[]): Promise<MessageChangeOutcome[]> {
    const outcomes: MessageChangeOutcome[] = [];
    for (const c of changes) {
      try {
        outcomes.push(await (c.snapshot ? this.applyEventSnapshot(c) : this.acknowledge(c.message)));
      } catch (error) {
        outcomes.push({ error });
      }
    }
    return outcomes;
  }

  async acknowledge(message: Message): Promise<'applied' | 'duplicate'> {
    return this.outbox.acknowledge(message);
  }

  isReady(): Promise<boolean> {
    return this.answers(this.t.ticketing, keys.event('_ping'));
  }
}
