import { z } from 'zod';
import { BaseConfig, loadConfig, Port } from '@dems/kit';

export const TicketingConfig = BaseConfig.extend({
  TICKETING_PORT: Port.default(3002),
});
export type TicketingConfig = z.infer<typeof TicketingConfig>;

export const loadTicketingConfig = (env: Record<string, string | undefined> = process.env): TicketingConfig =>
  loadConfig(TicketingConfig, env);
