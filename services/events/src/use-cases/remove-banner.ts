import type { AuthUser } from '@dems/kit';
import type { EventRecord } from '../domain/banner.js';
import { discardFiles, type BannerDeps } from './banner-files.js';
import { eventNotFound, eventToManage } from './event-to-manage.js';

/**
 * DELETE /events/:id/banner: forget the banner, then delete its files (best effort). Removing a banner that is not
 * there is no error, and a cancelled event's banner can be removed too.
 */
export async function removeBanner(deps: BannerDeps, eventId: string, user: AuthUser, now = new Date()): Promise<EventRecord> {
  const current = await eventToManage(deps.store, eventId, user);
  if (current.banner.length === 0) return current;
  const swapped = await deps.store.replaceBanner(eventId, [], now);
  if (!swapped) throw eventNotFound();
  await discardFiles(deps, swapped.previous, 'a removed banner');
  return swapped.event;
}
