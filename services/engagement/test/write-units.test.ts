import { join } from 'node:path';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Message } from '@dems/contracts';
import type { App } from '@dems/kit';
import { deliver, dynamoTestTarget, TEST_SECRET, tempDir, uniqueTablePrefix } from '@dems/kit/testing';
import { buildApp } from '../src/app.js';
import { SigningKeys } from '../src/identity/signing-keys.js';
import { LiveNotifications } from '../src/live/live-notifications.js';
import { DynamoEngagementStore } from '../src/store/dynamodb.js';
import { msg, snapshot } from './helpers.js';

/**
 * What engagement's operations cost in DynamoDB write units, measured through the production app on DynamoDB
 * Local with ReturnConsumedCapacity=INDEXES on every call (DynamoDB Local charges 1 unit per KB written, 2 per
 * item of a transaction, indexes included). The limits are the budget: a change that makes an operation dearer
 * fails here. Failed conditional writes are not counted (DynamoDB Local reports nothing for them; AWS charges 1).
 */

const WRITE_OPS = new Set(['PutItemCommand', 'UpdateItemCommand', 'DeleteItemCommand', 'BatchWriteItemCommand', 'TransactWriteItemsCommand']);
const DATA_OPS = new Set([...WRITE_OPS, 'GetItemCommand', 'BatchGetItemCommand', 'QueryCommand', 'TransactGetItemsCommand']);

/** Adds ReturnConsumedCapacity to every data call of `client` and sums what the calls report, writes and reads apart. */
function meter(client: DynamoDBClient) {
  let writes = 0;
  let reads = 0;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const command = String(context.commandName);
      if (!DATA_OPS.has(command)) return next(args);
      const result = await next({ ...args, input: { ...(args.input as object), ReturnConsumedCapacity: 'INDEXES' } });
      const consumed = (result.output as { ConsumedCapacity?: { CapacityUnits?: number } | { CapacityUnits?: number }[] }).ConsumedCapacity;
      const units = [consumed ?? []].flat().reduce((sum, c) => sum + (c.CapacityUnits ?? 0), 0);
      if (WRITE_OPS.has(command)) writes += units;
      else reads += units;
      return result;
    },
    { step: 'initialize', name: 'writeUnitsMeter' },
  );
  /** The units spent by `fn`. */
  return async (fn: () => Promise<unknown>): Promise<{ writes: number; reads: number }> => {
    writes = 0;
    reads = 0;
    await fn();
    return { writes, reads };
  };
}

const dynamo = dynamoTestTarget();

describe.skipIf(!dynamo.endpoint)('engagement write units on DynamoDB', () => {
  let app: App;
  let store: DynamoEngagementStore;
  let measure: ReturnType<typeof meter>;
  let dir: ReturnType<typeof tempDir>;
  const measured: Record<string, { writes: number; reads: number }> = {};

  beforeAll(async () => {
    dir = tempDir('dems-engagement-units-');
    store = new DynamoEngagementStore({ settings: { region: 'us-east-1', endpoint: dynamo.endpoint!, tablePrefix: uniqueTablePrefix('units') } });
    await store.createTables();
    measure = meter((store as unknown as { dynamo: { client: DynamoDBClient } }).dynamo.client);
    const keys = await SigningKeys.load({ file: join(dir.path, 'keys.json') });
    // No load shedding: a busy test machine must not turn a measurement into a 503.
    app = await buildApp({ store, keys, live: new LiveNotifications(), secret: TEST_SECRET, tokenTtlSeconds: 900, shedding: { maxEventLoopDelayMs: 0, maxQueueDelayMs: 0 } });
  });
  afterAll(async () => {
    await app?.close();
    dir?.cleanup();
    // What the report and docs/dynamodb.md quote.
    console.log(
      'engagement write units (reads) on DynamoDB Local:\n' +
        Object.entries(measured)
          .map(([op, u]) => `  ${op.padEnd(34)} ${String(u.writes).padStart(3)} WCU  (${u.reads} RCU)`)
          .join('\n'),
    );
  });

  const send = async (...messages: Message[]) => {
    const res = await deliver(app, messages);
    expect(res.statusCode, res.body).toBe(200);
    return (res.json() as { results: { result: string }[] }).results.map((r) => r.result);
  };
  const record = async (op: string, fn: () => Promise<unknown>) => (measured[op] = await measure(fn));

  it('OrderPlaced and TicketCancelled cost 2 write units each; a redelivery tells nobody again', async () => {
    // A typical order: a 60-character event title.
    const title = 'The Grand Midsummer Jazz & Blues Night at the Old Harbour Hal';
    const order = msg.order('usr_buyer_0123456789abcdef', 1, { eventTitle: title });
    expect((await record('OrderPlaced (1 ticket)', () => send(order))).writes).toBe(2);
    expect((await record('OrderPlaced (4 tickets)', () => send(msg.order('usr_buyer_0123456789abcdef', 4, { eventTitle: title })))).writes).toBe(2);
    let again: string[] = [];
    await record('OrderPlaced redelivered', async () => (again = await send(order)));
    expect(again).toEqual(['duplicate']);
    const cancel = msg.ticketCancelled('usr_buyer_0123456789abcdef', 'attendee', { eventTitle: title });
    expect((await record('TicketCancelled', () => send(cancel))).writes).toBe(2);
    expect((await record('TicketCancelled (event cancelled)', () => send(msg.ticketCancelled('usr_buyer_0123456789abcdef', 'event_cancelled')))).writes).toBe(1);
  });

  it('registrations, an announcement to 10 people, sign-up, sign-in and refresh stay within their budgets', async () => {
    const email = `units-${Date.now()}@example.com`;
    const password = 'correct horse battery';
    const signUp = await record('sign-up', () => app.inject({ method: 'POST', url: '/users', payload: { email, password, name: 'Org', role: 'organizer' } }));
    let session: { token: string; refreshToken: string; user: { id: string } } | undefined;
    const signIn = await record('sign-in', async () => (session = (await app.inject({ method: 'POST', url: '/sessions', payload: { email, password } })).json()));
    let refreshed = 0;
    const refresh = await record('refresh', async () => {
      refreshed = (await app.inject({ method: 'POST', url: '/sessions/refresh', payload: { refreshToken: session!.refreshToken } })).statusCode;
    });
    expect(refreshed).toBe(200);
    expect(signUp.writes).toBeLessThanOrEqual(4);
    expect(signIn.writes).toBeLessThanOrEqual(2);
    expect(refresh.writes).toBeLessThanOrEqual(6);

    const event = snapshot({ id: 'evt_units', organizerId: session!.user.id });
    // The event copy and the inbox record: one transaction of two items.
    expect((await record('EventPublished', () => send(msg.published(event)))).writes).toBeLessThanOrEqual(4);
    const people = Array.from({ length: 10 }, (_, i) => `usr_fan_${i}`);
    const [first, ...rest] = people;
    const registered = await record('UserRegistered', () => send(msg.registered(first!, event.id)));
    expect(registered.writes).toBeLessThanOrEqual(5);
    await send(...rest.map((userId) => msg.registered(userId, event.id)));
    let recipients = 0;
    const announced = await record('announcement to 10 people', async () => {
      const res = await app.inject({
        method: 'POST',
        url: '/announcements',
        headers: { authorization: `Bearer ${session!.token}` },
        payload: { eventId: event.id, message: 'Doors open at 7.' },
      });
      recipients = (res.json() as { recipients: number }).recipients;
    });
    expect(recipients).toBe(10);
    // One per notification, the announcement, and its count against the per-event limits.
    expect(announced.writes).toBeLessThanOrEqual(12);
  });
});
