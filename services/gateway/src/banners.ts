import { AppError, BANNER_CACHE_CONTROL, isBannerKey, type App, type BannerStore } from '@dems/kit';

const PREFIX = '/banners/';

/**
 * GET /banners/<eventId>/<file>.webp: the banner renditions the events service stored, streamed from the same store
 * (files, or S3 objects). Every name is new with each upload, so an answer can be cached for a year.
 * The key is the path exactly as sent, never decoded: a key has no escapes, dots or backslashes to decode, so
 * `..`, `%2e%2e` or an encoded slash can only be a key that does not exist (404).
 */
export function registerBanners(app: App, banners: BannerStore): void {
  app.get('/banners/*', { schema: { hide: true } }, async (req, reply) => {
    const key = (req.url.split('?')[0] ?? '').slice(PREFIX.length);
    let found;
    try {
      found = isBannerKey(key) ? await banners.get(key) : null;
    } catch (err) {
      req.log.error({ err, key, location: banners.location }, 'banner store unavailable');
      throw new AppError('UPSTREAM_UNAVAILABLE', 'Banners cannot be read right now. Please try again in a moment.', { 'retry-after': '2' });
    }
    if (!found) return reply.code(404).send({ code: 'NOT_FOUND', message: 'No banner at this address.', requestId: req.id });
    return (
      reply
        .header('content-type', found.contentType)
        .header('content-length', String(found.length))
        .header('cache-control', BANNER_CACHE_CONTROL)
        .header('x-content-type-options', 'nosniff')
        // A public picture: pages on other origins may show it (helmet's default would allow this origin only).
        .header('cross-origin-resource-policy', 'cross-origin')
        .send(found.body)
    );
  });
}
