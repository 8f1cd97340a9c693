import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Event } from '@dems/contracts';
import { FilesystemBannerStore, type App } from '@dems/kit';
import { tempDir, TEST_SECRET, testTokens } from '@dems/kit/testing';
import { buildApp } from '../src/app.js';
import { SqliteEventsStore } from '../src/store/sqlite.js';
import { eventBody, UNREACHABLE_TICKETING } from './helpers.js';
import { picture } from './images.js';

/**
 * Damaged uploads, generated: random bytes, and real JPEG, PNG and WebP files cut short, with bytes overwritten or
 * with junk spliced in, under every accepted Content-Type. Whatever arrives, the answer is a banner (200: the damage
 * missed the pixels) or 422 INVALID_IMAGE, never a 5xx, and a refusal leaves no file behind.
 */

const RUNS = Number(process.env.FUZZ_RUNS ?? 60);

let dir: ReturnType<typeof tempDir>;
let app: App;
let files: FilesystemBannerStore;
let auth: Record<string, string>;
let eventId: string;
let originals: Buffer[];

beforeAll(async () => {
  dir = tempDir('dems-banner-fuzz-');
  const tokens = await testTokens();
  auth = await tokens.bearer({ id: 'usr_org', role: 'organizer' });
  files = new FilesystemBannerStore(join(dir.path, 'banners'));
  const store = new SqliteEventsStore({ file: join(dir.path, 'events.db'), synchronous: 'NORMAL' });
  app = await buildApp({ store, banners: { store: files }, verify: tokens.verify, secret: TEST_SECRET, inventory: UNREACHABLE_TICKETING });
  eventId = (await app.inject({ method: 'POST', url: '/events', headers: auth, payload: eventBody() })).json<Event>().id;
  originals = await Promise.all([picture('jpeg', 640, 320), picture('png', 640, 320), picture('webp', 640, 320)]);
});
afterAll(async () => {
  await app.close();
  dir.cleanup();
});

const damaged = fc.oneof(
  fc.uint8Array({ minLength: 0, maxLength: 4096 }).map((bytes) => Buffer.from(bytes)),
  fc
    .record({
      original: fc.nat(2),
      cut: fc.double({ min: 0, max: 1, noNaN: true }),
      overwrite: fc.array(fc.record({ at: fc.double({ min: 0, max: 1, noNaN: true }), byte: fc.nat(255) }), { maxLength: 40 }),
      splice: fc.option(fc.record({ at: fc.double({ min: 0, max: 1, noNaN: true }), junk: fc.uint8Array({ minLength: 1, maxLength: 256 }) })),
    })
    .map(({ original, cut, overwrite, splice }) => {
      let file = Buffer.from(originals[original]!);
      for (const { at, byte } of overwrite) file[Math.floor(at * (file.length - 1))] = byte;
      if (splice) {
        const at = Math.floor(splice.at * file.length);
        file = Buffer.concat([file.subarray(0, at), Buffer.from(splice.junk), file.subarray(at)]);
      }
      return cut < 0.3 ? file.subarray(0, Math.max(1, Math.floor(file.length * cut))) : file;
    }),
);

describe('damaged banner uploads', () => {
  it('are answered with a banner or 422 INVALID_IMAGE, never a server error, and refusals leave no file', async () => {
    const seen = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(damaged, fc.constantFrom('image/jpeg', 'image/png', 'image/webp'), async (body, type) => {
        const before = (await files.list('')).length;
        const res = await app.inject({ method: 'PUT', url: `/events/${eventId}/banner`, headers: { ...auth, 'content-type': type }, payload: body });
        seen.set(res.statusCode, (seen.get(res.statusCode) ?? 0) + 1);
        if (body.length === 0) {
          expect(res.statusCode).toBe(400);
          return;
        }
        expect([200, 422], res.body).toContain(res.statusCode);
        if (res.statusCode === 422) {
          expect(res.json().code).toBe('INVALID_IMAGE');
          expect((await files.list('')).length).toBe(before);
        }
      }),
      { numRuns: RUNS },
    );
    expect(seen.get(422)).toBeGreaterThan(0);
  }, 120_000);
});
