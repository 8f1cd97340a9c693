import { BaseConfig, loadConfig, Port } from '@dems/kit';
import { DEFAULT_PORTS } from '@dems/contracts';
import { z } from 'zod';

export const EventsConfig = BaseConfig.extend({
  EVENTS_PORT: Port.default(DEFAULT_PORTS.events),
  /** Events one organizer may publish per day (admins are not limited); a hijacked account can't flood the listing. */
  EVENTS_PER_ORGANIZER_PER_DAY: z.coerce.number().int().min(1).max(100_000).default(50),
});
export type EventsConfig = z.infer<typeof EventsConfig>;

export const loadEventsConfig = (env: Record<string, string | undefined> = process.env): EventsConfig => loadConfig(EventsConfig, env);
