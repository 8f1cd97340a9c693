import { describe, expect, it } from 'vitest';
import { readSettings, SettingsError, type ContextKey } from '../lib/settings.js';

const from = (values: Partial<Record<ContextKey, unknown>>) => readSettings((key) => values[key]);
const ALB = 'k8s-dems-gateway-0123456789.eu-west-1.elb.amazonaws.com';
const CERT = 'arn:aws:acm:us-east-1:123456789012:certificate/0b3c8c1e-8d2f-4e5a-9a61-2f7d1c3b4a5e';

describe('CDK context settings', () => {
  it('has a default for everything a first deployment does not know yet', () => {
    expect(from({})).toEqual({
      albDomainName: null,
      albProtocol: 'http',
      cloudFrontPrefixListId: null,
      domain: null,
      adminPrincipalArn: null,
      kubernetesVersion: '1.35',
      nodeInstanceType: 'm7i.large',
      nodeCount: 2,
      redisNodeType: 'cache.t4g.small',
    });
  });

  it("reaches the load balancer's AWS name over HTTP and a name of the user's over HTTPS", () => {
    expect(from({ albDomainName: ALB }).albProtocol).toBe('http');
    expect(from({ albDomainName: 'origin.tickets.example.com' }).albProtocol).toBe('https');
    expect(from({ albDomainName: 'origin.tickets.example.com', albProtocol: 'http' }).albProtocol).toBe('http');
  });

  it("takes the id of CloudFront's origin-facing prefix list for a region the app has none for", () => {
    expect(from({ cloudFrontPrefixListId: 'pl-0123abcd' }).cloudFrontPrefixListId).toBe('pl-0123abcd');
    expect(from({ cloudFrontPrefixListId: 'pl-0123456789abcdef0' }).cloudFrontPrefixListId).toBe('pl-0123456789abcdef0');
  });

  it('takes numbers from the command line as strings', () => {
    expect(from({ nodeCount: '3' }).nodeCount).toBe(3);
    expect(from({ nodeCount: 4 }).nodeCount).toBe(4);
  });

  it('takes a domain with its us-east-1 certificate, and an admin principal', () => {
    const s = from({ domainName: 'tickets.example.com', certificateArn: CERT, adminPrincipalArn: 'arn:aws:iam::123456789012:role/Admin' });
    expect(s.domain).toEqual({ name: 'tickets.example.com', certificateArn: CERT });
    expect(s.adminPrincipalArn).toBe('arn:aws:iam::123456789012:role/Admin');
  });

  it.each<[Partial<Record<ContextKey, unknown>>, ContextKey]>([
    [{ albDomainName: `https://${ALB}` }, 'albDomainName'],
    [{ albDomainName: `${ALB}/api` }, 'albDomainName'],
    [{ albDomainName: ALB, albProtocol: 'https' }, 'albProtocol'],
    [{ albProtocol: 'ftp' }, 'albProtocol'],
    [{ cloudFrontPrefixListId: 'sg-0123abcd' }, 'cloudFrontPrefixListId'],
    [{ cloudFrontPrefixListId: 'pl-0123ABCD' }, 'cloudFrontPrefixListId'],
    [{ cloudFrontPrefixListId: 'com.amazonaws.global.cloudfront.origin-facing' }, 'cloudFrontPrefixListId'],
    [{ domainName: 'tickets.example.com' }, 'certificateArn'],
    [{ certificateArn: CERT }, 'domainName'],
    [{ domainName: 'tickets.example.com', certificateArn: CERT.replace('us-east-1', 'eu-west-1') }, 'certificateArn'],
    [{ adminPrincipalArn: 'Admin' }, 'adminPrincipalArn'],
    [{ kubernetesVersion: '1.35.2' }, 'kubernetesVersion'],
    [{ nodeCount: '0' }, 'nodeCount'],
    [{ nodeCount: '2.5' }, 'nodeCount'],
    [{ nodeInstanceType: 'large' }, 'nodeInstanceType'],
    [{ redisNodeType: 't4g.small' }, 'redisNodeType'],
    [{ albDomainName: { host: ALB } }, 'albDomainName'],
  ])('refuses %j, naming %s', (values, key) => {
    let error: unknown;
    try {
      from(values);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(SettingsError);
    const message = (error as Error).message;
    expect(message).toContain(`"${key}"`);
    expect(message).toContain(`-c ${key}=`);
    expect(message).not.toContain('\n');
  });
});
