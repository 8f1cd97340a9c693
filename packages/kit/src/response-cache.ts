import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';

/**
 * Public answers served from memory: the serialised body of a read, kept under a key (route + query), valid while
 * the data it was built from is unchanged, sent with an ETag (a hash of the body, so every replica tags the same
 * body alike) and a Cache-Control that lets a CDN absorb a rush. A request whose If-None-Match names the ETag gets a
 * 304 without a body.
 *
 * Invalidation is by a data version the store reports (`dataVersion`): any change to it drops every entry at the
 * next lookup. Entries also expire at a time of their own (an answer that changes when an event ends) and, when the
 * version cannot see every writer (replicas sharing DynamoDB tables), after `maxAgeMs`.
 *
 * Only answers that are the same whoever asks belong here: anything built from the caller's identity or data must
 * never be stored in, or served from, this cache.
 */

/** An answer ready to send. */
export interface CachedAnswer {
  /** The serialised JSON body, as sent. */
  readonly body: Buffer;
  /** A weak validator derived from the body: equal bodies get equal ETags on every replica. */
  readonly etag: string;
  /** Epoch ms after which the answer must be built again. */
  readonly expiresAt: number;
}

export interface ResponseCacheOptions {
  /**
   * Changes whenever the data behind the cached answers may have changed (e.g. the store's dataVersion()). Read on
   * every lookup, so it must be cheap.
   */
  dataVersion: () => string;
  /** How long an answer may be served with no change of `dataVersion` (default: for as long as it is unchanged). */
  maxAgeMs?: number;
  /** Bounds on what is kept; the least recently used answers go first. */
  maxEntries?: number;
  maxBytes?: number;
  /** The clock (tests). */
  now?: () => number;
}

/** The Cache-Control of a public answer: browsers revalidate every time (cheap with a 304), shared caches keep it briefly. */
export const publicCacheControl = (sMaxAgeSeconds: number, staleWhileRevalidateSeconds: number): string =>
  `public, max-age=0, s-maxage=${sMaxAgeSeconds}, stale-while-revalidate=${staleWhileRevalidateSeconds}`;

/** The Cache-Control of an answer built for the caller alone. */
export const PRIVATE_NO_STORE = 'private, no-store';

