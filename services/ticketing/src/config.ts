import { z } from 'zod';
import { BaseConfig, loadConfig, Port } from '@dems/kit';

export const TicketingConfig = BaseConfig.extend({
  TICKETING_PORT: Port.default(3002),
  /** Purchases (POST /orders, retries included) one user may make per minute in one process; beyond, 429 with Retry-After. */
  ORDERS_PER_USER_PER_MINUTE: z.coerce.number().int().min(1).max(100_000).default(30),
});
export type TicketingConfig = z.infer<typeof TicketingConfig>;

export const loadTicketingConfig = (env: Record<string, string | undefined> = process.env): TicketingConfig =>
  loadConfig(TicketingConfig, env);
