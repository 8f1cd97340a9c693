import { randomBytes } from 'node:crypto';
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  ResourceNotFoundException,
  TransactionCanceledException,
  UpdateTableCommand,
  type AttributeDefinition,
  type CancellationReason,
  type GlobalSecondaryIndex,
  type KeySchemaElement,
  type TableDescription,
} from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
  type BatchGetCommandInput,
  type QueryCommandInput,
  type TransactWriteCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { SERVICE_NAMES, SUBSCRIPTIONS, type Message, type ServiceName } from '@dems/contracts';
import type { DeadLetter, DeliveryFailure, OutboxEntry, OutboxStats, OutboxStore } from './messaging/outbox.js';
import { withTraceContext } from './tracing.js';

/**
 * DynamoDB mechanics every service's adapter shares: the client, the table bootstrap, retries of
 * transient failures, the outbox/inbox, ordering keys and opaque cursors. Only adapter files import this.
 */

export type Doc = DynamoDBDocumentClient;
/** One entry of a TransactWriteItems request, as the document client takes it. */
export type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];
export type Item = Record<string, unknown>;

export interface DynamoSettings {
  region: string;
  /** DynamoDB Local (or another endpoint); unset means the region's AWS endpoint. */
  endpoint?: string;
  /** Prepended to every table name so several environments can share one account. */
  tablePrefix: string;
}

export { dynamoSettings } from './config.js';

export interface Dynamo {
  client: DynamoDBClient;
  doc: Doc;
  prefix: string;
}

/**
 * A client from the settings. Credentials come from the standard AWS chain (environment, profile, web
 * identity, container/instance role). Against a local endpoint with no credentials configured we use dummy
 * ones: DynamoDB Local accepts any, and a developer should not need an AWS account to run DEMS.
 */
export function createDynamo(settings: DynamoSettings, env: Record<string, string | undefined> = process.env): Dynamo {
  const configured = Boolean(env.AWS_ACCESS_KEY_ID || env.AWS_PROFILE || env.AWS_WEB_IDENTITY_TOKEN_FILE || env.AWS_CONTAINER_CREDENTIALS_FULL_URI || env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI);
  const client = new DynamoDBClient({
    region: settings.region,
    ...(settings.endpoint ? { endpoint: settings.endpoint } : {}),
    ...(settings.endpoint && !configured ? { credentials: { accessKeyId: 'local', secretAccessKey: 'local' } } : {}),
    // Our own retry loop (withRetry) adds jitter and knows about transaction conflicts; keep the SDK's short.
    maxAttempts: 3,
  });
  const doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  return { client, doc, prefix: settings.tablePrefix };
}

// ---------------------------------------------------------------------------------------------------
// Table bootstrap

export interface KeyAttr {
  name: string;
  type: 'S' | 'N';
}

export interface IndexSpec {
  name: string;
  pk: KeyAttr;
  sk?: KeyAttr;
  /** ALL copies every attribute (one query answers); KEYS_ONLY when the index only counts or locates. */
  projection?: 'ALL' | 'KEYS_ONLY';
}

export interface TableSpec {
  /** Full name, prefix included. */
  name: string;
  pk: KeyAttr;
  sk?: KeyAttr;
  indexes?: IndexSpec[];
}

const keySchema = (pk: KeyAttr, sk?: KeyAttr): KeySchemaElement[] => [
  { AttributeName: pk.name, KeyType: 'HASH' },
  ...(sk ? [{ AttributeName: sk.name, KeyType: 'RANGE' as const }] : []),
];

function attributeDefinitions(spec: TableSpec, indexes: IndexSpec[]): AttributeDefinition[] {
  const all = new Map<string, 'S' | 'N'>();
  for (const a of [spec.pk, spec.sk, ...indexes.flatMap((i) => [i.pk, i.sk])]) if (a) all.set(a.name, a.type);
  return [...all].map(([AttributeName, AttributeType]) => ({ AttributeName, AttributeType }));
}

