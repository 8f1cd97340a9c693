import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dynamoTestTarget } from '@dems/kit/testing';
import { DYNAMODB_TEST_TIMEOUT_MS } from '../setup/timeouts.js';
import { client, createEvent, dynamoDbEnv, eventually, startTestSystem, waitOnSale } from './helpers.js';

const dynamo = dynamoTestTarget();

/**
 * The real processes on the test run's DynamoDB Local, on tables of their own, with a second ticketing process on
 * the same tables that the others are not told about: the tests call it directly.
 */
async function startDynamoSystem(env: Record<string, string> = {}) {
  const dynamoEnv = dynamoDbEnv(dynamo.endpoint!, 'system');
  // Many buyers from one test address: the abuse limits are not what these tests are about.
  const t = await startTestSystem({ env: { ...dynamoEnv, ORDERS_PER_USER_PER_MINUTE: '100000', ...env }, extraTicketing: 1 });
  return { ...t, tablePrefix: dynamoEnv.TABLE_PREFIX! };
}

if (dynamo.skip) {
  describe.skip(`system on DynamoDB — skipped: ${dynamo.skip}`, () => {
    it('runs when DynamoDB Local is available', () => {});
  });
}

describe.skipIf(!dynamo.endpoint)('system on DynamoDB Local (STORE=dynamodb), two ticketing processes', { timeout: DYNAMODB_TEST_TIMEOUT_MS }, () => {
  let t: Awaited<ReturnType<typeof startDynamoSystem>>;
  beforeAll(async () => {
    t = await startDynamoSystem();
  }, 120_000);
  afterAll(async () => t?.stop());

  it('300 simultaneous purchases on capacity 100 across two ticketing processes sell exactly 100; no 5xx', async () => {
    const { api } = t;
    const organizer = await api.account('organizer');
    const event = await createEvent(api, organizer.token, 100);
    await waitOnSale(api, event.id);
    const buyers = await Promise.all(Array.from({ length: 10 }, (_, i) => api.account('attendee', `dyn-buyer-${i}-${Date.now()}`)));
    const ticketings = [client(t.system.urls.ticketing), client(t.system.urlOf('ticketing-2'))];
    const results = await Promise.all(
      Array.from({ length: 300 }, (_, i) => {
        const quantity = 1 + (i % 3);
        return ticketings[i % 2]!.post('/orders', { eventId: event.id, ticketTypeId: event.ticketTypes[0]!.id, quantity }, buyers[i % 10]!.token, {
          'idempotency-key': `dyn-flash-${i}`,
        }).then((r) => ({ ...r, quantity }));
      }),
    );
    expect(results.filter((r) => r.status >= 500)).toEqual([]);
    expect(results.every((r) => r.status === 201 || (r.status === 409 && r.body.code === 'SOLD_OUT'))).toBe(true);
    expect(results.filter((r) => r.status === 201).reduce((n, r) => n + r.quantity, 0)).toBe(100);
    expect((await api.get(`/availability/${event.id}`)).body.ticketTypes[0]).toMatchObject({ capacity: 100, sold: 100, remaining: 0 });
    const tickets = await Promise.all(buyers.map((b) => api.get('/tickets', b.token)));
    expect(tickets.reduce((n, r) => n + r.body.items.filter((x: { eventId: string }) => x.eventId === event.id).length, 0)).toBe(100);
  }, 120_000);
});

