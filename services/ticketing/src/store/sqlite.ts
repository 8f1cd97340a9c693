import type Database from 'better-sqlite3';
import type { Availability, CapacityChangeBody, Message, Order, Ticket } from '@dems/contracts';
import { AppError, decodeCursor, encodeCursor, inCurrentTrace, invalidCursor, type Page, type PageRequest } from '@dems/kit';
import { batchStep, childrenOf, MESSAGING_SCHEMA, migrate, openSqlite, PerTurn, SqliteMessaging, type SqliteDb, type StepOutcome } from '@dems/kit/sqlite';
import { orderAfterCancelling, refusePurchase, remainingOf, soldOutMessage, type SaleEvent } from '../domain/purchase.js';
import type { MessageChange, MessageChangeOutcome, PlaceOrderInput, PlaceOrderResult, TicketingStore } from './ticketing-store.js';
import type { CapacityRefusal, Cancellation, EventChange, TicketCancellation } from './ticketing-store.js';

const MIGRATIONS = [
  `${MESSAGING_SCHEMA}
  CREATE TABLE events (
    id TEXT PRIMARY KEY,
    organizer_id TEXT NOT NULL,
    title TEXT NOT NULL,
    venue TEXT NOT NULL,
    timezone TEXT NOT NULL,
    starts_at TEXT NOT NULL,
    ends_at TEXT NOT NULL,
    status TEXT NOT NULL,
    version INTEGER NOT NULL,
    updated_at TEXT NOT NULL
  );
  CREATE TABLE inventory (
    ticket_type_id TEXT PRIMARY KEY,
    event_id TEXT NOT NULL REFERENCES events (id),
    name TEXT NOT NULL,
    price_cents INTEGER NOT NULL,
    currency TEXT NOT NULL,
    capacity INTEGER NOT NULL,
    sold INTEGER NOT NULL DEFAULT 0 CHECK (sold >= 0),
    position INTEGER NOT NULL,
    -- 0 when the latest snapshot no longer lists the type: not for sale, but its tickets stay valid.
    active INTEGER NOT NULL DEFAULT 1
  );
  CREATE INDEX inventory_event ON inventory (event_id, position);
  CREATE TABLE orders (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    event_id TEXT NOT NULL,
    ticket_type_id TEXT NOT NULL,
    quantity INTEGER NOT NULL,
    total_cents INTEGER NOT NULL,
    refunded_cents INTEGER NOT NULL DEFAULT 0,
    currency TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at TEXT NOT NULL
  );
  CREATE INDEX orders_user ON orders (user_id, created_at);
  CREATE TABLE tickets (
    id TEXT PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    order_id TEXT NOT NULL REFERENCES orders (id),
    user_id TEXT NOT NULL,
    event_id TEXT NOT NULL,
    ticket_type_id TEXT NOT NULL,
    ticket_type_name TEXT NOT NULL,
    price_cents INTEGER NOT NULL,
    currency TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at TEXT NOT NULL,
    cancelled_at TEXT
  );
  CREATE INDEX tickets_user ON tickets (user_id, created_at);
  CREATE INDEX tickets_order ON tickets (order_id);
  CREATE INDEX tickets_event ON tickets (event_id, status);
  CREATE TABLE idempotency (
    user_id TEXT NOT NULL,
    key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    order_id TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (user_id, key)
  );`,
  // Capacity is ticketing's to change (POST /internal/capacity); a snapshot older than the last change leaves it alone.
  `ALTER TABLE inventory ADD COLUMN capacity_version INTEGER NOT NULL DEFAULT 0;`,
  // An order's status once followed its money alone (confirmed / partially_refunded / refunded), so a free
  // order stayed confirmed with every ticket cancelled. Status now follows the tickets and refund_status the
  // money (orderStateFor); stored orders are converted by the same rule, frozen here as of this migration.
  `ALTER TABLE orders ADD COLUMN refund_status TEXT NOT NULL DEFAULT 'none';
  UPDATE orders SET
    refund_status = CASE WHEN refunded_cents <= 0 THEN 'none' WHEN refunded_cents >= total_cents THEN 'full' ELSE 'partial' END,
    status = (SELECT CASE WHEN COUNT(*) = 0 THEN 'confirmed' WHEN COUNT(*) >= orders.quantity THEN 'cancelled' ELSE 'partially_cancelled' END
              FROM tickets t WHERE t.order_id = orders.id AND t.status = 'cancelled');`,
];