const gsi = (i: IndexSpec): GlobalSecondaryIndex => ({
  IndexName: i.name,
  KeySchema: keySchema(i.pk, i.sk),
  Projection: { ProjectionType: i.projection ?? 'ALL' },
});

async function describe(client: DynamoDBClient, name: string): Promise<TableDescription | null> {
  try {
    return (await client.send(new DescribeTableCommand({ TableName: name }))).Table ?? null;
  } catch (err) {
    if (err instanceof ResourceNotFoundException) return null;
    throw err;
  }
}

async function waitActive(client: DynamoDBClient, name: string, timeoutMs = 300_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const t = await describe(client, name);
    const ready = t?.TableStatus === 'ACTIVE' && (t.GlobalSecondaryIndexes ?? []).every((i) => i.IndexStatus === 'ACTIVE');
    if (ready) return;
    if (Date.now() > deadline) throw new Error(`Table ${name} did not become ACTIVE within ${timeoutMs / 1000} s.`);
    await sleep(250);
  }
}

/**
 * Creates the tables and global secondary indexes that do not exist yet (on-demand billing) and waits until
 * all are ACTIVE. Safe to run any number of times and from several processes at once. For development and
 * tests: production tables come from infrastructure code with the same shapes (docs/dynamodb.md).
 */
export async function ensureTables(client: DynamoDBClient, specs: TableSpec[], log: (line: string) => void = () => {}): Promise<void> {
  await Promise.all(
    specs.map(async (spec) => {
      const existing = await describe(client, spec.name);
      if (!existing) {
        try {
          await client.send(
            new CreateTableCommand({
              TableName: spec.name,
              BillingMode: 'PAY_PER_REQUEST',
              KeySchema: keySchema(spec.pk, spec.sk),
              AttributeDefinitions: attributeDefinitions(spec, spec.indexes ?? []),
              ...(spec.indexes?.length ? { GlobalSecondaryIndexes: spec.indexes.map(gsi) } : {}),
            }),
          );
          log(`created table ${spec.name}`);
        } catch (err) {
          // Another process created it between our look and our create: that is the outcome we wanted.
          if ((err as Error).name !== 'ResourceInUseException') throw err;
        }
        await waitActive(client, spec.name);
        return;
      }
      await waitActive(client, spec.name);
      const have = new Set((existing.GlobalSecondaryIndexes ?? []).map((i) => i.IndexName));
      // DynamoDB adds one index per UpdateTable call, and only while no other index is being built.
      for (const index of (spec.indexes ?? []).filter((i) => !have.has(i.name))) {
        try {
          await client.send(
            new UpdateTableCommand({
              TableName: spec.name,
              AttributeDefinitions: attributeDefinitions(spec, [index]),
              GlobalSecondaryIndexUpdates: [{ Create: gsi(index) }],
            }),
          );
          log(`created index ${index.name} on ${spec.name}`);
        } catch (err) {
          if (!/already exists/i.test((err as Error).message)) throw err;
        }
        await waitActive(client, spec.name);
      }
    }),
  );
}

// ---------------------------------------------------------------------------------------------------
// Retries

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const THROTTLING = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
  'TransactionInProgressException',
  'InternalServerError',
  'ServiceUnavailable',
]);
/** Cancellation reasons that say "try again", not "your condition is false". */
const TRANSIENT_REASONS = new Set(['None', 'TransactionConflict', 'ThrottlingError', 'ProvisionedThroughputExceeded', 'RequestLimitExceeded']);

export function cancellationReasons(err: unknown): CancellationReason[] | null {
  if (err instanceof TransactionCanceledException || (err as Error | undefined)?.name === 'TransactionCanceledException') {
    return (err as TransactionCanceledException).CancellationReasons ?? [];
  }
  return null;
}

