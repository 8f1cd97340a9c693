/**
 * What a deployment may choose, read from CDK context (`-c key=value` or cdk.json). Everything has a default
 * except what only exists once something else is deployed (the load balancer's name) or belongs to the user
 * (a domain, its certificate, who administers the cluster). A bad value stops synthesis with one line that
 * names the setting and what it takes.
 */
export interface Settings {
  /**
   * DNS name of the load balancer the AWS Load Balancer Controller made from the Ingress (or a name of yours
   * pointing at it). Unknown on the first deployment: until it is given, the distribution has no `/api/*` and
   * `/socket.io/*` behaviours.
   */
  albDomainName: string | null;
  /** How CloudFront talks to the load balancer: HTTPS needs a certificate on the ALB for albDomainName. */
  albProtocol: 'http' | 'https';
  /**
   * The id of the region's managed prefix list com.amazonaws.global.cloudfront.origin-facing, which alone may reach
   * the load balancer. Unset: the id AWS published for the region (load-balancer-access.ts), for a region not among
   * them the deployment stops and asks for this.
   */
  cloudFrontPrefixListId: string | null;
  /** The site's own name (CloudFront alternate domain name) and its ACM certificate in us-east-1, both or neither. */
  domain: { name: string; certificateArn: string } | null;
  /** IAM role or user given cluster-admin access to the Kubernetes API (an EKS access entry). */
  adminPrincipalArn: string | null;
  kubernetesVersion: string;
  nodeInstanceType: string;
  /** Nodes the managed node group keeps (and starts with); it may grow to twice as many. */
  nodeCount: number;
  redisNodeType: string;
}

export const CONTEXT_KEYS = [
  'albDomainName',
  'albProtocol',
  'cloudFrontPrefixListId',
  'domainName',
  'certificateArn',
  'adminPrincipalArn',
  'kubernetesVersion',
  'nodeInstanceType',
  'nodeCount',
  'redisNodeType',
] as const;
export type ContextKey = (typeof CONTEXT_KEYS)[number];

const HOSTNAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i;
/** CloudFront takes certificates from ACM in us-east-1 only, whatever region the stack is in. */
const CLOUDFRONT_CERTIFICATE = /^arn:aws[a-z-]*:acm:us-east-1:\d{12}:certificate\/[0-9a-f-]+$/;
const IAM_PRINCIPAL = /^arn:aws[a-z-]*:iam::\d{12}:(role|user)\/[\w+=,.@/-]+$/;

/** The load balancer's own AWS name has no certificate a browser or CloudFront would accept. */
const isAwsLoadBalancerName = (host: string) => /\.elb\.amazonaws\.com(\.cn)?$/i.test(host);

export class SettingsError extends Error {
  constructor(key: ContextKey, problem: string) {
    super(`CDK context "${key}" ${problem} (set it with: npm run cdk -- deploy -c ${key}=...)`);
    this.name = 'SettingsError';
  }
}

/** Settings from context values (strings on the command line, any JSON type in cdk.json). */
export function readSettings(context: (key: ContextKey) => unknown): Settings {
  const text = (key: ContextKey): string | null => {
    const value = context(key);
    if (value === undefined || value === null || value === '') return null;
    if (typeof value !== 'string' && typeof value !== 'number') throw new SettingsError(key, `must be a string, got ${JSON.stringify(value)}`);
    return String(value).trim();
  };
  const matching = (key: ContextKey, pattern: RegExp, what: string): string | null => {
    const value = text(key);
    if (value !== null && !pattern.test(value)) throw new SettingsError(key, `must be ${what}, got "${value}"`);
    return value;
  };

  const albDomainName = matching('albDomainName', HOSTNAME, 'a host name without scheme or path, e.g. k8s-dems-gateway-0123456789.eu-west-1.elb.amazonaws.com');
  const albProtocol = matching('albProtocol', /^(http|https)$/, '"http" or "https"') as Settings['albProtocol'] | null;
  if (albProtocol === 'https' && albDomainName && isAwsLoadBalancerName(albDomainName)) {
    throw new SettingsError(
      'albProtocol',
      'cannot be "https" with the load balancer\'s AWS name: no certificate matches it; point a name of yours (with an ACM certificate on the ALB) at it and pass that as albDomainName',
    );
  }

  const domainName = matching('domainName', HOSTNAME, 'a host name such as tickets.example.com');
  const certificateArn = matching('certificateArn', CLOUDFRONT_CERTIFICATE, 'an ACM certificate ARN in us-east-1 (CloudFront uses no other region)');
  if (Boolean(domainName) !== Boolean(certificateArn)) {
    throw new SettingsError(domainName ? 'certificateArn' : 'domainName', 'is required when the other of domainName/certificateArn is set');
  }

  const nodeCount = Number(text('nodeCount') ?? 2);
  if (!Number.isInteger(nodeCount) || nodeCount < 1 || nodeCount > 50) throw new SettingsError('nodeCount', `must be a whole number from 1 to 50, got "${text('nodeCount')}"`);

  return {
    albDomainName,
    // The ALB's AWS name can only be reached over HTTP; a name of the user's is expected to carry a certificate.
    albProtocol: albProtocol ?? (albDomainName && !isAwsLoadBalancerName(albDomainName) ? 'https' : 'http'),
    cloudFrontPrefixListId: matching(
      'cloudFrontPrefixListId',
      /^pl-[0-9a-f]{8}([0-9a-f]{9})?$/,
      'a managed prefix list id such as pl-3b927c52 (aws ec2 describe-managed-prefix-lists --filters Name=prefix-list-name,Values=com.amazonaws.global.cloudfront.origin-facing)',
    ),
    domain: domainName && certificateArn ? { name: domainName, certificateArn } : null,
    adminPrincipalArn: matching('adminPrincipalArn', IAM_PRINCIPAL, 'an IAM role or user ARN, e.g. arn:aws:iam::123456789012:role/Admin'),
    kubernetesVersion: matching('kubernetesVersion', /^1\.\d{2}$/, 'a Kubernetes minor version such as 1.35') ?? '1.35',
    nodeInstanceType: matching('nodeInstanceType', /^[a-z][a-z0-9-]*\.[a-z0-9]+$/, 'an EC2 instance type such as m7i.large') ?? 'm7i.large',
    nodeCount,
    redisNodeType: matching('redisNodeType', /^cache\.[a-z0-9-]+\.[a-z0-9]+$/, 'an ElastiCache node type such as cache.t4g.small') ?? 'cache.t4g.small',
  };
}
