import { AppError } from './errors.js';

/**
 * A sliding-window counter per key, in memory: at most `limit` hits per `windowMs`. Used for login
 * failures (per account and per address), sign-ups per address and purchases per user. It lives in one
 * process; with several processes of a service each keeps its own count (documented in docs/security.md).
 */
export class Throttle {
  private readonly hits = new Map<string, number[]>();
  private lastSweep = 0;

  constructor(
    readonly limit: number,
    readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Seconds until a hit would be allowed again; 0 when it would be allowed now. Does not count. */
  retryAfter(key: string): number {
    if (this.limit <= 0) return 0;
    const recent = this.recent(key);
    if (recent.length < this.limit) return 0;
    const oldest = recent[recent.length - this.limit] ?? this.now();
    return Math.max(1, Math.ceil((oldest + this.windowMs - this.now()) / 1000));
  }

  /** Counts one hit. */
  hit(key: string): void {
    if (this.limit <= 0) return;
    const recent = this.recent(key);
    recent.push(this.now());
    // Only the latest `limit` hits decide anything; a caller that counts without refusing must not grow memory.
    if (recent.length > this.limit) recent.splice(0, recent.length - this.limit);
    this.hits.set(key, recent);
    this.sweep();
  }

  /** Hits of `key` within the window, at most `limit`. */
  count(key: string): number {
    return this.recent(key).length;
  }

  /** Counts one hit and throws 429 RATE_LIMITED with Retry-After when over the limit. */
  take(key: string, message: string): void {
    this.check(key, message);
    this.hit(key);
  }

  /** Throws 429 RATE_LIMITED with Retry-After when `key` is over its limit; counts nothing. */
  check(key: string, message: string): void {
    const wait = this.retryAfter(key);
    if (wait > 0) throw rateLimited(message, wait);
  }

  /** Takes back the latest hit of `key` (an attempt counted up front that turned out fine). */
  undo(key: string): void {
    const times = this.hits.get(key);
    times?.pop();
    if (times?.length === 0) this.hits.delete(key);
  }

  reset(key: string): void {
    this.hits.delete(key);
  }

  private recent(key: string): number[] {
    const since = this.now() - this.windowMs;
    return (this.hits.get(key) ?? []).filter((t) => t > since);
  }

  /** Drops keys with no recent hits, so memory stays bounded by the traffic of one window. */
  private sweep(): void {
    const now = this.now();
    if (now - this.lastSweep < this.windowMs) return;
    this.lastSweep = now;
    for (const [key, times] of this.hits) if (!times.some((t) => t > now - this.windowMs)) this.hits.delete(key);
  }
}

export function rateLimited(message: string, retryAfterSeconds: number): AppError {
  const seconds = Math.max(1, Math.ceil(retryAfterSeconds));
  return new AppError('RATE_LIMITED', `${message} Try again in ${seconds} second${seconds === 1 ? '' : 's'}.`, {
    'retry-after': String(seconds),
  });
}