/** True for throttling, and for a cancelled transaction whose only causes were conflicts with other transactions. */
export function isTransient(err: unknown): boolean {
  const reasons = cancellationReasons(err);
  if (reasons) return reasons.length > 0 && reasons.every((r) => TRANSIENT_REASONS.has(r.Code ?? 'None')) && reasons.some((r) => r.Code !== 'None');
  return THROTTLING.has((err as Error | undefined)?.name ?? '');
}

/** Exponential backoff with full jitter (AWS architecture blog): a random wait in [0, min(cap, base·2ⁿ)). */
export function fullJitter(attempt: number, baseMs = 15, capMs = 1000, random = Math.random): number {
  return Math.floor(random() * Math.min(capMs, baseMs * 2 ** attempt));
}

/**
 * Runs `fn` again after transient failures (transaction conflicts, throttling) with full-jitter backoff, so
 * contention shows up as latency, never as an error the user sees. Other errors are thrown at once.
 */
export async function withRetry<T>(fn: () => Promise<T>, opts: { attempts?: number; baseMs?: number; capMs?: number } = {}): Promise<T> {
  const attempts = opts.attempts ?? 12;
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (attempt + 1 >= attempts || !isTransient(err)) throw err;
      await sleep(fullJitter(attempt, opts.baseMs, opts.capMs));
    }
  }
}

/** A transaction refused because a condition was false; `codes[i]` is the reason for TransactItems[i]. */
export class ConditionFailed extends Error {
  constructor(readonly codes: string[]) {
    super(`transaction refused: ${codes.join(', ')}`);
    this.name = 'ConditionFailed';
  }

  /** Whether item `index` of the transaction is one whose condition was false. */
  failedAt(index: number): boolean {
    return this.codes[index] === 'ConditionalCheckFailed';
  }
}

/**
 * One TransactWriteItems (at most 100 items), retried on conflicts and throttling. A false condition
 * becomes ConditionFailed with the reason per item, so the caller can tell "sold out" from "duplicate".
 */
export async function transactWrite(doc: Doc, items: TransactItem[]): Promise<void> {
  if (items.length === 0) return;
  if (items.length > 100) throw new Error(`A DynamoDB transaction takes at most 100 items (got ${items.length}).`);
  try {
    await withRetry(() => doc.send(new TransactWriteCommand({ TransactItems: items })), { attempts: 20 });
  } catch (err) {
    const reasons = cancellationReasons(err);
    if (reasons && reasons.some((r) => r.Code === 'ConditionalCheckFailed')) throw new ConditionFailed(reasons.map((r) => r.Code ?? 'None'));
    throw err;
  }
}

/**
 * The pages of a query until at least `max` items have come (or there are no more). Each page asks for
 * input.Limit items, else for those still missing; a filtered page may bring fewer than it read.
 */
export async function queryUpTo(doc: Doc, input: QueryCommandInput, max: number): Promise<Item[]> {
  const items: Item[] = [];
  let start: Item | undefined;
  do {
    const page = await withRetry(() => doc.send(new QueryCommand({ ...input, Limit: input.Limit ?? max - items.length, ExclusiveStartKey: start })));
    items.push(...((page.Items ?? []) as Item[]));
    start = page.LastEvaluatedKey as Item | undefined;
  } while (start && items.length < max);
  return items;
}

/** Every page of a query, following LastEvaluatedKey (for bounded lists such as one user's orders). */
export async function queryAll(doc: Doc, input: QueryCommandInput): Promise<Item[]> {
  const items: Item[] = [];
  let start: Item | undefined;
  do {
    const page = await withRetry(() => doc.send(new QueryCommand({ ...input, ExclusiveStartKey: start })));
    items.push(...((page.Items ?? []) as Item[]));
    start = page.LastEvaluatedKey as Item | undefined;
  } while (start);
  return items;
}

