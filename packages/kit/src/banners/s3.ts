import { Readable } from 'node:stream';
import { DeleteObjectsCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { assertBannerKey, assertBannerPrefix, isBannerKey, S3_BANNER_PREFIX, type BannerObject, type BannerStore } from './banner-store.js';

export interface S3BannerStoreOptions {
  bucket: string;
  region: string;
  /** An S3-compatible server instead of AWS. */
  endpoint?: string;
  forcePathStyle: boolean;
  /** Default: the standard AWS chain (environment, profile, web identity, EKS Pod Identity, instance role). */
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /** Keys per DeleteObjects call: S3's maximum, 1000, unless a test wants to see the batches. */
  deleteBatch?: number;
}

const notFound = (err: unknown) => err instanceof S3ServiceException && (err.name === 'NoSuchKey' || err.name === 'NotFound' || err.$metadata.httpStatusCode === 404);

/**
 * Banners as objects in an S3 bucket, under `banners/` (CloudFront serves that prefix at /banners/*). Each object
 * carries its content type and cache policy, so CloudFront and browsers get them straight from S3.
 */
export class S3BannerStore implements BannerStore {
  readonly location: string;
  private readonly client: S3Client;
  private readonly bucket: string;
  private readonly deleteBatch: number;

  constructor(opts: S3BannerStoreOptions) {
    this.bucket = opts.bucket;
    this.deleteBatch = opts.deleteBatch ?? 1000;
    this.location = `s3://${opts.bucket}/${S3_BANNER_PREFIX}`;
    this.client = new S3Client({
      region: opts.region,
      forcePathStyle: opts.forcePathStyle,
      ...(opts.endpoint
        ? {
            endpoint: opts.endpoint,
            // S3-compatible servers do not all know the checksums the SDK adds by default; send them only where required.
            requestChecksumCalculation: 'WHEN_REQUIRED',
            responseChecksumValidation: 'WHEN_REQUIRED',
          }
        : {}),
      ...(opts.credentials ? { credentials: opts.credentials } : {}),
      maxAttempts: 3,
    });
  }

  async put(key: string, bytes: Buffer, meta: { contentType: string; cacheControl: string }): Promise<void> {
    assertBannerKey(key);
    await this.client.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: S3_BANNER_PREFIX + key,
        Body: bytes,
        ContentLength: bytes.length,
        ContentType: meta.contentType,
        CacheControl: meta.cacheControl,
      }),
    );
  }

  async get(key: string): Promise<BannerObject | null> {
    if (!isBannerKey(key)) return null;
    try {
      const res = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: S3_BANNER_PREFIX + key }));
      if (!(res.Body instanceof Readable)) throw new Error(`S3 answered GetObject ${key} without a readable body`);
      return { body: res.Body, contentType: res.ContentType ?? 'application/octet-stream', length: Number(res.ContentLength ?? 0) };
    } catch (err) {
      if (notFound(err)) return null;
      throw err;
    }
  }

  async delete(keys: readonly string[]): Promise<void> {
    keys.forEach(assertBannerKey);
    for (let i = 0; i < keys.length; i += this.deleteBatch) {
      const batch = keys.slice(i, i + this.deleteBatch);
      const res = await this.client.send(
        new DeleteObjectsCommand({
          Bucket: this.bucket,
          Delete: { Objects: batch.map((key) => ({ Key: S3_BANNER_PREFIX + key })), Quiet: true },
        }),
      );
      // DeleteObjects answers 200 even when some keys failed; those are listed in Errors.
      const failed = res.Errors ?? [];
      if (failed.length) {
        throw new Error(`S3 did not delete ${failed.length} of ${batch.length} banner objects (first: ${failed[0]?.Key}: ${failed[0]?.Code} ${failed[0]?.Message ?? ''})`);
      }
    }
  }

  async list(prefix: string): Promise<string[]> {
    assertBannerPrefix(prefix);
    const keys: string[] = [];
    // Paged by the last key seen (StartAfter) rather than by continuation tokens: the same pages on S3, and
    // S3-compatible servers implement it alike.
    let after: string | undefined;
    do {
      const res = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: S3_BANNER_PREFIX + prefix, StartAfter: after }));
      const page = (res.Contents ?? []).flatMap((object) => (object.Key ? [object.Key] : []));
      keys.push(...page.map((key) => key.slice(S3_BANNER_PREFIX.length)));
      after = res.IsTruncated ? page.at(-1) : undefined;
    } while (after);
    return keys;
  }

  async close(): Promise<void> {
    this.client.destroy();
  }
}
