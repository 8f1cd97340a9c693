import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MAX_TICKETS_PER_ORDER } from '@dems/contracts';
import type { App } from '@dems/kit';
import { deliver, TEST_SECRET, tempDir, testTokens } from '@dems/kit/testing';
import { buildApp } from '../src/app.js';
import { loadTicketingConfig } from '../src/config.js';
import { SqliteTicketingStore } from '../src/store/sqlite.js';
import { eventSnapshot, published } from './fixtures.js';

let dir: ReturnType<typeof tempDir>;
let app: App;
let tokens: Awaited<ReturnType<typeof testTokens>>;

beforeEach(async () => {
  tokens = await testTokens();
  dir = tempDir('ticketing-security-');
  const store = new SqliteTicketingStore({ file: join(dir.path, 'ticketing.db'), synchronous: 'NORMAL' });
  app = await buildApp({ store, verify: tokens.verify, secret: TEST_SECRET, ordersPerUserPerMinute: 3 });
  expect((await deliver(app, [published(eventSnapshot())])).statusCode).toBe(200);
});
afterEach(async () => {
  await app.close();
  dir.cleanup();
});

const buy = (auth: { authorization: string }, quantity = 1, key: string = crypto.randomUUID()) =>
  app.inject({ method: 'POST', url: '/orders', headers: { ...auth, 'idempotency-key': key }, payload: { eventId: 'evt_jazz', ticketTypeId: 'tt_ga', quantity } });

describe('purchase limits', () => {
  it('limits purchases per user per minute with 429 RATE_LIMITED and Retry-After; other buyers are unaffected', async () => {
    const ann = await tokens.bearer({ id: 'usr_ann' });
    for (let i = 0; i < 3; i++) expect((await buy(ann)).statusCode).toBe(201);
    const limited = await buy(ann);
    expect(limited.statusCode).toBe(429);
    expect(limited.json().code).toBe('RATE_LIMITED');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(Number(limited.headers['retry-after'])).toBeLessThanOrEqual(60);
    expect((await buy(await tokens.bearer({ id: 'usr_bob' }))).statusCode).toBe(201);
    // Nothing was sold by the refused request.
    const sold = (await app.inject('/availability/evt_jazz')).json().ticketTypes.find((t: { ticketTypeId: string }) => t.ticketTypeId === 'tt_ga').sold;
    expect(sold).toBe(4);
  });

  it(`caps quantity at 1–${MAX_TICKETS_PER_ORDER} whole tickets`, async () => {
    for (const quantity of [0, -1, 1.5, MAX_TICKETS_PER_ORDER + 1, 1e308, '2']) {
      const res = await buy(await tokens.bearer({ id: `usr_${crypto.randomUUID().slice(0, 8)}` }), quantity as number);
      expect(res.statusCode, String(quantity)).toBe(400);
    }
  });

  it('is configurable, with a sane default', () => {
    expect(loadTicketingConfig({ SERVICE_SECRET: 'x'.repeat(16) }).ORDERS_PER_USER_PER_MINUTE).toBe(30);
    expect(loadTicketingConfig({ SERVICE_SECRET: 'x'.repeat(16), ORDERS_PER_USER_PER_MINUTE: '5' }).ORDERS_PER_USER_PER_MINUTE).toBe(5);
  });
});

describe('INVENTORY_SHARDS', () => {
  const secret = { SERVICE_SECRET: 'x'.repeat(16) };
  it('takes up to 100 shards per ticket type (one transaction rewrites them all on a capacity change)', () => {
    expect(loadTicketingConfig({ ...secret, INVENTORY_SHARDS: '100' }).INVENTORY_SHARDS).toBe(100);
    expect(() => loadTicketingConfig({ ...secret, INVENTORY_SHARDS: '101' })).toThrow(/INVENTORY_SHARDS/);
    expect(loadTicketingConfig({ ...secret, INVENTORY_SHARDS_BY_EVENT: 'evt_a=250,evt_b=64' }).INVENTORY_SHARDS_BY_EVENT).toEqual(
      new Map([
        ['evt_a', 100],
        ['evt_b', 64],
      ]),
    );
  });
});
