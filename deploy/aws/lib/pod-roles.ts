import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { bindServiceAccount, podIdentityRole } from './cluster.js';
import { BANNER_KEY_PREFIX } from './edge.js';
import { DATA_SERVICES, type DataService, type ServiceTables } from './tables.js';

/** The Kubernetes namespace the services run in, and the service account of each. */
export const NAMESPACE = 'dems';
export const SERVICES = ['events', 'ticketing', 'engagement', 'gateway'] as const;
export type Service = (typeof SERVICES)[number];
export const serviceAccountName = (service: Service): string => `dems-${service}`;

/**
 * The DynamoDB actions each service's store sends (services/<name>/src/store/dynamodb.ts and the kit's
 * shared part: reads, queries, the outbox's writes and deletes). A TransactWriteItems is authorised item by
 * item as PutItem/UpdateItem/DeleteItem/ConditionCheckItem; only engagement checks a condition without
 * writing (a refresh-token family). Table creation (DYNAMODB_CREATE_TABLES) is for development only: on AWS
 * the tables come from this app, so no role may create or change them. deploy/aws/test reads the stores'
 * code and fails when it sends something not listed here.
 */
const ITEM_ACTIONS = ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'];
export const DYNAMODB_ACTIONS: Record<DataService, readonly string[]> = {
  events: ITEM_ACTIONS,
  ticketing: ITEM_ACTIONS,
  engagement: [...ITEM_ACTIONS, 'dynamodb:ConditionCheckItem'],
};

/** The banner store's methods (packages/kit/src/banners) and what each service calls: events stores and removes a banner's renditions, the gateway serves them. */
export type BannerMethod = 'put' | 'get' | 'delete' | 'list';
export const BANNER_STORE_USE: Partial<Record<Service, readonly BannerMethod[]>> = { events: ['put', 'delete'], gateway: ['get'] };

/**
 * The IAM actions behind each method of the S3 adapter. DeleteObjects is authorised key by key as DeleteObject,
 * ListObjectsV2 as ListBucket. `get` also takes ListBucket: without it S3 answers a missing key with 403 instead
 * of 404 (it will not tell what exists), and the gateway would serve a deleted banner's URL as a server error.
 * The bucket holds nothing but public banners, so being able to list it reveals nothing.
 */
export const BANNER_S3_ACTIONS: Record<BannerMethod, readonly string[]> = {
  put: ['s3:PutObject'],
  get: ['s3:GetObject', 's3:ListBucket'],
  delete: ['s3:DeleteObject'],
  list: ['s3:ListBucket'],
};

/**
 * One IAM role per service, bound by EKS Pod Identity to the service's account in the `dems` namespace, each
 * allowed exactly what its code does: its own tables and their indexes (no other service's), and in the
 * banner bucket, objects under `banners/`: events writes and removes them, the gateway reads them.
 * No role has a wildcard action, and none a wildcard resource beyond object keys under `banners/`.
 */
export class PodRoles extends Construct {
  readonly roles: Record<Service, iam.Role>;

  constructor(scope: Construct, id: string, props: { cluster: eks.Cluster; tables: Record<DataService, ServiceTables>; bannerBucket: s3.IBucket }) {
    super(scope, id);
    this.roles = Object.fromEntries(
      SERVICES.map((service) => {
        const role = podIdentityRole(this, service, `DEMS ${service} pods (${NAMESPACE}/${serviceAccountName(service)})`);
        bindServiceAccount(props.cluster, `${service}-pod-identity`, NAMESPACE, serviceAccountName(service), role);
        return [service, role];
      }),
    ) as Record<Service, iam.Role>;

    for (const service of DATA_SERVICES) {
      const { tableArns, indexArns } = props.tables[service];
      this.roles[service].addToPolicy(new iam.PolicyStatement({ sid: 'OwnTables', actions: [...DYNAMODB_ACTIONS[service]], resources: tableArns }));
      this.roles[service].addToPolicy(new iam.PolicyStatement({ sid: 'QueryOwnTablesAndIndexes', actions: ['dynamodb:Query'], resources: [...tableArns, ...indexArns] }));
    }

    for (const [service, methods] of Object.entries(BANNER_STORE_USE) as [Service, readonly BannerMethod[]][]) {
      const actions = methods.flatMap((m) => BANNER_S3_ACTIONS[m]);
      const onObjects = actions.filter((a) => a !== 's3:ListBucket');
      this.roles[service].addToPolicy(
        new iam.PolicyStatement({ sid: 'BannerObjects', actions: onObjects, resources: [props.bannerBucket.arnForObjects(`${BANNER_KEY_PREFIX}*`)] }),
      );
      if (actions.includes('s3:ListBucket')) {
        this.roles[service].addToPolicy(new iam.PolicyStatement({ sid: 'BannerBucket', actions: ['s3:ListBucket'], resources: [props.bannerBucket.bucketArn] }));
      }
    }
  }
}
