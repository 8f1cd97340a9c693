import { z } from 'zod';
import { BANNER_CONTENT_TYPES, BANNER_MAX_BYTES, BANNER_TOO_LARGE_MESSAGE, ErrorBody, Event, IdParams } from '@dems/contracts';
import { AppError, requireSignedIn, type App, type BannerStore } from '@dems/kit';
import type { FastifyError } from 'fastify';
import { BANNER_MIN_SIZE, presentEvent } from '../domain/banner.js';
import type { BannerImages } from '../banners/banner-images.js';
import type { EventsStore } from '../store/events-store.js';
import { removeBanner } from '../use-cases/remove-banner.js';
import { setBanner } from '../use-cases/set-banner.js';

const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody, 413: ErrorBody, 415: ErrorBody, 422: ErrorBody, 503: ErrorBody };
const security = [{ bearer: [] }];

const ACCEPTED: readonly string[] = BANNER_CONTENT_TYPES;
const ACCEPTED_LIST = `${BANNER_CONTENT_TYPES.slice(0, -1).join(', ')} or ${BANNER_CONTENT_TYPES.at(-1)}`;
const MAX_MB = BANNER_MAX_BYTES / 1024 / 1024;

/** The media type of a Content-Type header, without parameters: `image/png; q=1` → `image/png`. */
const mediaType = (header: string | undefined) => header?.split(';')[0]?.trim().toLowerCase() ?? '';

export interface BannerRouteDeps {
  store: EventsStore;
  banners: BannerStore;
  images: BannerImages;
  /** BANNER_PUBLIC_URL. */
  bannerBaseUrl: string;
}

/**
 * PUT and DELETE /events/:id/banner. The upload is the request body itself, an image of at most BANNER_MAX_BYTES; this
 * route alone takes image bodies and bodies that large (a plugin scope of its own, so no other route does).
 */
export async function bannerRoutes(app: App, { store, banners, images, bannerBaseUrl }: BannerRouteDeps): Promise<void> {
  await app.register(async (scope: App) => {
    scope.addContentTypeParser([...BANNER_CONTENT_TYPES], { parseAs: 'buffer', bodyLimit: BANNER_MAX_BYTES }, (_req, body, done) => done(null, body));
    const deps = (log: { warn: (details: object, message: string) => void }) => ({ store, banners, images, log });

    scope.put(
      '/events/:id/banner',
      {
        bodyLimit: BANNER_MAX_BYTES,
        // After the authorization check (app-wide onRequest), before a byte of the body is read.
        onRequest: async (req) => {
          if (!ACCEPTED.includes(mediaType(req.headers['content-type']))) {
            throw new AppError('UNSUPPORTED_MEDIA_TYPE', `Send the banner image itself as the body, with Content-Type ${ACCEPTED_LIST}.`);
          }
        },
        // Fastify's own "body too large" becomes one that says the limit; everything else goes to the app's handler.
        errorHandler: (err: FastifyError) => {
          if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') throw new AppError('PAYLOAD_TOO_LARGE', BANNER_TOO_LARGE_MESSAGE);
          throw err;
        },
        schema: {
          tags: ['events'],
          summary: "Upload or replace an event's banner (its organizer or an admin)",
          description:
            `The body is the image itself (${ACCEPTED_LIST}, at most ${MAX_MB} MB, at least ${BANNER_MIN_SIZE.width} × ${BANNER_MIN_SIZE.height} pixels). ` +
            'It is checked by its content, whatever its Content-Type or name says, then re-encoded as WebP at a few widths ' +
            '(turned upright, metadata removed); the event answers with their URLs in bannerSizes and the largest as bannerUrl. ' +
            'Not a readable JPEG, PNG or WebP (an SVG, a GIF, a renamed HTML file, a truncated file): 422 INVALID_IMAGE. A cancelled event: 409 EVENT_CANCELLED.',
          security,
          params: IdParams,
          consumes: [...BANNER_CONTENT_TYPES],
          body: z.unknown().meta({ type: 'string', format: 'binary', description: 'The image file' }),
          response: { 200: Event, ...errors },
        },
      },
      async (req) => {
        if (!Buffer.isBuffer(req.body) || req.body.length === 0) throw new AppError('VALIDATION_FAILED', 'body: the request has no image; send the image file itself as the body.');
        return presentEvent(await setBanner(deps(req.log), req.params.id, req.body, requireSignedIn(req)), bannerBaseUrl);
      },
    );

    scope.delete(
      '/events/:id/banner',
      {
        schema: {
          tags: ['events'],
          summary: "Remove an event's banner (its organizer or an admin); without one the event shows a generated cover",
          description: 'Answers the event, also when it had no banner.',
          security,
          params: IdParams,
          response: { 200: Event, ...errors },
        },
      },
      async (req) => presentEvent(await removeBanner(deps(req.log), req.params.id, requireSignedIn(req)), bannerBaseUrl),
    );
  });
}
