import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { describeEachAdapter, onDynamoDbLocal } from '@dems/kit/testing';
import { purchaseFingerprint } from '../src/domain/purchase.js';
import { purchaseInput } from '../src/use-cases/place-order.js';
import { DynamoTicketingStore, idempotentTicketId, ticketingTables } from '../src/store/dynamodb.js';
import { cancelled, eventSnapshot, published, ticketType } from './fixtures.js';
import { eventChange } from '../src/use-cases/apply-event-changes.js';
import { byAttendee } from '../src/use-cases/cancel-tickets.js';

// What the DynamoDB adapter writes and reads per operation. Reads and single writes are as DynamoDB Local
// reports them (ReturnConsumedCapacity=INDEXES). A transaction is modelled from its items, as AWS bills it,
// because DynamoDB Local reports a transaction per table, not per item (four Puts on one table: 2): 2 units per
// started KB of each Put's item, 2 per Update/Delete (these items are under 1 KB), and 2 more for an item put
// under (or taken out of) the KEYS_ONLY ByShard index. The contract suite (store.test.ts) covers behaviour;
// this file covers cost and the keys behind it.

interface Call {
  op: string;
  write: number;
  read: number;
  /** Units per table, and per `table.index`, as modelled (transactions) or reported (everything else). */
  byTable: Record<string, number>;
  /** The partition key a GetItem read. */
  key?: string;
  failed?: true;
}

/** DynamoDB's item size: attribute names plus values (numbers ~1 byte per two digits + 1; lists and maps 3 + 1 per element). */
function itemBytes(item: Record<string, unknown>): number {
  const value = (v: unknown): number => {
    if (typeof v === 'string') return Buffer.byteLength(v);
    if (typeof v === 'number') return Math.ceil(String(v).replace(/^-|\./g, '').length / 2) + 1;
    if (v instanceof Set) return [...v].reduce((n: number, x) => n + value(x), 0);
    if (Array.isArray(v)) return 3 + v.reduce((n: number, x) => n + 1 + value(x), 0);
    if (v && typeof v === 'object') return 3 + Object.entries(v).reduce((n, [k, x]) => n + 1 + Buffer.byteLength(k) + value(x), 0);
    return 1;
  };
  return Object.entries(item).reduce((n, [k, v]) => n + Buffer.byteLength(k) + value(v), 0);
}

type TransactItem = {
  Put?: { TableName: string; Item: Record<string, unknown> };
  Update?: { TableName: string; UpdateExpression: string };
  Delete?: { TableName: string };
  ConditionCheck?: { TableName: string };
};

/** What AWS bills for a transaction, per table and index (see the top of this file). */
function modelTransaction(items: TransactItem[]): Record<string, number> {
  const byTable: Record<string, number> = {};
  const add = (key: string, units: number) => (byTable[key] = (byTable[key] ?? 0) + units);
  for (const i of items) {
    const op = i.Put ?? i.Update ?? i.Delete ?? i.ConditionCheck!;
    add(op.TableName, i.Put ? 2 * Math.max(1, Math.ceil(itemBytes(i.Put.Item) / 1024)) : 2);
    if ((i.Put && 'ValidShard' in i.Put.Item) || i.Update?.UpdateExpression.includes('#ValidShard')) add(`${op.TableName}.ByShard`, 2);
  }
  return byTable;
}

/** Asks every call of the store's client for its consumed capacity and records it. */
function meter(store: DynamoTicketingStore): Call[] {
  const calls: Call[] = [];
  const client = (store as unknown as { dynamo: { client: DynamoDBClient } }).dynamo.client;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as { ReturnConsumedCapacity?: string; TransactItems?: TransactItem[]; Key?: { PK?: string } };
      input.ReturnConsumedCapacity = 'INDEXES';
      // Taken before the document client marshals them: plain values, as the adapter wrote them.
      const transaction = input.TransactItems && modelTransaction(input.TransactItems);
      const op = String(context.commandName);
      const writes = /Put|Update|Delete|TransactWrite|BatchWrite/.test(op);
      const record = (byTable: Record<string, number>, failed?: true) => {
        const units = Object.values(byTable).reduce((n, u) => n + u, 0);
        calls.push({ op, write: writes ? units : 0, read: writes ? 0 : units, byTable, ...(input.Key?.PK ? { key: input.Key.PK } : {}), ...(failed ? { failed } : {}) });
      };
      try {
        const result = await next(args);
        const output = result.output as { ConsumedCapacity?: ConsumedCapacity | ConsumedCapacity[] };
        const reported: Record<string, number> = {};
        for (const c of [output.ConsumedCapacity ?? []].flat()) {
          reported[c.TableName!] = (reported[c.TableName!] ?? 0) + (c.Table?.CapacityUnits ?? c.CapacityUnits ?? 0);
          for (const [index, units] of Object.entries(c.GlobalSecondaryIndexes ?? {})) reported[`${c.TableName}.${index}`] = units.CapacityUnits ?? 0;
        }
        record(transaction ?? reported);
        return result;
      } catch (err) {
        // A cancelled transaction still costs its items on AWS (not its index writes); other failures cost nothing here.
        record(transaction ? Object.fromEntries(Object.entries(transaction).filter(([k]) => !k.includes('.'))) : {}, true);
        throw err;
      }
    },
    { step: 'initialize', priority: 'high', name: 'meterCapacity' },
  );
  return calls;
}

