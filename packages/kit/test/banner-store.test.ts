import { existsSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { text } from 'node:stream/consumers';
import { GetObjectCommand, HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  BANNER_CACHE_CONTROL,
  BannerConfig,
  bannerStoreSettings,
  ConfigError,
  FilesystemBannerStore,
  isBannerKey,
  loadConfig,
  openBannerStore,
  requireBannerBucket,
  type BannerStore,
} from '@dems/kit';
import { tempDir } from '@dems/kit/testing';
import { S3BannerStore } from '../src/banners/s3.js';
import { startLocalS3, type LocalS3 } from '../../../tests/setup/s3-server.js';

const BUCKET = 'dems-banners';
const WEBP = { contentType: 'image/webp', cacheControl: BANNER_CACHE_CONTROL };

let s3: LocalS3;
beforeAll(async () => {
  s3 = await startLocalS3([BUCKET]);
});
afterAll(async () => s3?.close());

const s3Options = () => ({ bucket: BUCKET, region: s3.region, endpoint: s3.endpoint, forcePathStyle: true, credentials: s3.credentials });
const rawClient = () => new S3Client({ region: s3.region, endpoint: s3.endpoint, forcePathStyle: true, credentials: s3.credentials });

/** One contract, both adapters: the filesystem one in a temporary directory, the S3 one against a real S3 REST server. */
const adapters: { name: string; open: () => Promise<{ store: BannerStore; cleanup: () => Promise<void> }> }[] = [
  {
    name: 'filesystem',
    open: async () => {
      const dir = tempDir('dems-banners-');
      return { store: new FilesystemBannerStore(join(dir.path, 'banners')), cleanup: async () => dir.cleanup() };
    },
  },
  {
    name: 's3',
    open: async () => {
      const store = new S3BannerStore(s3Options());
      return {
        store,
        // Each test starts from an empty bucket.
        cleanup: async () => {
          await store.delete(await store.list(''));
          await store.close();
        },
      };
    },
  },
];

describe.each(adapters)('banner store: $name', ({ open }) => {
  let store: BannerStore;
  let cleanup: () => Promise<void>;
  beforeEach(async () => ({ store, cleanup } = await open()));
  afterEach(async () => cleanup());

  const read = async (key: string) => {
    const found = await store.get(key);
    return found && { ...found, text: await text(found.body) };
  };

  it('gives back what was put: bytes, content type and length', async () => {
    await store.put('evt_1/abc-480.webp', Buffer.from('small banner'), WEBP);
    const found = await read('evt_1/abc-480.webp');
    expect(found).toMatchObject({ text: 'small banner', contentType: 'image/webp', length: 12 });
  });

  it('answers null for a key with nothing under it', async () => {
    expect(await store.get('evt_1/nothing-480.webp')).toBeNull();
    expect(await store.get('evt_none/nothing-480.webp')).toBeNull();
  });

  it('lists the keys under an event, and only those', async () => {
    await store.put('evt_1/a-480.webp', Buffer.from('a'), WEBP);
    await store.put('evt_1/a-960.webp', Buffer.from('b'), WEBP);
    await store.put('evt_2/c-480.webp', Buffer.from('c'), WEBP);
    expect((await store.list('evt_1/')).sort()).toEqual(['evt_1/a-480.webp', 'evt_1/a-960.webp']);
    expect((await store.list('')).sort()).toEqual(['evt_1/a-480.webp', 'evt_1/a-960.webp', 'evt_2/c-480.webp']);
    expect(await store.list('evt_3/')).toEqual([]);
  });

  it('deletes what it is told to, and nothing else; deleting a missing key is no error', async () => {
    await store.put('evt_1/a-480.webp', Buffer.from('a'), WEBP);
    await store.put('evt_1/b-480.webp', Buffer.from('b'), WEBP);
    await store.delete(['evt_1/a-480.webp', 'evt_1/never-480.webp']);
    expect(await store.get('evt_1/a-480.webp')).toBeNull();
    expect((await read('evt_1/b-480.webp'))?.text).toBe('b');
    await store.delete(['evt_1/a-480.webp']);
    await store.delete([]);
    expect(await store.list('evt_1/')).toEqual(['evt_1/b-480.webp']);
  });

  it('refuses to write or delete under a key that could leave the store', async () => {
    for (const key of ['../escape.webp', 'evt_1/../../escape.webp', '/abs.webp', 'evt_1\\x.webp', 'evt_1/%2e%2e.webp', '', 'evt_1/']) {
      await expect(store.put(key, Buffer.from('x'), WEBP), key).rejects.toThrow(/Not a banner key/);
      await expect(store.delete([key]), key).rejects.toThrow(/Not a banner key/);
    }
    await expect(store.list('../')).rejects.toThrow(/Not a banner key prefix/);
  });

  it('answers null for such a key when asked to read it', async () => {
    await store.put('evt_1/a-480.webp', Buffer.from('a'), WEBP);
    for (const key of ['evt_1/../evt_1/a-480.webp', './evt_1/a-480.webp', 'evt_1//a-480.webp', 'evt_1/a-480.webp/', 'evt_1%2Fa-480.webp']) {
      expect(await store.get(key), key).toBeNull();
    }
  });
});

describe('the filesystem adapter', () => {
  let dir: ReturnType<typeof tempDir>;
  beforeEach(() => (dir = tempDir('dems-banners-fs-')));
  afterEach(() => dir.cleanup());

  it('leaves no temporary file behind, and removes an event folder with its last banner', async () => {
    const store = new FilesystemBannerStore(dir.path);
    await store.put('evt_1/a-480.webp', Buffer.from('a'), WEBP);
    expect(readdirSync(join(dir.path, 'evt_1'))).toEqual(['a-480.webp']);
    await store.delete(['evt_1/a-480.webp']);
    expect(existsSync(join(dir.path, 'evt_1'))).toBe(false);
    expect(existsSync(dir.path)).toBe(true);
  });

  it('does not follow a symbolic link out of its folder, and does not list it', async () => {
    const outside = join(dir.path, 'outside');
    mkdirSync(outside);
    writeFileSync(join(outside, 'secret.webp'), 'not a banner');
    const root = join(dir.path, 'banners');
    mkdirSync(join(root, 'evt_1'), { recursive: true });
    symlinkSync(join(outside, 'secret.webp'), join(root, 'evt_1', 'link.webp'));
    const store = new FilesystemBannerStore(root);
    expect(await store.get('evt_1/link.webp')).toBeNull();
    expect(await store.list('')).toEqual([]);
  });

  it('answers null for a folder, which is not an object', async () => {
    const store = new FilesystemBannerStore(dir.path);
    await store.put('evt_1/a-480.webp', Buffer.from('a'), WEBP);
    expect(await store.get('evt_1')).toBeNull();
  });
});

describe('the S3 adapter', () => {
  it('keeps objects under banners/ with their content type and cache policy, for CloudFront to serve as they are', async () => {
    const store = new S3BannerStore(s3Options());
    try {
      await store.put('evt_9/z-960.webp', Buffer.from('webp bytes'), WEBP);
      const client = rawClient();
      const head = await client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'banners/evt_9/z-960.webp' }));
      expect(head).toMatchObject({ ContentType: 'image/webp', CacheControl: BANNER_CACHE_CONTROL, ContentLength: 10 });
      const direct = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'banners/evt_9/z-960.webp' }));
      expect(await direct.Body?.transformToString()).toBe('webp bytes');
      client.destroy();
      expect(store.location).toBe(`s3://${BUCKET}/banners/`);
    } finally {
      await store.delete(await store.list(''));
      await store.close();
    }
  });

  // Listing more than 1000 keys is not tested here: s3rver fails every truncated listing (its continuation token
  // needs a DES cipher that OpenSSL 3 no longer has).
  it('deletes in batches when there are more keys than one DeleteObjects call takes', async () => {
    const store = new S3BannerStore({ ...s3Options(), deleteBatch: 2 });
    try {
      const keys = ['a', 'b', 'c', 'd', 'e'].map((k) => `evt_many/${k}-480.webp`);
      for (const key of keys) await store.put(key, Buffer.from(key), WEBP);
      expect((await store.list('evt_many/')).sort()).toEqual(keys);
      await store.delete(keys);
      expect(await store.list('evt_many/')).toEqual([]);
    } finally {
      await store.close();
    }
  });

  it('fails loudly when S3 cannot be reached, instead of answering that the banner is missing', async () => {
    const store = new S3BannerStore({ ...s3Options(), endpoint: 'http://127.0.0.1:9' });
    await expect(store.get('evt_1/a-480.webp')).rejects.toThrow();
    await store.close();
  });

  it('is what openBannerStore gives for s3 settings', async () => {
    const store = await openBannerStore({ kind: 's3', bucket: BUCKET, region: 'us-east-1', endpoint: s3.endpoint, forcePathStyle: true });
    expect(store).toBeInstanceOf(S3BannerStore);
    await store.close();
  });
});

