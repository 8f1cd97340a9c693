import { DescribeTableCommand, DescribeTimeToLiveCommand, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { Id, newMessage, type Message } from '@dems/contracts';
import {
  ConditionFailed,
  createDynamo,
  decodeKey,
  DynamoDbMessaging,
  encodeKey,
  ensureTables,
  fullJitter,
  getItem,
  INBOX_TTL_SECONDS,
  isTransient,
  orderedKey,
  OUTBOX_SWEEP_GRACE_MS,
  OUTBOX_SWEEP_MS,
  transactWrite,
  withRetry,
  type Doc,
  type Dynamo,
} from '../src/dynamodb.js';
import { startDynamoDbLocal } from '../../../scripts/lib/dynamodb-local.mjs';
import { describeEachAdapter, onDynamoDbLocal, tempDir, uniqueTablePrefix } from '../src/testing.js';

const canceled = (...codes: string[]) => new TransactionCanceledException({ message: 'cancelled', $metadata: {}, CancellationReasons: codes.map((Code) => ({ Code })) });

describe('DynamoDB retry rules', () => {
  it('retries conflicts and throttling, never a false condition', () => {
    expect(isTransient(canceled('None', 'TransactionConflict'))).toBe(true);
    expect(isTransient(canceled('ThrottlingError'))).toBe(true);
    expect(isTransient(canceled('None', 'ConditionalCheckFailed'))).toBe(false);
    expect(isTransient(canceled('TransactionConflict', 'ConditionalCheckFailed'))).toBe(false);
    expect(isTransient(Object.assign(new Error('slow down'), { name: 'ProvisionedThroughputExceededException' }))).toBe(true);
    expect(isTransient(Object.assign(new Error('bad'), { name: 'ValidationException' }))).toBe(false);
  });

  it('retries lost connections and server errors itself, since the SDK client makes one attempt', async () => {
    expect(isTransient(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }))).toBe(true);
    expect(isTransient(Object.assign(new Error('slow'), { name: 'TimeoutError' }))).toBe(true);
    expect(isTransient(Object.assign(new Error('oops'), { name: 'SomethingElse', $metadata: { httpStatusCode: 500 } }))).toBe(true);
    expect(isTransient(Object.assign(new Error('bad'), { name: 'ValidationException', $metadata: { httpStatusCode: 400 } }))).toBe(false);
    const { client } = createDynamo({ region: 'us-east-1', endpoint: 'http://127.0.0.1:9', tablePrefix: '' });
    expect(await client.config.maxAttempts()).toBe(1);
    client.destroy();
  });

  it('waits a random time below an exponentially growing cap (full jitter)', () => {
    expect(fullJitter(0, 15, 1000, () => 0.999)).toBe(14);
    expect(fullJitter(3, 15, 1000, () => 0.5)).toBe(60);
    expect(fullJitter(20, 15, 1000, () => 0.999)).toBe(999);
    expect(fullJitter(5, 15, 1000, () => 0)).toBe(0);
  });

  it('runs again after transient failures and gives up on others at once', async () => {
    let calls = 0;
    expect(await withRetry(async () => (++calls < 3 ? Promise.reject(canceled('TransactionConflict')) : 'done'), { baseMs: 1 })).toBe('done');
    expect(calls).toBe(3);
    calls = 0;
    await expect(withRetry(async () => (++calls, Promise.reject(canceled('ConditionalCheckFailed'))), { baseMs: 1 })).rejects.toBeInstanceOf(TransactionCanceledException);
    expect(calls).toBe(1);
  });

  it('orders keys by creation within a process and round-trips opaque cursors', () => {
    const keys = Array.from({ length: 50 }, () => orderedKey(1_700_000_000_000));
    expect([...keys].sort()).toEqual(keys);
    expect(decodeKey(encodeKey({ UserID: 'u', Timestamp: 5 }))).toEqual({ UserID: 'u', Timestamp: 5 });
    expect(decodeKey('not a cursor')).toBeUndefined();
  });
});

