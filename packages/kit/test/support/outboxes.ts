import { join } from 'node:path';
import type { Message } from '@dems/contracts';
import type { BatchItemOutcome } from '@dems/kit';
import { createDynamo, DynamoDbMessaging, ensureTables, getItem, type DynamoSettings, type TransactItem } from '@dems/kit/dynamodb';
import { batchStep, MESSAGING_SCHEMA, migrate, openSqlite, SqliteMessaging } from '@dems/kit/sqlite';
import type { OutboxUnderTest, StoreAdapters } from '@dems/kit/testing';

/** The events service's messaging on SQLite: one file per test, an `applied` table standing in for a store's effects. */
function sqliteMessaging(dir: string): OutboxUnderTest & { outbox: SqliteMessaging } {
  const db = openSqlite(join(dir, 'service.db'));
  migrate(db, [MESSAGING_SCHEMA + 'CREATE TABLE applied (id TEXT PRIMARY KEY);']);
  const outbox = new SqliteMessaging(db);
  const step = batchStep(db, (m: Message, fail: boolean): 'applied' | 'duplicate' => {
    if (!outbox.recordReceived(m)) return 'duplicate';
    db.prepare('INSERT INTO applied VALUES (?)').run(m.id);
    if (fail) throw new Error('forced failure of the effect (test fake)');
    return 'applied';
  });
  return {
    outbox,
    commit: async (...messages) => db.transaction(() => outbox.enqueue(...messages))(),
    applyBatch: async (messages, failing) =>
      db.transaction(() =>
        messages.map((m): BatchItemOutcome => {
          const o = step(m, failing?.(m) ?? false);
          return o.ok ? o.value : { error: o.error };
        }),
      )(),
    applied: async (m) => db.prepare('SELECT 1 FROM applied WHERE id = ?').get(m.id) !== undefined,
    close: () => {
      outbox.close();
      db.close();
    },
  };
}

/**
 * The events service's messaging on DynamoDB: its messaging table, with `applied#<id>` items standing in for a
 * store's effects. A failing effect carries a condition that cannot hold, so DynamoDB itself refuses the transaction.
 */
function dynamoMessaging(settings: DynamoSettings): OutboxUnderTest & { outbox: DynamoDbMessaging; createTables(): Promise<void> } {
  const d = createDynamo(settings);
  const outbox = new DynamoDbMessaging(d.doc, d.prefix, 'events');
  const table = outbox.table.name;
  const effect = (m: Message, fail: boolean): TransactItem[] => [
    { Put: { TableName: table, Item: { PK: `applied#${m.id}`, SK: 'applied' } } },
    ...(fail ? [{ ConditionCheck: { TableName: table, Key: { PK: 'absent', SK: 'absent' }, ConditionExpression: 'attribute_exists(PK)' } }] : []),
  ];
  return {
    outbox,
    createTables: () => ensureTables(d.client, [outbox.table]),
    // As a store commits a change: at most 100 items per transaction, the entries then delivered from memory.
    commit: async (...messages) => {
      for (let i = 0; i < messages.length; i += 25) await outbox.commit(outbox.outboxPuts(...messages.slice(i, i + 25)));
    },
    applyBatch: async (messages, failing) => {
      const outcomes: BatchItemOutcome[] = [];
      for (const m of messages) outcomes.push(await outbox.acknowledge(m, effect(m, failing?.(m) ?? false)).catch((error: unknown) => ({ error })));
      return outcomes;
    },
    applied: async (m) => (await getItem(d.doc, table, { PK: `applied#${m.id}`, SK: 'applied' })) !== undefined,
    close: () => d.client.destroy(),
  };
}

/** A publisher's messaging on each adapter, fresh for every test: for the OutboxStore contract and the relay's suites. */
export const outboxAdapters: StoreAdapters<OutboxUnderTest> = {
  sqlite: sqliteMessaging,
  dynamodb: { open: dynamoMessaging, prepare: (m: ReturnType<typeof dynamoMessaging>) => m.createTables() },
};
