import { describe, expect, it } from 'vitest';
import { CreateEventBody } from '@dems/contracts';
import { assertCanSetBanner, assertUsableBanner, BANNER_MAX_PIXELS, presentEvent, renditionKey, renditionWidths, type ImageFacts } from '../src/domain/banner.js';
import { buildNewEvent } from '../src/domain/event-rules.js';
import { errorOf, eventBody } from './helpers.js';

const jpeg = (width: number, height: number): ImageFacts => ({ format: 'jpeg', width, height });
const refusal = (image: ImageFacts) => {
  const err = errorOf(() => assertUsableBanner(image));
  return err && { code: err.code, message: err.message };
};

describe('which uploads make a banner', () => {
  it.each([
    ['jpeg', 1600, 800],
    ['png', 320, 160],
    ['webp', 8000, 5000], // exactly the pixel limit
  ])('takes a %s of %i × %i', (format, width, height) => {
    expect(refusal({ format, width, height })).toBeNull();
  });

  it('refuses what no decoder reads, naming the formats it takes', () => {
    expect(refusal({ format: null, width: 0, height: 0 })).toEqual({
      code: 'INVALID_IMAGE',
      message: 'This file is not an image we can read. Please upload a JPEG, PNG or WebP picture.',
    });
  });

  it.each([
    ['svg', 'This file is an SVG drawing, judged by its content. A banner must be a JPEG, PNG or WebP picture.'],
    ['gif', 'This file is a GIF, judged by its content. A banner must be a JPEG, PNG or WebP picture.'],
    ['heif', 'This file is a HEIF or AVIF image, judged by its content. A banner must be a JPEG, PNG or WebP picture.'],
    ['tiff', 'This file is a TIFF image, judged by its content. A banner must be a JPEG, PNG or WebP picture.'],
    ['pdf', 'This file is a PDF file, judged by its content. A banner must be a JPEG, PNG or WebP picture.'],
  ])('refuses a readable image that is not a JPEG, PNG or WebP: %s', (format, message) => {
    expect(refusal({ format, width: 1600, height: 800 })).toEqual({ code: 'INVALID_IMAGE', message });
  });

  it('refuses a picture narrower or lower than 320 × 160, saying both sizes', () => {
    expect(refusal(jpeg(319, 160))).toEqual({
      code: 'INVALID_IMAGE',
      message: 'This image is 319 × 160 pixels; a banner needs at least 320 × 160 so it stays sharp.',
    });
    expect(refusal(jpeg(320, 159))?.message).toMatch(/^This image is 320 × 159 pixels;/);
    expect(refusal(jpeg(160, 3200))?.message).toMatch(/^This image is 160 × 3200 pixels;/);
  });

  it('refuses more pixels than the limit, in megapixels', () => {
    expect(BANNER_MAX_PIXELS).toBe(40_000_000);
    expect(refusal(jpeg(8000, 5001))).toEqual({
      code: 'INVALID_IMAGE',
      message: 'This image is 8000 × 5001 pixels (40 megapixels); a banner can have at most 40 megapixels.',
    });
    expect(refusal(jpeg(10_000, 9_000))?.message).toMatch(/\(90 megapixels\)/);
  });
});

describe('rendition widths', () => {
  it.each([
    [320, [320]],
    [500, [500]],
    [600, [480, 600]],
    [1000, [480, 1000]],
    [1200, [480, 960, 1200]],
    [1599, [480, 960, 1599]],
    [1600, [480, 960, 1600]],
    [6000, [480, 960, 1600]],
  ])('an upload %i wide is rendered at %j', (source, widths) => {
    expect(renditionWidths(source)).toEqual(widths);
  });

  it('a standard width at exactly 80 % of the top one is kept', () => {
    expect(renditionWidths(1200)).toContain(960);
    expect(renditionWidths(1199)).not.toContain(960);
    expect(renditionWidths(600)).toContain(480);
    expect(renditionWidths(599)).not.toContain(480);
  });
});

describe('banner keys, state and presentation', () => {
  const record = buildNewEvent(CreateEventBody.parse(eventBody()), 'usr_org', new Date());

  it('names a rendition by event, upload and width', () => {
    expect(renditionKey('evt_1', 'abc', 960)).toBe('evt_1/abc-960.webp');
  });

  it('takes a new banner for a published event only', () => {
    expect(errorOf(() => assertCanSetBanner({ status: 'published' }))).toBeNull();
    expect(errorOf(() => assertCanSetBanner({ status: 'cancelled' }))).toMatchObject({
      code: 'EVENT_CANCELLED',
      message: expect.stringMatching(/cancelled.*can still be removed/),
    });
  });

  it('shows stored keys as URLs under the public base, the largest as bannerUrl, and never the keys themselves', () => {
    const banner = [
      { width: 480, height: 240, key: `${record.id}/u-480.webp` },
      { width: 960, height: 480, key: `${record.id}/u-960.webp` },
    ];
    const shown = presentEvent({ ...record, banner }, 'https://cdn.example.com/banners');
    expect(shown.bannerSizes).toEqual([
      { width: 480, height: 240, url: `https://cdn.example.com/banners/${record.id}/u-480.webp` },
      { width: 960, height: 480, url: `https://cdn.example.com/banners/${record.id}/u-960.webp` },
    ]);
    expect(shown.bannerUrl).toBe(`https://cdn.example.com/banners/${record.id}/u-960.webp`);
    expect(shown).not.toHaveProperty('banner');
    expect(shown).toMatchObject({ id: record.id, title: record.title, ticketTypes: record.ticketTypes });
  });

  it('shows no banner as null and an empty list', () => {
    expect(presentEvent(record, '/banners')).toMatchObject({ bannerUrl: null, bannerSizes: [] });
  });
});
