// SQLite answers a sold-out ticket type from memory while its file is unchanged (SqliteTicketingStore.refuseQueued).
// The store suite checks that seats freed through any store are sold at once; these check what only a real file
// shows: another PROCESS writing to it, and a refusal answered while another connection holds the write lock.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tempDir } from '@dems/kit/testing';
import { purchaseInput, type PurchaseRequest } from '../src/use-cases/place-order.js';
import { SqliteTicketingStore } from '../src/store/sqlite.js';
import type { PlaceOrderInput } from '../src/store/ticketing-store.js';
import { eventSnapshot, published, ticketType } from './fixtures.js';
import { eventChange } from '../src/use-cases/apply-event-changes.js';

function order(quantity: number, over: Partial<PurchaseRequest> = {}): PlaceOrderInput {
  const body = { eventId: 'evt_jazz', ticketTypeId: 'tt_ga', quantity };
  return purchaseInput({ ...body, userId: 'usr_ann', idempotencyKey: crypto.randomUUID(), ...over });
}

describe('SqliteTicketingStore: a sold-out answer from memory is never stale', () => {
  let dir: ReturnType<typeof tempDir>;
  let file: string;
  let store: SqliteTicketingStore;

  beforeEach(async () => {
    dir = tempDir('ticketing-sold-out-');
    file = join(dir.path, 'ticketing.db');
    store = new SqliteTicketingStore({ file, synchronous: 'NORMAL' });
    const event = eventSnapshot({ ticketTypes: [ticketType({ capacity: 2 })] });
    await store.applyEventSnapshot(eventChange(published(event), event));
    await store.placeOrder(order(2));
    // Refused twice: the second refusal is answered from what the first one learnt.
    for (let i = 0; i < 2; i++) await expect(store.placeOrder(order(1))).rejects.toMatchObject({ code: 'SOLD_OUT' });
  });
  afterEach(async () => {
    await store.close();
    dir.cleanup();
  });

  it('sells at once the seat another process added to the file', async () => {
    // A separate OS process with its own connection: only the file tells this store that anything changed.
    execFileSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `import Database from 'better-sqlite3'; const db = new Database(process.argv[1], { timeout: 15000 }); db.prepare("UPDATE inventory SET capacity = capacity + 1 WHERE ticket_type_id = 'tt_ga'").run(); db.close();`,
        file,
      ],
      { cwd: process.cwd(), timeout: 20_000 },
    );
    const { order: bought } = await store.placeOrder(order(1));
    expect(bought.quantity).toBe(1);
    await expect(store.placeOrder(order(1))).rejects.toMatchObject({ code: 'SOLD_OUT' });
  });

  it('refuses while another connection holds the write lock: a refusal takes no lock', async () => {
    const other = new Database(file, { timeout: 100 });
    try {
      other.prepare('BEGIN IMMEDIATE').run();
      // A refusal that needed the write lock would wait for it, then fail with SQLITE_BUSY.
      await expect(store.placeOrder(order(1))).rejects.toMatchObject({ code: 'SOLD_OUT', message: 'Sorry — this ticket type is sold out.' });
      other.prepare('ROLLBACK').run();
    } finally {
      other.close();
    }
  });
});