describe('banner configuration', () => {
  const Schema = requireBannerBucket(
    z.object({ DATA_DIR: z.string().default('./data'), AWS_REGION: z.string().default('us-east-1'), PORT: z.coerce.number().int(), ...BannerConfig.shape }),
  );
  const load = (env: Record<string, string>) => loadConfig(Schema, { PORT: '1', ...env });
  const problems = (env: Record<string, string>) => {
    try {
      load(env);
    } catch (err) {
      if (err instanceof ConfigError) return err.problems;
      throw err;
    }
    return [];
  };

  it('defaults to files under <DATA_DIR>/banners, served at /banners', () => {
    const config = load({ DATA_DIR: '/srv/dems' });
    expect(bannerStoreSettings(config)).toEqual({ kind: 'filesystem', dir: '/srv/dems/banners' });
    expect(config.BANNER_PUBLIC_URL).toBe('/banners');
    expect(bannerStoreSettings(load({ DATA_DIR: '/srv/dems', BANNER_DIR: '/mnt/banners' }))).toEqual({ kind: 'filesystem', dir: '/mnt/banners' });
  });

  it('takes S3 settings, with the region of the other AWS clients', () => {
    const config = load({ BANNER_STORE: 's3', BANNER_BUCKET: 'dems-banners', AWS_REGION: 'eu-west-1', S3_ENDPOINT: 'http://minio:9000', S3_FORCE_PATH_STYLE: 'true' });
    expect(bannerStoreSettings(config)).toEqual({ kind: 's3', bucket: 'dems-banners', region: 'eu-west-1', endpoint: 'http://minio:9000', forcePathStyle: true });
    expect(bannerStoreSettings(load({ BANNER_STORE: 's3', BANNER_BUCKET: 'b.example', S3_ENDPOINT: '' }))).toEqual({
      kind: 's3',
      bucket: 'b.example',
      region: 'us-east-1',
      endpoint: undefined,
      forcePathStyle: false,
    });
  });

  it('names BANNER_BUCKET in one line when s3 is chosen without it, alongside any other bad variable', () => {
    expect(problems({ BANNER_STORE: 's3' })).toEqual(['BANNER_BUCKET (not set): required when BANNER_STORE=s3: the name of the S3 bucket that holds the banners']);
    expect(problems({ BANNER_STORE: 's3', PORT: 'x' }).map((p) => p.split(' ')[0])).toEqual(['PORT', 'BANNER_BUCKET']);
    expect(problems({ BANNER_STORE: 'filesystem' })).toEqual([]);
  });

  it('refuses bad values, naming the variable', () => {
    expect(problems({ BANNER_STORE: 'ftp' })[0]).toMatch(/^BANNER_STORE \("ftp"\)/);
    expect(problems({ BANNER_STORE: 's3', BANNER_BUCKET: 'Not_A_Bucket' })[0]).toMatch(/^BANNER_BUCKET \("Not_A_Bucket"\): must be an S3 bucket name/);
    expect(problems({ S3_ENDPOINT: 'minio:9000' })[0]).toMatch(/^S3_ENDPOINT .*http/);
    expect(problems({ S3_FORCE_PATH_STYLE: 'sometimes' })[0]).toMatch(/^S3_FORCE_PATH_STYLE/);
    for (const bad of ['banners', '//cdn.example.com/banners', 'ftp://cdn.example.com/b']) {
      expect(problems({ BANNER_PUBLIC_URL: bad })[0], bad).toMatch(/^BANNER_PUBLIC_URL .*must be a path such as \/banners/);
    }
  });

  it('keeps a CDN URL or a path as the start of banner URLs, without a trailing slash', () => {
    expect(load({ BANNER_PUBLIC_URL: 'https://cdn.example.com/banners/' }).BANNER_PUBLIC_URL).toBe('https://cdn.example.com/banners');
    expect(load({ BANNER_PUBLIC_URL: '/media/banners' }).BANNER_PUBLIC_URL).toBe('/media/banners');
  });

  it('accepts as keys exactly the relative names a store can hold', () => {
    expect(['evt_1/abc-480.webp', 'a', 'a/b/c.png', 'EVT-x_1/Z9.webp'].every(isBannerKey)).toBe(true);
    expect(['a/./b.webp', 'a/.hidden', '.tmp', 'a.b/c.webp', 'a/b.c.webp', 'a b.webp', 'ä.webp'].some(isBannerKey)).toBe(false);
  });
});
