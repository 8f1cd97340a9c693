import { join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BANNER_MAX_BYTES, type Event } from '@dems/contracts';
import { FilesystemBannerStore, type App, type BannerStore } from '@dems/kit';
import { tempDir, TEST_SECRET, testTokens } from '@dems/kit/testing';
import { S3BannerStore } from '../../../packages/kit/src/banners/s3.js';
import { startLocalS3, type LocalS3 } from '../../../tests/setup/s3-server.js';
import { buildApp } from '../src/app.js';
import { SqliteEventsStore } from '../src/store/sqlite.js';
import { eventBody, UNREACHABLE_TICKETING } from './helpers.js';
import { corruptPng, decoded, HTML_PAGE, incompressiblePng, picture, pixelBomb, SVG_DRAWING, truncated } from './images.js';

// PUT and DELETE /events/:id/banner through the events app (app.inject), on both banner stores: files in a temporary
// directory and objects in a real S3 REST server on 127.0.0.1.

const BUCKET = 'dems-banners';

const ORG = { id: 'usr_org1', role: 'organizer' as const };
const OTHER_ORG = { id: 'usr_org2', role: 'organizer' as const };
const ADMIN = { id: 'usr_admin', role: 'admin' as const };
const ADA = { id: 'usr_ada', role: 'attendee' as const };

type Headers = Record<string, string>;
let tokens: Awaited<ReturnType<typeof testTokens>>;
let as: { org: Headers; other: Headers; admin: Headers; ada: Headers };
let s3: LocalS3;
let photo: Buffer;

beforeAll(async () => {
  tokens = await testTokens();
  as = { org: await tokens.bearer(ORG), other: await tokens.bearer(OTHER_ORG), admin: await tokens.bearer(ADMIN), ada: await tokens.bearer(ADA) };
  s3 = await startLocalS3([BUCKET]);
  photo = await picture('jpeg', 2000, 1000, { exifText: 'taken-at-home-gps-52.52-13.40' });
});
afterAll(async () => s3?.close());

const stores: { name: string; open: (dir: string) => BannerStore }[] = [
  { name: 'filesystem', open: (dir) => new FilesystemBannerStore(join(dir, 'banners')) },
  {
    name: 's3',
    open: () => new S3BannerStore({ bucket: BUCKET, region: s3.region, endpoint: s3.endpoint, forcePathStyle: true, credentials: s3.credentials }),
  },
];

