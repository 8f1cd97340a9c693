import { z } from 'zod';
import { loadConfig, Port } from '@dems/kit';

export const GatewayConfig = z.object({
  HOST: z.string().default('127.0.0.1'),
  GATEWAY_PORT: Port.default(3000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  EVENTS_URL: z.url().default('http://127.0.0.1:3001'),
  TICKETING_URL: z.url().default('http://127.0.0.1:3002'),
  ENGAGEMENT_URL: z.url().default('http://127.0.0.1:3003'),
  /** The built web app; served when the directory exists. */
  WEB_DIST: z.string().default('./web/dist'),
});
export type GatewayConfig = z.infer<typeof GatewayConfig>;

export const readConfig = (env = process.env) => loadConfig(GatewayConfig, env);
