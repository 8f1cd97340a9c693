import { SharedRedis, type RedisLog } from './redis.js';
import { Throttle, type ThrottleOptions } from './throttle.js';

/**
 * Values that may be used once — a spent sign-in challenge, say — remembered until they expire. `claim` is
 * atomic: of any number of parallel claims of one value (on any replica sharing the store), one wins.
 */
export interface OneTimeValues {
  /** Records `value` as used until `expiresAtMs`; false when it already was. */
  claim(value: string, expiresAtMs: number): Promise<boolean>;
}

/** How often, at most, expired values are dropped from memory. */
const SWEEP_EVERY_MS = 60_000;

/** One-time values in this process: each kept until it expires, swept at most once a minute. */
export class MemoryOneTimeValues implements OneTimeValues {
  private readonly used = new Map<string, number>();
  private lastSweep = 0;

  constructor(private readonly now: () => number = Date.now) {}

  /** Synchronous inside, so parallel requests of this process cannot both claim one value. */
  async claim(value: string, expiresAtMs: number): Promise<boolean> {
    return this.claimNow(value, expiresAtMs);
  }

  claimNow(value: string, expiresAtMs: number): boolean {
    this.sweep();
    const until = this.used.get(value);
    if (until !== undefined && until > this.now()) return false;
    this.used.set(value, expiresAtMs);
    return true;
  }

  /** How many values are remembered (expired ones included until the next sweep). */
  get size(): number {
    return this.used.size;
  }

  private sweep(): void {
    const now = this.now();
    if (now - this.lastSweep < SWEEP_EVERY_MS) return;
    this.lastSweep = now;
    for (const [value, expiresAt] of this.used) if (expiresAt <= now) this.used.delete(value);
  }
}

/**
 * One-time values in Redis (`SET NX` with the value's expiry), so a value used on one replica is refused on every
 * other. This process remembers its own claims too: while Redis is unreachable it decides alone (a value could
 * then be used once more on each other replica — bounded by the replicas and the values' short lives), and a
 * value it saw used is refused without asking.
 */
export class RedisOneTimeValues implements OneTimeValues {
  private readonly local: MemoryOneTimeValues;

  constructor(
    private readonly name: string,
    private readonly redis: SharedRedis,
    now: () => number = Date.now,
  ) {
    this.local = new MemoryOneTimeValues(now);
  }

  async claim(value: string, expiresAtMs: number): Promise<boolean> {
    if (!this.local.claimNow(value, expiresAtMs)) return false;
    if (!this.redis.isReachable) return true;
    try {
      const set = this.redis.commands.set(`dems:once:${this.name}:${value}`, '1', { condition: 'NX', expiration: { type: 'PXAT', value: expiresAtMs } });
      return (await this.redis.answerWithin(set)) === 'OK';
    } catch {
      // Unreachable or too slow (SharedRedis reports the outage): this process's answer stands.
      return true;
    }
  }
}

/**
 * Where the state that replicas must share lives: Redis when REDIS_URL is set, shared by every
 * replica; this process's memory otherwise (one replica needs no Redis). Services get their throttles and
 * one-time values from here, and engagement its Socket.IO adapter's connections (`redis`).
 */
export class SharedState {
  /** Absent: this process keeps its own state. */
  constructor(readonly redis?: SharedRedis) {}

  /** Redis at `url` when given (REDIS_URL), not connected yet (`connect`); this process's memory without it. */
  static forUrl(url: string | undefined): SharedState {
    return new SharedState(url ? new SharedRedis(url) : undefined);
  }

  /** `forUrl`, connected. */
  static async open(url: string | undefined, log: RedisLog): Promise<SharedState> {
    const state = SharedState.forUrl(url);
    await state.connect(log);
    return state;
  }

  /** Connects to Redis, if any, reporting its outages to `log` (SharedRedis.connect). */
  async connect(log: RedisLog): Promise<void> {
    await this.redis?.connect(log);
  }

  throttle(opts: ThrottleOptions): Throttle {
    return new Throttle(opts, this.redis);
  }

  /** One-time values named `name` (unique within the deployment, the service first: `engagement:login-challenges`). */
  oneTimeValues(name: string): OneTimeValues {
    return this.redis ? new RedisOneTimeValues(name, this.redis) : new MemoryOneTimeValues();
  }

  async close(): Promise<void> {
    await this.redis?.close();
  }
}