interface EventRow {
  id: string;
  title: string;
  starts_at: string;
  ends_at: string;
  status: 'published' | 'cancelled';
  version: number;
}

interface InventoryRow {
  ticket_type_id: string;
  event_id: string;
  name: string;
  price_cents: number;
  currency: string;
  capacity: number;
  sold: number;
  active: number;
}

interface OrderRow {
  row_seq: number;
  id: string;
  user_id: string;
  event_id: string;
  event_title: string;
  ticket_type_id: string;
  quantity: number;
  total_cents: number;
  refunded_cents: number;
  currency: string;
  status: Order['status'];
  refund_status: Order['refundStatus'];
  created_at: string;
}

interface TicketRow {
  row_seq: number;
  id: string;
  code: string;
  status: Ticket['status'];
  order_id: string;
  user_id: string;
  event_id: string;
  event_title: string;
  event_venue: string;
  event_timezone: string;
  event_starts_at: string;
  event_ends_at: string;
  event_status: Ticket['eventStatus'];
  ticket_type_id: string;
  ticket_type_name: string;
  price_cents: number;
  currency: string;
  created_at: string;
  cancelled_at: string | null;
}

/** Where a page of a user's orders or tickets ended: the last row's creation time and rowid. */
interface KeysetCursor {
  at: string;
  row: number;
}
const isKeysetCursor = (v: unknown): v is KeysetCursor =>
  typeof v === 'object' && v !== null && typeof (v as KeysetCursor).at === 'string' && Number.isSafeInteger((v as KeysetCursor).row);

/** Both selects carry the rowid (row_seq): it orders rows of one instant and ends a page (keysetPage). */
const ORDER_SELECT = `
  SELECT o.*, o.rowid AS row_seq, e.title AS event_title FROM orders o JOIN events e ON e.id = o.event_id`;
const TICKET_SELECT = `
  SELECT t.*, t.rowid AS row_seq, e.title AS event_title, e.venue AS event_venue, e.timezone AS event_timezone, e.starts_at AS event_starts_at,
    e.ends_at AS event_ends_at, e.status AS event_status
  FROM tickets t JOIN events e ON e.id = t.event_id`;

type Statement = Database.Statement;
type Enqueue = (...messages: Message[]) => void;
type Outcome = StepOutcome<PlaceOrderResult>;
interface QueuedOrder {
  input: PlaceOrderInput;
  now: Date;
  resolve: (result: PlaceOrderResult) => void;
  reject: (error: unknown) => void;
  /** Runs in the trace of the request that queued it: the batch runs in whichever request scheduled it. */
  inItsTrace: <T>(fn: () => T) => T;
}

/** Most purchases one group commit takes; more wait for the next turn of the event loop. */
const MAX_BATCH = 256;

/**
 * What the file looked like at one moment, as one string: PRAGMA data_version changes whenever ANOTHER connection
 * (another process or replica sharing the file) commits, total_changes() whenever THIS connection writes anything
 * (rolled back or not). Both together are unchanged exactly as long as nothing can have changed.
 */
const FILE_VERSION = `(SELECT data_version FROM pragma_data_version) || ':' || total_changes()`;

/**
 * A ticket type known to have too few seats: `remaining` of an event on sale that ends at `endsAt`, true at
 * `fileVersion`. Seats come back only through a write (a cancelled ticket, a capacity change, a snapshot),
 * and any write moves the file's version, so while it has not moved this is still exactly the truth.
 */
interface KnownShortage {
  eventId: string;
  /** When the event ends, in ms, parsed once: from that instant on (hasEnded's rule) the answer is EVENT_ENDED. */
  endsAtMs: number;
  remaining: number;
  fileVersion: string;
}

type TypeShortage = KnownShortage & { ticketTypeId: string };

/** Shortages remembered at most (one per sold-out ticket type); beyond, the oldest is forgotten. */
const MAX_KNOWN_SHORTAGES = 10_000;

