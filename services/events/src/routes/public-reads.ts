import { publicCacheControl, ResponseCache, sendAnswer } from '@dems/kit';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { EventsStore } from '../store/events-store.js';

export interface PublicCacheSettings {
  /** Cache-Control s-maxage: how long a shared cache (CloudFront) may serve an answer without asking (default 1 s). */
  sMaxAgeSeconds?: number;
  /** Cache-Control stale-while-revalidate (default 5 s). */
  staleSeconds?: number;
  /** Where the store cannot see other replicas' writes (DynamoDB): how long an answer is kept in memory (default 1000 ms). */
  ttlMs?: number;
}

/** Answers the same for whoever asks, built at most once per change of the data. */
export interface PublicReads {
  /**
   * Sends the answer kept under `key`, or the one `build` makes (serialised once by the route's response schema) with
   * the moment it stops being true, if any. Only for answers that depend on nothing about the caller.
   */
  send(req: FastifyRequest, reply: FastifyReply, key: string, build: () => Promise<{ data: unknown; validUntil?: number }>): Promise<FastifyReply>;
}

/**
 * Public reads of the events service served from memory, invalidated by the store's data version: on SQLite every
 * commit to the file by this process or another sharing it; on DynamoDB this process's writes, and after `ttlMs`.
 */
export function publicReads(store: EventsStore, settings: PublicCacheSettings): PublicReads {
  const cache = new ResponseCache({
    dataVersion: () => store.dataVersion(),
    maxAgeMs: store.dataVersionSeesEveryWriter ? undefined : (settings.ttlMs ?? 1000),
  });
  const cacheControl = publicCacheControl(settings.sMaxAgeSeconds ?? 1, settings.staleSeconds ?? 5);
  return {
    async send(req, reply, key, build) {
      const answer = await cache.answer(key, async () => {
        const { data, validUntil } = await build();
        return { body: reply.serialize(data) as string, validUntil };
      });
      return sendAnswer(req, reply, answer, cacheControl);
    },
  };
}
