import { DEFAULT_PORTS } from '@dems/contracts';
import { z } from 'zod';
import { BaseConfig, loadConfig, Port } from '@dems/kit';

export const MAX_INVENTORY_SHARDS = 100;

export const TicketingConfig = BaseConfig.extend({
  TICKETING_PORT: Port.default(DEFAULT_PORTS.ticketing),
  /** Purchases (POST /orders, retries included) one user may make per minute in one process; beyond, 429 with Retry-After. */
  ORDERS_PER_USER_PER_MINUTE: z.coerce.number().int().min(1).max(100_000).default(30),
  /** The admission rate of a waiting room whose organizer sets none (PUT /waiting-rooms/:eventId). */
  WAITING_ROOM_ADMIT_PER_MINUTE: z.coerce.number().int().min(1).max(100_000).default(600),
  /**
   * DynamoDB: inventory items per ticket type, so a hot event's sales spread over several items (docs/dynamodb.md).
   * At most 100: a capacity change rewrites every shard of a type in one transaction, which takes 100 items.
   */
  INVENTORY_SHARDS: z.coerce.number().int().min(1).max(MAX_INVENTORY_SHARDS).default(1),
  /** DynamoDB: per-event shard counts overriding INVENTORY_SHARDS, e.g. "evt_abc=8,evt_def=4". */
  INVENTORY_SHARDS_BY_EVENT: z
    .string()
    .regex(/^\s*([A-Za-z0-9_-]+=\d+\s*(,\s*|$))*$/, 'must look like evt_abc=8,evt_def=4')
    .default('')
    .transform(
      (s) =>
        new Map(
          s
            .split(',')
            .filter((p) => p.includes('='))
            .map((p) => {
              const [id, n] = p.split('=');
              return [id!.trim(), Math.max(1, Math.min(MAX_INVENTORY_SHARDS, Number(n)))] as const;
            }),
        ),
    ),
});
export type TicketingConfig = z.infer<typeof TicketingConfig>;

export const loadTicketingConfig = (env: Record<string, string | undefined> = process.env): TicketingConfig => loadConfig(TicketingConfig, env);
