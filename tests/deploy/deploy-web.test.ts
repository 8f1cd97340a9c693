// `npm run deploy:web` run for real (a child process, the real AWS SDK) against a local S3 server (s3rver) and a
// fake CloudFront API: CloudFront cannot run here, so a small HTTP server on 127.0.0.1 answers CreateInvalidation
// and GetInvalidation the way CloudFront does and records what it was sent.
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteObjectsCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalS3, type LocalS3 } from '../setup/s3-server.js';

const DISTRIBUTION = 'E2FAKEDIST';
const SCRIPT = join(import.meta.dirname, '..', '..', 'scripts', 'deploy-web.mjs');

const IMMUTABLE = 'public, max-age=31536000, immutable';
/** A small build laid out as Vite lays out web/dist: hashed bundles in assets/, public files at the top. */
const BUILD: Record<string, { body: string; type: string; cache: string }> = {
  'assets/index-Ab3dE_9z.js': { body: 'console.log("app v1");', type: 'text/javascript; charset=utf-8', cache: IMMUTABLE },
  'assets/index-Qw-7yU2x.css': { body: 'body{margin:0}', type: 'text/css; charset=utf-8', cache: IMMUTABLE },
  'assets/inter-K9l0Mn1B.woff2': { body: 'wOF2 font bytes', type: 'font/woff2', cache: IMMUTABLE },
  'favicon.svg': { body: '<svg xmlns="http://www.w3.org/2000/svg"/>', type: 'image/svg+xml', cache: 'no-cache' },
  'robots.txt': { body: 'User-agent: *\n', type: 'text/plain; charset=utf-8', cache: 'no-cache' },
  'index.html': {
    body: '<!doctype html><script type="module" src="/assets/index-Ab3dE_9z.js"></script><link rel="stylesheet" href="/assets/index-Qw-7yU2x.css">',
    type: 'text/html; charset=utf-8',
    cache: 'no-cache',
  },
};

interface Recorded {
  method: string;
  url: string;
  body: string;
}

