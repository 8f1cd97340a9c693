import { AppError, type AuthUser, type BannerStore } from '@dems/kit';
import type { BannerRendition, EventRecord } from '../domain/banner.js';
import { assertCanManage } from '../domain/event-rules.js';
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

export const eventNotFound = () => new AppError('EVENT_NOT_FOUND', 'No event with this id.');

/** The event, if it exists and `user` may change it (its organizer, or an admin). */
export async function eventToManage(store: EventsStore, id: string, user: AuthUser): Promise<EventRecord> {
  const event = await store.getEvent(id);
  if (!event) throw eventNotFound();
  assertCanManage(event, user);
  return event;
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