describe.each(stores)('banners on $name', ({ open }) => {
  let dir: ReturnType<typeof tempDir>;
  let banners: BannerStore;
  let app: App;

  beforeEach(async () => {
    dir = tempDir('dems-events-banner-');
    banners = open(dir.path);
    const store = new SqliteEventsStore({ file: join(dir.path, 'events.db'), synchronous: 'NORMAL' });
    app = await buildApp({ store, banners: { store: banners }, verify: tokens.verify, secret: TEST_SECRET, inventory: UNREACHABLE_TICKETING });
  });
  afterEach(async () => {
    // Each test starts from an empty bucket; the app closes the banner store.
    await banners.delete(await banners.list(''));
    await app.close();
    dir.cleanup();
  });

  const createEvent = async (): Promise<Event> => {
    const res = await app.inject({ method: 'POST', url: '/events', headers: as.org, payload: eventBody() });
    expect(res.statusCode, res.body).toBe(201);
    return res.json<Event>();
  };
  const upload = (id: string, body: Buffer, contentType = 'image/jpeg', headers: Headers = as.org) =>
    app.inject({ method: 'PUT', url: `/events/${id}/banner`, headers: { ...headers, 'content-type': contentType }, payload: body });
  const getEvent = async (id: string) => (await app.inject({ url: `/events/${id}` })).json<Event>();
  const keyOf = (url: string) => url.replace(/^\/banners\//, '');
  const stored = async (url: string) => {
    const found = await banners.get(keyOf(url));
    return found && { ...found, bytes: await buffer(found.body) };
  };

  it('re-encodes an upload as WebP at each width up to its own, with none of its bytes or metadata, and shows it on the event', async () => {
    const event = await createEvent();
    const res = await upload(event.id, photo);
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json<Event>();
    expect(body.bannerSizes.map((s) => [s.width, s.height])).toEqual([
      [480, 240],
      [960, 480],
      [1600, 800],
    ]);
    expect(body.bannerUrl).toBe(body.bannerSizes[2]!.url);
    for (const size of body.bannerSizes) {
      expect(size.url).toMatch(new RegExp(`^/banners/${event.id}/[A-Za-z0-9_-]{16}-${size.width}\\.webp$`));
      const file = await stored(size.url);
      expect(file?.contentType).toBe('image/webp');
      expect(await decoded(file!.bytes)).toMatchObject({ format: 'webp', width: size.width, height: size.height, exif: undefined, orientation: undefined });
      expect(file!.bytes.equals(photo)).toBe(false);
      expect(file!.bytes.includes('taken-at-home')).toBe(false);
    }
    // One upload, one name: the three renditions share it.
    expect(new Set(body.bannerSizes.map((s) => s.url.replace(/-\d+\.webp$/, ''))).size).toBe(1);
    expect(await getEvent(event.id)).toEqual(body);
    const listed = (await app.inject({ url: '/events' })).json<{ items: Event[] }>().items.find((e) => e.id === event.id);
    expect(listed?.bannerSizes).toEqual(body.bannerSizes);
    expect(Date.parse(body.updatedAt)).toBeGreaterThan(Date.parse(event.updatedAt) - 1);
  });

  it('takes PNG and WebP as well, and never enlarges a small picture', async () => {
    const event = await createEvent();
    const png = await upload(event.id, await picture('png', 1200, 500), 'image/png');
    expect(png.statusCode, png.body).toBe(200);
    expect(png.json<Event>().bannerSizes.map((s) => s.width)).toEqual([480, 960, 1200]);
    const webp = await upload(event.id, await picture('webp', 600, 300), 'image/webp');
    expect(webp.statusCode, webp.body).toBe(200);
    expect(webp.json<Event>().bannerSizes.map((s) => [s.width, s.height])).toEqual([
      [480, 240],
      [600, 300],
    ]);
    const least = await upload(event.id, await picture('jpeg', 320, 160));
    expect(least.json<Event>().bannerSizes.map((s) => [s.width, s.height])).toEqual([[320, 160]]);
  });

  it('turns a picture upright by its EXIF orientation', async () => {
    const event = await createEvent();
    // Stored 1200 × 800 on its side; the camera says "rotate 90°": it is a portrait 800 × 1200.
    const res = await upload(event.id, await picture('jpeg', 1200, 800, { orientation: 6 }));
    expect(res.statusCode, res.body).toBe(200);
    const largest = res.json<Event>().bannerSizes.at(-1)!;
    expect([largest.width, largest.height]).toEqual([800, 1200]);
    expect(await decoded((await stored(largest.url))!.bytes)).toMatchObject({ width: 800, height: 1200, orientation: undefined });
  });

  it('replaces a banner: new names for the new one, the old files deleted', async () => {
    const event = await createEvent();
    const first = (await upload(event.id, photo)).json<Event>();
    const second = (await upload(event.id, await picture('png', 1000, 500), 'image/png')).json<Event>();
    expect(second.bannerUrl).not.toBe(first.bannerUrl);
    for (const old of first.bannerSizes) expect(await banners.get(keyOf(old.url))).toBeNull();
    expect((await banners.list(`${event.id}/`)).sort()).toEqual(second.bannerSizes.map((s) => keyOf(s.url)).sort());
  });

  it('removes a banner and its files; removing again (or when there was none) answers the event', async () => {
    const event = await createEvent();
    const none = await app.inject({ method: 'DELETE', url: `/events/${event.id}/banner`, headers: as.org });
    expect(none.statusCode).toBe(200);
    expect(none.json()).toMatchObject({ id: event.id, bannerUrl: null, bannerSizes: [] });

    await upload(event.id, photo);
    const res = await app.inject({ method: 'DELETE', url: `/events/${event.id}/banner`, headers: as.org });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ id: event.id, bannerUrl: null, bannerSizes: [] });
    expect(await banners.list(`${event.id}/`)).toEqual([]);
    expect(await getEvent(event.id)).toMatchObject({ bannerUrl: null, bannerSizes: [] });
    const again = await app.inject({ method: 'DELETE', url: `/events/${event.id}/banner`, headers: as.org });
    expect([again.statusCode, again.json().bannerUrl]).toEqual([200, null]);
  });

  describe('refuses, leaving the current banner and the store as they were', () => {
    let event: Event;
    let before: string[];
    beforeEach(async () => {
      event = await createEvent();
      await upload(event.id, photo);
      event = await getEvent(event.id);
      before = (await banners.list('')).sort();
    });
    afterEach(async () => {
      expect(await getEvent(event.id)).toEqual(event);
      expect((await banners.list('')).sort()).toEqual(before);
    });

    const refused = async (res: Awaited<ReturnType<typeof upload>>, status: number, code: string, message?: RegExp) => {
      expect(res.statusCode, res.body).toBe(status);
      expect(res.json().code).toBe(code);
      if (message) expect(res.json().message).toMatch(message);
    };

    it('an HTML page renamed .png and sent as image/png', async () => {
      await refused(await upload(event.id, HTML_PAGE, 'image/png'), 422, 'INVALID_IMAGE', /not an image we can read.*JPEG, PNG or WebP/);
    });

    it('an SVG drawing, sent as image/png (judged by its content) or as image/svg+xml (not a type banners take)', async () => {
      await refused(await upload(event.id, SVG_DRAWING, 'image/png'), 422, 'INVALID_IMAGE', /an SVG drawing, judged by its content/);
      await refused(await upload(event.id, SVG_DRAWING, 'image/svg+xml'), 415, 'UNSUPPORTED_MEDIA_TYPE', /image\/jpeg, image\/png or image\/webp/);
    });

    it('a GIF, whatever it is sent as', async () => {
      const gif = await picture('gif', 800, 400);
      await refused(await upload(event.id, gif, 'image/gif'), 415, 'UNSUPPORTED_MEDIA_TYPE');
      await refused(await upload(event.id, gif, 'image/jpeg'), 422, 'INVALID_IMAGE', /a GIF/);
      await refused(await upload(event.id, await picture('tiff', 800, 400), 'image/png'), 422, 'INVALID_IMAGE', /a TIFF/);
    });

    it('an image over 5 MB, saying the limit', async () => {
      const big = await incompressiblePng(6 * 1024 * 1024);
      expect(big.length).toBeGreaterThan(BANNER_MAX_BYTES);
      await refused(await upload(event.id, big, 'image/png'), 413, 'PAYLOAD_TOO_LARGE', /at most 5 MB/);
    });

    it('a truncated JPEG and a corrupt PNG', async () => {
      await refused(await upload(event.id, truncated(photo)), 422, 'INVALID_IMAGE', /damaged or incomplete/);
      await refused(await upload(event.id, await corruptPng(), 'image/png'), 422, 'INVALID_IMAGE', /damaged or incomplete/);
    });

    it('a picture too small, or with more pixels than any banner needs (a decompression bomb)', async () => {
      await refused(await upload(event.id, await picture('png', 300, 150), 'image/png'), 422, 'INVALID_IMAGE', /300 × 150 pixels; a banner needs at least 320 × 160/);
      const bomb = await pixelBomb(9000, 5000);
      expect(bomb.length).toBeLessThan(200_000);
      await refused(await upload(event.id, bomb, 'image/png'), 422, 'INVALID_IMAGE', /9000 × 5000 pixels \(45 megapixels\); a banner can have at most 40 megapixels/);
    });

    it('a body that is not an image upload at all', async () => {
      await refused(
        await app.inject({ method: 'PUT', url: `/events/${event.id}/banner`, headers: as.org, payload: { url: 'https://example.com/x.png' } }),
        415,
        'UNSUPPORTED_MEDIA_TYPE',
        /Send the banner image itself as the body/,
      );
      await refused(await app.inject({ method: 'PUT', url: `/events/${event.id}/banner`, headers: as.org }), 415, 'UNSUPPORTED_MEDIA_TYPE');
      await refused(await upload(event.id, Buffer.alloc(0), 'image/png'), 400, 'VALIDATION_FAILED', /no image/);
    });

    it('anyone but the event’s organizer or an admin', async () => {
      await refused(await upload(event.id, photo, 'image/jpeg', {}), 401, 'UNAUTHENTICATED');
      await refused(await upload(event.id, photo, 'image/jpeg', as.ada), 403, 'FORBIDDEN');
      await refused(await upload(event.id, photo, 'image/jpeg', as.other), 403, 'FORBIDDEN');
      for (const headers of [{}, as.ada, as.other]) {
        const res = await app.inject({ method: 'DELETE', url: `/events/${event.id}/banner`, headers });
        expect(res.statusCode).toBe(headers === as.ada || headers === as.other ? 403 : 401);
      }
    });

    it('an unknown event', async () => {
      await refused(await upload('evt_missing', photo), 404, 'EVENT_NOT_FOUND');
      await refused(await app.inject({ method: 'DELETE', url: '/events/evt_missing/banner', headers: as.org }), 404, 'EVENT_NOT_FOUND');
    });
  });

  it('lets an admin change any event’s banner', async () => {
    const event = await createEvent();
    expect((await upload(event.id, photo, 'image/jpeg', as.admin)).statusCode).toBe(200);
    expect((await app.inject({ method: 'DELETE', url: `/events/${event.id}/banner`, headers: as.admin })).statusCode).toBe(200);
  });

  it('keeps the banner of a cancelled event and lets it be removed, but takes no new one', async () => {
    const event = await createEvent();
    await upload(event.id, photo);
    const cancelled = (await app.inject({ method: 'POST', url: `/events/${event.id}/cancel`, headers: as.org })).json<Event>();
    expect(cancelled.bannerSizes).toHaveLength(3);
    const res = await upload(event.id, await picture('png', 800, 400), 'image/png');
    expect([res.statusCode, res.json().code]).toEqual([409, 'EVENT_CANCELLED']);
    expect(await banners.list(`${event.id}/`)).toHaveLength(3);
    const removed = await app.inject({ method: 'DELETE', url: `/events/${event.id}/banner`, headers: as.org });
    expect(removed.json()).toMatchObject({ status: 'cancelled', bannerUrl: null });
    expect(await banners.list(`${event.id}/`)).toEqual([]);
  });

  it('keeps the banner through a change of the event', async () => {
    const event = await createEvent();
    const withBanner = (await upload(event.id, photo)).json<Event>();
    const patched = await app.inject({ method: 'PATCH', url: `/events/${event.id}`, headers: as.org, payload: { title: 'Renamed' } });
    expect(patched.json()).toMatchObject({ title: 'Renamed', bannerUrl: withBanner.bannerUrl, bannerSizes: withBanner.bannerSizes });
  });
});

