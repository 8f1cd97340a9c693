import { describeOutboxStoreContract } from '@dems/kit/testing';
import { outboxAdapters } from './support/outboxes.js';

// The OutboxStore contract on the kit's two outboxes: SqliteMessaging and DynamoDbMessaging.
describeOutboxStoreContract(outboxAdapters);
