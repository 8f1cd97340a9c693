import { publicAnswers, publicCacheControl, type PublicAnswers } from '@dems/kit';
import type { EventsStore } from '../store/events-store.js';

export interface PublicCacheSettings {
  /** Cache-Control s-maxage: how long a shared cache (CloudFront) may serve an answer without asking (default 1 s). */
  sMaxAgeSeconds?: number;
  /** Cache-Control stale-while-revalidate (default 5 s). */
  staleSeconds?: number;
  /** Where the store cannot see other replicas' writes (DynamoDB): how long an answer is kept in memory (default 1000 ms). */
  ttlMs?: number;
}

/**
 * Event pages and listing pages served from memory, invalidated by the store's data version: on SQLite every commit
 * to the file, by this process or another sharing it; on DynamoDB this process's writes, and after `ttlMs`.
 */
export function publicReads(store: EventsStore, settings: PublicCacheSettings): PublicAnswers {
  return publicAnswers({
    dataVersion: () => store.dataVersion(),
    maxAgeMs: store.dataVersionSeesEveryWriter ? undefined : (settings.ttlMs ?? 1000),
    cacheControl: publicCacheControl(settings.sMaxAgeSeconds ?? 1, settings.staleSeconds ?? 5),
  });
}
