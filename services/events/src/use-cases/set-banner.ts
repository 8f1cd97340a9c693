import { randomBytes } from 'node:crypto';
import { BANNER_CACHE_CONTROL, type AuthUser } from '@dems/kit';
import { assertCanSetBanner, assertUsableBanner, renditionKey, renditionWidths, type BannerRendition, type EventRecord } from '../domain/banner.js';
import { discardFiles, type BannerDeps } from './banner-files.js';
import { eventNotFound, eventToManage } from './event-to-manage.js';

/**
 * PUT /events/:id/banner: check who asks and the upload (by its content), render it, then, in this order, store the
 * renditions under names new to this upload, record them on the event (one atomic swap), delete the banner they
 * replaced. Whatever fails, the event never points at a file that is missing or half-written: a failure before the
 * swap leaves the old banner in place (the new files are removed); at worst, unused files stay behind (a crash
 * between the steps, or a failed delete, which is logged).
 */
export async function setBanner(deps: BannerDeps, eventId: string, upload: Buffer, user: AuthUser, now = new Date()): Promise<EventRecord> {
  assertCanSetBanner(await eventToManage(deps.store, eventId, user));
  const image = await deps.images.inspect(upload);
  assertUsableBanner(image);
  const rendered = await deps.images.render(upload, renditionWidths(image.width));

  const uploadId = randomBytes(12).toString('base64url');
  const banner: BannerRendition[] = rendered.map((r) => ({ width: r.width, height: r.height, key: renditionKey(eventId, uploadId, r.width) }));
  // Every write settles before any cleanup, so no write can land after its file was deleted.
  const writes = await Promise.allSettled(rendered.map((r, i) => deps.banners.put(banner[i]!.key, r.bytes, { contentType: 'image/webp', cacheControl: BANNER_CACHE_CONTROL })));
  const failed = writes.find((w) => w.status === 'rejected');
  if (failed) {
    await discardFiles(deps, banner, 'an upload that could not be stored whole');
    throw failed.reason;
  }
  // Kept even when the swap fails: a store that applied it and then lost its answer points at these files now.
  const swapped = await deps.store.replaceBanner(eventId, banner, now);
  if (!swapped) {
    await discardFiles(deps, banner, 'an upload for an event that is gone');
    throw eventNotFound();
  }
  await discardFiles(deps, swapped.previous, 'the banner this upload replaced');
  return swapped.event;
}
