import { join } from 'node:path';
import { z } from 'zod';

/** An empty variable (as written in .env.example) is an unset one. */
const unsetIfEmpty = <T extends z.ZodType>(schema: T) => z.preprocess((v) => (v === '' ? undefined : v), schema.optional());

/** S3's rules for a bucket name: 3 to 63 lower-case letters, digits, dots and hyphens, starting and ending with a letter or digit. */
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** A path on the site itself (/banners) or an absolute http(s) URL (a CDN); never a protocol-relative //host. */
const isPublicBase = (s: string): boolean => {
  if (s.startsWith('/')) return !s.startsWith('//');
  try {
    return ['http:', 'https:'].includes(new URL(s).protocol);
  } catch {
    return false;
  }
};

/**
 * Where event banners are kept and where browsers fetch them: the events service writes them, the gateway serves
 * them (GET /banners/*). Both read these variables, so one environment configures both alike.
 */
export const BannerConfig = z.object({
  /** filesystem: files under BANNER_DIR (one machine, npm start). s3: objects under `banners/` in BANNER_BUCKET. */
  BANNER_STORE: z.enum(['filesystem', 's3']).default('filesystem'),
  /** filesystem: the directory (default `<DATA_DIR>/banners`); the events service and the gateway must see the same one. */
  BANNER_DIR: unsetIfEmpty(z.string()),
  /** s3: the bucket (required with BANNER_STORE=s3). */
  BANNER_BUCKET: unsetIfEmpty(z.string().regex(BUCKET_NAME, 'must be an S3 bucket name: 3–63 lower-case letters, digits, dots and hyphens')),
  /** s3: an S3-compatible server instead of AWS (MinIO, a local test server), e.g. http://minio:9000. */
  S3_ENDPOINT: unsetIfEmpty(z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL, e.g. http://127.0.0.1:9000' })),
  /** s3: address the bucket in the path (http://host/bucket/key), as most S3-compatible servers need. */
  S3_FORCE_PATH_STYLE: z.stringbool().default(false),
  /** The start of every banner URL the API hands out: `<BANNER_PUBLIC_URL>/<eventId>/<file>.webp`. */
  BANNER_PUBLIC_URL: z
    .string()
    .default('/banners')
    .refine(isPublicBase, 'must be a path such as /banners or an http(s) URL such as https://cdn.example.com/banners')
    .transform((s) => s.replace(/\/+$/, '')),
});
export type BannerConfig = z.infer<typeof BannerConfig>;

const BUCKET_REQUIRED = 'required when BANNER_STORE=s3: the name of the S3 bucket that holds the banners';

/**
 * A service's whole config schema with the rule no single variable can check: s3 needs a bucket. The rule runs
 * even when other variables are bad, so one start lists every problem.
 */
export const requireBannerBucket = <T extends z.ZodType<Pick<BannerConfig, 'BANNER_STORE' | 'BANNER_BUCKET'>>>(schema: T): T =>
  schema.refine((config) => config.BANNER_STORE !== 's3' || config.BANNER_BUCKET !== undefined, {
    path: ['BANNER_BUCKET'],
    message: BUCKET_REQUIRED,
    when: ({ value }) => typeof value === 'object' && value !== null,
  });

/** Where banners live, as the store adapters take it. */
export type BannerStoreSettings = { kind: 'filesystem'; dir: string } | { kind: 's3'; bucket: string; region: string; endpoint?: string; forcePathStyle: boolean };

/** The banner store's settings from a service's configuration (validated by its schema, requireBannerBucket included). */
export function bannerStoreSettings(config: BannerConfig & { DATA_DIR: string; AWS_REGION: string }): BannerStoreSettings {
  if (config.BANNER_STORE === 's3') {
    if (!config.BANNER_BUCKET) throw new Error(`BANNER_BUCKET: ${BUCKET_REQUIRED}`);
    return { kind: 's3', bucket: config.BANNER_BUCKET, region: config.AWS_REGION, endpoint: config.S3_ENDPOINT, forcePathStyle: config.S3_FORCE_PATH_STYLE };
  }
  return { kind: 'filesystem', dir: config.BANNER_DIR ?? join(config.DATA_DIR, 'banners') };
}
