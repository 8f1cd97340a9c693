import type { BannerStore } from '@dems/kit';
import type { BannerRendition } from '../domain/banner.js';
import type { BannerImages } from '../banners/banner-images.js';
import type { EventsStore } from '../store/events-store.js';

/** What the banner use cases work with. */
export interface BannerDeps {
  store: EventsStore;
  banners: BannerStore;
  images: BannerImages;
  /** Where files that could not be deleted are reported (the request's logger). */
  log: { warn: (details: object, message: string) => void };
}

/**
 * Deletes files no event points at. Best effort: the change the caller made stands either way, and files left
 * behind (logged with their keys) cost storage only, never a broken banner.
 */
export async function discardFiles(deps: BannerDeps, renditions: readonly BannerRendition[], what: string): Promise<void> {
  if (renditions.length === 0) return;
  const keys = renditions.map((r) => r.key);
  try {
    await deps.banners.delete(keys);
  } catch (err) {
    deps.log.warn({ err, keys, location: deps.banners.location }, `could not delete the files of ${what}; nothing uses them, they can be deleted by hand`);
  }
}