/** The fake CloudFront API: invalidations of DISTRIBUTION start "InProgress" and read back "Completed". */
/** The fake, on a port the OS picks (`url`). */
function startFakeCloudFront(): Promise<{ requests: Recorded[]; server: Server; url: string }> {
  const requests: Recorded[] = [];
  const xmlns = 'http://cloudfront.amazonaws.com/doc/2020-05-31/';
  let next = 1;
  const batches = new Map<string, string>();
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    req.on('end', () => {
      requests.push({ method: req.method ?? '', url: req.url ?? '', body });
      const match = /^\/2020-05-31\/distribution\/([^/]+)\/invalidation(?:\/([^/]+))?$/.exec(req.url ?? '');
      const answer = (status: number, xml: string, headers: Record<string, string> = {}) => {
        res.writeHead(status, { 'content-type': 'text/xml', 'x-amz-request-id': `req-${requests.length}`, ...headers });
        res.end(`<?xml version="1.0" encoding="UTF-8"?>\n${xml}`);
      };
      if (!match || match[1] !== DISTRIBUTION) {
        return answer(
          404,
          `<ErrorResponse xmlns="${xmlns}"><Error><Type>Sender</Type><Code>NoSuchDistribution</Code><Message>The specified distribution does not exist.</Message></Error><RequestId>req-x</RequestId></ErrorResponse>`,
        );
      }
      const invalidation = (id: string, status: string) =>
        `<Invalidation xmlns="${xmlns}"><Id>${id}</Id><Status>${status}</Status><CreateTime>2026-01-01T00:00:00.000Z</CreateTime>${batches.get(id) ?? ''}</Invalidation>`;
      if (req.method === 'POST' && !match[2]) {
        const id = `I${String(next++).padStart(13, '0')}`;
        batches.set(id, /<InvalidationBatch[\s\S]*<\/InvalidationBatch>/.exec(body)?.[0].replace(/ xmlns="[^"]*"/, '') ?? '');
        return answer(201, invalidation(id, 'InProgress'), { location: `https://cloudfront.amazonaws.com/2020-05-31/distribution/${DISTRIBUTION}/invalidation/${id}` });
      }
      if (req.method === 'GET' && match[2] && batches.has(match[2])) return answer(200, invalidation(match[2], 'Completed'));
      return answer(
        404,
        `<ErrorResponse xmlns="${xmlns}"><Error><Type>Sender</Type><Code>NoSuchInvalidation</Code><Message>No such invalidation.</Message></Error><RequestId>req-y</RequestId></ErrorResponse>`,
      );
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ requests, server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` })));
}

let s3: LocalS3;
let client: S3Client;
let cloudfront: Awaited<ReturnType<typeof startFakeCloudFront>>;
let dist: string;

/**
 * Runs the script as `npm run deploy:web` would, with an environment of our own: the local endpoints, and no
 * way to reach a real AWS account or the instance metadata service (only 127.0.0.1 is ever contacted).
 */
function deploy(args: string[], env: Record<string, string | undefined> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const base: Record<string, string | undefined> = {
    PATH: process.env.PATH,
    HOME: dist,
    AWS_CONFIG_FILE: join(dist, 'no-aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(dist, 'no-aws-credentials'),
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_REGION: s3.region,
    AWS_ACCESS_KEY_ID: s3.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: s3.credentials.secretAccessKey,
    AWS_ENDPOINT_URL_S3: s3.endpoint,
    AWS_ENDPOINT_URL_CLOUDFRONT: cloudfront.url,
  };
  const merged = Object.fromEntries(Object.entries({ ...base, ...env }).filter((e): e is [string, string] => e[1] !== undefined));
  return new Promise((resolve) => {
    execFile(process.execPath, [SCRIPT, ...args], { env: merged, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

/** The paths of the progress lines ("  [3/6]  12.0 KB  assets/…"), in the order the script reported them. */
const progressLines = (stdout: string) => [...stdout.matchAll(/^\s*\[\s*\d+\/(\d+)\]\s+(.+?)\s{2}(\S+)$/gm)].map((m) => ({ total: Number(m[1]), what: m[2]!.trim(), path: m[3]! }));

const head = (key: string) => client.send(new HeadObjectCommand({ Bucket: 'web', Key: key }));
const keys = async (prefix = '') => ((await client.send(new ListObjectsV2Command({ Bucket: 'web', Prefix: prefix }))).Contents ?? []).map((o) => o.Key!).sort();
/** A stack trace would show "    at fn (file:line)" lines; the script's errors are sentences. */
const stackLine = /^\s+at .+[:(]/m;

beforeAll(async () => {
  s3 = await startLocalS3(['web']);
  client = new S3Client({ endpoint: s3.endpoint, region: s3.region, credentials: s3.credentials, forcePathStyle: true });
  cloudfront = await startFakeCloudFront();
  dist = mkdtempSync(join(tmpdir(), 'dems-web-dist-'));
  for (const [path, f] of Object.entries(BUILD)) {
    mkdirSync(join(dist, path, '..'), { recursive: true });
    writeFileSync(join(dist, path), f.body);
  }
  // Not part of a build: must not be uploaded.
  writeFileSync(join(dist, '.DS_Store'), 'finder junk');
});

afterAll(async () => {
  client?.destroy();
  await new Promise((r) => cloudfront?.server.close(r));
  await s3?.close();
  rmSync(dist, { recursive: true, force: true });
});

describe('npm run deploy:web', { timeout: 60_000 }, () => {
  it('uploads every file with its Content-Type and Cache-Control, index.html last, then invalidates "/" and the unhashed files', async () => {
    const run = await deploy(['--bucket', 'web', '--dist', dist, '--path-style', '--distribution', DISTRIBUTION]);
    expect(run.stderr).not.toMatch(/✖/);
    expect(run.code).toBe(0);

    for (const [path, f] of Object.entries(BUILD)) {
      const object = await head(path);
      expect([path, object.ContentType, object.CacheControl, object.ContentLength]).toEqual([path, f.type, f.cache, Buffer.byteLength(f.body)]);
    }
    const index = await client.send(new GetObjectCommand({ Bucket: 'web', Key: 'index.html' }));
    expect(await index.Body!.transformToString()).toBe(BUILD['index.html']!.body);
    expect(await keys()).toEqual(Object.keys(BUILD).sort());

    // The order the script reports: every hashed asset, then the other files, index.html last.
    const order = progressLines(run.stdout);
    expect(order.map((l) => l.path)).toHaveLength(6);
    expect(order.every((l) => l.total === 6)).toBe(true);
    expect(order.slice(0, 3).every((l) => l.path.startsWith('assets/'))).toBe(true);
    expect(
      order
        .slice(3, 5)
        .map((l) => l.path)
        .sort(),
    ).toEqual(['favicon.svg', 'robots.txt']);
    expect(order.at(-1)!.path).toBe('index.html');
    expect(run.stdout).toMatch(/✔ Uploaded 6 files \(\d+(\.\d)? (B|KB)\)/);

    // One invalidation, after the upload: "/" and the files that are not immutable, never "/*".
    const creates = cloudfront.requests.filter((r) => r.method === 'POST');
    expect(creates).toHaveLength(1);
    expect(creates[0]!.url).toBe(`/2020-05-31/distribution/${DISTRIBUTION}/invalidation`);
    const paths = [...creates[0]!.body.matchAll(/<Path>([^<]*)<\/Path>/g)].map((m) => m[1]);
    expect(paths).toEqual(['/', '/favicon.svg', '/robots.txt', '/index.html']);
    expect(creates[0]!.body).toContain('<Quantity>4</Quantity>');
    expect(run.stdout.indexOf('CloudFront invalidation')).toBeGreaterThan(run.stdout.indexOf('✔ Uploaded'));
    // It waited until CloudFront said Completed.
    const id = /CloudFront invalidation (\S+) of/.exec(run.stdout)?.[1];
    expect(cloudfront.requests.some((r) => r.method === 'GET' && r.url.endsWith(`/invalidation/${id}`))).toBe(true);
    expect(run.stdout).toContain(`✔ Invalidation ${id} completed`);
  });

  it('a second deploy skips hashed assets already there, replaces index.html, and keeps the assets of earlier builds', async () => {
    await client.send(new PutObjectCommand({ Bucket: 'web', Key: 'assets/index-OLDv0abc.js', Body: 'console.log("app v0");', ContentType: 'text/javascript' }));
    writeFileSync(join(dist, 'index.html'), BUILD['index.html']!.body.replace('<!doctype html>', '<!doctype html><!-- v2 -->'));
    try {
      const run = await deploy(['--bucket', 'web', '--dist', dist, '--path-style']);
      expect(run.code).toBe(0);
      const lines = progressLines(run.stdout);
      expect(lines.filter((l) => l.what === 'unchanged').map((l) => l.path)).toEqual(['assets/index-Ab3dE_9z.js', 'assets/index-Qw-7yU2x.css', 'assets/inter-K9l0Mn1B.woff2']);
      expect(lines.at(-1)).toMatchObject({ path: 'index.html' });
      expect(lines.at(-1)!.what).not.toBe('unchanged');
      expect(run.stdout).toContain('3 hashed assets were already there');
      const index = await client.send(new GetObjectCommand({ Bucket: 'web', Key: 'index.html' }));
      expect(await index.Body!.transformToString()).toContain('<!-- v2 -->');
      // An open tab of the previous version still finds its scripts.
      expect((await head('assets/index-OLDv0abc.js')).ContentLength).toBeGreaterThan(0);
    } finally {
      writeFileSync(join(dist, 'index.html'), BUILD['index.html']!.body);
    }
  });

  it('--prune-older-than removes only hashed assets this build does not use, once old enough', async () => {
    await client.send(new PutObjectCommand({ Bucket: 'web', Key: 'assets/notes.txt', Body: 'not a hashed asset' }));
    const keep = await deploy(['--bucket', 'web', '--dist', dist, '--path-style', '--prune-older-than', '1']);
    expect(keep.code).toBe(0);
    expect(keep.stdout).toContain('No old hashed assets to remove');
    expect(await keys('assets/')).toContain('assets/index-OLDv0abc.js');

    const prune = await deploy(['--bucket', 'web', '--dist', dist, '--path-style', '--prune-older-than', '0']);
    expect(prune.code).toBe(0);
    expect(prune.stdout).toContain('✔ Removed 1 old hashed assets');
    expect(await keys('assets/')).toEqual(['assets/index-Ab3dE_9z.js', 'assets/index-Qw-7yU2x.css', 'assets/inter-K9l0Mn1B.woff2', 'assets/notes.txt']);
  });

  it('--prefix puts the build under a key prefix; --dry-run lists the headers and sends nothing', async () => {
    const requestsBefore = cloudfront.requests.length;
    const dry = await deploy(['--bucket', 'web', '--dist', dist, '--path-style', '--prefix', '/preview/', '--distribution', DISTRIBUTION, '--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('to s3://web/preview/');
    expect(dry.stdout).toMatch(/index\.html .*Content-Type: text\/html; charset=utf-8 {2}Cache-Control: no-cache/);
    expect(dry.stdout).toMatch(/assets\/index-Ab3dE_9z\.js .*Cache-Control: public, max-age=31536000, immutable/);
    expect(dry.stdout).toContain(`Would invalidate / /favicon.svg /robots.txt /index.html in CloudFront distribution ${DISTRIBUTION}.`);
    expect(await keys('preview/')).toEqual([]);
    expect(cloudfront.requests.length).toBe(requestsBefore);

    const real = await deploy(['--bucket', 'web', '--dist', dist, '--path-style', '--prefix', 'preview']);
    expect(real.code).toBe(0);
    expect(await keys('preview/')).toEqual(
      Object.keys(BUILD)
        .map((k) => `preview/${k}`)
        .sort(),
    );
    expect((await head('preview/index.html')).CacheControl).toBe('no-cache');
    await client.send(new DeleteObjectsCommand({ Bucket: 'web', Delete: { Objects: (await keys('preview/')).map((Key) => ({ Key })) } }));
  });

  it('a missing bucket fails with a sentence naming it, exit code 1, no stack trace, nothing uploaded', async () => {
    const run = await deploy(['--bucket', 'no-such-bucket', '--dist', dist, '--path-style']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('✖ Bucket "no-such-bucket" does not exist (region us-east-1). Check --bucket');
    expect(run.stderr).not.toMatch(stackLine);
    expect(progressLines(run.stdout)).toEqual([]);
  });

  it('no --bucket, bad options and missing credentials are one clear line each, exit code 1', async () => {
    const none = await deploy(['--dist', dist]);
    expect([none.code, none.stderr.trim()]).toEqual([
      1,
      '✖ --bucket is required: npm run deploy:web -- --bucket <name of the web bucket>. Every option: npm run deploy:web -- --help',
    ]);

    const days = await deploy(['--bucket', 'web', '--dist', dist, '--prune-older-than', 'soon']);
    expect([days.code, days.stderr.trim()]).toEqual([1, '✖ --prune-older-than takes a number of days, such as 30 (got "soon").']);

    const noBuild = await deploy(['--bucket', 'web', '--dist', join(dist, 'assets')]);
    expect(noBuild.code).toBe(1);
    expect(noBuild.stderr).toContain('has no index.html: point --dist at a built web app');

    const anonymous = await deploy(['--bucket', 'web', '--dist', dist, '--path-style'], { AWS_ACCESS_KEY_ID: undefined, AWS_SECRET_ACCESS_KEY: undefined });
    expect(anonymous.code).toBe(1);
    expect(anonymous.stderr).toContain('✖ No AWS credentials were found. Sign in (aws sso login, or set AWS_PROFILE) or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.');
    expect(anonymous.stderr).not.toMatch(stackLine);
  });

  it('an unknown distribution: the files are uploaded, and the failed invalidation is said plainly, exit code 1', async () => {
    const run = await deploy(['--bucket', 'web', '--dist', dist, '--path-style', '--distribution', 'EUNKNOWN']);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('✔ Uploaded');
    expect(run.stderr).toContain('✖ The files are uploaded, but the CloudFront invalidation failed: CloudFront distribution "EUNKNOWN" does not exist. Check --distribution');
    expect(run.stderr).not.toMatch(stackLine);
    expect(readFileSync(join(dist, 'index.html'), 'utf8')).toBe(BUILD['index.html']!.body);
  });
});
