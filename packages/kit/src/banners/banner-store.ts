import type { Readable } from 'node:stream';

/** An object read back from the store, to be streamed to a client. */
export interface BannerObject {
  body: Readable;
  contentType: string;
  /** In bytes. */
  length: number;
}

/**
 * Where banner images are kept: files on this machine or objects in S3. Keys are relative paths such as
 * `evt_x/abc-960.webp` (see isBannerKey); the S3 adapter keeps them under the bucket's `banners/` prefix, the
 * filesystem adapter under its directory. Uploads never overwrite a key in use (names are unique per upload),
 * which is what lets the gateway and CloudFront cache every object for a year.
 */
export interface BannerStore {
  /** Where the banners are, for logs: a directory, or s3://bucket/banners/. */
  readonly location: string;
  /** Stores one object whole: a reader never sees it half-written. */
  put(key: string, bytes: Buffer, meta: { contentType: string; cacheControl: string }): Promise<void>;
  /** The object under `key`; null when there is none, or when `key` is not a key this store could hold. */
  get(key: string): Promise<BannerObject | null>;
  /** Removes the objects; a key with nothing under it is no error. */
  delete(keys: readonly string[]): Promise<void>;
  /** Every key under a folder-like prefix such as `evt_x/` ('' for all), in no particular order. */
  list(prefix: string): Promise<string[]>;
  close(): Promise<void>;
}

/** How long a client may keep a banner: for good, since a new upload always gets new names. */
export const BANNER_CACHE_CONTROL = 'public, max-age=31536000, immutable';

/** Where the S3 adapter keeps banners in its bucket: CloudFront's `/banners/*` maps onto the bucket unchanged. */
export const S3_BANNER_PREFIX = 'banners/';

/**
 * A key the stores accept: folder names and a file name of letters, digits, `_` and `-`, the file name with one
 * extension. No dots in folder names, no `..`, no backslashes, no percent-escapes: whatever a URL path says, a key
 * that passes can only name something inside the store.
 */
const BANNER_KEY = /^(?:[A-Za-z0-9_-]{1,128}\/){0,4}[A-Za-z0-9_-]{1,128}(?:\.[A-Za-z0-9]{1,16})?$/;
const BANNER_PREFIX = /^(?:[A-Za-z0-9_-]{1,128}\/){0,4}$/;

export const isBannerKey = (key: string): boolean => BANNER_KEY.test(key);

export function assertBannerKey(key: string): void {
  if (!isBannerKey(key)) throw new Error(`Not a banner key: ${JSON.stringify(key)}`);
}

export function assertBannerPrefix(prefix: string): void {
  if (!BANNER_PREFIX.test(prefix)) throw new Error(`Not a banner key prefix (folders ending in /, or empty): ${JSON.stringify(prefix)}`);
}
