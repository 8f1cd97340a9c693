import type { BannerStore } from './banner-store.js';
import type { BannerStoreSettings } from './config.js';
import { FilesystemBannerStore } from './filesystem.js';

/** Opens the configured store; the S3 adapter (and the AWS SDK) is loaded only when configured. */
export async function openBannerStore(settings: BannerStoreSettings): Promise<BannerStore> {
  if (settings.kind === 'filesystem') return new FilesystemBannerStore(settings.dir);
  const { S3BannerStore } = await import('./s3.js');
  return new S3BannerStore(settings);
}
