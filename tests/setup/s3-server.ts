// A local S3-compatible server for tests (s3rver: a real HTTP server speaking the S3 REST API, storing objects as
// files). The S3 banner adapter and `npm run deploy:web` are tested against it with the real AWS SDK v3 client.
// It listens on 127.0.0.1 only, on a port the OS picks, so that suites never collide.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';

export interface LocalS3 {
  /** http://127.0.0.1:<port>, for S3Client({ endpoint, forcePathStyle: true }). */
  endpoint: string;
  /** s3rver accepts any signature; these are the values its docs use. */
  credentials: { accessKeyId: string; secretAccessKey: string };
  region: string;
  close(): Promise<void>;
}

/** Starts s3rver with the given buckets (created empty) in a fresh temporary directory, removed on close. */
export async function startLocalS3(buckets: string[]): Promise<LocalS3> {
  const directory = mkdtempSync(join(tmpdir(), 'dems-s3-'));
  const server = new S3rver({
    port: 0,
    address: '127.0.0.1',
    directory,
    silent: true,
    configureBuckets: buckets.map((name) => ({ name, configs: [] })),
  });
  const { port } = await server.run();
  return {
    endpoint: `http://127.0.0.1:${port}`,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    region: 'us-east-1',
    async close() {
      await server.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
