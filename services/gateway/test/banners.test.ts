import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BANNER_MAX_BYTES } from '@dems/contracts';
import { BANNER_CACHE_CONTROL, FilesystemBannerStore, type App, type BannerStore } from '@dems/kit';
import { tempDir } from '@dems/kit/testing';
import { S3BannerStore } from '../../../packages/kit/src/banners/s3.js';
import { reservePort } from '../../../scripts/lib/ports.mjs';
import { startLocalS3, type LocalS3 } from '../../../tests/setup/s3-server.js';
import { buildApp } from '../src/app.js';
import { GatewayConfig } from '../src/config.js';

// GET /banners/* from both stores, and the larger body limit of PUT /api/events/:id/banner alone.
// Nothing listens at EVENTS_URL (a port the OS just handed out and took back): a body the gateway accepts ends in 502 there,
// one it refuses in 413 before anything is forwarded.

let NOBODY: string;
const BYTES = Buffer.from('RIFF....WEBPVP8 pretend webp bytes');

let s3: LocalS3;
beforeAll(async () => {
  s3 = await startLocalS3(['dems-banners']);
  NOBODY = `http://127.0.0.1:${await reservePort()}`;
});
afterAll(async () => s3?.close());

const setups: { name: string; open: (dir: string) => { env: Record<string, string>; writer: BannerStore } }[] = [
  {
    name: 'filesystem',
    open: (dir) => ({ env: { DATA_DIR: dir }, writer: new FilesystemBannerStore(join(dir, 'banners')) }),
  },
  {
    name: 's3',
    open: () => {
      // The gateway takes its credentials from the standard AWS chain, as in production: here, the environment.
      process.env.AWS_ACCESS_KEY_ID = s3.credentials.accessKeyId;
      process.env.AWS_SECRET_ACCESS_KEY = s3.credentials.secretAccessKey;
      return {
        env: { BANNER_STORE: 's3', BANNER_BUCKET: 'dems-banners', S3_ENDPOINT: s3.endpoint, S3_FORCE_PATH_STYLE: 'true' },
        writer: new S3BannerStore({ bucket: 'dems-banners', region: 'us-east-1', endpoint: s3.endpoint, forcePathStyle: true, credentials: s3.credentials }),
      };
    },
  },
];

