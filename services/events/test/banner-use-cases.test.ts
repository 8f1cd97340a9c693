import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CreateEventBody } from '@dems/contracts';
import { AppError, BANNER_CACHE_CONTROL, FilesystemBannerStore, type AuthUser, type BannerStore } from '@dems/kit';
import { tempDir } from '@dems/kit/testing';
import { sharpImages } from '../src/banners/sharp-images.js';
import type { EventRecord } from '../src/domain/banner.js';
import { buildNewEvent } from '../src/domain/event-rules.js';
import type { EventsStore } from '../src/store/events-store.js';
import { SqliteEventsStore } from '../src/store/sqlite.js';
import type { BannerDeps } from '../src/use-cases/banner-files.js';
import { cancelEvent } from '../src/use-cases/cancel-event.js';
import { storeNewEvent } from '../src/use-cases/create-event.js';
import { removeBanner } from '../src/use-cases/remove-banner.js';
import { setBanner } from '../src/use-cases/set-banner.js';
import { eventBody } from './helpers.js';
import { picture } from './images.js';

// The banner use cases with a real SQLite store, real files and real sharp. Fakes appear only to force failures:
// a banner store that fails some writes or every delete, an events store whose swap fails or finds no event.

const ORGANIZER: AuthUser = { id: 'usr_org', role: 'organizer', name: 'Olga', email: 'olga@example.com' };

let photo: Buffer;
let other: Buffer;
beforeAll(async () => {
  photo = await picture('jpeg', 1800, 900);
  other = await picture('png', 1000, 500); // rendered at 480 and 1000
});

let dir: ReturnType<typeof tempDir>;
let store: SqliteEventsStore;
let files: FilesystemBannerStore;
let warnings: { details: { keys?: string[] }; message: string }[];
let event: EventRecord;

beforeEach(async () => {
  dir = tempDir('dems-banner-use-cases-');
  store = new SqliteEventsStore({ file: join(dir.path, 'events.db'), synchronous: 'NORMAL' });
  files = new FilesystemBannerStore(join(dir.path, 'banners'));
  warnings = [];
  event = await storeNewEvent(store, buildNewEvent(CreateEventBody.parse(eventBody()), ORGANIZER.id, new Date()));
});
afterEach(async () => {
  await store.close();
  dir.cleanup();
});

const deps = (over: Partial<BannerDeps> = {}): BannerDeps => ({
  store,
  banners: files,
  images: sharpImages(),
  log: { warn: (details, message) => void warnings.push({ details, message }) },
  ...over,
});

/** The real files, but writes of the keys `failOn` picks fail (after the others have landed). */
const failingWrites = (failOn: (key: string) => boolean): BannerStore => ({
  location: files.location,
  get: (key) => files.get(key),
  list: (prefix) => files.list(prefix),
  delete: (keys) => files.delete(keys),
  close: async () => {},
  put: async (key, bytes, meta) => {
    if (failOn(key)) throw new Error(`disk full writing ${key}`);
    await files.put(key, bytes, meta);
  },
});

/** The real files, except that nothing can be deleted. */
const undeletable = (): BannerStore => ({
  location: files.location,
  get: (key) => files.get(key),
  list: (prefix) => files.list(prefix),
  put: (key, bytes, meta) => files.put(key, bytes, meta),
  delete: async () => {
    throw new Error('permission denied');
  },
  close: async () => {},
});

/** The real store, with replaceBanner replaced. */
const withSwap = (replaceBanner: EventsStore['replaceBanner']): EventsStore =>
  new Proxy(store, { get: (target, name, receiver) => (name === 'replaceBanner' ? replaceBanner : Reflect.get(target, name, receiver)) });

const keysOf = (record: EventRecord | null) => (record?.banner ?? []).map((r) => r.key).sort();
const listed = async () => (await files.list('')).sort();

