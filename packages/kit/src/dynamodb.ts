/**
 * DynamoDB mechanics every service's adapter shares (`@dems/kit/dynamodb`): the client, the table bootstrap,
 * retries of transient failures, the outbox/inbox, ordering keys and opaque cursors. Only adapter files
 * import this. Each concern has its file under ./dynamodb/.
 */
export { createDynamo, dynamoSettings, type Doc, type Dynamo, type DynamoSettings, type Item, type TransactItem } from './dynamodb/client.js';
export { ensureTables, type IndexSpec, type KeyAttr, type TableSpec } from './dynamodb/tables.js';
export { cancellationReasons, ConditionFailed, fullJitter, isConditionalCheckFailed, isTransient, withRetry } from './dynamodb/retry.js';
export { attrNames, batchGet, getItem, putItem, queryAll, queryPages, queryUpTo, transactWrite } from './dynamodb/operations.js';
export { decodeKey, encodeKey, orderedKey, orderedKeyTime, pad } from './dynamodb/keys.js';
export { DynamoDbMessaging, INBOX_TTL_SECONDS, messagingTables, OUTBOX_BUCKETS, OUTBOX_STATS_CAP, OUTBOX_SWEEP_GRACE_MS, OUTBOX_SWEEP_MS } from './dynamodb/messaging.js';
export { DynamoStoreBase } from './dynamodb/store-base.js';
