import { Aws, CfnMapping, CfnRule, Fn } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Construct } from 'constructs';
import type { Settings } from './settings.js';

/**
 * The id of the AWS-managed prefix list com.amazonaws.global.cloudfront.origin-facing in each region, as AWS
 * published them (Networking & Content Delivery blog, "Limit access to your origins using the AWS-managed prefix
 * list for Amazon CloudFront"). The list is the same everywhere; its id is not. To check one, or to find it in
 * another region:
 *   aws ec2 describe-managed-prefix-lists --region <region> \
 *     --filters Name=prefix-list-name,Values=com.amazonaws.global.cloudfront.origin-facing --query 'PrefixLists[0].PrefixListId'
 */
export const CLOUDFRONT_ORIGIN_FACING_PREFIX_LISTS: Readonly<Record<string, string>> = {
  'ap-northeast-1': 'pl-58a04531',
  'ap-northeast-2': 'pl-22a6434b',
  'ap-south-1': 'pl-9aa247f3',
  'ap-southeast-1': 'pl-31a34658',
  'ap-southeast-2': 'pl-b8a742d1',
  'ca-central-1': 'pl-38a64351',
  'eu-central-1': 'pl-a3a144ca',
  'eu-north-1': 'pl-fab65393',
  'eu-west-1': 'pl-4fa04526',
  'eu-west-2': 'pl-93a247fa',
  'eu-west-3': 'pl-75b1541c',
  'sa-east-1': 'pl-5da64334',
  'us-east-1': 'pl-3b927c52',
  'us-east-2': 'pl-b6a144df',
  'us-west-1': 'pl-4ea04527',
  'us-west-2': 'pl-82a045eb',
};

/**
 * The security group of the ALB that the AWS Load Balancer Controller makes from the eks overlay's Ingress
 * (annotation alb.ingress.kubernetes.io/security-groups: the AlbSecurityGroupId output). Only CloudFront's
 * origin-facing servers may connect, so nobody reaches the gateway around CloudFront, and the X-Forwarded-For the
 * gateway believes (TRUST_PROXY=2: CloudFront, then the ALB) was written by them. The way from the ALB to the
 * gateway pods is the controller's (manage-backend-security-group-rules on the Ingress: its shared backend
 * security group on the ALB, admitted by the pods' security group on their port).
 *
 * Only the listener's port is open: 80 while CloudFront reaches the ALB over HTTP (albProtocol), 443 with HTTPS. A
 * rule naming the CloudFront list counts as 55 rules against the 60 inbound rules a security group may have by
 * default, so there is room for one port, not both.
 *
 * Which list: CloudFormation cannot find a prefix list by name, and ec2.PrefixList.fromLookup needs an account,
 * a region and credentials when synthesizing, which this environment-agnostic stack does without. So the list's id
 * is -c cloudFrontPrefixListId=pl-… when given; otherwise the id published for the region the stack is deployed to
 * (a CloudFormation mapping on AWS::Region), and in a region not among them a template rule stops the deployment
 * before anything is created, saying what to give.
 */
export class LoadBalancerAccess extends Construct {
  readonly securityGroup: ec2.SecurityGroup;

  constructor(scope: Construct, id: string, props: { vpc: ec2.IVpc; settings: Pick<Settings, 'albProtocol' | 'cloudFrontPrefixListId'> }) {
    super(scope, id);
    const port = props.settings.albProtocol === 'https' ? 443 : 80;
    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: `DEMS load balancer: port ${port} from CloudFront origin-facing servers only`,
      allowAllOutbound: true,
    });
    const prefixList = props.settings.cloudFrontPrefixListId ?? this.publishedPrefixList();
    this.securityGroup.addIngressRule(ec2.Peer.prefixList(prefixList), ec2.Port.tcp(port), 'CloudFront origin-facing servers');
  }

  private publishedPrefixList(): string {
    const regions = Object.keys(CLOUDFRONT_ORIGIN_FACING_PREFIX_LISTS);
    new CfnRule(this, 'CloudFrontPrefixListKnown', {
      assertions: [
        {
          assert: Fn.conditionContains(regions, Aws.REGION),
          assertDescription:
            "The id of CloudFront's origin-facing prefix list is not known for this region: deploy with -c cloudFrontPrefixListId=<id> " +
            '(aws ec2 describe-managed-prefix-lists --filters Name=prefix-list-name,Values=com.amazonaws.global.cloudfront.origin-facing)',
        },
      ],
    });
    const mapping = new CfnMapping(this, 'CloudFrontOriginFacing', {
      mapping: Object.fromEntries(Object.entries(CLOUDFRONT_ORIGIN_FACING_PREFIX_LISTS).map(([region, id]) => [region, { PrefixListId: id }])),
    });
    return mapping.findInMap(Aws.REGION, 'PrefixListId');
  }
}
