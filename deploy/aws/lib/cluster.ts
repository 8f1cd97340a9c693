import { Duration, RemovalPolicy, Tags, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
// The controller's own IAM policy (kubernetes-sigs/aws-load-balancer-controller docs/install/iam_policy.json,
// v3.2.2, as aws-cdk-lib ships it). Its `"Resource": "*"` entries are the controller's: EC2/ELB describe calls
// take no resource, and creations are limited by tag conditions.
import loadBalancerControllerPolicy from './aws-load-balancer-controller-policy.json' with { type: 'json' };
import type { Settings } from './settings.js';

export const CLUSTER_NAME = 'dems';

/** A role that pods of one Kubernetes service account assume through EKS Pod Identity. */
export function podIdentityRole(scope: Construct, id: string, description: string): iam.Role {
  return new iam.Role(scope, id, {
    description,
    // Pod Identity assumes the role with session tags (cluster, namespace, service account) attached.
    assumedBy: new iam.SessionTagsPrincipal(new iam.ServicePrincipal('pods.eks.amazonaws.com')),
    maxSessionDuration: Duration.hours(1),
  });
}

/** Binds `role` to a service account: its pods get the role's credentials, nothing else does. */
export function bindServiceAccount(cluster: eks.Cluster, id: string, namespace: string, serviceAccount: string, role: iam.IRole): eks.CfnPodIdentityAssociation {
  return new eks.CfnPodIdentityAssociation(cluster, id, { clusterName: cluster.clusterName, namespace, serviceAccount, roleArn: role.roleArn });
}

/**
 * The network and the Kubernetes cluster the services run on.
 *
 * - VPC over two availability zones (all an environment-agnostic stack can name), private subnets for nodes and
 *   Redis with a NAT gateway per zone, public subnets for the load balancer; gateway endpoints keep DynamoDB and
 *   S3 traffic inside AWS (and off the NAT's bill). Subnets carry the tags the AWS Load Balancer Controller
 *   uses to place internet-facing and internal load balancers.
 * - EKS with a managed node group (Amazon Linux 2023, x86-64: the `dems` image is built for amd64) in the
 *   private subnets, Kubernetes secrets encrypted with a KMS key of their own (they hold the signing key and
 *   the service secret), control-plane logs for the API, audit and authenticator, the EKS Pod Identity Agent
 *   (pods get IAM roles by service account), the VPC CNI with network policies enforced, and an IAM role
 *   for the AWS Load Balancer Controller, bound to its service account in kube-system: install its Helm
 *   chart and it turns the Ingress into an ALB.
 */
export class Cluster extends Construct {
  readonly vpc: ec2.Vpc;
  readonly cluster: eks.Cluster;

  constructor(scope: Construct, id: string, settings: Pick<Settings, 'kubernetesVersion' | 'nodeInstanceType' | 'nodeCount' | 'adminPrincipalArn'>) {
    super(scope, id);
    this.vpc = new ec2.Vpc(this, 'Vpc', {
      maxAzs: 2,
      natGateways: 2,
      subnetConfiguration: [
        { name: 'Public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
        { name: 'Private', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 18 },
      ],
      gatewayEndpoints: {
        DynamoDb: { service: ec2.GatewayVpcEndpointAwsService.DYNAMODB },
        S3: { service: ec2.GatewayVpcEndpointAwsService.S3 },
      },
    });
    for (const subnet of this.vpc.publicSubnets) Tags.of(subnet).add('kubernetes.io/role/elb', '1');
    for (const subnet of this.vpc.privateSubnets) Tags.of(subnet).add('kubernetes.io/role/internal-elb', '1');

    const secretsKey = new kms.Key(this, 'SecretsKey', {
      description: 'Encrypts the Kubernetes secrets of the DEMS cluster',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.cluster = new eks.Cluster(this, 'Eks', {
      clusterName: CLUSTER_NAME,
      version: eks.KubernetesVersion.of(settings.kubernetesVersion),
      vpc: this.vpc,
      vpcSubnets: [{ subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS }],
      endpointAccess: eks.EndpointAccess.PUBLIC_AND_PRIVATE,
      defaultCapacityType: eks.DefaultCapacityType.NODEGROUP,
      defaultCapacity: 0,
      secretsEncryptionKey: secretsKey,
      clusterLogging: [eks.ClusterLoggingTypes.API, eks.ClusterLoggingTypes.AUDIT, eks.ClusterLoggingTypes.AUTHENTICATOR],
    });
    this.cluster.addNodegroupCapacity('Nodes', {
      nodegroupName: 'dems',
      amiType: eks.NodegroupAmiType.AL2023_X86_64_STANDARD,
      instanceTypes: [new ec2.InstanceType(settings.nodeInstanceType)],
      minSize: settings.nodeCount,
      desiredSize: settings.nodeCount,
      maxSize: settings.nodeCount * 2,
      diskSize: 40,
      subnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
    });
    new eks.Addon(this, 'PodIdentityAgent', { cluster: this.cluster, addonName: 'eks-pod-identity-agent' });
    // The VPC CNI as a managed add-on, with its network policy agent on: without it EKS accepts the
    // NetworkPolicies of deploy/k8s and enforces none of them.
    new eks.CfnAddon(this, 'VpcCni', {
      clusterName: this.cluster.clusterName,
      addonName: 'vpc-cni',
      resolveConflicts: 'OVERWRITE',
      configurationValues: JSON.stringify({ enableNetworkPolicy: 'true' }),
    });
    Validations.of(this.cluster).acknowledge({
      id: 'CloudFormation-Validate::W9009',
      reason: 'EKS still takes EncryptionConfig.Resources ["secrets"] to encrypt Kubernetes secrets with our key; aws-eks-v2 writes it',
    });

    if (settings.adminPrincipalArn) {
      this.cluster.grantAccess('Admin', settings.adminPrincipalArn, [
        eks.AccessPolicy.fromAccessPolicyName('AmazonEKSClusterAdminPolicy', { accessScopeType: eks.AccessScopeType.CLUSTER }),
      ]);
    }

    const controller = podIdentityRole(this, 'LoadBalancerControllerRole', 'AWS Load Balancer Controller (kube-system/aws-load-balancer-controller)');
    controller.attachInlinePolicy(new iam.Policy(this, 'LoadBalancerControllerPolicy', { document: iam.PolicyDocument.fromJson(loadBalancerControllerPolicy) }));
    bindServiceAccount(this.cluster, 'LoadBalancerController', 'kube-system', 'aws-load-balancer-controller', controller);
  }
}
