// The load balancer's security group (lib/load-balancer-access.ts) in a stack of its own, synthesized as the CDK
// app synthesizes it (environment-agnostic): only CloudFront's origin-facing prefix list, only the listener's port.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { afterAll, describe, expect, it } from 'vitest';
import { CLOUDFRONT_ORIGIN_FACING_PREFIX_LISTS, LoadBalancerAccess } from '../lib/load-balancer-access.js';
import type { Settings } from '../lib/settings.js';

const scratch = mkdtempSync(join(tmpdir(), 'dems-cdk-alb-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function synthesize(settings: Pick<Settings, 'albProtocol' | 'cloudFrontPrefixListId'>) {
  const stack = new Stack(new App({ outdir: mkdtempSync(join(scratch, 'cdk.out-')) }), 'Alb');
  const access = new LoadBalancerAccess(stack, 'LoadBalancer', { vpc: new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 0 }), settings });
  const template = Template.fromStack(stack).toJSON() as { Resources: Record<string, { Type: string; Properties: any }>; Mappings?: any; Rules?: any };
  const [group, ...others] = Object.entries(template.Resources).filter(([, r]) => r.Type === 'AWS::EC2::SecurityGroup');
  expect(others, 'one security group').toEqual([]);
  expect(stack.resolve(access.securityGroup.securityGroupId)).toEqual({ 'Fn::GetAtt': [group![0], 'GroupId'] });
  // Every way in: rules inside the group and rules of their own (CDK writes a prefix-list rule as one of those).
  const separate = Object.values(template.Resources).filter((r) => r.Type === 'AWS::EC2::SecurityGroupIngress');
  for (const r of separate) expect(r.Properties.GroupId).toEqual({ 'Fn::GetAtt': [group![0], 'GroupId'] });
  const ingress = [...(group![1].Properties.SecurityGroupIngress ?? []), ...separate.map(({ Properties: { GroupId: _, ...rule } }) => rule)];
  return { template, ingress };
}

describe("the load balancer's security group", () => {
  it('admits port 80 from the CloudFront prefix list alone while CloudFront reaches the ALB over HTTP', () => {
    const { ingress } = synthesize({ albProtocol: 'http', cloudFrontPrefixListId: 'pl-0123abcd' });
    expect(ingress).toEqual([{ IpProtocol: 'tcp', FromPort: 80, ToPort: 80, SourcePrefixListId: 'pl-0123abcd', Description: 'CloudFront origin-facing servers' }]);
  });

  it('admits port 443 instead with HTTPS (one port: the list counts as 55 of the 60 rules a group may hold)', () => {
    const { ingress } = synthesize({ albProtocol: 'https', cloudFrontPrefixListId: 'pl-0123456789abcdef0' });
    expect(ingress).toEqual([expect.objectContaining({ IpProtocol: 'tcp', FromPort: 443, ToPort: 443, SourcePrefixListId: 'pl-0123456789abcdef0' })]);
  });

  it('uses the id AWS published for the region it is deployed to, and stops in a region without one, saying what to set', () => {
    const { template, ingress } = synthesize({ albProtocol: 'http', cloudFrontPrefixListId: null });
    expect(ingress).toHaveLength(1);
    const [rule] = ingress;
    expect(Object.keys(rule).sort()).toEqual(['Description', 'FromPort', 'IpProtocol', 'SourcePrefixListId', 'ToPort']);
    const [mapName, region, key] = rule.SourcePrefixListId['Fn::FindInMap'];
    expect(region).toEqual({ Ref: 'AWS::Region' });
    const mapping = template.Mappings[mapName] as Record<string, Record<string, string>>;
    expect(Object.fromEntries(Object.entries(mapping).map(([r, ids]) => [r, ids[key]]))).toEqual(CLOUDFRONT_ORIGIN_FACING_PREFIX_LISTS);

    const guard = Object.values(template.Rules as Record<string, { Assertions: { Assert: any; AssertDescription: string }[] }>).find((r) =>
      r.Assertions.some((a) => a.AssertDescription.includes('cloudFrontPrefixListId')),
    );
    const [assertion] = guard!.Assertions;
    expect(assertion!.Assert).toEqual({ 'Fn::Contains': [Object.keys(mapping), { Ref: 'AWS::Region' }] });
    expect(assertion!.AssertDescription).toMatch(
      /^The id of CloudFront's origin-facing prefix list is not known for this region: deploy with -c cloudFrontPrefixListId=<id> \(aws ec2 describe-managed-prefix-lists/,
    );
  });

  it('asks nothing of the region when the id is given', () => {
    const { template } = synthesize({ albProtocol: 'http', cloudFrontPrefixListId: 'pl-0123abcd' });
    expect(template.Mappings ?? {}).toEqual({});
    expect(JSON.stringify(template.Rules ?? {})).not.toContain('cloudFrontPrefixListId');
  });

  it('knows each published id as a prefix list id, once', () => {
    const ids = Object.values(CLOUDFRONT_ORIGIN_FACING_PREFIX_LISTS);
    for (const id of ids) expect(id).toMatch(/^pl-[0-9a-f]{8}$/);
    expect(new Set(ids).size).toBe(ids.length);
    for (const region of Object.keys(CLOUDFRONT_ORIGIN_FACING_PREFIX_LISTS)) expect(region).toMatch(/^[a-z]{2}-[a-z]+-\d$/);
  });
});
