import type { Sharp, SharpOptions } from 'sharp';
import { AppError } from '@dems/kit';
import { BANNER_MAX_PIXELS } from '../domain/banner.js';
import type { BannerImages, RenderedImage } from './banner-images.js';

/** Loaded on the first upload: a service that never sees one never loads libvips. */
let loaded: Promise<typeof import('sharp')> | undefined;
const sharp = async (input: Buffer, options: SharpOptions): Promise<Sharp> => {
  loaded ??= import('sharp');
  return (await loaded).default(input, options);
};

/**
 * Decoding refuses what is truncated or corrupt ('error': warnings such as stray bytes between markers, common in
 * camera files, pass), and anything past the pixel limit, before a byte of it is decoded.
 */
const DECODE: SharpOptions = { failOn: 'error', limitInputPixels: BANNER_MAX_PIXELS };
/** Photos at quality 80 look the same as the upload on screen at a fraction of its size. */
const WEBP = { quality: 80, effort: 4 };

const DAMAGED = 'This image is damaged or incomplete (perhaps the upload was cut off), so it cannot be used. Please upload it again or choose another file.';

/** The banner images adapter on sharp (libvips). */
export function sharpImages(): BannerImages {
  return {
    async inspect(upload) {
      try {
        // The header alone, without the pixel limit: an upload over it is named with its size (assertUsableBanner).
        const meta = await (await sharp(upload, { limitInputPixels: false })).metadata();
        const { width, height } = meta.autoOrient;
        return { format: meta.format ?? null, width, height };
      } catch {
        // "unsupported image format", or a header too broken to read: not an image we can use either way.
        return { format: null, width: 0, height: 0 };
      }
    },

    async render(upload, widths) {
      try {
        // Decoded once, upright and at the largest width asked for; the smaller renditions come from those pixels.
        const top = Math.max(...widths);
        const { data, info } = await (await sharp(upload, DECODE)).autoOrient().resize({ width: top, withoutEnlargement: true }).raw().toBuffer({ resolveWithObject: true });
        const raw = { raw: { width: info.width, height: info.height, channels: info.channels } };
        return await Promise.all(
          widths.map(async (width): Promise<RenderedImage> => {
            const encoded = await (await sharp(data, raw)).resize({ width, withoutEnlargement: true }).webp(WEBP).toBuffer({ resolveWithObject: true });
            return { width: encoded.info.width, height: encoded.info.height, bytes: encoded.data };
          }),
        );
      } catch {
        // libvips reports a truncated or corrupt upload here, when the pixels are decoded.
        throw new AppError('INVALID_IMAGE', DAMAGED);
      }
    },
  };
}
