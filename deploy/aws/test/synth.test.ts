// The real `cdk synth` (the aws-cdk CLI running cdk.json's app command) works offline: no AWS account, no
// credentials, no lookups. It runs with a fresh HOME (no ~/.aws profiles), instance metadata off, and no
// version check or notices, so nothing leaves this machine.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const APP_DIR = fileURLToPath(new URL('..', import.meta.url));
const CDK = fileURLToPath(new URL('../../../node_modules/aws-cdk/bin/cdk', import.meta.url));
const ALB = 'k8s-dems-gateway-0123456789.eu-west-1.elb.amazonaws.com';

const scratch = mkdtempSync(join(tmpdir(), 'dems-cdk-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** Bundles app.mjs left behind: each run removes its own, on success and on a refused setting alike. */
const bundlesLeft = () => readdirSync(join(APP_DIR, 'dist')).filter((f) => /^dems-\d+\.mjs$/.test(f));

/** The environment of a machine with no AWS configuration at all. */
function offline(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!/^(AWS_|CDK_)/.test(key)) env[key] = value;
  return { ...env, HOME: join(scratch, 'home'), AWS_EC2_METADATA_DISABLED: 'true', CDK_DISABLE_VERSION_CHECK: 'true', CDK_DISABLE_CLI_TELEMETRY: 'true', ...extra };
}

describe('cdk synth', () => {
  it('synthesizes the stack offline into the given directory', () => {
    const out = join(scratch, 'cdk.out');
    const started = Date.now();
    const run = spawnSync(process.execPath, [CDK, 'synth', '--no-notices', '--no-version-reporting', '--no-lookups', '--quiet', '--output', out, '-c', `albDomainName=${ALB}`], {
      cwd: APP_DIR,
      env: offline(),
      encoding: 'utf8',
      timeout: 150_000,
    });
    expect(run.status, `${run.stdout}\n${run.stderr}`).toBe(0);
    console.log(`cdk synth took ${((Date.now() - started) / 1000).toFixed(1)} s`);

    const templatePath = join(out, 'Dems.template.json');
    expect(existsSync(templatePath)).toBe(true);
    const template = JSON.parse(readFileSync(templatePath, 'utf8')) as { Resources: Record<string, { Type: string; Properties: any }> };
    const resources = Object.values(template.Resources);
    const tableNames = resources.filter((r) => r.Type === 'AWS::DynamoDB::Table').map((r) => r.Properties.TableName);
    expect(tableNames).toEqual(expect.arrayContaining(['Events', 'Tickets', 'Notifications']));
    const distribution = resources.find((r) => r.Type === 'AWS::CloudFront::Distribution')!;
    expect(distribution.Properties.DistributionConfig.Origins.map((o: any) => o.DomainName)).toContain(ALB);
    expect(bundlesLeft()).toEqual([]);
  }, 180_000);

  it('stops on a bad setting with one line naming it', () => {
    const run = spawnSync(process.execPath, ['app.mjs'], {
      cwd: APP_DIR,
      // What the CLI hands the app for `-c domainName=… -c certificateArn=…`.
      env: offline({
        CDK_OUTDIR: join(scratch, 'bad'),
        CDK_CONTEXT_JSON: JSON.stringify({ domainName: 'tickets.example.com', certificateArn: 'arn:aws:acm:eu-west-1:123456789012:certificate/abc' }),
      }),
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(run.status).toBe(1);
    expect(run.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^✖ CDK context "certificateArn" must be an ACM certificate ARN in us-east-1/)]);
    expect(existsSync(join(scratch, 'bad', 'Dems.template.json'))).toBe(false);
    expect(bundlesLeft()).toEqual([]);
  }, 60_000);
});