describe.each(setups)('GET /banners/* from $name', ({ open }) => {
  const dir = tempDir('dems-gateway-banners-');
  let gateway: App;
  let writer: BannerStore;

  beforeAll(async () => {
    const setup = open(dir.path);
    writer = setup.writer;
    await writer.put('evt_1/up1-480.webp', BYTES, { contentType: 'image/webp', cacheControl: BANNER_CACHE_CONTROL });
    // A file beside the banners that no URL may reach.
    writeFileSync(join(dir.path, 'events.db'), 'secret rows');
    mkdirSync(join(dir.path, 'banners', 'evt_1'), { recursive: true });
    gateway = await buildApp({ config: GatewayConfig.parse({ EVENTS_URL: NOBODY, WEB_DIST: join(dir.path, 'no-web'), ...setup.env }) });
  });
  afterAll(async () => {
    await writer.delete(await writer.list(''));
    await writer.close();
    await gateway.close();
    dir.cleanup();
  });

  it('streams a banner as WebP that may be cached for a year and is never sniffed', async () => {
    const res = await gateway.inject('/banners/evt_1/up1-480.webp');
    expect(res.statusCode).toBe(200);
    expect(res.rawPayload.equals(BYTES)).toBe(true);
    expect(res.headers).toMatchObject({
      'content-type': 'image/webp',
      'content-length': String(BYTES.length),
      'cache-control': 'public, max-age=31536000, immutable',
      'x-content-type-options': 'nosniff',
      'cross-origin-resource-policy': 'cross-origin',
    });
  });

  it('answers HEAD with the headers only', async () => {
    const res = await gateway.inject({ method: 'HEAD', url: '/banners/evt_1/up1-480.webp' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('image/webp');
    expect(res.rawPayload.length).toBe(0);
  });

  it('answers 404 for a banner that is not there', async () => {
    for (const url of ['/banners/evt_1/up1-960.webp', '/banners/evt_2/up1-480.webp', '/banners/evt_1']) {
      const res = await gateway.inject(url);
      expect(res.statusCode, url).toBe(404);
      expect(res.json().code, url).toBe('NOT_FOUND');
    }
  });

  it('never reaches outside the banners, however the path is spelled', async () => {
    for (const url of [
      '/banners/../events.db',
      '/banners/evt_1/../../events.db',
      '/banners/%2e%2e/events.db',
      '/banners/evt_1/%2e%2e%2f%2e%2e%2fevents.db',
      '/banners/evt_1%2Fup1-480.webp',
      '/banners/evt_1%2fup1-480.webp',
      '/banners/evt_1%5Cup1-480.webp',
      '/banners//etc/passwd',
      '/banners/evt_1/.up1-480.webp',
      '/banners/%00/evt_1/up1-480.webp',
    ]) {
      const res = await gateway.inject(url);
      expect(res.statusCode, url).toBe(404);
      expect(res.body, url).not.toContain('secret rows');
    }
  });

  it('is not under /api', async () => {
    expect((await gateway.inject('/api/banners/evt_1/up1-480.webp')).statusCode).not.toBe(200);
  });
});

describe('banners elsewhere', () => {
  it('lets the web app show banners from a CDN named by BANNER_PUBLIC_URL, and only from there', async () => {
    const csp = async (env: Record<string, string>) => {
      const gateway = await buildApp({ config: GatewayConfig.parse({ EVENTS_URL: NOBODY, WEB_DIST: '/nonexistent', ...env }) });
      const header = String((await gateway.inject('/')).headers['content-security-policy']);
      await gateway.close();
      return header.split(';').find((d) => d.startsWith('img-src'));
    };
    expect(await csp({ BANNER_PUBLIC_URL: 'https://cdn.example.com/banners' })).toBe("img-src 'self' data: https://cdn.example.com");
    expect(await csp({})).toBe("img-src 'self' data:");
  });

  it('answers 502 with Retry-After, not 404, while the bucket cannot be reached', async () => {
    process.env.AWS_ACCESS_KEY_ID ??= 'unused';
    process.env.AWS_SECRET_ACCESS_KEY ??= 'unused';
    const gateway = await buildApp({
      config: GatewayConfig.parse({
        EVENTS_URL: NOBODY,
        WEB_DIST: '/nonexistent',
        BANNER_STORE: 's3',
        BANNER_BUCKET: 'dems-banners',
        S3_ENDPOINT: NOBODY,
        S3_FORCE_PATH_STYLE: 'true',
      }),
    });
    const res = await gateway.inject('/banners/evt_1/up1-480.webp');
    await gateway.close();
    expect([res.statusCode, res.json().code, res.headers['retry-after']]).toEqual([502, 'UPSTREAM_UNAVAILABLE', '2']);
  });
});

describe('body limits at the gateway', () => {
  let gateway: App;
  beforeAll(async () => {
    gateway = await buildApp({ config: GatewayConfig.parse({ EVENTS_URL: NOBODY, WEB_DIST: '/nonexistent' }) });
  });
  afterAll(async () => gateway.close());

  const put = (url: string, bytes: number) => gateway.inject({ method: 'PUT', url, headers: { 'content-type': 'image/jpeg' }, payload: Buffer.alloc(bytes, 1) });

  it('takes a banner upload of up to 5 MB and forwards it', async () => {
    const res = await put('/api/events/evt_1/banner', BANNER_MAX_BYTES);
    expect([res.statusCode, res.json().code]).toEqual([502, 'UPSTREAM_UNAVAILABLE']);
  });

  it('refuses a larger one itself, saying the limit', async () => {
    const res = await put('/api/events/evt_1/banner', BANNER_MAX_BYTES + 1);
    expect(res.statusCode).toBe(413);
    expect(res.json()).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', message: expect.stringMatching(/A banner can be at most 5 MB/) });
  });

  it('keeps BODY_LIMIT_BYTES for every other route, other methods on the banner path included', async () => {
    for (const [method, url] of [
      ['POST', '/api/events'],
      ['PATCH', '/api/events/evt_1'],
      ['POST', '/api/events/evt_1/banner'],
      ['PUT', '/api/events/evt_1/banner/extra'],
      ['PUT', '/api/events/evt_1/bannerx'],
    ] as const) {
      const res = await gateway.inject({ method, url, headers: { 'content-type': 'application/json' }, payload: Buffer.alloc(200_000, 32) });
      expect(res.statusCode, `${method} ${url}`).toBe(413);
      expect(res.json().message).toBe('The request body is larger than 100000 bytes.');
    }
  });
});
