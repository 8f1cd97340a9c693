import { DescribeTableCommand, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { afterAll, describe, expect, it } from 'vitest';
import { newMessage } from '@dems/contracts';
import {
  ConditionFailed,
  createDynamo,
  decodeKey,
  DynamoDbMessaging,
  encodeKey,
  ensureTables,
  fullJitter,
  isTransient,
  orderedKey,
  transactWrite,
  withRetry,
} from '../src/dynamodb.js';
import { dynamoTestTarget, uniqueTablePrefix } from '../src/testing.js';

const canceled = (...codes: string[]) =>
  new TransactionCanceledException({ message: 'cancelled', $metadata: {}, CancellationReasons: codes.map((Code) => ({ Code })) });

describe('DynamoDB retry rules', () => {
  it('retries conflicts and throttling, never a false condition', () => {
    expect(isTransient(canceled('None', 'TransactionConflict'))).toBe(true);
    expect(isTransient(canceled('ThrottlingError'))).toBe(true);
    expect(isTransient(canceled('None', 'ConditionalCheckFailed'))).toBe(false);
    expect(isTransient(canceled('TransactionConflict', 'ConditionalCheckFailed'))).toBe(false);
    expect(isTransient(Object.assign(new Error('slow down'), { name: 'ProvisionedThroughputExceededException' }))).toBe(true);
    expect(isTransient(Object.assign(new Error('bad'), { name: 'ValidationException' }))).toBe(false);
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

const dynamo = dynamoTestTarget();

describe.skipIf(!dynamo.endpoint)('DynamoDB mechanics on DynamoDB Local', () => {
  const d = dynamo.endpoint ? createDynamo({ region: 'us-east-1', endpoint: dynamo.endpoint, tablePrefix: uniqueTablePrefix('kit') }) : undefined;
  afterAll(() => d?.client.destroy());

  it('creates missing tables and indexes, idempotently, also when run concurrently', async () => {
    const table = { name: `${d!.prefix}Things`, pk: { name: 'ID', type: 'S' as const } };
    await Promise.all([ensureTables(d!.client, [table]), ensureTables(d!.client, [table])]);
    const withIndex = { ...table, indexes: [{ name: 'ByOwner', pk: { name: 'Owner', type: 'S' as const } }] };
    await ensureTables(d!.client, [withIndex]);
    await ensureTables(d!.client, [withIndex]);
    const described = await d!.client.send(new DescribeTableCommand({ TableName: table.name }));
    expect(described.Table?.GlobalSecondaryIndexes?.map((i) => i.IndexName)).toEqual(['ByOwner']);
  });

  it('outbox: written in the caller’s transaction, claimed in order with leases, failed, dead-lettered and replayed', async () => {
    const messaging = new DynamoDbMessaging(d!.doc, d!.prefix, 'ticketing');
    await ensureTables(d!.client, [messaging.tables.outbox, messaging.tables.inbox]);
    const event = { id: 'evt_1', title: 'T', organizerId: 'o', venue: 'v', timezone: 'UTC', startsAt: new Date().toISOString(), endsAt: new Date().toISOString(), status: 'published' as const, ticketTypes: [], version: 1 };
    const first = newMessage('events', 'EventPublished', { event });
    const second = newMessage('events', 'EventUpdated', { event: { ...event, version: 2 }, changes: ['title'] });
    await transactWrite(d!.doc, messaging.outboxPuts(first, second));
    expect(await messaging.pendingCount()).toBe(4); // two messages × (ticketing, engagement)

    const now = Date.now();
    const claimed = await messaging.claimDue('engagement', 10, now, 60_000);
    expect(claimed.map((e) => e.message.id)).toEqual([first.id, second.id]);
    // Leased: another relay sees nothing until the lease ends.
    expect(await messaging.claimDue('engagement', 10, now, 60_000)).toEqual([]);

    await messaging.markDelivered([claimed[0]!.id]);
    await messaging.markFailed([{ id: claimed[1]!.id, attempts: 1, nextAttemptAt: now + 1000, error: 'HTTP 503' }]);
    expect(await messaging.claimDue('engagement', 10, now + 500, 0)).toEqual([]);
    const retried = await messaging.claimDue('engagement', 10, now + 1000, 0);
    expect(retried.map((e) => [e.message.id, e.attempts])).toEqual([[second.id, 1]]);

    await messaging.markFailed([{ id: retried[0]!.id, attempts: 60, nextAttemptAt: null, error: 'gave up' }]);
    expect(await messaging.claimDue('engagement', 10, now + 99_999_999, 0)).toEqual([]);
    const dead = await messaging.listDeadLetters(10);
    expect(dead).toMatchObject([{ id: retried[0]!.id, subscriber: 'engagement', attempts: 60, lastError: 'gave up' }]);
    expect(await messaging.replayDeadLetter(dead[0]!.id)).toBe(true);
    expect(await messaging.replayDeadLetter(dead[0]!.id)).toBe(false);
    expect((await messaging.claimDue('engagement', 10, Date.now(), 0)).map((e) => e.message.id)).toEqual([second.id]);
  });

  it('inbox: the record rides in the effect’s transaction and a duplicate fails it without effect', async () => {
    const messaging = new DynamoDbMessaging(d!.doc, d!.prefix, 'events');
    await ensureTables(d!.client, [messaging.tables.outbox, messaging.tables.inbox]);
    const message = newMessage('ticketing', 'OrderPlaced', {
      orderId: 'ord_1', userId: 'u', eventId: 'e', eventTitle: 'E', ticketTypeId: 't', ticketTypeName: 'T', quantity: 1, totalCents: 1, currency: 'USD',
    });
    expect(await messaging.seen(message)).toBe(false);
    expect(await messaging.acknowledge(message)).toBe('applied');
    expect(await messaging.acknowledge(message)).toBe('duplicate');
    const err = await transactWrite(d!.doc, [messaging.inboxPut(message)]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConditionFailed);
    expect((err as ConditionFailed).failedAt(0)).toBe(true);
  });
});
