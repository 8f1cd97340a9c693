import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { App } from '@dems/kit';
import { deliver, TEST_SECRET, tempDir, testTokens } from '@dems/kit/testing';
import { buildApp } from '../src/app.js';
import { SqliteTicketingStore } from '../src/store/sqlite.js';
import { eventSnapshot, published } from './fixtures.js';

// GET /availability/:eventId, polled by browsers during a sale: ETag, 304 and a public Cache-Control, always current.

let tokens: Awaited<ReturnType<typeof testTokens>>;
let dir: ReturnType<typeof tempDir>;
let app: App;

beforeAll(async () => {
  tokens = await testTokens();
});
beforeEach(async () => {
  dir = tempDir('ticketing-availability-');
  app = await buildApp({ store: new SqliteTicketingStore({ file: join(dir.path, 'ticketing.db'), synchronous: 'NORMAL' }), verify: tokens.verify, secret: TEST_SECRET });
  expect((await deliver(app, [published(eventSnapshot())])).statusCode).toBe(200);
});
afterEach(async () => {
  await app.close();
  dir.cleanup();
});

const availability = (headers: Record<string, string> = {}) => app.inject({ method: 'GET', url: '/availability/evt_jazz', headers });

describe('GET /availability/:eventId', () => {
  it('answers 304 to a client that has the current answer, and 200 with the new one after a sale', async () => {
    const first = await availability();
    expect(first.statusCode).toBe(200);
    expect(first.headers['cache-control']).toBe('public, max-age=0, s-maxage=1, stale-while-revalidate=1');
    const etag = String(first.headers.etag);
    expect(etag).toMatch(/^W\/"[A-Za-z0-9_-]+"$/);
    expect((await availability()).headers.etag).toBe(etag);

    const notModified = await availability({ 'if-none-match': etag });
    expect(notModified.statusCode).toBe(304);
    expect(notModified.body).toBe('');
    expect(notModified.headers.etag).toBe(etag);

    const ann = await tokens.bearer({ id: 'usr_ann', name: 'Ann' });
    const order = await app.inject({
      method: 'POST',
      url: '/orders',
      headers: { ...ann, 'idempotency-key': crypto.randomUUID() },
      payload: { eventId: 'evt_jazz', ticketTypeId: 'tt_ga', quantity: 2 },
    });
    expect(order.statusCode, order.body).toBe(201);

    const after = await availability({ 'if-none-match': etag });
    expect(after.statusCode).toBe(200);
    expect(after.json().ticketTypes[0]).toMatchObject({ sold: first.json().ticketTypes[0].sold + 2 });
    expect(after.headers.etag).not.toBe(etag);
  });

  it('still answers 404 for an event it does not know, without a cache header', async () => {
    const res = await app.inject({ method: 'GET', url: '/availability/evt_unknown' });
    expect(res.statusCode).toBe(404);
    expect(res.headers.etag).toBeUndefined();
    expect(res.headers['cache-control']).toBeUndefined();
  });
});
