import { createClient } from 'redis';

/** A node-redis client as this module makes them. */
export type RedisClient = ReturnType<typeof createClient>;

/** Enough of a logger (pino, Fastify's) to report Redis coming and going. */
export interface RedisLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

/**
 * The longest a shared-state command may take before the caller falls back to this process's memory. A Redis
 * that stopped answering without closing its connections (a paused process, a network partition) must cost a
 * sign-in or a purchase a second at most, not hang it. (node-redis's own command timeout ends at the write.)
 */
export const REDIS_COMMAND_TIMEOUT_MS = 1000;

/** How often an idle connection is checked with a PING: how soon a Redis that went silent, then answers again, is used again. */
const PING_INTERVAL_MS = 5000;

/** How long a start waits for Redis before serving without it (and warning); the client keeps trying. */
export const REDIS_START_GRACE_MS = 3000;

/** Reconnects after 100 ms, doubling up to 3 s, with jitter so replicas do not knock in step; never gives up. */
export const reconnectDelay = (retries: number): number => Math.min(100 * 2 ** Math.min(retries, 10), 3000) + Math.floor(Math.random() * 100);

/** Where a Redis URL points, without its credentials: what logs may show. */
export function redisLocation(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname === '/' ? '' : u.pathname}`;
  } catch {
    return '(unparseable REDIS_URL)';
  }
}

/** Connections a Socket.IO adapter publishes and reads with; `close` once the adapter itself is closed. */
export interface AdapterConnection {
  client: RedisClient;
  close(): Promise<void>;
}

/**
 * The connection to the Redis that replicas share (REDIS_URL). Commands fail at once while it is away — no
 * offline queue — and `answerWithin` gives up on one after REDIS_COMMAND_TIMEOUT_MS, so every user of it can
 * fall back to this process's memory instead of waiting. An outage is logged once (the client reports one error
 * per reconnect attempt), never crashes the process, and ends when Redis is ready again or answers a PING; the
 * client reconnects until closed.
 */
export class SharedRedis {
  /** The client for short commands: rate limits, one-time values. */
  readonly commands: RedisClient;
  private readonly clients = new Set<RedisClient>();
  private reachable = true;
  private closed = false;
  private log?: RedisLog;

  /** Not connected yet (`connect`), so throttles can be made before the app whose log reports on Redis. */
  constructor(readonly url: string) {
    this.commands = this.client('shared-state', true);
  }

  /**
   * Whether Redis answered last: false from a connection error or a command it left unanswered until it is ready
   * again or answers a PING. While false, callers use their fallback at once rather than wait out a timeout.
   */
  get isReachable(): boolean {
    return this.reachable && this.commands.isReady;
  }

  /** `command`'s outcome, or a rejection after REDIS_COMMAND_TIMEOUT_MS, from when on Redis counts as unreachable. */
  async answerWithin<T>(command: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const silence = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const err = new Error(`no answer within ${REDIS_COMMAND_TIMEOUT_MS} ms`);
        this.wentAway(err);
        reject(err);
      }, REDIS_COMMAND_TIMEOUT_MS);
    });
    try {
      return await Promise.race([command, silence]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** A connection to `url`, made as `connect` does. */
  static async connect(url: string, log: RedisLog, graceMs = REDIS_START_GRACE_MS): Promise<SharedRedis> {
    return new SharedRedis(url).connect(log, graceMs);
  }

  /**
   * Connects, reporting outages to `log`. Waits up to `graceMs` for Redis: one that is not there yet is warned
   * about and connected to when it comes, meanwhile the replica serves with its own state.
   */
  async connect(log: RedisLog, graceMs = REDIS_START_GRACE_MS): Promise<this> {
    this.log = log;
    let timer: NodeJS.Timeout | undefined;
    const ready = await Promise.race([
      this.commands.connect().then(
        () => true,
        () => false,
      ),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), graceMs))),
    ]);
    clearTimeout(timer);
    if (!ready) this.wentAway(new Error(`no answer within ${graceMs} ms; still trying`));
    return this;
  }

  /**
   * Connections of their own for a Socket.IO adapter. Publishing fails fast like every command here, so while
   * Redis is away an emit still reaches this replica's own sockets at once. The connections the adapter
   * duplicates for its blocking stream reads and its subscriptions queue while offline instead: the adapter
   * retries a failed read at once, in a loop, so a read that failed fast would spin a core until Redis is back.
   */
  forSocketAdapter(): AdapterConnection {
    const publisher = this.client('socket.io', true);
    const readers: RedisClient[] = [];
    // The adapter calls duplicate() and connects what it gets.
    publisher.duplicate = (() => {
      const reader = this.client('socket.io-reader', false);
      // The adapter neither catches a failed connect nor minds a disconnect of a closed client: once we closed a
      // reader, its connect stays pending (so the adapter never starts reading from it) and its disconnect is a no-op.
      const connect = reader.connect.bind(reader);
      const disconnect = reader.disconnect.bind(reader);
      reader.connect = () => connect().catch(() => new Promise<never>(() => {}));
      reader.disconnect = () => (reader.isOpen ? disconnect() : Promise.resolve());
      readers.push(reader);
      return reader;
    }) as RedisClient['duplicate'];
    publisher.connect().catch(() => undefined);
    return { client: publisher, close: () => this.closeClients([publisher, ...readers]) };
  }

  /**
   * Closes every connection (call after closing any adapter); nothing reconnects. At once, rather than after
   * pending commands: by the time an app closes its requests are done, and what is left is a blocking stream
   * read or a PING to a Redis that went silent, which would hold the connection open.
   */
  async close(): Promise<void> {
    this.closed = true;
    await this.closeClients([...this.clients]);
  }

  private async closeClients(clients: RedisClient[]): Promise<void> {
    for (const client of clients) {
      this.clients.delete(client);
      if (client.isOpen) client.destroy();
    }
  }

  private client(name: string, failFast: boolean): RedisClient {
    const client = createClient({
      url: this.url,
      name: `dems-${name}`,
      socket: { reconnectStrategy: reconnectDelay, connectTimeout: 2000 },
      disableOfflineQueue: failFast,
      // Tells when a Redis that went silent answers again (and keeps idle connections alive). Not on the
      // adapter's readers: a PING would wait behind a blocking read, or be sent on a subscribed connection.
      ...(failFast ? { pingInterval: PING_INTERVAL_MS } : {}),
    });
    client.on('error', (err: Error) => this.wentAway(err));
    client.on('ready', () => this.cameBack());
    client.on('ping-interval', () => this.cameBack());
    this.clients.add(client);
    return client;
  }

  private wentAway(err: Error): void {
    if (!this.reachable || this.closed) return;
    this.reachable = false;
    this.log?.warn(
      { redis: redisLocation(this.url), err: err.message },
      'Redis is unreachable: until it answers, rate limits and one-time values count in this replica only, and live notifications reach only its own sockets',
    );
  }

  private cameBack(): void {
    if (this.reachable || this.closed) return;
    this.reachable = true;
    this.log?.info({ redis: redisLocation(this.url) }, 'Redis answers again: rate limits, one-time values and live notifications are shared again');
  }
}
