// Public reads through the gateway, real processes: ETag, Cache-Control and 304 reach the browser (and a CDN) as the
// services send them, and a change made through the gateway shows at once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEvent, startTestSystem, waitOnSale } from './helpers.js';

let t: Awaited<ReturnType<typeof startTestSystem>>;

beforeAll(async () => {
  t = await startTestSystem();
}, 120_000);
afterAll(async () => {
  await t?.stop();
});

const headersOf = (res: Response) => ({ status: res.status, etag: res.headers.get('etag'), cacheControl: res.headers.get('cache-control') });

describe('public reads through the gateway', () => {
  it('passes ETag, Cache-Control and 304 through unchanged, and shows a change at once', { timeout: 60_000 }, async () => {
    const organizer = await t.api.account('organizer');
    const event = await createEvent(t.api, organizer.token);
    await waitOnSale(t.api, event.id);
    const gateway = `${t.system.urls.gateway}/api`;
    const direct = { events: t.system.urls.events, ticketing: t.system.urls.ticketing };

    for (const [service, path] of [
      ['events', `/events/${event.id}`],
      ['events', '/events'],
      ['ticketing', `/availability/${event.id}`],
    ] as const) {
      const viaService = await fetch(`${direct[service]}${path}`);
      const viaGateway = await fetch(`${gateway}${path}`);
      expect(await viaGateway.text(), path).toBe(await viaService.text());
      const seen = headersOf(viaGateway);
      expect(seen, path).toEqual(headersOf(viaService));
      expect(seen.etag, path).toMatch(/^W\/"/);
      expect(seen.cacheControl, path).toMatch(/^public, max-age=0, s-maxage=\d+, stale-while-revalidate=\d+$/);

      const revalidated = await fetch(`${gateway}${path}`, { headers: { 'if-none-match': seen.etag! } });
      expect(headersOf(revalidated), path).toEqual(seen.status === 200 ? { ...seen, status: 304 } : seen);
      expect(await revalidated.text()).toBe('');
    }

    const before = await fetch(`${gateway}/events/${event.id}`);
    const etag = before.headers.get('etag')!;
    expect((await t.api.patch(`/events/${event.id}`, { title: 'Jazz Night, renamed' }, organizer.token)).status).toBe(200);
    const after = await fetch(`${gateway}/events/${event.id}`, { headers: { 'if-none-match': etag } });
    expect(after.status).toBe(200);
    expect(((await after.json()) as { title: string }).title).toBe('Jazz Night, renamed');

    const mine = await fetch(`${gateway}/events?mine=true`, { headers: { authorization: `Bearer ${organizer.token}` } });
    expect(mine.status).toBe(200);
    expect(mine.headers.get('cache-control')).toBe('private, no-store');
    expect(mine.headers.get('etag')).toBeNull();
  });
});