/** Strongly consistent reads of many keys of one table (100 per request), following UnprocessedKeys. */
export async function batchGet(doc: Doc, table: string, keys: Item[], consistent = true): Promise<Item[]> {
  const out: Item[] = [];
  const unique = [...new Map(keys.map((k) => [JSON.stringify(k), k])).values()];
  for (let i = 0; i < unique.length; i += 100) {
    let request: BatchGetCommandInput['RequestItems'] = { [table]: { Keys: unique.slice(i, i + 100), ConsistentRead: consistent } };
    for (let attempt = 0; request && Object.keys(request).length; attempt++) {
      const res = await withRetry(() => doc.send(new BatchGetCommand({ RequestItems: request })));
      out.push(...((res.Responses?.[table] ?? []) as Item[]));
      request = res.UnprocessedKeys && Object.keys(res.UnprocessedKeys).length ? res.UnprocessedKeys : undefined;
      if (request) await sleep(fullJitter(attempt));
    }
  }
  return out;
}

export async function getItem(doc: Doc, table: string, key: Item, consistent = true): Promise<Item | undefined> {
  const res = await withRetry(() => doc.send(new GetCommand({ TableName: table, Key: key, ConsistentRead: consistent })));
  return res.Item as Item | undefined;
}

// ---------------------------------------------------------------------------------------------------
// Ordering keys and cursors

let lastMs = 0;
let counter = 0;

/**
 * A string that sorts in creation order within this process (milliseconds, then a counter) and between
 * processes by millisecond; the random tail keeps keys from two processes in the same millisecond distinct.
 * URL-safe, so it can be part of an id.
 */
export function orderedKey(now = Date.now()): string {
  const ms = Math.max(now, lastMs);
  counter = ms === lastMs ? counter + 1 : 0;
  lastMs = ms;
  return `${ms.toString().padStart(15, '0')}${counter.toString().padStart(6, '0')}${randomBytes(5).toString('hex')}`;
}

/** Zero-padded so that string order is number order (non-negative integers up to 15 digits). */
export const pad = (n: number): string => Math.max(0, Math.floor(n)).toString().padStart(15, '0');

/** The opaque form of a LastEvaluatedKey: clients pass it back verbatim. */
export function encodeKey(key: Item): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