export interface SqliteTicketingStoreOptions {
  file: string;
  synchronous?: 'FULL' | 'NORMAL';
  /** Called after a transaction that enqueued messages has committed (serve.ts: relay.kick()). */
  onMessagesCommitted?: () => void;
}

/**
 * The embedded adapter. Every write is one BEGIN IMMEDIATE transaction: it takes the file's write lock
 * before reading, so the check-then-take of seats is serialized even across processes sharing the file.
 */
export class SqliteTicketingStore implements TicketingStore {
  private readonly db: SqliteDb;
  readonly outbox: SqliteMessaging;
  private readonly onMessagesCommitted?: () => void;
  /** Prepared once, reused: compiling SQL on every purchase cost more than running it. */
  private readonly statements = new Map<string, Statement>();
  /** Purchases waiting for the next group commit (see placeOrder). */
  private readonly queued = new PerTurn<QueuedOrder>((batch) => this.commitQueued(batch), MAX_BATCH);
  /** Runs a whole batch in one immediate transaction; each purchase inside it is its own SAVEPOINT. */
  private readonly commitBatch: (batch: QueuedOrder[], enqueue: Enqueue) => { outcomes: Outcome[]; shortages: TypeShortage[] };
  /** One purchase in its own SAVEPOINT of the batch (batchStep: a failure that ends the whole transaction fails the batch). */
  private readonly placeOne: (input: PlaceOrderInput, now: Date, enqueue: Enqueue) => Outcome;
  /** One message of a delivered batch in its own SAVEPOINT of the batch's transaction (applyMessages). */
  private readonly applyOneMessage: (change: MessageChange, enqueue: Enqueue) => StepOutcome<'applied' | 'duplicate'>;
  /** Sold-out ticket types by id, each valid for one version of the file (see refuseQueued). */
  private readonly shortages = new Map<string, KnownShortage>();
  /** Purchases a known shortage refuses, waiting for the next turn's one read that confirms it (refuseQueued). */
  private readonly refusable = new PerTurn<QueuedOrder>((batch) => this.refuseQueued(batch));
  /** In one read transaction: which of these purchases a still-valid shortage refuses (the others go to the group commit). */
  private readonly confirmRefusals: (batch: QueuedOrder[]) => (KnownShortage | undefined)[];

  constructor(opts: SqliteTicketingStoreOptions) {
    this.db = openSqlite(opts.file, opts.synchronous ?? 'FULL');
    migrate(this.db, MIGRATIONS);
    this.outbox = new SqliteMessaging(this.db);
    this.onMessagesCommitted = opts.onMessagesCommitted;
    this.placeOne = batchStep(this.db, (input: PlaceOrderInput, now: Date, enqueue: Enqueue) => this.placeOrderNow(input, now, enqueue));
    this.applyOneMessage = batchStep(this.db, (c: MessageChange, enqueue: Enqueue) =>
      c.snapshot ? this.snapshotNow(c, enqueue) : this.outbox.recordReceived(c.message) ? 'applied' : 'duplicate',
    );
    // A purchase refused or failed is rolled back to its SAVEPOINT: it leaves no trace, the others in the batch stand.
    this.commitBatch = this.db.transaction((batch: QueuedOrder[], enqueue: Enqueue) => {
      const outcomes = batch.map((q) => q.inItsTrace(() => this.placeOne(q.input, q.now, enqueue)));
      return { outcomes, shortages: this.shortagesOf(batch, outcomes) };
    }).immediate;
    // A deferred (read) transaction: one snapshot of the file for the whole batch, no write lock taken.
    this.confirmRefusals = this.db.transaction((batch: QueuedOrder[]) => {
      const { fileVersion } = this.sql(`SELECT ${FILE_VERSION} AS fileVersion`).get() as { fileVersion: string };
      const used = this.sql('SELECT 1 FROM idempotency WHERE user_id = ? AND key = ?');
      return batch.map(({ input, now }) => {
        const known = this.shortageRefusing(input, now);
        if (known && known.fileVersion !== fileVersion) this.shortages.delete(input.ticketTypeId);
        return known && known.fileVersion === fileVersion && used.get(input.userId, input.idempotencyKey) === undefined ? known : undefined;
      });
    });
  }

