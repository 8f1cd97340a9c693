import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { instrumentCapacity } from '../../packages/kit/src/dynamodb/capacity.js';
import { dynamoTestTarget, uniqueTablePrefix } from '@dems/kit/testing';
import { breakdown, dynamoCapacityEnv, outboxPending, readCalls, readCapacityLog, writeUnits } from '../../bench/lib/capacity-log.mjs';
import { ANY_PORTS, startSystem } from '../../scripts/lib/system.mjs';
import { DYNAMODB_TEST_TIMEOUT_MS } from '../setup/timeouts.js';
import { client, eventually, inDays, waitOnSale, type Api } from './helpers.js';

// The write budget of a purchase on DynamoDB, measured: every process logs each DynamoDB call's consumed capacity
// (DYNAMODB_CAPACITY_LOG, ReturnConsumedCapacity=INDEXES), and the test sums the write units of all of them from
// just before a POST /orders until the order has fully settled (the buyer's notification exists and ticketing's
// outbox is empty). Failed conditional writes and cancelled transactions, which DynamoDB Local does not report,
// are modelled from their items (packages/kit/src/dynamodb/capacity.ts says how).

const dynamo = dynamoTestTarget();

/** The budget: 13 write units for a 1-ticket order end to end, 24 for 4 tickets. */
const BUDGET = { 1: 13, 4: 24 } as const;

if (dynamo.skip) {
  describe.skip(`DynamoDB capacity — skipped: ${dynamo.skip}`, () => {
    it('runs when DynamoDB Local is available', () => {});
  });
}

