import type { ImageFacts } from '../domain/banner.js';

/** One rendition of an upload, encoded as WebP. */
export interface RenderedImage {
  width: number;
  height: number;
  bytes: Buffer;
}

/**
 * Image decoding and encoding, as the banner use case needs it (sharp-images.ts is the adapter). Both steps read
 * the upload by its content; neither trusts its name or Content-Type.
 */
export interface BannerImages {
  /** What the upload is (format and displayed size) from its header; format null when no decoder recognises it. */
  inspect(upload: Buffer): Promise<ImageFacts>;
  /**
   * Decodes the whole upload and encodes it as WebP at each width (never wider than the upload): turned upright by its
   * EXIF orientation, without any of its metadata, so no byte of the upload is ever served. INVALID_IMAGE when the
   * upload is truncated or damaged.
   */
  render(upload: Buffer, widths: readonly number[]): Promise<RenderedImage[]>;
}