  private sql(source: string): Statement {
    let statement = this.statements.get(source);
    if (!statement) {
      statement = this.db.prepare(source);
      this.statements.set(source, statement);
    }
    return statement;
  }

  /** Runs fn in one immediate transaction; `enqueue` adds outbox messages to it and triggers the relay after commit. */
  private write<T>(fn: (enqueue: (...messages: Message[]) => void) => T): T {
    let enqueued = false;
    const result = this.db
      .transaction(() =>
        fn((...messages) => {
          this.outbox.enqueue(...messages);
          if (messages.length) enqueued = true;
        }),
      )
      .immediate();
    if (enqueued) this.onMessagesCommitted?.();
    return result;
  }

  private event(id: string): EventRow | undefined {
    return this.sql('SELECT * FROM events WHERE id = ?').get(id) as EventRow | undefined;
  }

  private saleEvent(id: string): SaleEvent | undefined {
    const row = this.event(id);
    return row && { status: row.status, endsAt: row.ends_at };
  }

  private ordersWithTickets(rows: OrderRow[]): Order[] {
    if (rows.length === 0) return [];
    const ids = rows.map((r) => r.id);
    const tickets = this.sql(`SELECT id, code, status, order_id FROM tickets WHERE order_id IN (SELECT value FROM json_each(?)) ORDER BY rowid`).all(JSON.stringify(ids)) as {
      id: string;
      code: string;
      status: Ticket['status'];
      order_id: string;
    }[];
    const ticketsOf = childrenOf(
      tickets,
      (t) => t.order_id,
      (t) => ({ id: t.id, code: t.code, status: t.status }),
    );
    return rows.map((r) => ({
      id: r.id,
      userId: r.user_id,
      eventId: r.event_id,
      eventTitle: r.event_title,
      ticketTypeId: r.ticket_type_id,
      quantity: r.quantity,
      totalCents: r.total_cents,
      refundedCents: r.refunded_cents,
      currency: r.currency,
      status: r.status,
      refundStatus: r.refund_status,
      createdAt: r.created_at,
      tickets: ticketsOf(r.id),
    }));
  }

  private orderById(id: string): Order | undefined {
    const row = this.sql(`${ORDER_SELECT} WHERE o.id = ?`).get(id) as OrderRow | undefined;
    return row ? this.ordersWithTickets([row])[0] : undefined;
  }

  private static toTicket(r: TicketRow): Ticket {
    return {
      id: r.id,
      code: r.code,
      status: r.status,
      orderId: r.order_id,
      eventId: r.event_id,
      eventTitle: r.event_title,
      eventVenue: r.event_venue,
      eventTimezone: r.event_timezone,
      eventStartsAt: r.event_starts_at,
      eventEndsAt: r.event_ends_at,
      eventStatus: r.event_status,
      ticketTypeId: r.ticket_type_id,
      ticketTypeName: r.ticket_type_name,
      priceCents: r.price_cents,
      currency: r.currency,
      createdAt: r.created_at,
      cancelledAt: r.cancelled_at,
    };
  }

  /**
   * Group commit. Purchases that arrive while the event loop is busy are queued and, at the next turn
   * (setImmediate), committed together: one BEGIN IMMEDIATE, each purchase in its own SAVEPOINT (a refusal
   * or failure rolls back only that purchase), one COMMIT — one fsync under synchronous=FULL for the whole
   * batch instead of one per purchase. Every caller is answered only after the commit that holds its order.
   * An error after which SQLite keeps no transaction (a full disk, an I/O error) fails the whole batch with it.
   */
  placeOrder(input: PlaceOrderInput): Promise<PlaceOrderResult> {
    return new Promise((resolve, reject) => {
      const q: QueuedOrder = { input, now: input.now ?? new Date(), resolve, reject, inItsTrace: inCurrentTrace() };
      (this.shortageRefusing(q.input, q.now) ? this.refusable : this.queued).add(q);
    });
  }

  /** The remembered shortage that refuses this purchase, if any: same event, more asked than left, not over yet. */
  private shortageRefusing(input: PlaceOrderInput, now: Date): KnownShortage | undefined {
    const known = this.shortages.get(input.ticketTypeId);
    return known && known.eventId === input.eventId && input.quantity > known.remaining && now.getTime() < known.endsAtMs ? known : undefined;
  }

