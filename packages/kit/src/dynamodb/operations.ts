import {
  BatchGetCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  type BatchGetCommandInput,
  type QueryCommandInput,
  type QueryCommandOutput,
} from '@aws-sdk/lib-dynamodb';
import type { Doc, Item, TransactItem } from './client.js';
import { cancellationReasons, ConditionFailed, fullJitter, sleep, withRetry } from './retry.js';

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
/** The pages of a query, one request each (retried on transient failures), following LastEvaluatedKey until the last. */
export async function* queryPages(doc: Doc, input: QueryCommandInput): AsyncGenerator<QueryCommandOutput> {
  let start = input.ExclusiveStartKey;
  do {
    const page = await withRetry(() => doc.send(new QueryCommand({ ...input, ExclusiveStartKey: start })));
    yield page;
    start = page.LastEvaluatedKey;
  } while (start);
}

export async function queryUpTo(doc: Doc, input: QueryCommandInput, max: number): Promise<Item[]> {
  const items: Item[] = [];
  // queryPages spreads `request` for each page, so a Limit set here applies to the next one.
  const request = { ...input, Limit: input.Limit ?? max };
  for await (const page of queryPages(doc, request)) {
    items.push(...((page.Items ?? []) as Item[]));
    if (items.length >= max) break;
    if (input.Limit === undefined) request.Limit = max - items.length;
  }
  return items;
}

/** Every page of a query, following LastEvaluatedKey (for bounded lists such as one user's orders). */
export async function queryAll(doc: Doc, input: QueryCommandInput): Promise<Item[]> {
  const items: Item[] = [];
  for await (const page of queryPages(doc, input)) items.push(...((page.Items ?? []) as Item[]));
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
