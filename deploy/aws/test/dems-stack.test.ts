// Assertions on the synthesized CloudFormation of the CDK app (aws-cdk-lib/assertions): the security-relevant
// properties (encryption, public access, TLS, least privilege) and the agreement of the DynamoDB tables with
// the services' own table definitions. Synthesized twice per run (with and without the load balancer known).
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';
import { App } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IndexSpec, TableSpec } from '@dems/kit/dynamodb';
import { DemsStack } from '../lib/dems-stack.js';
import { BANNER_S3_ACTIONS, BANNER_STORE_USE, DYNAMODB_ACTIONS, SERVICES, type BannerMethod, type Service } from '../lib/pod-roles.js';
import { readSettings, type ContextKey } from '../lib/settings.js';
import { SPA_ROUTING_SOURCE } from '../lib/spa-routing.js';
import { DATA_SERVICES, serviceTableSpecs, type DataService } from '../lib/tables.js';

const ROOT = new URL('../../../', import.meta.url);
const ALB = 'k8s-dems-gateway-0123456789.eu-west-1.elb.amazonaws.com';
const CERT = 'arn:aws:acm:us-east-1:123456789012:certificate/0b3c8c1e-8d2f-4e5a-9a61-2f7d1c3b4a5e';
const ADMIN = 'arn:aws:iam::123456789012:role/Admin';

// AWS-managed CloudFront policies (their ids are fixed by AWS).
const CACHING_DISABLED = '4135ea2d-6df8-44a3-9df3-4b5a84be39ad';
const ALL_VIEWER_EXCEPT_HOST_HEADER = 'b689b0a8-53d0-40ab-baf2-68738e2966ac';

