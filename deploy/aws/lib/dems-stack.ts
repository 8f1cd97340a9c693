import { Annotations, Aws, CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import type { Construct } from 'constructs';
import { Cluster, CLUSTER_NAME } from './cluster.js';
import { Edge } from './edge.js';
import { LoadBalancerAccess } from './load-balancer-access.js';
import { PodRoles } from './pod-roles.js';
import { Redis } from './redis.js';
import type { Settings } from './settings.js';
import { DataTables } from './tables.js';

/** The ECR repository of the one `dems` image (the role is its argument). */
export const REPOSITORY_NAME = 'dems';

/**
 * Everything DEMS needs in one AWS account and region: the DynamoDB tables, the image repository, the network
 * and EKS cluster, Redis, the pods' IAM roles, and the buckets and CloudFront distribution users reach.
 * Environment-agnostic (the account and region are the deploying credentials'), so it synthesizes offline.
 */
export class DemsStack extends Stack {
  constructor(scope: Construct, id: string, settings: Settings, props?: StackProps) {
    super(scope, id, { description: 'DEMS: event management and ticketing on EKS, DynamoDB and CloudFront', ...props });

    const data = new DataTables(this, 'Tables');
    const repository = new ecr.Repository(this, 'Repository', {
      repositoryName: REPOSITORY_NAME,
      imageScanOnPush: true,
      // A tag names one image for good (push each release under its own tag, e.g. the git commit), so a
      // rollout or a rollback runs exactly what was tested.
      imageTagMutability: ecr.TagMutability.IMMUTABLE,
      encryption: ecr.RepositoryEncryption.AES_256,
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [
        { description: 'Untagged layers left by rebuilt tags', tagStatus: ecr.TagStatus.UNTAGGED, maxImageAge: Duration.days(7) },
        { description: 'Keep the 50 newest images', tagStatus: ecr.TagStatus.ANY, maxImageCount: 50 },
      ],
    });
    const network = new Cluster(this, 'Cluster', settings);
    const redis = new Redis(this, 'Redis', { vpc: network.vpc, clientSecurityGroupId: network.cluster.clusterSecurityGroupId, nodeType: settings.redisNodeType });
    const edge = new Edge(this, 'Edge', settings);
    const loadBalancer = new LoadBalancerAccess(this, 'LoadBalancer', { vpc: network.vpc, settings });
    new PodRoles(this, 'PodRoles', { cluster: network.cluster, tables: data.byService, bannerBucket: edge.bannerBucket });

    if (!settings.albDomainName) {
      Annotations.of(this).addWarningV2(
        'dems:no-api-origin',
        'CloudFront has no /api/* and /socket.io/* behaviours yet: once the Ingress has its load balancer, deploy again with -c albDomainName=<its DNS name>.',
      );
    }
    if (!settings.adminPrincipalArn) {
      Annotations.of(this).addWarningV2(
        'dems:no-cluster-admin',
        'No one is given access to the Kubernetes API: deploy with -c adminPrincipalArn=<your IAM role or user ARN> to use kubectl.',
      );
    }

    const output = (id: string, value: string, description: string) => new CfnOutput(this, id, { value, description });
    output('Region', Aws.REGION, 'AWS_REGION of the services');
    for (const table of Object.values(data.byService).flatMap((s) => s.tables)) {
      output(`Table${table.node.id}`, table.tableName, `DynamoDB table ${table.node.id}`);
    }
    output('WebBucketName', edge.webBucket.bucketName, 'npm run deploy:web -- --bucket <this>');
    output('BannerBucketName', edge.bannerBucket.bucketName, 'BANNER_BUCKET of events and the gateway (BANNER_STORE=s3)');
    output('DistributionId', edge.distribution.distributionId, 'npm run deploy:web -- --distribution <this>');
    output('DistributionDomainName', edge.distribution.distributionDomainName, 'The site: https://<this> (or your domainName pointed at it)');
    output('RepositoryUri', repository.repositoryUri, 'Push the dems image here');
    output('ClusterName', CLUSTER_NAME, 'aws eks update-kubeconfig --name <this>');
    output('VpcId', network.vpc.vpcId, 'vpcId of the AWS Load Balancer Controller Helm chart');
    output(
      'AlbSecurityGroupId',
      loadBalancer.securityGroup.securityGroupId,
      'alb.ingress.kubernetes.io/security-groups of the eks overlay Ingress: only CloudFront reaches the ALB',
    );
    output('RedisEndpoint', redis.endpoint, 'REDIS_URL=rediss://:<token>@<this>');
    output('RedisAuthTokenSecretArn', redis.authToken.secretArn, 'aws secretsmanager get-secret-value --secret-id <this> gives the Redis token');
  }
}
