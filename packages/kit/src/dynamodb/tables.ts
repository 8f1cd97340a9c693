import {
  CreateTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  ResourceNotFoundException,
  UpdateTableCommand,
  UpdateTimeToLiveCommand,
  type AttributeDefinition,
  type DynamoDBClient,
  type GlobalSecondaryIndex,
  type KeySchemaElement,
  type Projection,
  type TableDescription,
} from '@aws-sdk/client-dynamodb';
import { sleep } from './retry.js';

export interface KeyAttr {
  name: string;
  type: 'S' | 'N';
}

export interface IndexSpec {
  name: string;
  pk: KeyAttr;
  sk?: KeyAttr;
  /**
   * ALL copies every attribute (one query answers); KEYS_ONLY when the index only counts or locates; `include`
   * copies the keys plus the attributes named, so a list reads a small index item instead of the whole item.
   */
  projection?: 'ALL' | 'KEYS_ONLY' | { include: string[] };
}

export interface TableSpec {
  /** Full name, prefix included. */
  name: string;
  pk: KeyAttr;
  sk?: KeyAttr;
  indexes?: IndexSpec[];
  /**
   * The attribute DynamoDB's time to live reads: a number, epoch SECONDS (always `ExpiresAt` here). Items whose
   * time has passed are deleted by DynamoDB within days and at no write cost; readers must still ignore them.
   */
  ttl?: string;
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

const projection = (p: IndexSpec['projection']): Projection =>
  typeof p === 'object' ? { ProjectionType: 'INCLUDE', NonKeyAttributes: p.include } : { ProjectionType: p ?? 'ALL' };

const gsi = (i: IndexSpec): GlobalSecondaryIndex => ({
  IndexName: i.name,
  KeySchema: keySchema(i.pk, i.sk),
  Projection: projection(i.projection),
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

/** Turns on time to live for `attribute` unless it is on (or being turned on) already. */
async function ensureTtl(client: DynamoDBClient, table: string, attribute: string, log: (line: string) => void): Promise<void> {
  const now = (await client.send(new DescribeTimeToLiveCommand({ TableName: table }))).TimeToLiveDescription;
  if ((now?.TimeToLiveStatus === 'ENABLED' || now?.TimeToLiveStatus === 'ENABLING') && now.AttributeName === attribute) return;
  try {
    await client.send(new UpdateTimeToLiveCommand({ TableName: table, TimeToLiveSpecification: { Enabled: true, AttributeName: attribute } }));
    log(`enabled time to live on ${table}.${attribute}`);
  } catch (err) {
    // Another process turned it on between our look and our update.
    if (!/already enabled/i.test((err as Error).message)) throw err;
  }
}

/**
 * Creates the tables and global secondary indexes that do not exist yet (on-demand billing), turns on their
 * time to live, and waits until all are ACTIVE. Safe to run any number of times and from several processes at
 * once. For development and tests: production tables come from infrastructure code with the same shapes
 * (docs/dynamodb.md).
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
      } else {
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
      }
      if (spec.ttl) await ensureTtl(client, spec.name, spec.ttl, log);
    }),
  );
}
