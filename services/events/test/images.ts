import { randomBytes } from 'node:crypto';
import sharp from 'sharp';

// Banner uploads for tests, made here in memory: the repository keeps no binary fixtures.

export type PictureFormat = 'jpeg' | 'png' | 'webp' | 'gif' | 'tiff';

/**
 * A picture of diagonal stripes (detail for every rendition to encode), optionally carrying EXIF text and an EXIF
 * orientation, as camera files do.
 */
export async function picture(format: PictureFormat, width: number, height: number, opts: { exifText?: string; orientation?: number } = {}): Promise<Buffer> {
  const pixels = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      const band = Math.floor((x + y) / 40) % 3;
      pixels[i] = band === 0 ? 220 : 40;
      pixels[i + 1] = band === 1 ? 180 : (x * 255) / width;
      pixels[i + 2] = band === 2 ? 200 : (y * 255) / height;
    }
  }
  let image = sharp(pixels, { raw: { width, height, channels: 3 } });
  if (opts.exifText || opts.orientation) {
    image = image.withMetadata({
      ...(opts.orientation ? { orientation: opts.orientation } : {}),
      ...(opts.exifText ? { exif: { IFD0: { ImageDescription: opts.exifText, Copyright: opts.exifText } } } : {}),
    });
  }
  return image.toFormat(format).toBuffer();
}

/** A PNG of `bytes` or a little more, of random pixels (which do not compress). */
export async function incompressiblePng(bytes: number): Promise<Buffer> {
  const width = 1024;
  const height = Math.ceil(bytes / (width * 3)) + 1;
  return sharp(randomBytes(width * height * 3), { raw: { width, height, channels: 3 } })
    .png({ compressionLevel: 0 })
    .toBuffer();
}

/** A PNG that says it is `width` × `height` and compresses to a few kilobytes: a decompression bomb. */
export async function pixelBomb(width: number, height: number): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: '#000' } })
    .png({ compressionLevel: 9 })
    .toBuffer();
}

/** The first part of a file only, as an interrupted upload leaves it. */
export const truncated = (file: Buffer, keep = 0.6): Buffer => file.subarray(0, Math.floor(file.length * keep));

/** A PNG whose compressed pixel data is overwritten with garbage after the header: it announces a picture it does not hold. */
export async function corruptPng(): Promise<Buffer> {
  const file = Buffer.from(await picture('png', 800, 400));
  const idat = file.indexOf('IDAT');
  for (let i = idat + 40; i < idat + 400; i++) file[i] = (i * 73) & 0xff;
  return file;
}

export const HTML_PAGE = Buffer.from('<!doctype html><html><head><title>Surprise</title></head><body><script>alert(1)</script></body></html>');

export const SVG_DRAWING = Buffer.from(
  '<svg xmlns="http://www.w3.org/2000/svg" width="1200" height="600"><rect width="1200" height="600" fill="tomato"/><script>alert(1)</script></svg>',
);

/** What a banner rendition decodes as. */
export async function decoded(bytes: Buffer) {
  const meta = await sharp(bytes).metadata();
  return { format: meta.format, width: meta.width, height: meta.height, exif: meta.exif, icc: meta.icc, orientation: meta.orientation };
}
