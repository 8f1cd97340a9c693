import { BaseConfig, loadConfig, Port } from '@dems/kit';
import { DEFAULT_PORTS } from '@dems/contracts';
import type { z } from 'zod';

export const EventsConfig = BaseConfig.extend({
  EVENTS_PORT: Port.default(DEFAULT_PORTS.events),
});
export type EventsConfig = z.infer<typeof EventsConfig>;

export const loadEventsConfig = (env: Record<string, string | undefined> = process.env): EventsConfig => loadConfig(EventsConfig, env);