/**
 * What one DynamoDB call of a "process" cost, as DynamoDB reports it (ReturnConsumedCapacity=INDEXES): capacity
 * units over the table and its indexes, write units for a write and read units for a read.
 */
interface Call {
  command: string;
  units: number;
}

/** Records every call sent through `doc`, asking DynamoDB for its consumed capacity. */
function recordCalls(doc: Doc): Call[] {
  const calls: Call[] = [];
  doc.middlewareStack.add(
    (next: any, context: any) => async (args: any) => {
      args.input.ReturnConsumedCapacity = 'INDEXES';
      const out: any = await next(args);
      const consumed: any[] = [out.output.ConsumedCapacity ?? []].flat();
      calls.push({ command: String(context.commandName), units: consumed.reduce((n, c) => n + (c.CapacityUnits ?? 0), 0) });
      return out;
    },
    { step: 'initialize', name: 'recordCalls' },
  );
  return calls;
}

/** A purchase's message with a typical 60-character event title. */
const orderPlaced = (n: number): Message =>
  newMessage('ticketing', 'OrderPlaced', {
    orderId: `ord_${n}`,
    userId: 'usr_01HZXAMPLE',
    eventId: 'evt_01HZXAMPLE',
    eventTitle: 'T'.repeat(60),
    ticketTypeId: 'tt_01HZXAMPLE',
    ticketTypeName: 'General admission',
    quantity: 1,
    totalCents: 2500,
    currency: 'EUR',
  });