describe.skipIf(!dynamo.endpoint)('system on DynamoDB Local: inventory split over 4 shards (INVENTORY_SHARDS=4)', { timeout: DYNAMODB_TEST_TIMEOUT_MS }, () => {
  let t: Awaited<ReturnType<typeof startDynamoSystem>>;
  let doc: DynamoDBDocumentClient;
  beforeAll(async () => {
    t = await startDynamoSystem({ INVENTORY_SHARDS: '4' });
    doc = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1', endpoint: dynamo.endpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }));
  }, 120_000);
  afterAll(async () => {
    doc?.destroy();
    await t?.stop();
  });

  /** The inventory items of one ticket type, read straight from the table. */
  async function shardsOf(ticketTypeId: string) {
    const res = await doc.send(
      new ScanCommand({
        TableName: `${t.tablePrefix}Ticketing`,
        FilterExpression: 'SK = :shard AND TicketTypeID = :t',
        ExpressionAttributeValues: { ':shard': 'shard', ':t': ticketTypeId },
        ConsistentRead: true,
      }),
    );
    return (res.Items ?? []).map((i) => ({ capacity: Number(i.Capacity), sold: Number(i.Sold) }));
  }

  /** Accounts to buy with (few: sign-up hashes passwords, and the buying is what is under test). */
  async function buyers(n: number) {
    return Promise.all(Array.from({ length: n }, (_, i) => t.api.account('attendee', `shard-buyer-${i}-${Date.now()}`)));
  }

  it('400 simultaneous buyers of capacity 100 over 4 shards: exactly 100 sold, every refusal is SOLD_OUT, no 5xx', async () => {
    const { api } = t;
    const organizer = await api.account('organizer');
    const event = await createEvent(api, organizer.token, 100);
    await waitOnSale(api, event.id);
    const ttId = event.ticketTypes[0]!.id;
    expect(await shardsOf(ttId)).toEqual([25, 25, 25, 25].map((capacity) => ({ capacity, sold: 0 })));

    const people = await buyers(10);
    const ticketings = [client(t.system.urls.ticketing), client(t.system.urlOf('ticketing-2'))];
    const results = await Promise.all(
      Array.from({ length: 400 }, (_, i) =>
        ticketings[i % 2]!.post('/orders', { eventId: event.id, ticketTypeId: ttId, quantity: 1 }, people[i % 10]!.token, { 'idempotency-key': `shard-${i}` }),
      ),
    );
    expect(results.filter((r) => r.status >= 500)).toEqual([]);
    expect(results.filter((r) => r.status === 201)).toHaveLength(100);
    expect(results.filter((r) => r.status === 409).every((r) => r.body.code === 'SOLD_OUT')).toBe(true);
    expect((await api.get(`/availability/${event.id}`)).body.ticketTypes[0]).toMatchObject({ capacity: 100, sold: 100, remaining: 0 });
    const shards = await shardsOf(ttId);
    expect(shards).toHaveLength(4);
    expect(shards.every((s) => s.sold === s.capacity)).toBe(true);
  }, 120_000);

  it('never says sold out while any shard has seats: 100 buyers for 100 seats all succeed, the 101st is refused', async () => {
    const { api } = t;
    const organizer = await api.account('organizer');
    const event = await createEvent(api, organizer.token, 100);
    await waitOnSale(api, event.id);
    const ttId = event.ticketTypes[0]!.id;
    const people = await buyers(10);
    const ticketings = [client(t.system.urls.ticketing), client(t.system.urlOf('ticketing-2'))];
    // Random shard choice empties some shards before others; purchases must fall back to the ones with seats.
    const results = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        ticketings[i % 2]!.post('/orders', { eventId: event.id, ticketTypeId: ttId, quantity: 1 }, people[i % 10]!.token, { 'idempotency-key': `exact-${i}` }),
      ),
    );
    expect(results.map((r) => r.status).filter((s) => s !== 201)).toEqual([]);
    const last = await api.post('/orders', { eventId: event.id, ticketTypeId: ttId, quantity: 1 }, people[0]!.token, { 'idempotency-key': 'exact-101' });
    expect(last.status).toBe(409);
    expect(last.body.code).toBe('SOLD_OUT');

    // A capacity change spreads the new seats over the shards; a ticket handed back returns to its shard.
    expect(
      (await api.patch(`/events/${event.id}`, { ticketTypes: [{ id: ttId, name: 'General', priceCents: 2500, currency: 'EUR', capacity: 110 }] }, organizer.token)).status,
    ).toBe(200);
    await eventually(async () => ((await api.get(`/availability/${event.id}`)).body.ticketTypes[0].capacity === 110 ? true : undefined), 10_000, 'the new capacity');
    const shards = await shardsOf(ttId);
    expect(shards.reduce((n, s) => n + s.capacity, 0)).toBe(110);
    expect(shards.every((s) => s.capacity >= s.sold)).toBe(true);
    const more = await Promise.all(
      Array.from({ length: 10 }, (_, i) => api.post('/orders', { eventId: event.id, ticketTypeId: ttId, quantity: 1 }, people[i]!.token, { 'idempotency-key': `more-${i}` })),
    );
    expect(more.map((r) => r.status)).toEqual(Array(10).fill(201));
    expect((await api.get(`/availability/${event.id}`)).body.ticketTypes[0]).toMatchObject({ capacity: 110, sold: 110, remaining: 0 });
  }, 120_000);

  it('a PATCH to capacity 10 racing five buyers of 10 over two ticketing processes never leaves capacity below sold', async () => {
    const { api } = t;
    const organizer = await api.account('organizer');
    const people = await buyers(5);
    const ticketings = [client(t.system.urls.ticketing), client(t.system.urlOf('ticketing-2'))];
    const later = (ms: number) => new Promise((r) => setTimeout(r, ms));
    for (let round = 0; round < 4; round++) {
      const event = await createEvent(api, organizer.token, 100);
      await waitOnSale(api, event.id);
      const ttId = event.ticketTypes[0]!.id;
      const patch = later(round % 2 ? 5 * round : 0).then(() =>
        api.patch(`/events/${event.id}`, { ticketTypes: [{ id: ttId, name: 'General', priceCents: 2500, currency: 'EUR', capacity: 10 }] }, organizer.token),
      );
      const sales = people.map((p, i) =>
        later(round % 2 ? 0 : 5 * round + i).then(() =>
          ticketings[i % 2]!.post('/orders', { eventId: event.id, ticketTypeId: ttId, quantity: 10 }, p.token, { 'idempotency-key': `race-${round}-${i}` }),
        ),
      );
      const [patched, ...bought] = await Promise.all([patch, ...sales]);
      expect(bought.filter((b) => b.status >= 500)).toEqual([]);
      const sold = bought.filter((b) => b.status === 201).length * 10;
      const shards = await shardsOf(ttId);
      expect(shards.reduce((n, s) => n + s.sold, 0)).toBe(sold);
      expect(shards.every((s) => s.capacity >= s.sold)).toBe(true);
      const capacity = shards.reduce((n, s) => n + s.capacity, 0);
      if (patched.status === 200) expect([capacity, sold]).toEqual([10, sold <= 10 ? sold : NaN]);
      else expect([patched.status, patched.body.code, capacity]).toEqual([409, 'CAPACITY_BELOW_SOLD', 100]);
      await eventually(async () => ((await api.get(`/events/${event.id}`)).body.ticketTypes[0].capacity === capacity ? true : undefined), 10_000, 'events showing the capacity');
    }
  }, 120_000);
});
