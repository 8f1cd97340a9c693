import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Event } from '@dems/contracts';
import { S3BannerStore } from '../../packages/kit/src/banners/s3.js';
import { HTML_PAGE, incompressiblePng, picture } from '../../services/events/test/images.js';
import { startLocalS3, type LocalS3 } from '../setup/s3-server.js';
import { createEvent, startTestSystem } from './helpers.js';

// Banners through real processes: upload through the gateway to the events service, which stores the renditions;
// the gateway serves them back from the same store. Once on files (the default of `npm start`), once on S3 (a real
// S3 REST server on 127.0.0.1).

const BUCKET = 'dems-banners';

let s3: LocalS3;
let photo: Buffer;
beforeAll(async () => {
  s3 = await startLocalS3([BUCKET]);
  photo = await picture('jpeg', 2000, 1000);
});
afterAll(async () => s3?.close());

const modes = [
  { name: 'filesystem', env: (): Record<string, string> => ({}) },
  {
    name: 's3',
    env: (): Record<string, string> => ({
      BANNER_STORE: 's3',
      BANNER_BUCKET: BUCKET,
      S3_ENDPOINT: s3.endpoint,
      S3_FORCE_PATH_STYLE: 'true',
      AWS_ACCESS_KEY_ID: s3.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: s3.credentials.secretAccessKey,
    }),
  },
];

describe.each(modes)('system: banners on $name, through the gateway', ({ name, env }) => {
  let t: Awaited<ReturnType<typeof startTestSystem>>;
  let gateway: string;
  beforeAll(async () => {
    t = await startTestSystem({ env: env() });
    gateway = t.system.urls.gateway;
  }, 60_000);
  afterAll(async () => t?.stop());

  type Refusal = { code: string; message: string };
  const upload = (eventId: string, body: Buffer, token: string, contentType = 'image/jpeg') =>
    fetch(`${gateway}/api/events/${eventId}/banner`, { method: 'PUT', headers: { authorization: `Bearer ${token}`, 'content-type': contentType }, body });

  it('uploads a banner, shows it on the event, serves it as an immutable WebP; replacing and removing delete the old files', async () => {
    const organizer = await t.api.account('organizer');
    const event = await createEvent(t.api, organizer.token, 10);
    // Larger than the 100 KB every other route takes: the gateway lets this route alone carry it.
    expect(photo.length).toBeGreaterThan(100_000);

    const res = await upload(event.id, photo, organizer.token);
    expect(res.status, await res.clone().text()).toBe(200);
    const withBanner = (await res.json()) as Event;
    expect(withBanner.bannerUrl).toMatch(new RegExp(`^/banners/${event.id}/[A-Za-z0-9_-]+-1600\\.webp$`));
    expect((await t.api.get(`/events/${event.id}`)).body).toMatchObject({ bannerUrl: withBanner.bannerUrl, bannerSizes: withBanner.bannerSizes });

    const image = await fetch(`${gateway}${withBanner.bannerUrl}`);
    expect(image.status).toBe(200);
    expect(image.headers.get('content-type')).toBe('image/webp');
    expect(image.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(image.headers.get('x-content-type-options')).toBe('nosniff');
    const bytes = Buffer.from(await image.arrayBuffer());
    expect(await sharp(bytes).metadata()).toMatchObject({ format: 'webp', width: 1600, height: 800 });
    for (const size of withBanner.bannerSizes) expect((await fetch(`${gateway}${size.url}`)).status).toBe(200);

    if (name === 's3') {
      // Objects in the bucket under banners/, where CloudFront's /banners/* finds them.
      const bucket = new S3BannerStore({ bucket: BUCKET, region: s3.region, endpoint: s3.endpoint, forcePathStyle: true, credentials: s3.credentials });
      expect((await bucket.list(`${event.id}/`)).length).toBe(3);
      await bucket.close();
    }

    const replaced = (await (await upload(event.id, await picture('png', 1200, 600), organizer.token, 'image/png')).json()) as Event;
    expect(replaced.bannerUrl).not.toBe(withBanner.bannerUrl);
    expect((await fetch(`${gateway}${replaced.bannerUrl}`)).status).toBe(200);
    expect((await fetch(`${gateway}${withBanner.bannerUrl}`)).status).toBe(404);

    const removed = await fetch(`${gateway}/api/events/${event.id}/banner`, { method: 'DELETE', headers: { authorization: `Bearer ${organizer.token}` } });
    expect(removed.status).toBe(200);
    expect(await removed.json()).toMatchObject({ bannerUrl: null, bannerSizes: [] });
    expect((await fetch(`${gateway}${replaced.bannerUrl}`)).status).toBe(404);
  });

  it('refuses through the gateway what the service refuses, and a body over 5 MB at the gateway itself', async () => {
    const organizer = await t.api.account('organizer');
    const attendee = await t.api.account('attendee');
    const event = await createEvent(t.api, organizer.token, 10);

    const html = await upload(event.id, HTML_PAGE, organizer.token, 'image/png');
    expect([html.status, ((await html.json()) as Refusal).code]).toEqual([422, 'INVALID_IMAGE']);
    const big = await upload(event.id, await incompressiblePng(6 * 1024 * 1024), organizer.token, 'image/png');
    expect(big.status).toBe(413);
    expect(((await big.json()) as Refusal).message).toMatch(/A banner can be at most 5 MB/);
    const notHers = await upload(event.id, photo, attendee.token);
    expect(notHers.status).toBe(403);
    expect((await t.api.get(`/events/${event.id}`)).body.bannerUrl).toBeNull();
  });
});
