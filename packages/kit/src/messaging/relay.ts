import { SERVICE_NAMES, SIGNATURE_HEADER, TIMESTAMP_HEADER, type ServiceName } from '@dems/contracts';
import { signBody } from '../signing.js';
import type { OutboxEntry, OutboxStore } from './outbox.js';

export interface RelayLogger {
  info: (o: object, m: string) => void;
  warn: (o: object, m: string) => void;
  error: (o: object, m: string) => void;
}

export interface RelayOptions {
  store: OutboxStore;
  subscriberUrls: Record<ServiceName, string>;
  secret: string;
  log: RelayLogger;
  maxAttempts: number;
  /** How often the sweep looks for entries left behind (crash, backoff expiry). */
  sweepMs?: number;
  batchSize?: number;
  timeoutMs?: number;
}

/** Backoff with full jitter: 200 ms, 400 ms, … capped at 60 s, so a recovering subscriber is not stampeded. */
export function backoffMs(attempts: number, random = Math.random): number {
  const ceiling = Math.min(60_000, 200 * 2 ** Math.min(attempts - 1, 20));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

/**
 * Delivers outbox entries to each subscriber's POST /internal/messages, in batches, in order, signed with
 * the service secret. Delivery is at-least-once; the subscriber's inbox makes the effect exactly-once.
 */
export class OutboxRelay {
  private timer?: NodeJS.Timeout;
  private running = new Map<ServiceName, Promise<void>>();
  private again = new Set<ServiceName>();
  private stopped = false;

  constructor(private readonly opts: RelayOptions) {}

  start(): void {
    this.stopped = false;
    this.timer = setInterval(() => this.kick(), this.opts.sweepMs ?? 1000);
    this.timer.unref();
    this.kick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await Promise.allSettled(this.running.values());
  }

  /** Called after a commit that wrote outbox entries: deliver now rather than at the next sweep. */
  kick(): void {
    if (this.stopped) return;
    for (const subscriber of SERVICE_NAMES) {
      if (this.running.has(subscriber)) {
        this.again.add(subscriber);
        continue;
      }
      const run = this.drain(subscriber).finally(() => {
        this.running.delete(subscriber);
        if (this.again.delete(subscriber)) this.kick();
      });
      this.running.set(subscriber, run);
    }
  }

  /** Delivers until nothing is due for this subscriber or a delivery fails. */
  private async drain(subscriber: ServiceName): Promise<void> {
    const batchSize = this.opts.batchSize ?? 100;
    try {
      for (;;) {
        const entries = await this.opts.store.claimDue(subscriber, batchSize, Date.now(), (this.opts.timeoutMs ?? 5000) * 2);
        if (entries.length === 0 || this.stopped) return;
        const delivered = await this.deliver(subscriber, entries);
        if (!delivered || entries.length < batchSize) return;
      }
    } catch (err) {
      this.opts.log.error({ err, subscriber }, 'outbox relay failed');
    }
  }

  private async deliver(subscriber: ServiceName, entries: OutboxEntry[]): Promise<boolean> {
    const body = JSON.stringify({ messages: entries.map((e) => e.message) });
    const timestamp = String(Date.now());
    let applied = 0;
    let error = '';
    try {
      const res = await fetch(`${this.opts.subscriberUrls[subscriber]}/internal/messages`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          [TIMESTAMP_HEADER]: timestamp,
          [SIGNATURE_HEADER]: signBody(this.opts.secret, timestamp, body),
        },
        body,
        signal: AbortSignal.timeout(this.opts.timeoutMs ?? 5000),
      });
      const reply = (await res.json().catch(() => ({}))) as { applied?: number; message?: string };
      applied = res.ok ? entries.length : Math.max(0, Math.min(entries.length, Number(reply.applied) || 0));
      if (!res.ok) error = `HTTP ${res.status}: ${reply.message ?? ''}`.trim();
    } catch (err) {
      error = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    }

    const done = entries.slice(0, applied);
    if (done.length) await this.opts.store.markDelivered(done.map((e) => e.id));
    const failed = entries.slice(applied);
    if (failed.length === 0) return true;

    // The first failed entry is the one the subscriber choked on (or all of them, when it was unreachable).
    const attempts = (failed[0]?.attempts ?? 0) + 1;
    const dead = attempts >= this.opts.maxAttempts;
    await this.opts.store.markFailed(failed.map((e) => e.id), attempts, dead ? null : Date.now() + backoffMs(attempts), error);
    const log = { subscriber, attempts, count: failed.length, error };
    if (dead) this.opts.log.error(log, 'messages moved to the dead-letter list');
    else if (attempts === 1 || attempts % 10 === 0) this.opts.log.warn(log, 'message delivery failed; will retry');
    return false;
  }
}

/** The relay as every service wires it: subscriber URLs, secret and retry budget from the shared configuration. */
export function relayFromConfig(
  config: { EVENTS_URL: string; TICKETING_URL: string; ENGAGEMENT_URL: string; SERVICE_SECRET: string; OUTBOX_MAX_ATTEMPTS: number },
  store: OutboxStore,
  log: RelayLogger,
): OutboxRelay {
  return new OutboxRelay({
    store,
    subscriberUrls: { events: config.EVENTS_URL, ticketing: config.TICKETING_URL, engagement: config.ENGAGEMENT_URL },
    secret: config.SERVICE_SECRET,
    log,
    maxAttempts: config.OUTBOX_MAX_ATTEMPTS,
  });
}
