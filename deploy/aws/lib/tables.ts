import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { messagingTables, type IndexSpec, type KeyAttr, type TableSpec } from '@dems/kit/dynamodb';
import { engagementTables } from '../../../services/engagement/src/store/dynamodb.js';
import { eventsTables } from '../../../services/events/src/store/dynamodb.js';
import { ticketingTables } from '../../../services/ticketing/src/store/dynamodb.js';

/** The services that keep data in DynamoDB (the gateway keeps none). */
export const DATA_SERVICES = ['events', 'ticketing', 'engagement'] as const;
export type DataService = (typeof DATA_SERVICES)[number];

/**
 * Every table a service owns, from the same definitions its store creates in development (so infrastructure
 * and code cannot disagree on a name, key, index or time to live): its own tables, then its messaging table
 * (outbox, inbox and dead letters).
 * Production runs with an empty TABLE_PREFIX, so the seed's names (`Events`, `Tickets`, `Notifications`) hold.
 */
export function serviceTableSpecs(prefix = ''): Record<DataService, TableSpec[]> {
  const own = {
    events: Object.values(eventsTables(prefix)),
    ticketing: Object.values(ticketingTables(prefix)),
    engagement: Object.values(engagementTables(prefix)),
  };
  return Object.fromEntries(DATA_SERVICES.map((service) => [service, [...own[service], messagingTables(prefix, service)]])) as Record<DataService, TableSpec[]>;
}

const attribute = (a: KeyAttr): dynamodb.Attribute => ({ name: a.name, type: a.type === 'N' ? dynamodb.AttributeType.NUMBER : dynamodb.AttributeType.STRING });

const index = (i: IndexSpec): dynamodb.GlobalSecondaryIndexProps => ({
  indexName: i.name,
  partitionKey: attribute(i.pk),
  ...(i.sk ? { sortKey: attribute(i.sk) } : {}),
  ...(typeof i.projection === 'object'
    ? { projectionType: dynamodb.ProjectionType.INCLUDE, nonKeyAttributes: i.projection.include }
    : { projectionType: i.projection === 'KEYS_ONLY' ? dynamodb.ProjectionType.KEYS_ONLY : dynamodb.ProjectionType.ALL }),
});

/** One service's tables with the ARNs its role may use: the tables and their indexes, nothing else. */
export interface ServiceTables {
  tables: dynamodb.Table[];
  tableArns: string[];
  indexArns: string[];
}

/**
 * The DynamoDB tables of all services. On-demand capacity (traffic follows ticket sales, which come in bursts),
 * point-in-time recovery (35 days of restores to any second), encryption with the AWS-managed key `aws/dynamodb`
 * (every use is in CloudTrail, and nobody has a key policy to get wrong or a key to lose; a customer-managed key
 * would add cost and a way to lock the services out of their own data without adding protection we need),
 * deletion protection, and kept when the stack is deleted: ticket sales are records of money.
 */
export class DataTables extends Construct {
  readonly byService: Record<DataService, ServiceTables>;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    const specs = serviceTableSpecs();
    this.byService = Object.fromEntries(
      DATA_SERVICES.map((service) => {
        const tables = specs[service].map((spec) => this.table(spec));
        const indexArns = specs[service].flatMap((spec, i) => (spec.indexes ?? []).map((ix) => `${tables[i]!.tableArn}/index/${ix.name}`));
        return [service, { tables, tableArns: tables.map((t) => t.tableArn), indexArns }];
      }),
    ) as Record<DataService, ServiceTables>;
  }

  private table(spec: TableSpec): dynamodb.Table {
    const table = new dynamodb.Table(this, spec.name, {
      tableName: spec.name,
      partitionKey: attribute(spec.pk),
      ...(spec.sk ? { sortKey: attribute(spec.sk) } : {}),
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      ...(spec.ttl ? { timeToLiveAttribute: spec.ttl } : {}),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    for (const i of spec.indexes ?? []) table.addGlobalSecondaryIndex(index(i));
    return table;
  }
}
