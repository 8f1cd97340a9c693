import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, type TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import { instrumentCapacity } from './capacity.js';

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

export { dynamoSettings } from '../config.js';

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
  const configured = Boolean(
    env.AWS_ACCESS_KEY_ID || env.AWS_PROFILE || env.AWS_WEB_IDENTITY_TOKEN_FILE || env.AWS_CONTAINER_CREDENTIALS_FULL_URI || env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI,
  );
  const client = new DynamoDBClient({
    region: settings.region,
    ...(settings.endpoint ? { endpoint: settings.endpoint } : {}),
    ...(settings.endpoint && !configured ? { credentials: { accessKeyId: 'local', secretAccessKey: 'local' } } : {}),
    // One retry loop only: withRetry (retry.ts) wraps every call, adds full jitter and knows transaction
    // conflicts. SDK retries underneath it would multiply (3 × 20 tries of a contended purchase).
    maxAttempts: 1,
  });
  // DYNAMODB_CAPACITY_LOG: a diagnostic that logs every call's consumed capacity (the capacity tests read it).
  instrumentCapacity(client, env);
  const doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  return { client, doc, prefix: settings.tablePrefix };
}