describe.skipIf(!dynamo.endpoint)('the capacity log (instrumentCapacity) on DynamoDB Local', { timeout: DYNAMODB_TEST_TIMEOUT_MS }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'dems-capacity-log-'));
  const file = join(dir, 'capacity.jsonl');
  const table = `${uniqueTablePrefix('capacity')}Probe`;
  const raw = new DynamoDBClient({ region: 'us-east-1', endpoint: dynamo.endpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  instrumentCapacity(raw, { DYNAMODB_CAPACITY_LOG: file });
  const doc = DynamoDBDocumentClient.from(raw);
  const lines = async (n: number) => eventually(async () => (readCapacityLog(file).length >= n ? readCapacityLog(file) : undefined), 5000, `${n} log lines`);

  beforeAll(async () => {
    await raw.send(
      new CreateTableCommand({
        TableName: table,
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: [
          { AttributeName: 'PK', KeyType: 'HASH' },
          { AttributeName: 'SK', KeyType: 'RANGE' },
        ],
        AttributeDefinitions: ['PK', 'SK', 'G'].map((AttributeName) => ({ AttributeName, AttributeType: 'S' as const })),
        GlobalSecondaryIndexes: [{ IndexName: 'ByG', KeySchema: [{ AttributeName: 'G', KeyType: 'HASH' }], Projection: { ProjectionType: 'KEYS_ONLY' } }],
      }),
    );
  });
  afterAll(() => {
    raw.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('logs each call with its consumed units, the keys it wrote, the index keys it set, and models failed writes', async () => {
    await doc.send(new PutCommand({ TableName: table, Item: { PK: 'user#1', SK: 'a', G: 'shard#3', Title: 'x'.repeat(60) } }));
    await doc.send(
      new UpdateCommand({
        TableName: table,
        Key: { PK: 'user#1', SK: 'a' },
        UpdateExpression: 'SET #G = :g, N = if_not_exists(N, :z)',
        ExpressionAttributeNames: { '#G': 'G' },
        ExpressionAttributeValues: { ':g': 'shard#4', ':z': 0 },
      }),
    );
    await doc.send(new UpdateCommand({ TableName: table, Key: { PK: 'user#1', SK: 'a' }, UpdateExpression: 'REMOVE G' }));
    await expect(doc.send(new PutCommand({ TableName: table, Item: { PK: 'user#1', SK: 'a' }, ConditionExpression: 'attribute_not_exists(PK)' }))).rejects.toThrow();
    await expect(
      doc.send(
        new TransactWriteCommand({
          TransactItems: [
            { Put: { TableName: table, Item: { PK: 'user#2', SK: 'b', Big: 'y'.repeat(1500) } } },
            {
              Update: {
                TableName: table,
                Key: { PK: 'user#1', SK: 'a' },
                UpdateExpression: 'SET N = :n',
                ConditionExpression: 'attribute_not_exists(PK)',
                ExpressionAttributeValues: { ':n': 1 },
              },
            },
          ],
        }),
      ),
    ).rejects.toThrow();
    await doc.send(new GetCommand({ TableName: table, Key: { PK: 'user#1', SK: 'a' } }));
    await doc.send(new TransactWriteCommand({ TransactItems: [1, 2, 3, 4].map((i) => ({ Put: { TableName: table, Item: { PK: `ticket#${i}`, SK: 't', G: 'shard#1' } } })) }));

    const [put, set, remove, failedPut, cancelled, read, transaction] = await lines(7);
    expect(put).toMatchObject({
      op: 'PutItem',
      kind: 'write',
      pid: process.pid,
      consumed: [{ table, units: 2, tableUnits: 1, gsi: { ByG: 1 } }],
      writes: [{ table, pk: 'user#1', gsi: { ByG: 'shard#3' } }],
    });
    expect(put!.writes[0]!.bytes).toBeGreaterThan(60);
    expect(put!.failed).toBeUndefined();
    expect(set).toMatchObject({ op: 'UpdateItem', consumed: [{ gsi: { ByG: 2 } }], writes: [{ pk: 'user#1', gsi: { ByG: 'shard#4' } }] });
    expect(remove).toMatchObject({ op: 'UpdateItem', writes: [{ pk: 'user#1', gsi: { ByG: null } }] });
    // DynamoDB Local reports nothing for these; AWS charges them: 1 for the refused Put, 2 per KB per transaction item.
    expect(failedPut).toMatchObject({ op: 'PutItem', failed: true, error: 'ConditionalCheckFailedException', modelled: true, consumed: [{ table, units: 1 }] });
    expect(cancelled).toMatchObject({ op: 'TransactWriteItems', failed: true, error: 'TransactionCanceledException', modelled: true, consumed: [{ table, units: 4 + 2 }] });
    expect(read).toMatchObject({ op: 'GetItem', kind: 'read', writes: [] });
    expect(read!.consumed[0]!.units).toBeGreaterThan(0);
    // DynamoDB Local reports 2 + 2 for this; AWS charges 2 per item and 2 per index entry of each.
    expect(transaction).toMatchObject({ op: 'TransactWriteItems', modelled: true, consumed: [{ table, units: 16, tableUnits: 8, gsi: { ByG: 8 } }] });
    expect(transaction!.writes.map((w) => [w.pk, w.gsi.ByG])).toEqual([1, 2, 3, 4].map((i) => [`ticket#${i}`, 'shard#1']));
    expect(writeUnits([put!, set!, remove!, failedPut!, cancelled!, read!]).total).toBe(2 + set!.consumed[0]!.units + remove!.consumed[0]!.units + 1 + 6);
  });

  it('does nothing without DYNAMODB_CAPACITY_LOG', async () => {
    const other = join(dir, 'never.jsonl');
    const plain = new DynamoDBClient({ region: 'us-east-1', endpoint: dynamo.endpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
    instrumentCapacity(plain, {});
    const res = await DynamoDBDocumentClient.from(plain).send(new GetCommand({ TableName: table, Key: { PK: 'user#1', SK: 'a' } }));
    plain.destroy();
    expect(res.ConsumedCapacity).toBeUndefined();
    expect(existsSync(other)).toBe(false);
  });
});

describe.skipIf(!dynamo.endpoint)('write units of a purchase, end to end through the real processes on DynamoDB Local', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'dems-system-capacity-'));
  const log = join(dataDir, 'dynamodb-capacity.jsonl');
  const prefix = uniqueTablePrefix('capacity');
  let system: Awaited<ReturnType<typeof startSystem>>;
  let api: Api;
  let buyer: { token: string };
  let order: (quantity: number, key: string) => Promise<{ units: number; lines: ReturnType<typeof readCapacityLog> }>;

  beforeAll(async () => {
    system = await startSystem({
      dataDir,
      ports: ANY_PORTS,
      env: {
        LOG_LEVEL: 'warn',
        SERVICE_SECRET: 'system-test-secret-0123456789',
        ...dynamoCapacityEnv({ endpoint: dynamo.endpoint!, tablePrefix: prefix, log }),
        SIGNUPS_PER_ADDRESS_PER_HOUR: '100000',
      },
    });
    api = client(`${system.urls.gateway}/api`);
    const organizer = await api.account('organizer');
    buyer = await api.account('attendee');
    // A typical title: 60 characters. Items on the path must stay within 1 KB with it.
    const title = 'The Grand Midsummer Jazz and Blues Night at the Old Harbour!';
    expect(title).toHaveLength(60);
    const created = await api.post(
      '/events',
      {
        title,
        description: 'Live jazz and blues by the water',
        venue: 'Harbour Hall',
        timezone: 'Europe/Lisbon',
        ...inDays(14),
        ticketTypes: [{ name: 'General', priceCents: 2500, currency: 'EUR', capacity: 1000 }],
      },
      organizer.token,
    );
    expect(created.status).toBe(201);
    const event = created.body as { id: string; ticketTypes: { id: string }[] };
    await waitOnSale(api, event.id);

    let confirmed = 0;
    /** Buys, waits until the order has settled everywhere, and returns the write units logged in between. */
    order = async (quantity, key) => {
      const from = Date.now();
      const res = await api.post('/orders', { eventId: event.id, ticketTypeId: event.ticketTypes[0]!.id, quantity }, buyer.token, { 'idempotency-key': key });
      expect(res.status).toBe(201);
      confirmed += 1;
      await eventually(
        async () => {
          const mine = await api.get('/notifications', buyer.token);
          const got = (mine.body.items as { type: string }[]).filter((n) => n.type === 'order_confirmed').length;
          return got >= confirmed && (await outboxPending(system.urls.ticketing)) === 0 ? true : undefined;
        },
        15_000,
        'the notification and an empty ticketing outbox',
      );
      const to = Date.now();
      await new Promise((r) => setTimeout(r, 300)); // the last lines reach the file
      const lines = readCapacityLog(log, { from, to });
      return { units: writeUnits(lines).total, lines };
    };
    // Warm-up: caches filled, key schemas described, lazily created items in place.
    await order(1, 'capacity-warm-up');
  }, 120_000);

  afterAll(async () => {
    await system?.stopAll();
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** Which service each logged pid is, for the report. */
  const serviceOf = (pid: number) => [...system.running.entries()].find(([, p]) => p.child.pid === pid)?.[0] ?? `pid ${pid}`;

  function report(title: string, lines: ReturnType<typeof readCapacityLog>) {
    const { total, tables } = writeUnits(lines, prefix);
    const byService = new Map<string, number>();
    for (const line of lines) {
      if (line.kind !== 'write') continue;
      const units = line.consumed.reduce((n, c) => n + c.units, 0);
      byService.set(serviceOf(line.pid), (byService.get(serviceOf(line.pid)) ?? 0) + units);
    }
    const calls = lines
      .filter((l) => l.kind === 'write')
      .map(
        (l) =>
          `  ${serviceOf(l.pid).padEnd(11)} ${l.op.padEnd(18)} ${String(l.consumed.reduce((n, c) => n + c.units, 0)).padStart(4)}${l.failed ? ` (failed: ${l.error})` : ''}  ${l.writes.map((w) => `${w.table.slice(prefix.length)}${w.bytes ? ` ${w.bytes} B` : ''}`).join(', ')}`,
      );
    const reads = readCalls(lines);
    const readsBy = new Map<string, number>();
    for (const l of lines.filter((x) => x.kind === 'read')) readsBy.set(`${serviceOf(l.pid)} ${l.op}`, (readsBy.get(`${serviceOf(l.pid)} ${l.op}`) ?? 0) + 1);
    console.log(
      [
        `${title}: ${total} write units; ${reads.calls} read calls (${reads.units} read units: ${[...readsBy].map(([k, n]) => `${k} ×${n}`).join(', ')})`,
        `by service: ${[...byService].map(([s, u]) => `${s} ${u}`).join(', ')}`,
        ...breakdown(tables).map((l) => `  ${l}`),
        'write calls:',
        ...calls,
      ].join('\n'),
    );
    return { total, tables };
  }

  it(`a 1-ticket order costs at most ${BUDGET[1]} write units end to end`, { timeout: 60_000 }, async () => {
    const { units, lines } = await order(1, 'capacity-one');
    report("1-ticket order (the reads include this test's /metrics probes of the outbox)", lines);
    expect(units).toBeGreaterThan(0);
    expect(units).toBeLessThanOrEqual(BUDGET[1]);
  });

  it(`a 4-ticket order costs at most ${BUDGET[4]} write units end to end`, { timeout: 60_000 }, async () => {
    const { units, lines } = await order(4, 'capacity-four');
    report("4-ticket order (the reads include this test's /metrics probes of the outbox)", lines);
    expect(units).toBeGreaterThan(0);
    expect(units).toBeLessThanOrEqual(BUDGET[4]);
  });

  it('an idle system writes nothing: no order, 3 s, zero write units (read calls are reported)', { timeout: 30_000 }, async () => {
    await new Promise((r) => setTimeout(r, 1000)); // anything still settling from the orders above
    const from = Date.now();
    await new Promise((r) => setTimeout(r, 3000));
    const lines = readCapacityLog(log, { from, to: Date.now() });
    const { total } = report('quiet 3 s', lines);
    expect(lines.filter((l) => l.kind === 'write')).toEqual([]);
    expect(total).toBe(0);
  });

  it('the log file holds one parseable line per call', () => {
    const text = readFileSync(log, 'utf8').trimEnd().split('\n');
    expect(text.length).toBeGreaterThan(10);
    expect(text.every((l) => typeof JSON.parse(l).op === 'string')).toBe(true);
  });
});
