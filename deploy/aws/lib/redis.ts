import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elasticache from 'aws-cdk-lib/aws-elasticache';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';

/**
 * ElastiCache for Redis OSS (what REDIS_URL points at: rate limits, the Socket.IO adapter's streams, shared
 * caches): a primary and a replica in two zones with automatic failover, TLS required (`rediss://`), encrypted
 * at rest, an AUTH token generated into Secrets Manager (never in the template or the repository), in the
 * private subnets, reachable on 6379 from the cluster's security group (every node and pod) and nothing else.
 * Nothing in it must survive a loss (it is rebuilt from traffic), so no snapshots are kept.
 */
export class Redis extends Construct {
  readonly replicationGroup: elasticache.CfnReplicationGroup;
  readonly authToken: secretsmanager.Secret;
  readonly securityGroup: ec2.SecurityGroup;

  constructor(scope: Construct, id: string, props: { vpc: ec2.IVpc; clientSecurityGroupId: string; nodeType: string }) {
    super(scope, id);
    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: 'DEMS Redis: reachable from the EKS cluster only',
      allowAllOutbound: false,
    });
    this.securityGroup.addIngressRule(ec2.Peer.securityGroupId(props.clientSecurityGroupId), ec2.Port.tcp(6379), 'DEMS pods on the EKS cluster');

    const subnets = new elasticache.CfnSubnetGroup(this, 'Subnets', {
      description: 'DEMS Redis in the private subnets',
      subnetIds: props.vpc.selectSubnets({ subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS }).subnetIds,
    });

    this.authToken = new secretsmanager.Secret(this, 'AuthToken', {
      description: 'AUTH token of the DEMS Redis (the password in REDIS_URL=rediss://:<token>@<endpoint>:6379)',
      // ElastiCache takes 16–128 printable characters without @, " or /; letters and digits need no URL escaping.
      generateSecretString: { passwordLength: 64, excludePunctuation: true },
    });

    this.replicationGroup = new elasticache.CfnReplicationGroup(this, 'ReplicationGroup', {
      replicationGroupDescription: 'DEMS Redis',
      engine: 'redis',
      engineVersion: '7.1',
      cacheNodeType: props.nodeType,
      numCacheClusters: 2,
      automaticFailoverEnabled: true,
      multiAzEnabled: true,
      transitEncryptionEnabled: true,
      transitEncryptionMode: 'required',
      atRestEncryptionEnabled: true,
      // A CloudFormation dynamic reference: the token is resolved at deploy time, never written into the template.
      authToken: this.authToken.secretValue.unsafeUnwrap(),
      cacheSubnetGroupName: subnets.ref,
      securityGroupIds: [this.securityGroup.securityGroupId],
      port: 6379,
      autoMinorVersionUpgrade: true,
      snapshotRetentionLimit: 0,
    });
  }

  /** `host:port` of the primary: REDIS_URL=rediss://:<token>@<this>. */
  get endpoint(): string {
    return `${this.replicationGroup.attrPrimaryEndPointAddress}:${this.replicationGroup.attrPrimaryEndPointPort}`;
  }
}
