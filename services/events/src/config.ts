import { BannerConfig, BaseConfig, loadConfig, Port, requireBannerBucket } from '@dems/kit';
import { DEFAULT_PORTS } from '@dems/contracts';
import { z } from 'zod';

export const EventsConfig = requireBannerBucket(
  BaseConfig.extend({
    EVENTS_PORT: Port.default(DEFAULT_PORTS.events),
    /** Events one organizer may publish per day (admins are not limited); a hijacked account can't flood the listing. */
    EVENTS_PER_ORGANIZER_PER_DAY: z.coerce.number().int().min(1).max(100_000).default(50),
    /**
     * Public reads (event pages, listing pages) are answered from memory and tagged for shared caches (a CDN): how
     * many seconds a shared cache may serve one (s-maxage), and serve it stale while it fetches a fresh one.
     */
    PUBLIC_CACHE_SECONDS: z.coerce.number().int().min(0).max(3600).default(1),
    PUBLIC_CACHE_STALE_SECONDS: z.coerce.number().int().min(0).max(3600).default(5),
    /**
     * STORE=dynamodb only: how long (ms) an answer stays in memory with no write of this replica seen. Other
     * replicas' writes are invisible here, so this is how late they may show; SQLite sees every writer at once.
     */
    READ_CACHE_TTL_MS: z.coerce.number().int().min(0).max(1000).default(1000),
    /** Where banners are written (BANNER_STORE, BANNER_DIR, BANNER_BUCKET, S3_*) and the start of their URLs (BANNER_PUBLIC_URL). */
    ...BannerConfig.shape,
  }),
);
export type EventsConfig = z.infer<typeof EventsConfig>;

export const loadEventsConfig = (env: Record<string, string | undefined> = process.env): EventsConfig => loadConfig(EventsConfig, env);
