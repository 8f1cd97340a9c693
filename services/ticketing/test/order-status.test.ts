import { join } from 'node:path';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { describeEachAdapter, onDynamoDbLocal, tempDir } from '@dems/kit/testing';
import { orderStateFor } from '../src/domain/purchase.js';
import { purchaseInput } from '../src/use-cases/place-order.js';
import { DynamoTicketingStore, ticketingTables } from '../src/store/dynamodb.js';
import { SqliteTicketingStore } from '../src/store/sqlite.js';
import type { TicketingStore } from '../src/store/ticketing-store.js';
import { eventSnapshot, published, ticketType } from './fixtures.js';
import { eventChange } from '../src/use-cases/apply-event-changes.js';
import { byAttendee } from '../src/use-cases/cancel-tickets.js';

// An order's status once followed its money alone, so two free tickets both cancelled left the order
// "confirmed". Status now follows the tickets, refundStatus the money; stores written before are read right.

describe('orderStateFor', () => {
  it.each([
    [{ quantity: 2, cancelledTickets: 0, totalCents: 0, refundedCents: 0 }, 'confirmed', 'none'],
    [{ quantity: 2, cancelledTickets: 1, totalCents: 0, refundedCents: 0 }, 'partially_cancelled', 'none'],
    [{ quantity: 2, cancelledTickets: 2, totalCents: 0, refundedCents: 0 }, 'cancelled', 'none'],
    [{ quantity: 2, cancelledTickets: 1, totalCents: 5000, refundedCents: 2500 }, 'partially_cancelled', 'partial'],
    [{ quantity: 2, cancelledTickets: 2, totalCents: 5000, refundedCents: 5000 }, 'cancelled', 'full'],
    [{ quantity: 3, cancelledTickets: 2, totalCents: 7500, refundedCents: 5000 }, 'partially_cancelled', 'partial'],
    [{ quantity: 1, cancelledTickets: 0, totalCents: 2500, refundedCents: 0 }, 'confirmed', 'none'],
  ])('%o → %s, refund %s', (progress, status, refundStatus) => {
    expect(orderStateFor(progress)).toEqual({ status, refundStatus });
  });
});

const FREE = eventSnapshot({ ticketTypes: [ticketType(), ticketType({ id: 'tt_free', name: 'Free entry', priceCents: 0 })] });

function purchase(ticketTypeId: string, quantity: number) {
  const body = { eventId: FREE.id, ticketTypeId, quantity };
  return purchaseInput({ ...body, userId: 'usr_ann', idempotencyKey: crypto.randomUUID() });
}

/** Two orders as a user left them: free (both tickets cancelled) and paid (one of two cancelled). */
async function leaveOrders(store: TicketingStore) {
  await store.applyEventSnapshot(eventChange(published(FREE), FREE));
  const { order: free } = await store.placeOrder(purchase('tt_free', 2));
  for (const t of free.tickets) await store.cancelTicket('usr_ann', t.id, byAttendee());
  const { order: paid } = await store.placeOrder(purchase('tt_ga', 2));
  await store.cancelTicket('usr_ann', paid.tickets[0]!.id, byAttendee());
  const { order: kept } = await store.placeOrder(purchase('tt_ga', 1));
  return { free, paid, kept };
}

async function expectConverted(store: TicketingStore, { free, paid, kept }: Awaited<ReturnType<typeof leaveOrders>>) {
  expect(await store.getOrder('usr_ann', free.id)).toMatchObject({ status: 'cancelled', refundStatus: 'none', refundedCents: 0 });
  expect(await store.getOrder('usr_ann', paid.id)).toMatchObject({ status: 'partially_cancelled', refundStatus: 'partial', refundedCents: 2500 });
  expect(await store.getOrder('usr_ann', kept.id)).toMatchObject({ status: 'confirmed', refundStatus: 'none' });
  // And the converted order goes on by the new rule.
  await store.cancelTicket('usr_ann', paid.tickets[1]!.id, byAttendee());
  expect(await store.getOrder('usr_ann', paid.id)).toMatchObject({ status: 'cancelled', refundStatus: 'full', refundedCents: 5000 });
}

describe('a SQLite file from before refund_status', () => {
  let dir: ReturnType<typeof tempDir>;
  beforeEach(() => {
    dir = tempDir('ticketing-order-status-');
  });
  afterEach(() => dir.cleanup());

  it('is migrated: each order gets the status its tickets say and the refund status its money says', async () => {
    const file = join(dir.path, 'ticketing.db');
    const store = new SqliteTicketingStore({ file, synchronous: 'NORMAL' });
    const orders = await leaveOrders(store);
    await store.close();

    // Back to the previous schema and the values the previous version wrote.
    const db = new Database(file);
    db.prepare(`UPDATE orders SET status = 'confirmed' WHERE id IN (?, ?)`).run(orders.free.id, orders.kept.id);
    db.prepare(`UPDATE orders SET status = 'partially_refunded' WHERE id = ?`).run(orders.paid.id);
    db.exec('ALTER TABLE orders DROP COLUMN refund_status; PRAGMA user_version = 2;');
    db.close();

    const reopened = new SqliteTicketingStore({ file, synchronous: 'NORMAL' });
    try {
      await expectConverted(reopened, orders);
    } finally {
      await reopened.close();
    }
  });
});

describeEachAdapter('DynamoDB order items from before RefundStatus', onDynamoDbLocal, (h) => {
  it('are read by what they record, and written in the new form on their next cancellation', async () => {
    const settings = h.store;
    const store = new DynamoTicketingStore({ settings });
    try {
      await store.createTables();
      const orders = await leaveOrders(store);

      // The items as the previous version left them: a money-only Status and no RefundStatus.
      const doc = (store as unknown as { doc: { send: (command: UpdateCommand) => Promise<unknown> } }).doc;
      const legacy = (id: string, status: string) =>
        doc.send(
          new UpdateCommand({
            TableName: ticketingTables(settings.tablePrefix).ticketing.name,
            Key: { PK: 'user#usr_ann', SK: `order#${id}` },
            UpdateExpression: 'SET #Status = :status REMOVE #RefundStatus',
            ExpressionAttributeNames: { '#Status': 'Status', '#RefundStatus': 'RefundStatus' },
            ExpressionAttributeValues: { ':status': status },
          }),
        );
      await legacy(orders.free.id, 'confirmed');
      await legacy(orders.paid.id, 'partially_refunded');
      await legacy(orders.kept.id, 'confirmed');

      await expectConverted(store, orders);
    } finally {
      await store.close();
    }
  });
});
