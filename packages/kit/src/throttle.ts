import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { AppError } from './errors.js';
import type { SharedRedis } from './redis.js';

export interface ThrottleOptions {
  /**
   * Names the counters, in Redis `dems:throttle:<name>:<key>`: unique within the deployment, the service first
   * (`ticketing:purchases`), so replicas of one service share them and no two throttles mix.
   */
  name: string;
  /** Hits allowed per key per window; at least 1. */
  limit: number;
  /** The window in milliseconds, a whole number of seconds (Redis expires keys in seconds). */
  windowMs: number;
}

/**
 * At most `limit` hits per key per window — login failures per account and per address, sign-ups per address,
 * purchases per user, events per organizer. With Redis (REDIS_URL) the count is shared by every replica, so
 * the numbers are the same however many run; without it, or while Redis is unreachable, it is kept in this
 * process (docs/adr/012-redis-for-shared-state.md). A key's window opens at its first hit and closes `windowMs`
 * later (rate-limiter-flexible's fixed window), then the count starts again from zero.
 */
export class Throttle {
  readonly limit: number;
  readonly windowMs: number;
  /** This process's count: the whole story without Redis, the stand-in while Redis is unreachable. */
  private readonly local: RateLimiterAbstract;
  private readonly shared?: RateLimiterAbstract;

  constructor(
    opts: ThrottleOptions,
    private readonly redis?: SharedRedis,
  ) {
    if (!Number.isInteger(opts.limit) || opts.limit < 1) throw new Error(`Throttle ${opts.name}: the limit must be a whole number of at least 1 (got ${opts.limit}).`);
    if (!Number.isInteger(opts.windowMs / 1000) || opts.windowMs < 1000) {
      throw new Error(`Throttle ${opts.name}: the window must be a whole number of seconds (got ${opts.windowMs} ms).`);
    }
    this.limit = opts.limit;
    this.windowMs = opts.windowMs;
    const limiter = { keyPrefix: `dems:throttle:${opts.name}`, points: opts.limit, duration: opts.windowMs / 1000 };
    this.local = new RateLimiterMemory(limiter);
    if (redis) this.shared = new RateLimiterRedis({ ...limiter, storeClient: redis.commands, useRedisPackage: true, rejectIfRedisNotReady: true });
  }

  /** Seconds until a hit would be allowed again; 0 when it would be allowed now. Does not count. */
  async retryAfter(key: string): Promise<number> {
    const res = await this.run((l) => l.get(key));
    return res && res.consumedPoints >= this.limit && res.msBeforeNext > 0 ? Math.max(1, Math.ceil(res.msBeforeNext / 1000)) : 0;
  }

  /** Hits of `key` within the window, at most `limit`. */
  async count(key: string): Promise<number> {
    const res = await this.run((l) => l.get(key));
    return res && res.msBeforeNext > 0 ? Math.min(res.consumedPoints, this.limit) : 0;
  }

  /**
   * Counts one hit, never refusing, and answers how many hits the window now holds, this one included. One
   * atomic step, so parallel callers (on any replica) each see a different count.
   */
  async hit(key: string): Promise<number> {
    return (await this.run((l) => l.penalty(key, 1))).consumedPoints;
  }

  /** Counts one hit and throws 429 RATE_LIMITED with Retry-After when it is over the limit (atomically, like `hit`). */
  async take(key: string, message: string): Promise<void> {
    try {
      await this.run((l) => l.consume(key, 1));
    } catch (err) {
      if (err instanceof RateLimiterRes) throw rateLimited(message, err.msBeforeNext / 1000);
      throw err;
    }
  }

  /** Throws 429 RATE_LIMITED with Retry-After when `key` is over its limit; counts nothing. */
  async check(key: string, message: string): Promise<void> {
    const wait = await this.retryAfter(key);
    if (wait > 0) throw rateLimited(message, wait);
  }

  /** Takes back one hit of `key` (an attempt counted up front that turned out fine); nothing when it has none. */
  async undo(key: string): Promise<void> {
    // A window that ended meanwhile must not start a new one at -1, which would allow one hit too many.
    if ((await this.count(key)) > 0) await this.run((l) => l.reward(key, 1));
  }

  async reset(key: string): Promise<void> {
    await this.run((l) => l.delete(key));
  }

  /**
   * `op` on the shared count; on this process's count when Redis fails or is slow to answer, and at once while
   * it is known to be unreachable. Fails open, in effect: a Redis outage must not take sign-in or purchases down.
   */
  private async run<T>(op: (limiter: RateLimiterAbstract) => Promise<T>): Promise<T> {
    if (!this.shared || !this.redis?.isReachable) return op(this.local);
    try {
      return await this.redis.answerWithin(op(this.shared));
    } catch (err) {
      // A refusal (over the limit) is an answer, not a failure.
      if (err instanceof RateLimiterRes) throw err;
      return op(this.local);
    }
  }
}

export function rateLimited(message: string, retryAfterSeconds: number): AppError {
  const seconds = Math.max(1, Math.ceil(retryAfterSeconds));
  return new AppError('RATE_LIMITED', `${message} Try again in ${seconds} second${seconds === 1 ? '' : 's'}.`, {
    'retry-after': String(seconds),
  });
}
