import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { ServiceName } from '@dems/contracts';
import { createDynamo, type Doc, type Dynamo, type DynamoSettings, type Item, type TransactItem } from './client.js';
import { DynamoDbMessaging } from './messaging.js';
import { ensureTables, type TableSpec } from './tables.js';

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

  /**
   * Commits a change that carries outbox items (from `this.outbox.outboxPuts`): one TransactWriteItems, exactly
   * as transactWrite (a false condition throws ConditionFailed), after which this process's relay delivers the
   * entries from memory — no claim write. Call `onMessagesCommitted` afterwards as before, to wake the relay.
   */
  protected commit(items: TransactItem[]): Promise<void> {
    return this.outbox.commit(items);
  }

  /** Creates whichever of the store's tables (its own, and its messaging table) are missing; safe to run again or concurrently. */
  async createTables(log?: (line: string) => void): Promise<void> {
    await ensureTables(this.dynamo.client, [...this.ownTables, this.outbox.table], log);
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
