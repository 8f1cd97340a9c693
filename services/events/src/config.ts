import { BannerConfig, BaseConfig, loadConfig, Port, requireBannerBucket } from '@dems/kit';
import { DEFAULT_PORTS } from '@dems/contracts';
import { z } from 'zod';

export const EventsConfig = requireBannerBucket(
  BaseConfig.extend({
    EVENTS_PORT: Port.default(DEFAULT_PORTS.events),
    /** Events one organizer may publish per day (admins are not limited); a hijacked account can't flood the listing. */
    EVENTS_PER_ORGANIZER_PER_DAY: z.coerce.number().int().min(1).max(100_000).default(50),
    /** Where banners are written (BANNER_STORE, BANNER_DIR, BANNER_BUCKET, S3_*) and the start of their URLs (BANNER_PUBLIC_URL). */
    ...BannerConfig.shape,
  }),
);
export type EventsConfig = z.infer<typeof EventsConfig>;

export const loadEventsConfig = (env: Record<string, string | undefined> = process.env): EventsConfig => loadConfig(EventsConfig, env);