/** A weak ETag from the body's hash (weak: a proxy that compresses the body keeps it valid). */
export const etagOf = (body: string | Buffer): string => `W/"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;

/** Whether an If-None-Match header names `etag` (weak comparison, as RFC 9110 asks for If-None-Match), or is `*`. */
export function matchesEtag(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  const opaque = etag.startsWith('W/') ? etag.slice(2) : etag;
  for (const candidate of ifNoneMatch.split(',')) {
    const tag = candidate.trim();
    if (tag === '*' || tag === opaque || (tag.startsWith('W/') && tag.slice(2) === opaque)) return true;
  }
  return false;
}

/** Sends an answer with its ETag and `cacheControl`: 304 without a body when the client already has it. */
export function sendAnswer(req: FastifyRequest, reply: FastifyReply, answer: Pick<CachedAnswer, 'body' | 'etag'>, cacheControl: string): FastifyReply {
  reply.header('etag', answer.etag).header('cache-control', cacheControl);
  if (matchesEtag(req.headers['if-none-match'], answer.etag)) return reply.code(304).send();
  return reply.type('application/json; charset=utf-8').send(answer.body);
}

export class ResponseCache {
  private readonly entries = new Map<string, CachedAnswer>();
  /** Builds under way, per version and key: a crowd missing at once waits for one build. */
  private readonly building = new Map<string, Promise<CachedAnswer>>();
  private readonly dataVersion: () => string;
  private readonly maxAgeMs: number;
  private readonly maxEntries: number;
  private readonly maxBytes: number;
  private readonly now: () => number;
  private version: string;
  private bytes = 0;

  constructor(opts: ResponseCacheOptions) {
    this.dataVersion = opts.dataVersion;
    this.maxAgeMs = opts.maxAgeMs ?? Infinity;
    this.maxEntries = opts.maxEntries ?? 1000;
    this.maxBytes = opts.maxBytes ?? 32 * 1024 * 1024;
    this.now = opts.now ?? Date.now;
    this.version = this.dataVersion();
  }

  /** How many answers are kept. */
  get size(): number {
    return this.entries.size;
  }

  /**
   * The answer under `key`, built by `build` when there is none still valid. `build` returns the serialised body and,
   * optionally, the moment it stops being true (epoch ms). What it throws goes to every caller waiting for it, and
   * nothing is kept.
   */
  async answer(key: string, build: () => Promise<{ body: string; validUntil?: number }>): Promise<CachedAnswer> {
    const hit = this.get(key);
    if (hit) return hit;
    // The version is read before the data: a change committed while the answer is built makes it stale at once.
    const version = this.version;
    const buildKey = `${version}\u0000${key}`;
    let pending = this.building.get(buildKey);
    if (!pending) {
      pending = build()
        .then(({ body, validUntil }) => this.keep(key, version, body, validUntil ?? Infinity))
        .finally(() => this.building.delete(buildKey));
      this.building.set(buildKey, pending);
    }
    return pending;
  }

  /** The answer under `key` while the data version is unchanged and it has not expired. */
  get(key: string): CachedAnswer | undefined {
    this.syncVersion();
    const hit = this.entries.get(key);
    if (!hit) return undefined;
    this.entries.delete(key);
    if (hit.expiresAt <= this.now()) {
      this.bytes -= hit.body.length;
      return undefined;
    }
    // Re-inserted: the Map's order is the order of last use, oldest first.
    this.entries.set(key, hit);
    return hit;
  }

  /** Drops every answer (e.g. after a change this process made that the data version may not show yet). */
  clear(): void {
    this.entries.clear();
    this.bytes = 0;
  }

  private syncVersion(): void {
    const version = this.dataVersion();
    if (version === this.version) return;
    this.version = version;
    this.clear();
  }

  private keep(key: string, builtAt: string, text: string, validUntil: number): CachedAnswer {
    const body = Buffer.from(text);
    const now = this.now();
    const answer: CachedAnswer = { body, etag: etagOf(body), expiresAt: Math.min(validUntil, now + this.maxAgeMs) };
    this.syncVersion();
    // Built from data that has changed since, or already over: answered once, kept for nobody.
    if (builtAt !== this.version || answer.expiresAt <= now || body.length > this.maxBytes) return answer;
    const previous = this.entries.get(key);
    if (previous) {
      this.entries.delete(key);
      this.bytes -= previous.body.length;
    }
    this.entries.set(key, answer);
    this.bytes += body.length;
    for (const [oldest, old] of this.entries) {
      if (this.entries.size <= this.maxEntries && this.bytes <= this.maxBytes) break;
      this.entries.delete(oldest);
      this.bytes -= old.body.length;
    }
    return answer;
  }
}

/** Answers of some routes that are the same for whoever asks, kept by URL (see ResponseCache). */
export interface PublicAnswers {
  /**
   * A route's onRequest hook: answers a URL already answered, while still valid, before its validation and handler
   * run (the app's own onRequest hooks, authentication and load shedding among them, have run by then).
   */
  serveKept(req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined>;
  /**
   * From the route's handler, after validation: sends the answer kept for this URL, or the one `build` makes
   * (serialised once by the route's response schema), kept until the data changes or until `validUntil` (epoch ms).
   * Only for answers that depend on nothing about the caller.
   */
  send(req: FastifyRequest, reply: FastifyReply, build: () => Promise<{ data: unknown; validUntil?: number }>): Promise<FastifyReply>;
}

export function publicAnswers(opts: ResponseCacheOptions & { cacheControl: string }): PublicAnswers {
  const cache = new ResponseCache(opts);
  return {
    async serveKept(req, reply) {
      const kept = req.method === 'GET' || req.method === 'HEAD' ? cache.get(req.url) : undefined;
      return kept ? sendAnswer(req, reply, kept, opts.cacheControl) : undefined;
    },
    async send(req, reply, build) {
      const answer = await cache.answer(req.url, async () => {
        const { data, validUntil } = await build();
        return { body: reply.serialize(data) as string, validUntil };
      });
      return sendAnswer(req, reply, answer, opts.cacheControl);
    },
  };
}