  /**
   * The sold-out answer without the write lock or a group commit, which a rush that has sold out would otherwise
   * queue every refusal for. It answers only what the transaction would answer: the shortage must be of the file's
   * version now (nothing written since, by this connection or any other), the event not over, and the key not
   * used before (a retry of a purchase that succeeded gets its order back, the transaction's way). The purchases
   * of one turn share one read transaction; those it does not confirm go to the group commit.
   */
  private refuseQueued(batch: QueuedOrder[]): void {
    let confirmed: (KnownShortage | undefined)[];
    try {
      confirmed = this.confirmRefusals(batch);
    } catch {
      // Could not even read (the file is busy being recovered, …): the full path decides, and reports its own error.
      confirmed = [];
    }
    batch.forEach((q, i) => {
      const known = confirmed[i];
      if (known) q.reject(new AppError('SOLD_OUT', soldOutMessage(known.remaining)));
      else this.queued.add(q);
    });
  }

  /**
   * Inside a batch's transaction, after its purchases: the ticket types it refused as sold out, with what is left
   * of them now and the file's version now. Read at the end, as the batch commits them: earlier purchases of the
   * batch have taken their seats, and while the transaction holds the write lock no other connection can commit.
   */
  private shortagesOf(batch: QueuedOrder[], outcomes: Outcome[]): TypeShortage[] {
    const refused = new Map<string, string>();
    outcomes.forEach((o, i) => {
      if (!o.ok && o.error instanceof AppError && o.error.code === 'SOLD_OUT') refused.set(batch[i]!.input.ticketTypeId, batch[i]!.input.eventId);
    });
    if (refused.size === 0) return [];
    const { fileVersion } = this.sql(`SELECT ${FILE_VERSION} AS fileVersion`).get() as { fileVersion: string };
    const read = this.sql(
      `SELECT i.ticket_type_id, i.event_id, i.capacity, i.sold, e.ends_at FROM inventory i JOIN events e ON e.id = i.event_id
       WHERE i.ticket_type_id = ? AND i.event_id = ? AND i.active = 1 AND e.status = 'published'`,
    );
    return [...refused].flatMap(([ticketTypeId, eventId]) => {
      const row = read.get(ticketTypeId, eventId) as (InventoryRow & { ends_at: string }) | undefined;
      return row ? [{ ticketTypeId, eventId, endsAtMs: Date.parse(row.ends_at), remaining: remainingOf(row), fileVersion }] : [];
    });
  }

  private remember(shortages: TypeShortage[]): void {
    for (const { ticketTypeId, ...known } of shortages) {
      if (this.shortages.size >= MAX_KNOWN_SHORTAGES) this.shortages.delete(this.shortages.keys().next().value as string);
      this.shortages.set(ticketTypeId, known);
    }
  }

  private commitQueued(batch: QueuedOrder[]): void {
    let enqueued = false;
    let committed: { outcomes: Outcome[]; shortages: TypeShortage[] };
    try {
      committed = this.commitBatch(batch, (...messages) => {
        this.outbox.enqueue(...messages);
        if (messages.length) enqueued = true;
      });
    } catch (error) {
      // BEGIN or COMMIT failed, or a purchase failed in a way that made SQLite roll back the whole transaction
      // (a full disk, an I/O error): nothing in the batch was written, and every caller gets that real error.
      for (const q of batch) q.reject(error);
      return;
    }
    // Only now: a shortage seen inside a transaction that then failed would describe a state that never was.
    this.remember(committed.shortages);
    if (enqueued) this.onMessagesCommitted?.();
    batch.forEach((q, i) => {
      const outcome = committed.outcomes[i]!;
      if (outcome.ok) q.resolve(outcome.value);
      else q.reject(outcome.error);
    });
  }