describeEachAdapter('DynamoDB mechanics on DynamoDB Local', onDynamoDbLocal, (h) => {
  const clients: { destroy(): void }[] = [];
  afterAll(() => clients.forEach((c) => c.destroy()));
  /** One "process": its own client, call log and messaging instance of the ticketing service, on the tables of `prefix`. */
  const processOf = (prefix: string) => {
    const d = createDynamo({ ...h.store, tablePrefix: prefix });
    clients.push(d.client);
    return { d, calls: recordCalls(d.doc), messaging: new DynamoDbMessaging(d.doc, prefix, 'ticketing') };
  };
  let d: Dynamo | undefined;
  beforeEach(() => {
    d = processOf(h.store.tablePrefix).d;
  });
  /** A fresh messaging table; `next()` is one more process on it. */
  const messagingTable = async () => {
    const prefix = uniqueTablePrefix('msg');
    const first = processOf(prefix);
    await ensureTables(first.d.client, [first.messaging.table]);
    first.calls.length = 0;
    return { first, next: () => processOf(prefix) };
  };
  const commands = (calls: Call[]) => calls.map((c) => c.command);

  it('creates missing tables and indexes, idempotently, also when run concurrently', async () => {
    // On a DynamoDB Local of its own: an index added to an existing table is built by a background thread that
    // DynamoDB Local shares with its time-to-live sweeps, and the hundreds of TTL tables a test run leaves in the
    // shared one starve it (the index stays CREATING). Production tables get their indexes from the CDK app.
    const dir = tempDir('dems-kit-tables-');
    const local = await startDynamoDbLocal({ dataDir: dir.path, port: 0 });
    const own = createDynamo({ region: 'us-east-1', endpoint: local.endpoint, tablePrefix: uniqueTablePrefix('kit') });
    try {
      const table = { name: `${own.prefix}Things`, pk: { name: 'ID', type: 'S' as const } };
      await Promise.all([ensureTables(own.client, [table]), ensureTables(own.client, [table])]);
      const withIndex = { ...table, indexes: [{ name: 'ByOwner', pk: { name: 'Owner', type: 'S' as const } }] };
      await ensureTables(own.client, [withIndex]);
      await ensureTables(own.client, [withIndex]);
      const described = await own.client.send(new DescribeTableCommand({ TableName: table.name }));
      expect(described.Table?.GlobalSecondaryIndexes?.map((i) => i.IndexName)).toEqual(['ByOwner']);
    } finally {
      own.client.destroy();
      await local.stop();
      dir.cleanup();
    }
  }, 60_000);

  it('turns on time to live and builds INCLUDE projections, idempotently, also when run concurrently', async () => {
    const spec = {
      name: `${d!.prefix}Expiring`,
      pk: { name: 'ID', type: 'S' as const },
      ttl: 'ExpiresAt',
      indexes: [{ name: 'ByOwner', pk: { name: 'Owner', type: 'S' as const }, projection: { include: ['Title'] } }],
    };
    await Promise.all([ensureTables(d!.client, [spec]), ensureTables(d!.client, [spec])]);
    await ensureTables(d!.client, [spec]);
    const ttl = await d!.client.send(new DescribeTimeToLiveCommand({ TableName: spec.name }));
    expect(ttl.TimeToLiveDescription).toMatchObject({ TimeToLiveStatus: 'ENABLED', AttributeName: 'ExpiresAt' });
    const described = await d!.client.send(new DescribeTableCommand({ TableName: spec.name }));
    expect(described.Table?.GlobalSecondaryIndexes?.[0]?.Projection).toEqual({ ProjectionType: 'INCLUDE', NonKeyAttributes: ['Title'] });
  });

  it('hand-off: a committed entry is delivered from memory, its delete the only write after the commit', async () => {
    const { first: p } = await messagingTable();
    const m = orderPlaced(1);
    const puts = p.messaging.outboxPuts(m);
    expect(puts).toHaveLength(1); // OrderPlaced goes to engagement alone: one entry
    const item = puts[0]!.Put!.Item!;
    expect(item.PK).toMatch(/^out#engagement#([0-9]|[1-5][0-9]|6[0-3])$/);
    expect(item).not.toHaveProperty('LeaseUntil');
    expect(Number(item.DueAt) - Date.now()).toBeGreaterThan(OUTBOX_SWEEP_GRACE_MS - 1000);
    await p.messaging.commit(puts);
    // One item in a transaction: 2 write units, so the entry is under 1 KB with a 60-character title.
    expect(p.calls).toEqual([{ command: 'TransactWriteItemsCommand', units: 2 }]);

    p.calls.length = 0;
    const [entry, ...more] = await p.messaging.claimDue('engagement', 10, Date.now(), 60_000);
    expect(more).toEqual([]);
    expect(entry).toMatchObject({ subscriber: 'engagement', attempts: 0, message: { id: m.id, data: { eventTitle: 'T'.repeat(60) } } });
    expect(Id.safeParse(entry!.id).success).toBe(true);
    expect(p.calls).toEqual([]); // no claim, no lease: nothing was sent to DynamoDB

    await p.messaging.markDelivered([entry!.id]);
    expect(p.calls).toEqual([{ command: 'DeleteItemCommand', units: 1 }]);
    expect(await p.messaging.pendingCount()).toBe(0);
  });

  it('an entry whose writer crashed is swept once its DueAt has passed, leased, and delivered once', async () => {
    const { first: writer, next } = await messagingTable();
    const m = orderPlaced(2);
    await writer.messaging.commit(writer.messaging.outboxPuts(m)); // …and the writer dies before delivering it
    const [sweeper, other] = [next(), next()];
    const t0 = Date.now();
    expect(await sweeper.messaging.claimDue('engagement', 10, t0, 60_000)).toEqual([]); // the writer's to deliver
    const sweep = sweeper.calls.filter((c) => c.command === 'QueryCommand');
    expect(sweep).toHaveLength(64); // one bounded, eventually consistent read per bucket: 0.5 read units each
    expect(sweep.reduce((n, c) => n + c.units, 0)).toBeLessThanOrEqual(32);

    // Between sweeps, with no retry of its own due, a claim costs no DynamoDB call at all.
    sweeper.calls.length = 0;
    expect(await sweeper.messaging.claimDue('engagement', 10, t0 + OUTBOX_SWEEP_GRACE_MS - 1000, 60_000)).toEqual([]);
    expect(sweeper.calls).toEqual([]);

    // A process that starts sweeps again one grace period later (well before OUTBOX_SWEEP_MS), when what the
    // process it replaces left behind has become due.
    expect(OUTBOX_SWEEP_MS).toBeGreaterThan(OUTBOX_SWEEP_GRACE_MS + 1000);
    const later = t0 + OUTBOX_SWEEP_GRACE_MS + 1000;
    const swept = await sweeper.messaging.claimDue('engagement', 10, later, 60_000);
    expect(swept.map((e) => [e.message.id, e.attempts])).toEqual([[m.id, 0]]);
    expect(commands(sweeper.calls).filter((c) => c !== 'QueryCommand')).toEqual(['UpdateItemCommand']); // the lease
    expect(await other.messaging.claimDue('engagement', 10, later, 60_000)).toEqual([]); // leased: not twice

    await sweeper.messaging.markDelivered([swept[0]!.id]);
    expect(await other.messaging.claimDue('engagement', 10, later + 120_000, 60_000)).toEqual([]);
    expect(await sweeper.messaging.pendingCount()).toBe(0);
  });

  it('a batch larger than the claim limit is swept again at once, not a sweep interval later', async () => {
    const { first: writer, next } = await messagingTable();
    const messages = Array.from({ length: 5 }, (_, i) => orderPlaced(200 + i));
    await writer.messaging.commit(writer.messaging.outboxPuts(...messages));
    const sweeper = next();
    const later = Date.now() + OUTBOX_SWEEP_GRACE_MS + 1000;
    const first = await sweeper.messaging.claimDue('engagement', 3, later, 60_000);
    expect(first).toHaveLength(3);
    const second = await sweeper.messaging.claimDue('engagement', 3, later + 1, 60_000);
    expect(second).toHaveLength(2);
    expect([...first, ...second].map((e) => e.message.id).sort()).toEqual(messages.map((m) => m.id).sort());
    await sweeper.messaging.markDelivered([...first, ...second].map((e) => e.id));
  });

  it('failure, retry at its own time, dead letter, replay: one write per failure, the same id throughout', async () => {
    const { first: p } = await messagingTable();
    const m = orderPlaced(3);
    await p.messaging.commit(p.messaging.outboxPuts(m));
    const now = Date.now();
    const [entry] = await p.messaging.claimDue('engagement', 10, now, 60_000);

    p.calls.length = 0;
    await p.messaging.markFailed([{ id: entry!.id, attempts: 1, nextAttemptAt: now + 1000, error: 'HTTP 500' }]);
    expect(p.calls).toEqual([{ command: 'UpdateItemCommand', units: 1 }]);
    expect(await p.messaging.claimDue('engagement', 10, now + 500, 60_000)).toEqual([]); // swept: not due yet
    p.calls.length = 0;
    expect(await p.messaging.claimDue('engagement', 10, now + 999, 60_000)).toEqual([]);
    expect(p.calls).toEqual([]); // its retry is not due: no sweep
    const retried = await p.messaging.claimDue('engagement', 10, now + 1000, 60_000); // its retry is: sweep at once
    expect(retried.map((e) => [e.id, e.message.id, e.attempts])).toEqual([[entry!.id, m.id, 1]]);

    p.calls.length = 0;
    await p.messaging.markFailed([{ id: entry!.id, attempts: 60, nextAttemptAt: null, error: 'gave up' }]);
    // A read and one transaction moving it (DynamoDB Local reports 2 units for the Delete + Put; AWS charges 2 per item: 4).
    expect(p.calls).toEqual([
      { command: 'GetItemCommand', units: 1 },
      { command: 'TransactWriteItemsCommand', units: 2 },
    ]);
    expect(await p.messaging.pendingCount()).toBe(0);
    expect(await p.messaging.claimDue('engagement', 10, now + 99_999_999, 0)).toEqual([]);
    const dead = await p.messaging.listDeadLetters(10);
    expect(dead).toMatchObject([{ id: entry!.id, subscriber: 'engagement', attempts: 60, lastError: 'gave up', message: { id: m.id }, createdAt: m.occurredAt }]);
    expect(await p.messaging.stats()).toEqual([{ subscriber: 'engagement', pending: 0, oldestPendingAt: null, deadLetters: 1 }]);

    expect(await p.messaging.replayDeadLetter(dead[0]!.id)).toBe(true);
    expect(await p.messaging.replayDeadLetter(dead[0]!.id)).toBe(false);
    expect(await p.messaging.listDeadLetters(10)).toEqual([]);
    expect(await p.messaging.pendingCount()).toBe(1);
    const stats = await p.messaging.stats();
    expect(stats).toEqual([{ subscriber: 'engagement', pending: 1, oldestPendingAt: Date.parse(m.occurredAt), deadLetters: 0 }]);
    p.calls.length = 0;
    const replayed = await p.messaging.claimDue('engagement', 10, Date.now(), 60_000); // from memory: delivered at once
    expect(p.calls).toEqual([]);
    expect(replayed.map((e) => [e.id, e.message.id, e.attempts])).toEqual([[entry!.id, m.id, 0]]);
    await p.messaging.markDelivered([entry!.id]);
    expect(await p.messaging.pendingCount()).toBe(0);
  });

  it('an untried entry from memory goes back to memory, in its place, without a write', async () => {
    const { first: p } = await messagingTable();
    const [a, b] = [orderPlaced(4), orderPlaced(5)];
    await p.messaging.commit(p.messaging.outboxPuts(a, b));
    const now = Date.now();
    const claimed = await p.messaging.claimDue('engagement', 10, now, 60_000);
    p.calls.length = 0;
    await p.messaging.markFailed(claimed.map((e) => ({ id: e.id, attempts: 0, nextAttemptAt: 0, error: 'not tried' })));
    expect(p.calls).toEqual([]);
    expect((await p.messaging.claimDue('engagement', 10, now, 60_000)).map((e) => e.message.id)).toEqual([a.id, b.id]);
    expect(p.calls).toEqual([]);
    await p.messaging.markDelivered(claimed.map((e) => e.id));
  });

  it('ignores ids that are not outbox entries', async () => {
    const { first: p } = await messagingTable();
    p.calls.length = 0;
    await p.messaging.markDelivered(['not-an-entry']);
    await p.messaging.markFailed([{ id: 'engagement-64-000000000000000000000aaaaaaaaaa', attempts: 1, nextAttemptAt: 1, error: 'x' }]);
    expect(p.calls).toEqual([]);
    expect(await p.messaging.replayDeadLetter('nope')).toBe(false);
  });

  it('inbox: the record rides in the effect’s transaction, expires after 30 days, and a duplicate fails it without effect', async () => {
    const { first: p } = await messagingTable();
    const message = newMessage('events', 'EventCancelled', {
      event: {
        id: 'evt_1',
        title: 'T',
        organizerId: 'o',
        venue: 'v',
        timezone: 'UTC',
        startsAt: new Date().toISOString(),
        endsAt: new Date().toISOString(),
        status: 'cancelled',
        ticketTypes: [],
        version: 2,
      },
    });
    expect(await p.messaging.seen(message)).toBe(false);
    p.calls.length = 0;
    expect(await p.messaging.acknowledge(message)).toBe('applied');
    expect(p.calls).toEqual([{ command: 'TransactWriteItemsCommand', units: 2 }]);
    expect(await p.messaging.seen(message)).toBe(true);
    expect(await p.messaging.acknowledge(message)).toBe('duplicate');
    const record = await getItem(p.d.doc, p.messaging.table.name, { PK: `in#${message.id}`, SK: 'in' });
    const expected = Math.floor(Date.now() / 1000) + INBOX_TTL_SECONDS;
    expect(Number(record?.ExpiresAt)).toBeGreaterThan(expected - 60);
    expect(Number(record?.ExpiresAt)).toBeLessThanOrEqual(expected);
    const err = await transactWrite(p.d.doc, [p.messaging.inboxPut(message)]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConditionFailed);
    expect((err as ConditionFailed).failedAt(0)).toBe(true);
  });
});
