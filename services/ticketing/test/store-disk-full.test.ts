// A group commit when SQLite itself fails in the middle of it. PRAGMA max_page_count holds the file at its size,
// so a purchase that needs a new page gets a real SQLITE_FULL — an error on which SQLite rolls back the whole
// transaction, not just the failing purchase's SAVEPOINT, and takes the purchases before it in the batch along.
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Message } from '@dems/contracts';
import { TEST_SECRET, tempDir, testTokens } from '@dems/kit/testing';
import type { SqliteDb } from '@dems/kit/sqlite';
import { buildApp } from '../src/app.js';
import { purchaseInput } from '../src/use-cases/place-order.js';
import { SqliteTicketingStore } from '../src/store/sqlite.js';
import type { PlaceOrderInput } from '../src/store/ticketing-store.js';
import { eventSnapshot, published, ticketType } from './fixtures.js';
import { eventChange } from '../src/use-cases/apply-event-changes.js';

function order(userId: string, quantity: number): PlaceOrderInput {
  const body = { eventId: 'evt_jazz', ticketTypeId: 'tt_ga', quantity };
  return purchaseInput({ ...body, userId, idempotencyKey: crypto.randomUUID() });
}

/** The store's own connection: max_page_count is a setting of the connection, not of the file. */
const connectionOf = (store: SqliteTicketingStore) => (store as unknown as { db: SqliteDb }).db;
/** From now on a write that needs a new page fails with SQLITE_FULL. */
const holdAtCurrentSize = (db: SqliteDb) => db.pragma(`max_page_count = ${db.pragma('page_count', { simple: true }) as number}`);
/** Room again (SQLite's largest page count). */
const makeRoom = (db: SqliteDb) => db.pragma('max_page_count = 1073741823');

describe('SqliteTicketingStore when the disk fills up during a group commit', () => {
  let dir: ReturnType<typeof tempDir>;
  let store: SqliteTicketingStore;
  let commits: number;

  beforeEach(async () => {
    dir = tempDir('ticketing-disk-full-');
    commits = 0;
    store = new SqliteTicketingStore({ file: join(dir.path, 'ticketing.db'), synchronous: 'NORMAL', onMessagesCommitted: () => commits++ });
    const event = eventSnapshot({ ticketTypes: [ticketType({ capacity: 1000 })] });
    await store.applyEventSnapshot(eventChange(published(event), event));
  });
  afterEach(async () => {
    await store.close();
    dir.cleanup();
  });

  const sold = async () => (await store.getAvailability('evt_jazz'))!.ticketTypes[0]!.sold;
  const orderPlaced = async () => (await store.outbox.claimDue('engagement', 10_000, Date.now(), 1)).map((e) => e.message).filter((m: Message) => m.type === 'OrderPlaced');

  it('every caller gets the real error or its order, and the file holds exactly the orders answered as placed', async () => {
    const db = connectionOf(store);
    holdAtCurrentSize(db);
    const users = Array.from({ length: 12 }, (_, i) => `usr_${i}`);
    const inputs = users.map((u) => order(u, 4));
    // Not awaited one by one: all twelve are queued before the next turn of the event loop, so one batch takes them.
    const results = await Promise.allSettled(inputs.map((input) => store.placeOrder(input)));
    const placed = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value.order] : []));
    const failures = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as Error & { code?: string }] : []));
    // The limit was reached, and each failed caller hears why — not "cannot commit - no transaction is active".
    expect(failures.length).toBeGreaterThan(0);
    for (const error of failures) expect({ code: error.code, message: error.message }).toEqual({ code: 'SQLITE_FULL', message: 'database or disk is full' });

    // The file holds exactly the orders answered as placed: their tickets, their seats and their messages.
    const stored = (await Promise.all(users.map(async (u) => (await store.listOrders(u, { limit: 100 })).items))).flat();
    expect(stored.map((o) => o.id).sort()).toEqual(placed.map((o) => o.id).sort());
    expect(await sold()).toBe(placed.reduce((n, o) => n + o.quantity, 0));
    const tickets = (await Promise.all(users.map(async (u) => (await store.listTickets(u, { limit: 100 })).items))).flat();
    expect(tickets).toHaveLength(placed.length * 4);
    expect((await orderPlaced()).map((m) => (m.data as { orderId: string }).orderId).sort()).toEqual(placed.map((o) => o.id).sort());
    expect(commits).toBe(placed.length > 0 ? 1 : 0);

    // Room again: every caller retries with its key. What was answered as placed replays, what failed is new.
    makeRoom(db);
    const retried = await Promise.all(inputs.map((input) => store.placeOrder({ ...input })));
    results.forEach((r, i) => expect(retried[i]!.replayed).toBe(r.status === 'fulfilled'));
    expect(await sold()).toBe(48);
    expect(await orderPlaced()).toHaveLength(12);
  });

  it('over HTTP: a buyer whose purchase failed gets 500 INTERNAL, the log of its request has the real error, and a retry buys', async () => {
    const tokens = await testTokens();
    const ann = await tokens.bearer({ id: 'usr_ann' });
    const logged: { reqId?: string; err?: { code?: string; message?: string } }[] = [];
    const app = await buildApp({
      store,
      verify: tokens.verify,
      secret: TEST_SECRET,
      ordersPerUserPerMinute: 100,
      logger: { level: 'error', stream: { write: (line: string) => logged.push(JSON.parse(line) as (typeof logged)[number]) } },
    });
    try {
      const db = connectionOf(store);
      holdAtCurrentSize(db);
      const keys = Array.from({ length: 20 }, () => crypto.randomUUID());
      const buy = (key: string) =>
        app.inject({ method: 'POST', url: '/orders', headers: { ...ann, 'idempotency-key': key }, payload: { eventId: 'evt_jazz', ticketTypeId: 'tt_ga', quantity: 4 } });
      const answers = await Promise.all(keys.map(buy));
      // Requests may reach the store in separate turns: a purchase that still fitted was placed, the others failed.
      const failed = answers.filter((res) => res.statusCode !== 201);
      expect(failed.length).toBeGreaterThan(0);
      for (const res of failed) {
        expect(res.statusCode).toBe(500);
        const body = res.json<{ code: string; requestId: string }>();
        expect(body.code).toBe('INTERNAL');
        expect(logged.find((l) => l.reqId === body.requestId)?.err).toMatchObject({ code: 'SQLITE_FULL', message: 'database or disk is full' });
      }
      const placed = answers.filter((res) => res.statusCode === 201).map((res) => res.json<{ id: string }>().id);
      expect((await store.listOrders('usr_ann', { limit: 100 })).items.map((o) => o.id).sort()).toEqual(placed.sort());
      expect(await sold()).toBe(placed.length * 4);

      makeRoom(db);
      for (const [i, key] of keys.entries()) {
        const res = await buy(key);
        expect(res.statusCode).toBe(201);
        expect(res.headers['idempotent-replayed']).toBe(answers[i]!.statusCode === 201 ? 'true' : undefined);
      }
      expect(await sold()).toBe(80);
    } finally {
      await app.close();
    }
  });
});