  /** The purchase itself, inside the caller's (batch) transaction. */
  private placeOrderNow(input: PlaceOrderInput, now: Date, enqueue: Enqueue): PlaceOrderResult {
    const seen = this.sql('SELECT request_hash, order_id FROM idempotency WHERE user_id = ? AND key = ?').get(input.userId, input.idempotencyKey) as
      { request_hash: string; order_id: string } | undefined;
    if (seen) {
      if (seen.request_hash !== input.requestHash) {
        throw new AppError('IDEMPOTENCY_KEY_REUSED', 'This Idempotency-Key was already used for a different purchase. Use a new key for a new purchase.');
      }
      const order = this.orderById(seen.order_id);
      if (order) return { order, replayed: true };
    }

    const ev = this.event(input.eventId);
    const inventory = this.sql('SELECT * FROM inventory WHERE ticket_type_id = ? AND event_id = ? AND active = 1').get(input.ticketTypeId, input.eventId) as
      InventoryRow | undefined;
    const refusal = refusePurchase(ev && { status: ev.status, endsAt: ev.ends_at }, inventory, input.quantity, now);
    if (refusal || !ev || !inventory) throw new AppError(refusal?.code ?? 'EVENT_NOT_ON_SALE', refusal?.message ?? 'This event is not on sale yet.');
    const tt = inventory;

    // The guard repeats the check in the statement that takes the seats: no path can sell past capacity.
    const taken = this.sql('UPDATE inventory SET sold = sold + ? WHERE ticket_type_id = ? AND sold + ? <= capacity').run(input.quantity, tt.ticket_type_id, input.quantity);
    if (taken.changes !== 1) throw new AppError('SOLD_OUT', 'Sorry — this ticket type is sold out.');

    const { order, messages } = input.issue({
      event: ev,
      ticketType: { id: tt.ticket_type_id, name: tt.name, priceCents: tt.price_cents, currency: tt.currency },
    });
    this.sql(
      `INSERT INTO orders (id, user_id, event_id, ticket_type_id, quantity, total_cents, refunded_cents, currency, status, refund_status, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      order.id,
      order.userId,
      ev.id,
      tt.ticket_type_id,
      order.quantity,
      order.totalCents,
      order.refundedCents,
      order.currency,
      order.status,
      order.refundStatus,
      order.createdAt,
    );
    const insertTicket = this.sql(
      `INSERT INTO tickets (id, code, order_id, user_id, event_id, ticket_type_id, ticket_type_name, price_cents, currency, status, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'valid', ?)`,
    );
    for (const ticket of order.tickets) {
      insertTicket.run(ticket.id, ticket.code, order.id, input.userId, ev.id, tt.ticket_type_id, tt.name, tt.price_cents, tt.currency, order.createdAt);
    }
    this.sql(
      `INSERT INTO idempotency (user_id, key, request_hash, order_id, created_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (user_id, key) DO UPDATE SET request_hash = excluded.request_hash, order_id = excluded.order_id`,
    ).run(input.userId, input.idempotencyKey, input.requestHash, order.id, order.createdAt);
    enqueue(...messages);
    // The order as just written rather than read back: the same answer, two queries fewer.
    return { order, replayed: false };
  }

  async listOrders(userId: string, page: PageRequest): Promise<Page<Order>> {
    const { rows, next } = this.keysetPage<OrderRow>(ORDER_SELECT, 'o', userId, page);
    return { items: this.ordersWithTickets(rows), next };
  }

  async getOrder(userId: string, orderId: string): Promise<Order | null> {
    const order = this.orderById(orderId);
    return order && order.userId === userId ? order : null;
  }

  async listTickets(userId: string, page: PageRequest): Promise<Page<Ticket>> {
    const { rows, next } = this.keysetPage<TicketRow>(TICKET_SELECT, 't', userId, page);
    return { items: rows.map(SqliteTicketingStore.toTicket), next };
  }

  /**
   * One page of a user's orders or tickets, newest first: (created_at, rowid) descending, and the cursor is the
   * last row's pair, so a page starts right after the previous one whatever was written in between.
   */
  private keysetPage<R extends { created_at: string; row_seq: number }>(select: string, alias: 'o' | 't', userId: string, page: PageRequest): { rows: R[]; next: string | null } {
    const after = page.cursor === undefined ? undefined : decodeCursor(page.cursor, isKeysetCursor);
    if (page.cursor !== undefined && !after) throw invalidCursor();
    const where = after ? `AND (${alias}.created_at < ? OR (${alias}.created_at = ? AND ${alias}.rowid < ?))` : '';
    const rows = this.sql(`${select} WHERE ${alias}.user_id = ? ${where} ORDER BY ${alias}.created_at DESC, ${alias}.rowid DESC LIMIT ?`).all(
      userId,
      ...(after ? [after.at, after.at, after.row] : []),
      page.limit + 1,
    ) as R[];
    const more = rows.length > page.limit;
    const kept = rows.slice(0, page.limit);
    const last = kept.at(-1);
    return { rows: kept, next: more && last ? encodeCursor({ at: last.created_at, row: last.row_seq } satisfies KeysetCursor) : null };
  }

  async cancelTicket(userId: string, ticketId: string, cancellation: TicketCancellation): Promise<Ticket> {
    return this.write((enqueue) => {
      const ticket = this.sql(`${TICKET_SELECT} WHERE t.id = ? AND t.user_id = ?`).get(ticketId, userId) as TicketRow | undefined;
      if (!ticket) throw new AppError('TICKET_NOT_FOUND', 'You have no ticket with this id.');
      const refusal = cancellation.refuse(ticket.status, this.saleEvent(ticket.event_id));
      if (refusal) throw new AppError(refusal.code, refusal.message);
      enqueue(this.cancelOne(ticket, cancellation));
      const updated = this.sql(`${TICKET_SELECT} WHERE t.id = ?`).get(ticketId) as TicketRow;
      return SqliteTicketingStore.toTicket(updated);
    });
  }

  /** Cancels one valid ticket inside the caller's transaction: seat back to sale, refund on its order; its message. */
  private cancelOne(ticket: TicketRow, { now, announce }: Cancellation): Message {
    const order = this.sql(
      `SELECT quantity, total_cents, refunded_cents,
         (SELECT COUNT(*) FROM tickets t WHERE t.order_id = o.id AND t.status = 'cancelled') AS cancelled
       FROM orders o WHERE id = ?`,
    ).get(ticket.order_id) as { quantity: number; total_cents: number; refunded_cents: number; cancelled: number };
    const after = orderAfterCancelling(
      { quantity: order.quantity, cancelledTickets: order.cancelled, totalCents: order.total_cents, refundedCents: order.refunded_cents },
      1,
      ticket.price_cents,
    );
    this.sql(`UPDATE tickets SET status = 'cancelled', cancelled_at = ? WHERE id = ?`).run(now.toISOString(), ticket.id);
    this.sql('UPDATE inventory SET sold = sold - 1 WHERE ticket_type_id = ? AND sold > 0').run(ticket.ticket_type_id);
    this.sql('UPDATE orders SET refunded_cents = ?, status = ?, refund_status = ? WHERE id = ?').run(after.refundedCents, after.status, after.refundStatus, ticket.order_id);
    return announce({
      ticketId: ticket.id,
      orderId: ticket.order_id,
      userId: ticket.user_id,
      eventId: ticket.event_id,
      eventTitle: ticket.event_title,
      ticketTypeId: ticket.ticket_type_id,
      refundCents: ticket.price_cents,
      currency: ticket.currency,
    });
  }

  async getAvailability(eventId: string): Promise<Availability | null> {
    if (!this.event(eventId)) return null;
    const rows = this.sql('SELECT * FROM inventory WHERE event_id = ? AND active = 1 ORDER BY position').all(eventId) as InventoryRow[];
    return {
      eventId,
      ticketTypes: rows.map((r) => ({
        ticketTypeId: r.ticket_type_id,
        name: r.name,
        priceCents: r.price_cents,
        currency: r.currency,
        capacity: r.capacity,
        sold: r.sold,
        remaining: remainingOf(r),
      })),
    };
  }

  async changeCapacity({ eventId, version, ticketTypes }: CapacityChangeBody, refuse: CapacityRefusal): Promise<void> {
    this.write(() => {
      const rows = new Map((this.sql('SELECT * FROM inventory WHERE event_id = ?').all(eventId) as InventoryRow[]).map((r) => [r.ticket_type_id, r]));
      for (const t of ticketTypes) {
        const refusal = refuse(rows.get(t.id), t.capacity);
        if (refusal) throw new AppError(refusal.code, refusal.message);
      }
      const set = this.sql('UPDATE inventory SET capacity = ?, capacity_version = MAX(capacity_version, ?) WHERE ticket_type_id = ?');
      for (const t of ticketTypes) set.run(t.capacity, version, t.id);
    });
  }

  async applyEventSnapshot(change: EventChange): Promise<'applied' | 'duplicate'> {
    return this.write((enqueue) => this.snapshotNow(change, enqueue));
  }

  async applyMessages(changes: MessageChange[]): Promise<MessageChangeOutcome[]> {
    return this.write((enqueue) =>
      changes.map((c) => {
        const outcome = this.applyOneMessage(c, enqueue);
        return outcome.ok ? outcome.value : { error: outcome.error };
      }),
    );
  }

  /** applyEventSnapshot inside the caller's transaction. */
  private snapshotNow({ message, snapshot, cancelTickets }: EventChange, enqueue: Enqueue): 'applied' | 'duplicate' {
    if (!this.outbox.recordReceived(message)) return 'duplicate';
    const stored = this.event(snapshot.id);
    // Messages may arrive out of order: an older snapshot than the one we hold changes nothing.
    if (stored && stored.version >= snapshot.version) return 'applied';
    const now = new Date();
    this.sql(
      `INSERT INTO events (id, organizer_id, title, venue, timezone, starts_at, ends_at, status, version, updated_at)
         VALUES (@id, @organizerId, @title, @venue, @timezone, @startsAt, @endsAt, @status, @version, @updatedAt)
         ON CONFLICT (id) DO UPDATE SET organizer_id = excluded.organizer_id, title = excluded.title, venue = excluded.venue,
           timezone = excluded.timezone, starts_at = excluded.starts_at, ends_at = excluded.ends_at, status = excluded.status,
           version = excluded.version, updated_at = excluded.updated_at`,
    ).run({
      id: snapshot.id,
      organizerId: snapshot.organizerId,
      title: snapshot.title,
      venue: snapshot.venue,
      timezone: snapshot.timezone,
      startsAt: snapshot.startsAt,
      endsAt: snapshot.endsAt,
      status: snapshot.status,
      version: snapshot.version,
      updatedAt: now.toISOString(),
    });
    // `sold` is ticketing's own truth and is never taken from a message. Capacity is taken from a snapshot only
    // when it is newer than the last confirmed change, and never below what is sold.
    const upsertType = this.sql(
      `INSERT INTO inventory (ticket_type_id, event_id, name, price_cents, currency, capacity, sold, position, active, capacity_version)
       VALUES (?, ?, ?, ?, ?, ?, 0, ?, 1, ?)
       ON CONFLICT (ticket_type_id) DO UPDATE SET name = excluded.name, price_cents = excluded.price_cents,
         currency = excluded.currency, position = excluded.position, active = 1,
         capacity = CASE WHEN inventory.capacity_version < excluded.capacity_version
           THEN MAX(excluded.capacity, inventory.sold) ELSE inventory.capacity END,
         capacity_version = MAX(inventory.capacity_version, excluded.capacity_version)
       WHERE inventory.event_id = excluded.event_id`,
    );
    snapshot.ticketTypes.forEach((t, i) => upsertType.run(t.id, snapshot.id, t.name, t.priceCents, t.currency, t.capacity, i, snapshot.version));
    this.sql('UPDATE inventory SET active = 0 WHERE event_id = ? AND ticket_type_id NOT IN (SELECT value FROM json_each(?))').run(
      snapshot.id,
      JSON.stringify(snapshot.ticketTypes.map((t) => t.id)),
    );

    if (cancelTickets) {
      const valid = this.sql(`${TICKET_SELECT} WHERE t.event_id = ? AND t.status = 'valid' ORDER BY t.rowid`).all(snapshot.id) as TicketRow[];
      enqueue(...valid.map((t) => this.cancelOne(t, cancelTickets)));
    }
    return 'applied';
  }

  async acknowledge(message: Message): Promise<'applied' | 'duplicate'> {
    return this.write(() => (this.outbox.recordReceived(message) ? 'applied' : 'duplicate'));
  }

  async isReady(): Promise<boolean> {
    return this.sql('SELECT 1 AS ok').get() !== undefined;
  }

  async close(): Promise<void> {
    this.outbox.close();
    if (this.db.open) this.db.close();
  }
}