describe('setting a banner', () => {
  it('stores the renditions, records their keys, and returns the event with them', async () => {
    const now = new Date(Date.now() + 60_000);
    const result = await setBanner(deps(), event.id, photo, ORGANIZER, now);
    expect(result.banner.map((r) => [r.width, r.height])).toEqual([
      [480, 240],
      [960, 480],
      [1600, 800],
    ]);
    expect(result.updatedAt).toBe(now.toISOString());
    expect(await store.getEvent(event.id)).toEqual(result);
    expect(await listed()).toEqual(keysOf(result));
    for (const r of result.banner) expect(r.key).toMatch(new RegExp(`^${event.id}/[A-Za-z0-9_-]{16}-${r.width}\\.webp$`));
  });

  it('gives every upload names of its own, so a replaced file is never overwritten', async () => {
    const first = await setBanner(deps(), event.id, photo, ORGANIZER);
    const second = await setBanner(deps(), event.id, photo, ORGANIZER);
    expect(keysOf(second).some((k) => keysOf(first).includes(k))).toBe(false);
    expect(await listed()).toEqual(keysOf(second));
    expect(warnings).toEqual([]);
  });

  it('when a write fails: nothing of the upload is left, and the event keeps its banner and files', async () => {
    const before = await setBanner(deps(), event.id, photo, ORGANIZER);
    const failing = deps({ banners: failingWrites((key) => key.endsWith('-1000.webp')) });
    await expect(setBanner(failing, event.id, other, ORGANIZER)).rejects.toThrow(/disk full/);
    expect(await store.getEvent(event.id)).toEqual(before);
    expect(await listed()).toEqual(keysOf(before));
  });

  it('when recording fails, keeps the new files (the store may have recorded them) and the old ones', async () => {
    const before = await setBanner(deps(), event.id, photo, ORGANIZER);
    const failing = deps({
      store: withSwap(async () => {
        throw new Error('connection reset');
      }),
    });
    await expect(setBanner(failing, event.id, other, ORGANIZER)).rejects.toThrow(/connection reset/);
    expect(await store.getEvent(event.id)).toEqual(before);
    const kept = await listed();
    expect(kept).toHaveLength(before.banner.length + 2);
    expect(kept).toEqual(expect.arrayContaining(keysOf(before)));
  });

  it('when the event is gone by the time it is recorded: 404 and the new files removed', async () => {
    const gone = deps({ store: withSwap(async () => null) });
    const err = await setBanner(gone, event.id, photo, ORGANIZER).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('EVENT_NOT_FOUND');
    expect(await listed()).toEqual([]);
  });

  it('when the old files cannot be deleted: the new banner stands, and the leftover keys are logged', async () => {
    const before = await setBanner(deps(), event.id, photo, ORGANIZER);
    const after = await setBanner(deps({ banners: undeletable() }), event.id, other, ORGANIZER);
    expect(await store.getEvent(event.id)).toEqual(after);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.details.keys).toEqual(before.banner.map((r) => r.key));
    expect(warnings[0]!.message).toMatch(/could not delete the files of the banner this upload replaced/);
  });

  it('checks the event and the caller before it looks at the upload', async () => {
    const notAnImage = Buffer.from('not an image');
    await expect(setBanner(deps(), 'evt_missing', notAnImage, ORGANIZER)).rejects.toMatchObject({ code: 'EVENT_NOT_FOUND' });
    await expect(setBanner(deps(), event.id, notAnImage, { id: 'usr_other', role: 'organizer' } as AuthUser)).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await cancelEvent(store, event.id, ORGANIZER);
    await expect(setBanner(deps(), event.id, notAnImage, ORGANIZER)).rejects.toMatchObject({ code: 'EVENT_CANCELLED' });
    expect(await listed()).toEqual([]);
  });

  it('stores WebP with the long cache policy', async () => {
    const seen: { contentType: string; cacheControl: string }[] = [];
    const recording: BannerStore = { ...undeletable(), put: async (key, bytes, meta) => void seen.push(meta) };
    await setBanner(deps({ banners: recording }), event.id, photo, ORGANIZER);
    expect(seen).toEqual(Array(3).fill({ contentType: 'image/webp', cacheControl: BANNER_CACHE_CONTROL }));
    // A first banner replaced none: nothing to delete, so nothing failed to be deleted.
    expect(warnings).toEqual([]);
  });
});

describe('removing a banner', () => {
  it('forgets it, then deletes its files', async () => {
    await setBanner(deps(), event.id, photo, ORGANIZER);
    const now = new Date(Date.now() + 60_000);
    const result = await removeBanner(deps(), event.id, ORGANIZER, now);
    expect(result).toMatchObject({ banner: [], updatedAt: now.toISOString() });
    expect(await store.getEvent(event.id)).toEqual(result);
    expect(await listed()).toEqual([]);
  });

  it('changes nothing when there is no banner, not even updatedAt', async () => {
    const result = await removeBanner(
      deps({
        store: withSwap(async () => {
          throw new Error('must not be called');
        }),
      }),
      event.id,
      ORGANIZER,
    );
    expect(result).toEqual(event);
  });

  it('stands when the files cannot be deleted, and logs their keys', async () => {
    const set = await setBanner(deps(), event.id, photo, ORGANIZER);
    await removeBanner(deps({ banners: undeletable() }), event.id, ORGANIZER);
    expect((await store.getEvent(event.id))?.banner).toEqual([]);
    expect(warnings.map((w) => w.details.keys)).toEqual([set.banner.map((r) => r.key)]);
    expect(warnings[0]!.message).toMatch(/a removed banner/);
  });

  it('answers 404 for an unknown event or one gone meanwhile, and 403 to another organizer', async () => {
    await expect(removeBanner(deps(), 'evt_missing', ORGANIZER)).rejects.toMatchObject({ code: 'EVENT_NOT_FOUND' });
    await setBanner(deps(), event.id, photo, ORGANIZER);
    await expect(removeBanner(deps(), event.id, { id: 'usr_other', role: 'organizer' } as AuthUser)).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(removeBanner(deps({ store: withSwap(async () => null) }), event.id, ORGANIZER)).rejects.toMatchObject({ code: 'EVENT_NOT_FOUND' });
  });
});
