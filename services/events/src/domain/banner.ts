import { AppError } from '@dems/kit';
import type { BannerSize, Event } from '@dems/contracts';

/** One stored rendition of a banner: where its bytes are in the banner store (a key, never a URL). */
export interface BannerRendition {
  width: number;
  height: number;
  /** e.g. `evt_x/<upload id>-960.webp`; the API turns it into a URL with BANNER_PUBLIC_URL. */
  key: string;
}

/**
 * An event as this service keeps it: the API's Event with the banner as stored renditions (smallest first, none
 * when there is no banner) instead of URLs, so that moving banners behind another address changes no data.
 */
export type EventRecord = Omit<Event, 'bannerUrl' | 'bannerSizes'> & { banner: BannerRendition[] };

/** The widths a banner is rendered at, for cards (480), the event page (960) and wide screens (1600). */
export const BANNER_WIDTHS = [480, 960, 1600] as const;
/** Smaller than this, a banner looks blurred even on a card. */
export const BANNER_MIN_SIZE = { width: 320, height: 160 };
/** A bound on what one upload may cost to decode: a few kilobytes of PNG can claim billions of pixels. */
export const BANNER_MAX_PIXELS = 40_000_000;

/** What a banner upload turned out to be, judged by its content. */
export interface ImageFacts {
  /** The decoder's name for the format (jpeg, png, webp, gif, svg, heif, tiff…); null when nothing could read it. */
  format: string | null;
  /** As displayed, after the EXIF orientation is applied. */
  width: number;
  height: number;
}

const ACCEPTED_FORMATS = new Set(['jpeg', 'png', 'webp']);
const FORMAT_NAMES: Record<string, string> = {
  gif: 'a GIF',
  svg: 'an SVG drawing',
  heif: 'a HEIF or AVIF image',
  tiff: 'a TIFF image',
  jp2k: 'a JPEG 2000 image',
  jxl: 'a JPEG XL image',
};

/** Refuses an upload that is not a JPEG, PNG or WebP of a sensible size, whatever its name or Content-Type said. */
export function assertUsableBanner(image: ImageFacts): void {
  if (image.format === null) {
    throw new AppError('INVALID_IMAGE', 'This file is not an image we can read. Please upload a JPEG, PNG or WebP picture.');
  }
  if (!ACCEPTED_FORMATS.has(image.format)) {
    const what = FORMAT_NAMES[image.format] ?? `a ${image.format.toUpperCase()} file`;
    throw new AppError('INVALID_IMAGE', `This file is ${what}, judged by its content. A banner must be a JPEG, PNG or WebP picture.`);
  }
  const { width, height } = image;
  if (width * height > BANNER_MAX_PIXELS) {
    const megapixels = Math.round((width * height) / 1_000_000);
    throw new AppError(
      'INVALID_IMAGE',
      `This image is ${width} × ${height} pixels (${megapixels} megapixels); a banner can have at most ${BANNER_MAX_PIXELS / 1_000_000} megapixels.`,
    );
  }
  if (width < BANNER_MIN_SIZE.width || height < BANNER_MIN_SIZE.height) {
    throw new AppError(
      'INVALID_IMAGE',
      `This image is ${width} × ${height} pixels; a banner needs at least ${BANNER_MIN_SIZE.width} × ${BANNER_MIN_SIZE.height} so it stays sharp.`,
    );
  }
}

/**
 * The widths to render an upload `sourceWidth` wide at: each standard width below it, and the upload's own width
 * (at most the largest standard one) on top, so nothing is ever upscaled. A standard width within 20 % of the top
 * one would look the same and is left out.
 */
export function renditionWidths(sourceWidth: number): number[] {
  const top = Math.min(sourceWidth, BANNER_WIDTHS[BANNER_WIDTHS.length - 1]!);
  return [...BANNER_WIDTHS.filter((w) => w <= top * 0.8), top];
}

/** A rendition's key: the event's folder, a name new with every upload (so every URL can be cached for good), its width. */
export const renditionKey = (eventId: string, uploadId: string, width: number): string => `${eventId}/${uploadId}-${width}.webp`;

/** Only a published event takes a new banner; a cancelled one can still have its banner removed. */
export function assertCanSetBanner(event: Pick<EventRecord, 'status'>): void {
  if (event.status === 'cancelled') throw new AppError('EVENT_CANCELLED', 'This event has been cancelled, so its banner can no longer be changed (it can still be removed).');
}

/** The event as the API shows it: banner URLs from the stored keys, the largest as `bannerUrl`. */
export function presentEvent(record: EventRecord, bannerBaseUrl: string): Event {
  const { banner, ...event } = record;
  const bannerSizes: BannerSize[] = banner.map((r) => ({ width: r.width, height: r.height, url: `${bannerBaseUrl}/${r.key}` }));
  return { ...event, bannerUrl: bannerSizes.at(-1)?.url ?? null, bannerSizes };
}