interface ConsumedCapacity {
  TableName?: string;
  CapacityUnits?: number;
  Table?: { CapacityUnits?: number };
  GlobalSecondaryIndexes?: Record<string, { CapacityUnits?: number }>;
}

const sum = (calls: Call[], key: 'write' | 'read') => calls.reduce((n, c) => n + c[key], 0);

/** A typical event: a 60-character title, as the end-to-end budget assumes. */
const TITLE = 'The Forty-Second Annual Riverside Jazz and Blues Festival 30';
/** Ids as long as newId makes them: they are most of an order item's bytes. */
const EVENT = 'evt_m1x2y3z4AbCdEfGhIjKlMn';
const TT = 'tt_m1x2y3z4AbCdEfGhIjKlMn';
const USER = 'usr_m1x2y3z4AbCdEfGhIjKlMn';

describeEachAdapter('DynamoDB ticketing: write units, items and keys', onDynamoDbLocal, (h) => {
  let store: DynamoTicketingStore;
  let doc: DynamoDBDocumentClient;
  let tables: ReturnType<typeof ticketingTables>;

  const open = (shards: number) => {
    const settings = h.store;
    tables = ticketingTables(settings.tablePrefix);
    store = new DynamoTicketingStore({ settings, shards });
    doc = (store as unknown as { doc: DynamoDBDocumentClient }).doc;
  };
  const purchase = (quantity: number, over: { userId?: string; key?: string } = {}) => {
    const body = { eventId: EVENT, ticketTypeId: TT, quantity };
    return purchaseInput({ ...body, userId: over.userId ?? USER, idempotencyKey: over.key ?? crypto.randomUUID() });
  };
  const ticketItem = async (id: string) => (await doc.send(new GetCommand({ TableName: tables.tickets.name, Key: { TicketID: id } }))).Item;

  beforeEach(async () => {
    open(4);
    await store.createTables();
    const event = eventSnapshot({ id: EVENT, title: TITLE, ticketTypes: [ticketType({ id: TT, capacity: 1000 })] });
    expect(TITLE).toHaveLength(60);
    await store.applyEventSnapshot(eventChange(published(event), event));
  });
  afterEach(async () => {
    await store.close();
  });

  it('a purchase is one transaction of 10 write units for 1 ticket, 2 more per ticket, and reads one shard', async () => {
    await store.placeOrder(purchase(1)); // warm: the event copy is cached from here on
    const calls = meter(store);
    for (const [quantity, budget] of [
      [1, 10],
      [4, 16],
    ] as const) {
      calls.length = 0;
      await store.placeOrder(purchase(quantity));
      const transactions = calls.filter((c) => c.op === 'TransactWriteItemsCommand');
      expect(transactions, JSON.stringify(calls)).toHaveLength(1);
      // Every item under 1 KB (a bigger one would count 4): shard 2, order 2 + ByShard 2, tickets 2 each, outbox 2.
      expect({ quantity, units: sum(calls, 'write'), byTable: transactions[0]!.byTable }).toEqual({
        quantity,
        units: budget,
        byTable: { [tables.ticketing.name]: 4, [`${tables.ticketing.name}.ByShard`]: 2, [tables.tickets.name]: 2 * quantity, [`${tables.ticketing.name}Messages`]: 2 },
      });
      // One consistent GetItem of one shard: 1 read unit (and the event copy, at most once a second per process).
      const reads = calls.filter((c) => c.read > 0 && c.key !== `event#${EVENT}`);
      expect(reads.map((c) => [c.op, c.read, c.key?.replace(/#\d+$/, '#n')])).toEqual([['GetItemCommand', 1, `shard#${TT}#n`]]);
    }
  });

  it('keeps the items of a typical order under 1 KB; a 10-ticket order item is a little over', async () => {
    const orderItem = async (orderId: string) => (await doc.send(new GetCommand({ TableName: tables.ticketing.name, Key: { PK: `user#${USER}`, SK: `order#${orderId}` } }))).Item!;
    const four = (await store.placeOrder(purchase(4))).order;
    expect(itemBytes(await orderItem(four.id))).toBeGreaterThan(600); // the model measures something real
    expect(itemBytes(await orderItem(four.id))).toBeLessThan(1024);
    expect(itemBytes((await ticketItem(four.tickets[0]!.id))!)).toBeLessThan(1024);
    // Ten tickets' ids and codes (~500 bytes) take the order item just past 1 KB: 2 units more than 10 + 2 × 9.
    const calls = meter(store);
    const ten = (await store.placeOrder(purchase(10))).order;
    expect(itemBytes(await orderItem(ten.id))).toBeLessThan(1200);
    expect(calls.find((c) => c.op === 'TransactWriteItemsCommand')?.byTable).toEqual({
      [tables.ticketing.name]: 6,
      [`${tables.ticketing.name}.ByShard`]: 2,
      [tables.tickets.name]: 20,
      [`${tables.ticketing.name}Messages`]: 2,
    });
  });

  it("the first ticket's id is derived from the user and the Idempotency-Key, and records the request", async () => {
    const { order } = await store.placeOrder(purchase(2, { key: 'key-1' }));
    expect(order.tickets[0]!.id).toBe(idempotentTicketId(USER, 'key-1'));
    expect(order.tickets[0]!.id).toMatch(/^tkt_[A-Za-z0-9_-]{32}$/);
    expect(order.tickets[1]!.id).not.toBe(idempotentTicketId(USER, 'key-1'));
    expect(await ticketItem(order.tickets[0]!.id)).toMatchObject({
      OrderID: order.id,
      UserID: USER,
      RequestHash: purchaseFingerprint({ eventId: EVENT, ticketTypeId: TT, quantity: 2 }),
    });
    expect((await ticketItem(order.tickets[1]!.id))?.RequestHash).toBeUndefined();
    // Another user, or another key, is another ticket id.
    expect(idempotentTicketId('usr_bob', 'key-1')).not.toBe(idempotentTicketId('usr_ann', 'key-1'));
    expect(idempotentTicketId('usr_ann', 'key-2')).not.toBe(idempotentTicketId('usr_ann', 'key-1'));

    // A retry reads that ticket (strongly consistent) and its order, and writes nothing.
    const calls = meter(store);
    const again = await store.placeOrder(purchase(2, { key: 'key-1' }));
    expect(again).toEqual({ order, replayed: true });
    expect(calls.filter((c) => c.op === 'GetItemCommand' && c.byTable[tables.tickets.name])).toHaveLength(1);
    // Tried once on the happy path: the transaction fails on the first ticket's condition, then the replay.
    expect(calls.filter((c) => c.op === 'TransactWriteItemsCommand').map((c) => c.failed)).toEqual([true]);
  });

  it('an event cancellation waits out the index lag before it concludes that no valid ticket is left', async () => {
    const { order } = await store.placeOrder(purchase(2));
    // A fake, to force the failure path: ByShard answers empty for the first half second after the shards close,
    // as a global index on AWS may for an order committed the instant before (DynamoDB Local's never lags).
    const client = (store as unknown as { dynamo: { client: DynamoDBClient } }).dynamo.client;
    let lagUntil = Infinity;
    client.middlewareStack.add(
      (next) => async (args) => {
        const input = args.input as { IndexName?: string };
        const result = await next(args);
        if (input.IndexName === 'ByShard' && Date.now() < lagUntil) {
          if (lagUntil === Infinity) lagUntil = Date.now() + 500;
          (result.output as { Items?: unknown[] }).Items = [];
        }
        return result;
      },
      { step: 'initialize', name: 'fakeIndexLag' },
    );
    const event = eventSnapshot({ id: EVENT, title: TITLE, version: 2, status: 'cancelled', ticketTypes: [ticketType({ id: TT, capacity: 1000 })] });
    await store.applyEventSnapshot(eventChange(cancelled(event), event));
    for (const t of order.tickets) expect((await ticketItem(t.id))?.Status, t.id).toBe('cancelled');
  });

  it('spreads orders over the shards, indexes each valid order under its first shard, and drops it once nothing is valid', async () => {
    const orders = [];
    for (let i = 0; i < 16; i++) orders.push((await store.placeOrder(purchase(1, { userId: `usr_${i}` }))).order);
    const shards = new Set<string>();
    for (const o of orders) shards.add(String((await ticketItem(o.tickets[0]!.id))?.ShardID));
    expect(shards.size).toBeGreaterThan(1);
    for (const s of shards) expect(s).toMatch(new RegExp(`^${TT}#[0-3]$`));

    const orderItem = async (userId: string, orderId: string) =>
      (await doc.send(new GetCommand({ TableName: tables.ticketing.name, Key: { PK: `user#${userId}`, SK: `order#${orderId}` } }))).Item;
    const first = orders[0]!;
    expect((await orderItem(first.userId, first.id))?.ValidShard).toBe((await ticketItem(first.tickets[0]!.id))?.ShardID);
    const calls = meter(store);
    await store.cancelTicket(first.userId, first.tickets[0]!.id, byAttendee());
    expect((await orderItem(first.userId, first.id))?.ValidShard).toBeUndefined();
    // Ticket 2 + shard 2 + order 2 (+ its index entry removed 2) + one outbox entry 2.
    expect(sum(calls, 'write')).toBe(10);
  });
});