const scratch = mkdtempSync(join(tmpdir(), 'dems-cdk-assertions-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** The stack as `cdk synth` builds it: cdk.json's context (feature flags) plus the given settings. */
function synthesize(settings: Partial<Record<ContextKey, string>>): [DemsStack, Template] {
  const cdkJson = JSON.parse(readFileSync(new URL('../cdk.json', import.meta.url), 'utf8')) as { context: Record<string, unknown> };
  const app = new App({ outdir: mkdtempSync(join(scratch, 'cdk.out-')), context: { ...cdkJson.context, ...settings } });
  const stack = new DemsStack(
    app,
    'Dems',
    readSettings((key) => app.node.tryGetContext(key)),
  );
  return [stack, Template.fromStack(stack)];
}

type Resource = { Type: string; Properties: any; DeletionPolicy?: string };
const ofType = (t: Template, type: string): [string, Resource][] => Object.entries(t.findResources(type)) as [string, Resource][];
const statements = (doc: any): any[] => doc.Statement;
const list = <T>(v: T | T[]): T[] => (Array.isArray(v) ? v : [v]);

/** With everything known (load balancer, domain, admin), and as on the first deployment (nothing given). */
let full: Template, fullStack: DemsStack;
let first: Template, firstStack: DemsStack;
beforeAll(() => {
  [fullStack, full] = synthesize({ albDomainName: ALB, domainName: 'tickets.example.com', certificateArn: CERT, adminPrincipalArn: ADMIN });
  [firstStack, first] = synthesize({});
}, 120_000);

describe('DynamoDB tables', () => {
  const specs = Object.values(serviceTableSpecs()).flat();
  const byName = () => new Map(ofType(full, 'AWS::DynamoDB::Table').map(([, r]) => [r.Properties.TableName as string, r]));

  it('are exactly the tables the services define, with their keys and indexes', () => {
    const tables = byName();
    expect([...tables.keys()].sort()).toEqual(specs.map((s) => s.name).sort());
    const key = (pk: TableSpec['pk'], sk?: TableSpec['sk']) => [{ AttributeName: pk.name, KeyType: 'HASH' }, ...(sk ? [{ AttributeName: sk.name, KeyType: 'RANGE' }] : [])];
    for (const spec of specs) {
      const p = tables.get(spec.name)!.Properties;
      expect(p.KeySchema, spec.name).toEqual(key(spec.pk, spec.sk));
      const projection = (p: IndexSpec['projection']) => (typeof p === 'object' ? { ProjectionType: 'INCLUDE', NonKeyAttributes: p.include } : { ProjectionType: p ?? 'ALL' });
      const gsis = (spec.indexes ?? []).map((i) => ({ IndexName: i.name, KeySchema: key(i.pk, i.sk), Projection: projection(i.projection) }));
      expect(p.GlobalSecondaryIndexes ?? [], spec.name).toEqual(gsis);
      const attributes = new Map([spec.pk, spec.sk, ...(spec.indexes ?? []).flatMap((i) => [i.pk, i.sk])].filter((a) => a !== undefined).map((a) => [a.name, a.type]));
      expect(new Map(p.AttributeDefinitions.map((a: any) => [a.AttributeName, a.AttributeType])), spec.name).toEqual(attributes);
    }
  });

  it('expire items by the time to live their specs name (numeric ExpiresAt), and only those', () => {
    const tables = byName();
    const expiring = specs.filter((s) => s.ttl);
    // Every service's messaging table at least: inbox records expire.
    for (const service of DATA_SERVICES) expect(expiring.map((s) => s.name)).toContain(`${service.charAt(0).toUpperCase()}${service.slice(1)}Messages`);
    for (const spec of specs) {
      const ttl = tables.get(spec.name)!.Properties.TimeToLiveSpecification;
      if (spec.ttl) expect(ttl, spec.name).toEqual({ AttributeName: spec.ttl, Enabled: true });
      else expect(ttl, spec.name).toBeUndefined();
    }
  });

  it("keep the seed's names and keys (docs/dynamodb.md)", () => {
    const tables = byName();
    expect(tables.get('Events')!.Properties.KeySchema).toEqual([{ AttributeName: 'EventID', KeyType: 'HASH' }]);
    expect(tables.get('Tickets')!.Properties.KeySchema).toEqual([{ AttributeName: 'TicketID', KeyType: 'HASH' }]);
    expect(tables.get('Notifications')!.Properties.KeySchema).toEqual([
      { AttributeName: 'UserID', KeyType: 'HASH' },
      { AttributeName: 'Timestamp', KeyType: 'RANGE' },
    ]);
    expect(tables.get('Notifications')!.Properties.AttributeDefinitions).toContainEqual({ AttributeName: 'Timestamp', AttributeType: 'N' });
  });

  it('are on-demand, encrypted with KMS, recoverable to any second, protected from deletion and kept', () => {
    for (const [id, table] of ofType(full, 'AWS::DynamoDB::Table')) {
      expect(table.Properties.BillingMode, id).toBe('PAY_PER_REQUEST');
      expect(table.Properties.SSESpecification, id).toEqual({ SSEEnabled: true });
      expect(table.Properties.PointInTimeRecoverySpecification, id).toEqual({ PointInTimeRecoveryEnabled: true });
      expect(table.Properties.DeletionProtectionEnabled, id).toBe(true);
      expect(table.DeletionPolicy, id).toBe('Retain');
    }
  });
});

describe('buckets', () => {
  it('block all public access, are encrypted, owner-enforced and kept', () => {
    const buckets = ofType(full, 'AWS::S3::Bucket');
    expect(buckets).toHaveLength(2);
    for (const [id, bucket] of buckets) {
      expect(bucket.Properties.PublicAccessBlockConfiguration, id).toEqual({ BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true });
      expect(bucket.Properties.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault.SSEAlgorithm, id).toBe('AES256');
      expect(bucket.Properties.OwnershipControls.Rules, id).toEqual([{ ObjectOwnership: 'BucketOwnerEnforced' }]);
      expect(bucket.DeletionPolicy, id).toBe('Retain');
    }
  });

  it('refuse every request without TLS 1.2 and let only this distribution read, through origin access control', () => {
    const distribution = Object.keys(full.findResources('AWS::CloudFront::Distribution'))[0]!;
    const reads = new Map<string, unknown>();
    for (const [id, policy] of ofType(full, 'AWS::S3::BucketPolicy')) {
      const s = statements(policy.Properties.PolicyDocument);
      expect(s, id).toContainEqual(expect.objectContaining({ Effect: 'Deny', Action: 's3:*', Principal: { AWS: '*' }, Condition: { Bool: { 'aws:SecureTransport': 'false' } } }));
      expect(s, id).toContainEqual(expect.objectContaining({ Effect: 'Deny', Action: 's3:*', Condition: { NumericLessThan: { 's3:TlsVersion': 1.2 } } }));
      const allows = s.filter((x) => x.Effect === 'Allow');
      expect(allows, id).toHaveLength(1);
      expect(allows[0].Principal, id).toEqual({ Service: 'cloudfront.amazonaws.com' });
      expect(allows[0].Action, id).toBe('s3:GetObject');
      expect(JSON.stringify(allows[0].Condition.StringEquals['AWS:SourceArn']), id).toContain(`{"Ref":"${distribution}"}`);
      reads.set(policy.Properties.Bucket.Ref, allows[0].Resource['Fn::Join'][1][1]);
    }
    const bannerBucket = Object.keys(full.findResources('AWS::S3::Bucket')).find((id) => id.includes('Banner'))!;
    const webBucket = Object.keys(full.findResources('AWS::S3::Bucket')).find((id) => id.includes('Web'))!;
    expect(reads.get(bannerBucket)).toBe('/banners/*');
    expect(reads.get(webBucket)).toBe('/*');
  });
});

describe('CloudFront', () => {
  const config = (t: Template) => ofType(t, 'AWS::CloudFront::Distribution')[0]![1].Properties.DistributionConfig;
  const behaviours = (t: Template): any[] => [config(t).DefaultCacheBehavior, ...(config(t).CacheBehaviors ?? [])];
  const byPath = (t: Template, path: string) => config(t).CacheBehaviors.find((b: any) => b.PathPattern === path);
  const origin = (t: Template, id: string) => config(t).Origins.find((o: any) => o.Id === id);

  it('serves every path over HTTPS only (redirect for pages and banners, refusal for the API)', () => {
    for (const b of behaviours(full)) expect(['redirect-to-https', 'https-only'], b.PathPattern ?? 'default').toContain(b.ViewerProtocolPolicy);
    expect(byPath(full, '/api/*').ViewerProtocolPolicy).toBe('https-only');
    expect(byPath(full, '/socket.io/*').ViewerProtocolPolicy).toBe('https-only');
    expect(config(full).ViewerCertificate).toEqual({ AcmCertificateArn: CERT, MinimumProtocolVersion: 'TLSv1.2_2021', SslSupportMethod: 'sni-only' });
    expect(config(full).Aliases).toEqual(['tickets.example.com']);
  });

  it('reaches both buckets through origin access control, never a legacy origin access identity', () => {
    expect(full.findResources('AWS::CloudFront::CloudFrontOriginAccessIdentity')).toEqual({});
    full.hasResourceProperties('AWS::CloudFront::OriginAccessControl', {
      OriginAccessControlConfig: { OriginAccessControlOriginType: 's3', SigningBehavior: 'always', SigningProtocol: 'sigv4' },
    });
    const s3Origins = config(full).Origins.filter((o: any) => o.S3OriginConfig);
    expect(s3Origins).toHaveLength(2);
    for (const o of s3Origins) {
      expect(o.OriginAccessControlId).toEqual({ 'Fn::GetAtt': [expect.stringContaining('OriginAccessControl'), 'Id'] });
      expect(o.S3OriginConfig.OriginAccessIdentity).toBe('');
    }
  });

  it('sends /api/* and /socket.io/* whole and uncached to the load balancer', () => {
    for (const path of ['/api/*', '/socket.io/*']) {
      const b = byPath(full, path);
      expect(b.CachePolicyId, path).toBe(CACHING_DISABLED);
      expect(b.OriginRequestPolicyId, path).toBe(ALL_VIEWER_EXCEPT_HOST_HEADER);
      expect([...b.AllowedMethods].sort(), path).toEqual(['DELETE', 'GET', 'HEAD', 'OPTIONS', 'PATCH', 'POST', 'PUT']);
      const alb = origin(full, b.TargetOriginId);
      expect(alb.DomainName, path).toBe(ALB);
      // The ALB's own AWS name has no certificate CloudFront could verify.
      expect(alb.CustomOriginConfig.OriginProtocolPolicy, path).toBe('http-only');
    }
  });

  it('serves /banners/* from the banner bucket, cached for a year, and the rest from the web bucket', () => {
    const banners = byPath(full, '/banners/*');
    expect(origin(full, banners.TargetOriginId).DomainName['Fn::GetAtt'][0]).toContain('BannerBucket');
    const [, policy] = ofType(full, 'AWS::CloudFront::CachePolicy').find(([id]) => id === banners.CachePolicyId.Ref)!;
    expect(policy.Properties.CachePolicyConfig.DefaultTTL).toBe(365 * 86400);
    expect(policy.Properties.CachePolicyConfig.MinTTL).toBeGreaterThanOrEqual(86400);
    expect(origin(full, config(full).DefaultCacheBehavior.TargetOriginId).DomainName['Fn::GetAtt'][0]).toContain('WebBucket');
    expect(config(full).DefaultRootObject).toBe('index.html');
  });

  it('routes the app with a function on the web behaviour, not with error pages that would rewrite API errors', () => {
    expect(config(full).CustomErrorResponses).toBeUndefined();
    const [association] = config(full).DefaultCacheBehavior.FunctionAssociations;
    expect(association.EventType).toBe('viewer-request');
    for (const b of config(full).CacheBehaviors) expect(b.FunctionAssociations, b.PathPattern).toBeUndefined();
    full.hasResourceProperties('AWS::CloudFront::Function', { FunctionCode: SPA_ROUTING_SOURCE, FunctionConfig: Match.objectLike({ Runtime: 'cloudfront-js-2.0' }) });
  });

  it.each([
    ['/', '/index.html'],
    ['/events/evt_8f2k', '/index.html'],
    ['/organizer/events/evt_8f2k/edit', '/index.html'],
    ['/index.html', '/index.html'],
    ['/assets/index-3f2a9c.js', '/assets/index-3f2a9c.js'],
    ['/favicon.svg', '/favicon.svg'],
    ['/api/events', '/api/events'],
    ['/socket.io/', '/socket.io/'],
  ])("the routing function sends %s to %s (app routes get the app's shell; files and API paths pass)", (uri, expected) => {
    const request = runInNewContext(`${SPA_ROUTING_SOURCE}; handler(event)`, { event: { request: { uri, method: 'GET' } } }) as { uri: string };
    expect(request.uri).toBe(expected);
  });

  it('has no API behaviours (and says so) until the load balancer is known', () => {
    Annotations.fromStack(firstStack).hasWarning('/Dems', Match.stringLikeRegexp('deploy again with -c albDomainName='));
    Annotations.fromStack(fullStack).hasNoWarning('/Dems', Match.stringLikeRegexp('albDomainName'));
    expect(config(first).CacheBehaviors.map((b: any) => b.PathPattern)).toEqual(['/banners/*']);
    expect(config(first).Origins.filter((o: any) => o.CustomOriginConfig)).toEqual([]);
    expect(config(first).Aliases).toBeUndefined();
  });
});

describe('pod roles', () => {
  /** Role logical id of each service, found through its Pod Identity association (namespace dems, dems-<service>). */
  const roleIds = (): Record<Service, string> => {
    const found: Record<string, string> = {};
    for (const [, a] of ofType(full, 'AWS::EKS::PodIdentityAssociation')) {
      if (a.Properties.Namespace !== 'dems') continue;
      found[String(a.Properties.ServiceAccount).replace(/^dems-/, '')] = a.Properties.RoleArn['Fn::GetAtt'][0];
    }
    return found as Record<Service, string>;
  };
  const policyOf = (roleId: string): any[] =>
    ofType(full, 'AWS::IAM::Policy')
      .filter(([, p]) => p.Properties.Roles.some((r: any) => r.Ref === roleId))
      .flatMap(([, p]) => statements(p.Properties.PolicyDocument));
  const tableIds = () => new Map(ofType(full, 'AWS::DynamoDB::Table').map(([id, r]) => [id, r.Properties.TableName as string]));
  /** A policy resource rendered as `Table` or `Table/index/Name` (from its GetAtt/Join), or its JSON for anything else. */
  const describeResource = (resource: any): string => {
    const names = tableIds();
    if (resource['Fn::GetAtt']?.[1] === 'Arn' && names.has(resource['Fn::GetAtt'][0])) return names.get(resource['Fn::GetAtt'][0])!;
    const parts = resource['Fn::Join']?.[1];
    if (parts?.length === 2 && names.has(parts[0]['Fn::GetAtt']?.[0])) return `${names.get(parts[0]['Fn::GetAtt'][0])}${parts[1]}`;
    return JSON.stringify(resource);
  };

  it('exist for every service, bound to its service account in namespace dems, assumable by EKS Pod Identity only', () => {
    const ids = roleIds();
    expect(Object.keys(ids).sort()).toEqual([...SERVICES].sort());
    for (const service of SERVICES) {
      const role = full.toJSON().Resources[ids[service]];
      expect(role.Type).toBe('AWS::IAM::Role');
      expect(role.Properties.AssumeRolePolicyDocument.Statement).toEqual([
        { Effect: 'Allow', Principal: { Service: 'pods.eks.amazonaws.com' }, Action: ['sts:AssumeRole', 'sts:TagSession'] },
      ]);
      expect(role.Properties.ManagedPolicyArns, service).toBeUndefined();
    }
  });

  it('have no wildcard action, and no wildcard resource but object keys under banners/', () => {
    for (const [service, id] of Object.entries(roleIds())) {
      for (const s of policyOf(id)) {
        for (const action of list(s.Action)) expect(action, service).not.toMatch(/\*/);
        expect(s.Effect, service).toBe('Allow');
        for (const r of list(s.Resource)) {
          const text = typeof r === 'string' ? r : JSON.stringify(r);
          expect(text, service).not.toBe('*');
          if (text.includes('*')) expect(text, service).toMatch(/"\/banners\/\*"\]\]\}$/);
        }
      }
    }
  });

  it("reach only the service's own tables and their indexes, with the actions its store uses", () => {
    const specs = serviceTableSpecs();
    const ids = roleIds();
    for (const service of SERVICES) {
      const dynamo = policyOf(ids[service]).filter((s) => list(s.Action).some((a: string) => a.startsWith('dynamodb:')));
      const own = (specs as Partial<Record<Service, TableSpec[]>>)[service] ?? [];
      const tables = own.map((t) => t.name).sort();
      const indexes = own.flatMap((t) => (t.indexes ?? []).map((i) => `${t.name}/index/${i.name}`)).sort();
      const query = dynamo.filter((s) => list(s.Action).includes('dynamodb:Query'));
      const items = dynamo.filter((s) => !list(s.Action).includes('dynamodb:Query'));
      if (own.length === 0) {
        expect(dynamo, service).toEqual([]);
        continue;
      }
      expect(
        query.flatMap((s) => list(s.Action)),
        service,
      ).toEqual(['dynamodb:Query']);
      expect(query.flatMap((s) => list(s.Resource).map(describeResource)).sort(), service).toEqual([...tables, ...indexes].sort());
      expect(items.flatMap((s) => list(s.Action)).sort(), service).toEqual([...DYNAMODB_ACTIONS[service as DataService]].sort());
      expect(items.flatMap((s) => list(s.Resource).map(describeResource)).sort(), service).toEqual(tables);
    }
  });

  it('let events write and remove banners and the gateway read them; no one else touches S3', () => {
    const ids = roleIds();
    const s3 = (service: Service) => policyOf(ids[service]).filter((s) => list(s.Action).some((a: string) => a.startsWith('s3:')));
    const bucket = Object.keys(full.findResources('AWS::S3::Bucket')).find((id) => id.includes('Banner'))!;
    const objects = { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucket, 'Arn'] }, '/banners/*']] };
    expect(s3('events')).toEqual([expect.objectContaining({ Action: ['s3:DeleteObject', 's3:PutObject'], Resource: objects })]);
    expect(s3('gateway')).toEqual([
      expect.objectContaining({ Action: 's3:GetObject', Resource: objects }),
      expect.objectContaining({ Action: 's3:ListBucket', Resource: { 'Fn::GetAtt': [bucket, 'Arn'] } }),
    ]);
    expect(s3('ticketing')).toEqual([]);
    expect(s3('engagement')).toEqual([]);
  });

  it("grant the S3 actions the banner adapter's methods send, and each service calls only the methods it is granted", () => {
    const adapter = readFileSync(new URL('packages/kit/src/banners/s3.ts', ROOT), 'utf8');
    const iamAction: Record<string, string> = { PutObject: 's3:PutObject', GetObject: 's3:GetObject', DeleteObjects: 's3:DeleteObject', ListObjectsV2: 's3:ListBucket' };
    const methods = [...adapter.matchAll(/\n {2}async (\w+)\([^]*?\n {2}\}\n/g)].map((m) => [m[1]!, [...m[0].matchAll(/new (\w+)Command\(/g)].map((c) => c[1]!)] as const);
    expect(methods.map(([name]) => name).sort()).toEqual(['close', ...Object.keys(BANNER_S3_ACTIONS)].sort());
    for (const [method, commands] of methods) {
      if (method === 'close') continue;
      for (const command of commands) expect(iamAction, `s3.ts ${method}() sends ${command}Command: add its IAM action to BANNER_S3_ACTIONS`).toHaveProperty(command);
      const granted = BANNER_S3_ACTIONS[method as BannerMethod];
      // Everything the method sends, plus ListBucket for get(): the reason is in BANNER_S3_ACTIONS.
      expect([...granted].sort(), method).toEqual([...new Set([...commands.map((c) => iamAction[c]!), ...(method === 'get' ? ['s3:ListBucket'] : [])])].sort());
    }
    const sources = (dir: string): string[] =>
      readdirSync(new URL(dir, ROOT), { recursive: true, encoding: 'utf8' })
        .filter((f) => f.endsWith('.ts'))
        .map((f) => readFileSync(new URL(`${dir}/${f}`, ROOT), 'utf8'));
    for (const service of SERVICES) {
      const calls = new Set(sources(`services/${service}/src`).flatMap((code) => [...code.matchAll(/\b\w*[bB]anners?(?:Store)?\??\.(put|get|delete|list)\(/g)].map((m) => m[1]!)));
      const granted = BANNER_STORE_USE[service] ?? [];
      for (const method of calls) expect(granted, `${service} calls the banner store's ${method}(): grant it in BANNER_STORE_USE`).toContain(method);
      // No unused grant: a service that calls the store uses every method it is granted. (Events must call it.)
      if (service === 'events' || calls.size > 0) expect([...calls].sort(), service).toEqual([...granted].sort());
    }
  });

  it("grant exactly the DynamoDB actions the stores' code sends", () => {
    // Development-only table bootstrap (DYNAMODB_CREATE_TABLES): on AWS the tables are this app's.
    const bootstrap = new Set(['CreateTable', 'DescribeTable', 'UpdateTable', 'DescribeTimeToLive', 'UpdateTimeToLive']);
    const commandActions: Record<string, string> = { Get: 'GetItem', Put: 'PutItem', Update: 'UpdateItem', Delete: 'DeleteItem', BatchGet: 'BatchGetItem', Query: 'Query' };
    const transactionItems: Record<string, string> = { Put: 'PutItem', Update: 'UpdateItem', Delete: 'DeleteItem', ConditionCheck: 'ConditionCheckItem' };
    const used = (file: string): Set<string> => {
      const source = readFileSync(new URL(file, ROOT), 'utf8');
      const actions = new Set<string>();
      for (const [, name] of source.matchAll(/new (\w+?)Command\(/g)) {
        if (bootstrap.has(name!) || name === 'TransactWrite') continue;
        expect(commandActions, `${file} sends ${name}Command: add its IAM action to the role (lib/pod-roles.ts) and here`).toHaveProperty(name!);
        actions.add(`dynamodb:${commandActions[name!]}`);
      }
      for (const [, kind] of source.matchAll(/\b(Put|Update|Delete|ConditionCheck): \{/g)) actions.add(`dynamodb:${transactionItems[kind!]}`);
      return actions;
    };
    const shared = new Set(
      readdirSync(new URL('packages/kit/src/dynamodb', ROOT))
        .filter((f) => f.endsWith('.ts'))
        .flatMap((f) => [...used(`packages/kit/src/dynamodb/${f}`)]),
    );
    for (const service of DATA_SERVICES) {
      const needed = new Set([...shared, ...used(`services/${service}/src/store/dynamodb.ts`)]);
      needed.delete('dynamodb:Query');
      expect([...needed].sort(), service).toEqual([...DYNAMODB_ACTIONS[service]].sort());
    }
  });
});

describe('Redis, images and the cluster', () => {
  it('Redis requires TLS, is encrypted at rest, takes a generated AUTH token and admits only the cluster', () => {
    const [[, redis]] = ofType(full, 'AWS::ElastiCache::ReplicationGroup') as [[string, Resource]];
    expect(redis.Properties).toMatchObject({ TransitEncryptionEnabled: true, TransitEncryptionMode: 'required', AtRestEncryptionEnabled: true, MultiAZEnabled: true });
    expect(JSON.stringify(redis.Properties.AuthToken)).toMatch(/^\{"Fn::Join":\["",\["\{\{resolve:secretsmanager:",\{"Ref":"RedisAuthToken\w+"\}/);
    const [groupId] = redis.Properties.SecurityGroupIds[0]['Fn::GetAtt'];
    const group = full.toJSON().Resources[groupId];
    expect(group.Properties.SecurityGroupIngress).toEqual([
      expect.objectContaining({
        IpProtocol: 'tcp',
        FromPort: 6379,
        ToPort: 6379,
        SourceSecurityGroupId: { 'Fn::GetAtt': [expect.stringMatching(/^ClusterEks/), 'ClusterSecurityGroupId'] },
      }),
    ]);
  });

  it('the image repository is dems, scans on push, keeps tags immutable and expires old images', () => {
    full.hasResourceProperties('AWS::ECR::Repository', {
      RepositoryName: 'dems',
      ImageScanningConfiguration: { ScanOnPush: true },
      ImageTagMutability: 'IMMUTABLE',
      LifecyclePolicy: { LifecyclePolicyText: Match.stringLikeRegexp('"tagStatus":"untagged"') },
    });
  });

  it('EKS encrypts secrets with its own key, runs Pod Identity and network policies, and admits the given admin', () => {
    full.hasResourceProperties('AWS::EKS::Cluster', {
      Name: 'dems',
      EncryptionConfig: [{ Provider: { KeyArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('SecretsKey'), 'Arn'] } }, Resources: ['secrets'] }],
      Logging: { ClusterLogging: { EnabledTypes: Match.arrayWith([{ Type: 'audit' }]) } },
    });
    full.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    full.hasResourceProperties('AWS::EKS::Addon', { AddonName: 'eks-pod-identity-agent' });
    full.hasResourceProperties('AWS::EKS::Addon', { AddonName: 'vpc-cni', ConfigurationValues: JSON.stringify({ enableNetworkPolicy: 'true' }) });
    full.hasResourceProperties('AWS::EKS::Nodegroup', { AmiType: 'AL2023_x86_64_STANDARD', ScalingConfig: { MinSize: 2, DesiredSize: 2, MaxSize: 4 } });
    const [[, admin]] = ofType(full, 'AWS::EKS::AccessEntry') as [[string, Resource]];
    expect(admin.Properties.PrincipalArn).toBe(ADMIN);
    expect(admin.Properties.AccessPolicies).toEqual([{ AccessScope: { Type: 'cluster' }, PolicyArn: expect.anything() }]);
    expect(JSON.stringify(admin.Properties.AccessPolicies[0].PolicyArn)).toMatch(/:eks::aws:cluster-access-policy\/AmazonEKSClusterAdminPolicy"/);
    full.hasResourceProperties('AWS::EKS::PodIdentityAssociation', { Namespace: 'kube-system', ServiceAccount: 'aws-load-balancer-controller' });
    expect(first.findResources('AWS::EKS::AccessEntry')).toEqual({});
  });

  it('outputs what the Kubernetes overlay and deploy:web need', () => {
    const outputs = Object.keys(full.toJSON().Outputs);
    for (const name of [
      'Region',
      'TableEvents',
      'TableTickets',
      'TableNotifications',
      'WebBucketName',
      'BannerBucketName',
      'DistributionId',
      'DistributionDomainName',
      'RepositoryUri',
      'ClusterName',
      'VpcId',
      'AlbSecurityGroupId',
      'RedisEndpoint',
      'RedisAuthTokenSecretArn',
    ]) {
      expect(outputs).toContain(name);
    }
  });

  it("gives the Ingress's ALB a security group in the VPC that only CloudFront's origin-facing servers get through, on the listener's port", () => {
    for (const t of [full, first]) {
      const { Value } = t.toJSON().Outputs.AlbSecurityGroupId;
      const [groupId, attribute] = Value['Fn::GetAtt'];
      expect(attribute).toBe('GroupId');
      const group = t.toJSON().Resources[groupId];
      expect(group.Type).toBe('AWS::EC2::SecurityGroup');
      expect(group.Properties.VpcId).toEqual({ Ref: expect.stringMatching(/^ClusterVpc/) });
      expect(group.Properties.SecurityGroupIngress).toBeUndefined();
      const ingress = ofType(t, 'AWS::EC2::SecurityGroupIngress').filter(([, r]) => r.Properties.GroupId['Fn::GetAtt']?.[0] === groupId);
      expect(ingress.map(([, r]) => [r.Properties.FromPort, r.Properties.ToPort, Object.keys(r.Properties.SourcePrefixListId)])).toEqual([[80, 80, ['Fn::FindInMap']]]);
    }
  });
});