export function decodeKey(cursor: string | undefined): Item | undefined {
  if (!cursor) return undefined;
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (value && typeof value === 'object' && !Array.isArray(value)) return value as Item;
  } catch {
    /* an invalid cursor starts from the beginning */
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------------
// Outbox and inbox

/**
 * Outbox and inbox tables of one service. The outbox item's `Queue` (subscriber) + `Due` (next attempt time,
 * then creation order) key the `Due` index the relay queries; a dead letter loses `Queue` (so it leaves that
 * index) and gains `DeadQueue` (the `Dead` index operators list).
 */
export function messagingTables(prefix: string, service: string): { outbox: TableSpec; inbox: TableSpec } {
  const Service = service.charAt(0).toUpperCase() + service.slice(1);
  return {
    outbox: {
      name: `${prefix}${Service}Outbox`,
      pk: { name: 'OutboxID', type: 'S' },
      indexes: [
        { name: 'Due', pk: { name: 'Queue', type: 'S' }, sk: { name: 'Due', type: 'S' } },
        { name: 'Dead', pk: { name: 'DeadQueue', type: 'S' }, sk: { name: 'OutboxID', type: 'S' } },
      ],
    },
    inbox: { name: `${prefix}${Service}Inbox`, pk: { name: 'MessageID', type: 'S' } },
  };
}

const seqOf = (outboxId: string) => outboxId.split('-')[0] ?? outboxId;
const dueKey = (at: number, outboxId: string) => `${pad(at)}#${seqOf(outboxId)}`;

/**
 * The outbox and inbox of one service on DynamoDB. Writers add `outboxPuts(...)` and `inboxPut(...)` to their
 * own TransactWriteItems, which is what makes a change and its message (or a message and its effect) atomic.
 */
export class DynamoDbMessaging implements OutboxStore {
  readonly tables: { outbox: TableSpec; inbox: TableSpec };

  constructor(
    private readonly doc: Doc,
    prefix: string,
    service: ServiceName,
  ) {
    this.tables = messagingTables(prefix, service);
  }

  /**
   * Put items for one outbox entry per subscriber of each message, with the trace context active now; add them
   * to the transaction of the change.
   */
  outboxPuts(...messages: Message[]): TransactItem[] {
    const items: TransactItem[] = [];
    for (const m of messages) {
      const payload = JSON.stringify(withTraceContext(m));
      const seq = orderedKey();
      for (const subscriber of SUBSCRIPTIONS[m.type]) {
        const id = `${seq}-${subscriber}`;
        items.push({
          Put: {
            TableName: this.tables.outbox.name,
            Item: { OutboxID: id, Queue: subscriber, Subscriber: subscriber, Due: dueKey(0, id), LeaseUntil: 0, Attempts: 0, Payload: payload, CreatedAt: m.occurredAt },
          },
        });
      }
    }
    return items;
  }

  /** The inbox record of a received message; its condition fails when the id was seen before. */
  inboxPut(message: Message): TransactItem {
    return {
      Put: {
        TableName: this.tables.inbox.name,
        Item: { MessageID: message.id, Type: message.type, ReceivedAt: new Date().toISOString() },
        ConditionExpression: 'attribute_not_exists(MessageID)',
      },
    };
  }

  /** Whether the message's id is already in the inbox (a strongly consistent read). */
  async seen(message: Message): Promise<boolean> {
    return (await getItem(this.doc, this.tables.inbox.name, { MessageID: message.id })) !== undefined;
  }

  /**
   * Records a message that has no other effect: 'duplicate' when it was seen before. The same conditional
   * Put is what every effect transaction carries.
   */
  async acknowledge(message: Message, effect: TransactItem[] = []): Promise<'applied' | 'duplicate'> {
    try {
      await transactWrite(this.doc, [this.inboxPut(message), ...effect]);
      return 'applied';
    } catch (err) {
      if (err instanceof ConditionFailed && err.failedAt(0)) return 'duplicate';
      throw err;
    }
  }

  async claimDue(subscriber: ServiceName, limit: number, now: number, leaseMs: number): Promise<OutboxEntry[]> {
    // Leased entries stay in the index (their order must not change), so they are filtered out here;
    // there are at most a batch or two of them at the head of the queue.
    const candidates = await queryUpTo(
      this.doc,
      {
        TableName: this.tables.outbox.name,
        IndexName: 'Due',
        KeyConditionExpression: '#q = :s AND #d <= :upper',
        FilterExpression: 'LeaseUntil <= :now',
        ExpressionAttributeNames: { '#q': 'Queue', '#d': 'Due' },
        ExpressionAttributeValues: { ':s': subscriber, ':upper': `${pad(now)}#~`, ':now': now },
        Limit: Math.max(limit, 25),
      },
      limit,
    );

    const leased = await Promise.all(
      candidates.slice(0, limit).map(async (item) => {
        try {
          await withRetry(() =>
            this.doc.send(
              new UpdateCommand({
                TableName: this.tables.outbox.name,
                Key: { OutboxID: item.OutboxID },
                UpdateExpression: 'SET LeaseUntil = :lease',
                // The index is eventually consistent: the item may be gone, dead or leased by another relay.
                ConditionExpression: 'attribute_exists(OutboxID) AND attribute_exists(#q) AND LeaseUntil <= :now',
                ExpressionAttributeNames: { '#q': 'Queue' },
                ExpressionAttributeValues: { ':lease': now + leaseMs, ':now': now },
              }),
            ),
          );
          return item;
        } catch (err) {
          if ((err as Error).name === 'ConditionalCheckFailedException') return null;
          throw err;
        }
      }),
    );
    return leased
      .filter((i): i is Item => i !== null)
      .map((i) => ({ id: String(i.OutboxID), subscriber, message: JSON.parse(String(i.Payload)) as Message, attempts: Number(i.Attempts) }));
  }

  async markDelivered(ids: string[]): Promise<void> {
    await Promise.all(ids.map((id) => withRetry(() => this.doc.send(new DeleteCommand({ TableName: this.tables.outbox.name, Key: { OutboxID: id } })))));
  }

  async markFailed(failures: DeliveryFailure[]): Promise<void> {
    await Promise.all(
      failures.map(({ id, attempts, nextAttemptAt, error }) =>
        withRetry(async () => {
          try {
            await this.doc.send(
              new UpdateCommand({
                TableName: this.tables.outbox.name,
                Key: { OutboxID: id },
                ConditionExpression: 'attribute_exists(OutboxID)',
                ...(nextAttemptAt === null
                  ? {
                      UpdateExpression: 'SET Attempts = :a, LeaseUntil = :zero, LastError = :e, DeadQueue = :dead REMOVE #q',
                      ExpressionAttributeNames: { '#q': 'Queue' },
                      ExpressionAttributeValues: { ':a': attempts, ':zero': 0, ':e': error.slice(0, 500), ':dead': 'dead' },
                    }
                  : {
                      UpdateExpression: 'SET Attempts = :a, LeaseUntil = :zero, LastError = :e, #d = :due',
                      ExpressionAttributeNames: { '#d': 'Due' },
                      ExpressionAttributeValues: { ':a': attempts, ':zero': 0, ':e': error.slice(0, 500), ':due': dueKey(nextAttemptAt, id) },
                    }),
              }),
            );
          } catch (err) {
            if ((err as Error).name !== 'ConditionalCheckFailedException') throw err;
          }
        }),
      ),
    );
  }

  async listDeadLetters(limit: number): Promise<DeadLetter[]> {
    const res = await withRetry(() =>
      this.doc.send(
        new QueryCommand({
          TableName: this.tables.outbox.name,
          IndexName: 'Dead',
          KeyConditionExpression: 'DeadQueue = :dead',
          ExpressionAttributeValues: { ':dead': 'dead' },
          Limit: limit,
        }),
      ),
    );
    return ((res.Items ?? []) as Item[]).map((i) => ({
      id: String(i.OutboxID),
      subscriber: i.Subscriber as ServiceName,
      message: JSON.parse(String(i.Payload)) as Message,
      attempts: Number(i.Attempts),
      lastError: String(i.LastError ?? ''),
      createdAt: String(i.CreatedAt),
    }));
  }

  async replayDeadLetter(id: string): Promise<boolean> {
    try {
      await withRetry(() =>
        this.doc.send(
          new UpdateCommand({
            TableName: this.tables.outbox.name,
            Key: { OutboxID: id },
            UpdateExpression: 'SET #q = Subscriber, Attempts = :zero, LeaseUntil = :zero, #d = :due REMOVE DeadQueue',
            ConditionExpression: 'attribute_exists(DeadQueue)',
            ExpressionAttributeNames: { '#q': 'Queue', '#d': 'Due' },
            ExpressionAttributeValues: { ':zero': 0, ':due': dueKey(0, id) },
          }),
        ),
      );
      return true;
    } catch (err) {
      if ((err as Error).name === 'ConditionalCheckFailedException') return false;
      throw err;
    }
  }

  async pendingCount(): Promise<number> {
    let total = 0;
    for (const subscriber of SERVICE_NAMES) {
      let start: Item | undefined;
      do {
        const page = await withRetry(() =>
          this.doc.send(
            new QueryCommand({
              TableName: this.tables.outbox.name,
              IndexName: 'Due',
              KeyConditionExpression: '#q = :s',
              ExpressionAttributeNames: { '#q': 'Queue' },
              ExpressionAttributeValues: { ':s': subscriber },
              Select: 'COUNT',
              ExclusiveStartKey: start,
            }),
          ),
        );
        total += page.Count ?? 0;
        start = page.LastEvaluatedKey as Item | undefined;
      } while (start);
    }
    return total;
  }

  /**
   * Read from the indexes, at most OUTBOX_STATS_CAP entries per subscriber and as many dead letters: a count
   * here costs reading the entries, and a scrape every few seconds must stay cheap in a backlog of millions.
   * A figure at the cap means "at least"; the oldest waiting entry is the oldest of those read (in due order).
   */
  async stats(): Promise<OutboxStats[]> {
    const index = (IndexName: string, KeyConditionExpression: string, value: string, ProjectionExpression: string) =>
      queryUpTo(
        this.doc,
        {
          TableName: this.tables.outbox.name,
          IndexName,
          KeyConditionExpression,
          ExpressionAttributeNames: attrNames(KeyConditionExpression, ProjectionExpression),
          ExpressionAttributeValues: { ':v': value },
          ProjectionExpression,
        },
        OUTBOX_STATS_CAP,
      );
    const [waiting, dead] = await Promise.all([
      Promise.all(SERVICE_NAMES.map((subscriber) => index('Due', '#Queue = :v', subscriber, '#CreatedAt'))),
      index('Dead', '#DeadQueue = :v', 'dead', '#Subscriber'),
    ]);
    return SERVICE_NAMES.map((subscriber, i) => {
      const items = waiting[i]!;
      const created = items.map((item) => Date.parse(String(item.CreatedAt))).filter(Number.isFinite);
      return {
        subscriber,
        pending: items.length,
        oldestPendingAt: created.length ? Math.min(...created) : null,
        deadLetters: dead.filter((item) => item.Subscriber === subscriber).length,
      };
    }).filter((s) => s.pending > 0 || s.deadLetters > 0);
  }
}

/** How many outbox entries (per subscriber) and dead letters a /metrics scrape reads at most on DynamoDB. */
export const OUTBOX_STATS_CAP = 1000;

/** A plain Put for writes outside transactions (bootstrap data, tests). */
export async function putItem(doc: Doc, table: string, item: Item): Promise<void> {
  await withRetry(() => doc.send(new PutCommand({ TableName: table, Item: item })));
}

/**
 * ExpressionAttributeNames for expressions written with `#Name` for every attribute: many plain words
 * (Status, Name, Timezone, Capacity, …) are reserved in DynamoDB expressions, so we alias them all.
 * Undefined when there are none (DynamoDB refuses an empty or unused map).
 */
export function attrNames(...expressions: (string | undefined)[]): Record<string, string> | undefined {
  const names: Record<string, string> = {};
  for (const e of expressions) for (const m of e?.matchAll(/#([A-Za-z][A-Za-z0-9_]*)/g) ?? []) names[`#${m[1]}`] = m[1]!;
  return Object.keys(names).length ? names : undefined;
}

/**
 * What every service's DynamoDB store shares: the client, its outbox and inbox, the idempotent table bootstrap,
 * a readiness probe and shutdown. A service's store extends it with its own tables and the port's methods.
 */
export abstract class DynamoStoreBase {
  readonly outbox: DynamoDbMessaging;
  protected readonly dynamo: Dynamo;

  constructor(
    settings: DynamoSettings,
    service: ServiceName,
    private readonly ownTables: TableSpec[],
  ) {
    this.dynamo = createDynamo(settings);
    this.outbox = new DynamoDbMessaging(this.dynamo.doc, settings.tablePrefix, service);
  }

  protected get doc(): Doc {
    return this.dynamo.doc;
  }

  /** Creates whichever of the store's tables (its own, outbox, inbox) are missing; safe to run again or concurrently. */
  async createTables(log?: (line: string) => void): Promise<void> {
    await ensureTables(this.dynamo.client, [...this.ownTables, this.outbox.tables.outbox, this.outbox.tables.inbox], log);
  }

  /** True when DynamoDB answers a read of `table`: the store is usable (readiness). */
  protected async answers(table: TableSpec, key: Item): Promise<boolean> {
    try {
      await this.doc.send(new GetCommand({ TableName: table.name, Key: key }));
      return true;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    this.dynamo.client.destroy();
  }
}