describe('the banner route among the others', () => {
  let dir: ReturnType<typeof tempDir>;
  let app: App;
  beforeAll(async () => {
    dir = tempDir('dems-events-banner-route-');
    const store = new SqliteEventsStore({ file: join(dir.path, 'events.db'), synchronous: 'NORMAL' });
    app = await buildApp({
      store,
      banners: { store: new FilesystemBannerStore(join(dir.path, 'banners')), publicUrl: 'https://cdn.example.com/banners' },
      verify: tokens.verify,
      secret: TEST_SECRET,
      inventory: UNREACHABLE_TICKETING,
    });
  });
  afterAll(async () => {
    await app.close();
    dir.cleanup();
  });

  it('is the only route that takes an image body or one that large', async () => {
    const asImage = await app.inject({ method: 'POST', url: '/events', headers: { ...as.org, 'content-type': 'image/png' }, payload: await picture('png', 400, 200) });
    expect([asImage.statusCode, asImage.json().code]).toEqual([415, 'UNSUPPORTED_MEDIA_TYPE']);
    const large = await app.inject({ method: 'POST', url: '/events', headers: as.org, payload: { ...eventBody(), description: 'x'.repeat(200_000) } });
    expect([large.statusCode, large.json().code]).toEqual([413, 'PAYLOAD_TOO_LARGE']);
  });

  it('builds banner URLs from BANNER_PUBLIC_URL', async () => {
    const event = (await app.inject({ method: 'POST', url: '/events', headers: as.org, payload: eventBody() })).json<Event>();
    const res = await app.inject({ method: 'PUT', url: `/events/${event.id}/banner`, headers: { ...as.org, 'content-type': 'image/jpeg' }, payload: photo });
    expect(res.json<Event>().bannerUrl).toMatch(new RegExp(`^https://cdn\\.example\\.com/banners/${event.id}/[A-Za-z0-9_-]+-1600\\.webp$`));
  });

  it('is in the OpenAPI document with the image types it takes', async () => {
    const doc = (await app.inject({ url: '/openapi.json' })).json();
    const put = doc.paths['/events/{id}/banner'].put;
    expect(Object.keys(put.requestBody.content)).toEqual(['image/jpeg', 'image/png', 'image/webp']);
    expect(put.requestBody.content['image/png'].schema).toMatchObject({ type: 'string', format: 'binary' });
    expect(Object.keys(put.responses)).toEqual(expect.arrayContaining(['200', '413', '415', '422']));
    expect(doc.paths['/events/{id}/banner'].delete.responses['200']).toBeDefined();
  });
});
