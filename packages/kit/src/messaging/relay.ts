import { SIGNATURE_HEADER, subscribersOf, TIMESTAMP_HEADER, type ServiceName } from '@dems/contracts';
import { signBody } from '../signing.js';
import { inBackground, inDeliverySpan } from '../tracing.js';
import { Upstreams } from '../upstreams.js';
import type { DeliveryFailure, OutboxEntry, OutboxStore } from './outbox.js';

export interface RelayLogger {
  info: (o: object, m: string) => void;
  warn: (o: object, m: string) => void;
  error: (o: object, m: string) => void;
}

/** One base URL, or one per replica. */
type Urls = string | readonly string[];

export interface RelayOptions {
  /** The service whose outbox this is: the relay drains only the subscribers it can owe (subscribersOf). */
  publisher: ServiceName;
  store: OutboxStore;
  /** Each subscriber's base URL, or one per replica: a batch a replica does not take goes to the next (see send). */
  subscriberUrls: Record<ServiceName, Urls>;
  secret: string;
  log: RelayLogger;
  /** Failures of its own (the subscriber refused or failed to apply it) before an entry is dead-lettered. */
  maxAttempts: number;
  /**
   * How often the sweep asks the store for entries left behind (crash, backoff expiry). The store decides
   * what that costs: SQLite looks at once; DynamoDB answers from memory and reads its table only when its
   * own sweep interval has passed or a retry it scheduled is due.
   */
  sweepMs?: number;
  batchSize?: number;
  timeoutMs?: number;
  /** How long a claimed batch is hidden from other relays; must outlast the HTTP timeout (default: twice it). */
  leaseMs?: number;
}

/** Backoff with full jitter: 200 ms, 400 ms, … capped at 60 s, so a recovering subscriber is not stampeded. */
export function backoffMs(attempts: number, random = Math.random): number {
  const ceiling = Math.min(60_000, 200 * 2 ** Math.min(attempts - 1, 20));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

/**
 * What became of one entry of a batch:
 * - delivered: applied, or a duplicate of something applied before;
 * - rejected: the subscriber refused this message for good (schema, 4xx): dead-lettered at once;
 * - failed: the subscriber's handler threw on this message: its own attempts + 1, its own backoff;
 * - unreached: the subscriber is down, slow, unauthorised or overloaded (no answer, timeout, 401/403/404/408/429,
 *   5xx for the whole request). Not the message's fault: it backs off but is never dead-lettered for it;
 * - untried: the subscriber did not get to it and it was not at fault: due again at once, in its place.
 */
type Verdict = { kind: 'delivered' } | { kind: 'rejected' | 'failed' | 'unreached' | 'untried'; error: string };

/** Whole-request answers that blame the request itself: repeating the same messages cannot succeed. */
const PERMANENT_STATUSES = new Set([400, 413, 415, 422]);

/**
 * Delivers outbox entries to each subscriber's POST /internal/messages, in batches, in order, signed with
 * the service secret. Delivery is at-least-once; the subscriber's inbox makes the effect exactly-once.
 * Attempts and backoff belong to each entry: one bad message never delays or dead-letters the others.
 */
export class OutboxRelay {
  private timer?: NodeJS.Timeout;
  private running = new Map<ServiceName, Promise<void>>();
  private again = new Set<ServiceName>();
  private stopped = false;
  /** Consecutive tries that did not reach each subscriber: the backoff of an outage, per subscriber. */
  private unreached = new Map<ServiceName, number>();
  /** Entries still to send one per request, after a batch was refused as a whole without naming the culprit. */
  private isolate = new Map<ServiceName, number>();
  private readonly timeoutMs: number;
  private readonly leaseMs: number;
  private readonly subscribers: Record<ServiceName, Upstreams>;
  /** Whom this relay delivers to: a subscriber the publisher can never owe a message is never asked about. */
  private readonly drained: readonly ServiceName[];

  constructor(private readonly opts: RelayOptions) {
    this.timeoutMs = opts.timeoutMs ?? 5000;
    this.leaseMs = opts.leaseMs ?? this.timeoutMs * 2;
    // A lease that ends while the request is still in flight lets another relay send the same batch again.
    if (this.leaseMs <= this.timeoutMs) throw new Error(`The outbox lease (${this.leaseMs} ms) must be longer than the HTTP timeout (${this.timeoutMs} ms).`);
    const replicas = (service: ServiceName) => new Upstreams({ service, urls: opts.subscriberUrls[service], log: opts.log });
    this.subscribers = { events: replicas('events'), ticketing: replicas('ticketing'), engagement: replicas('engagement') };
    this.drained = subscribersOf(opts.publisher);
  }

  start(): void {
    this.stopped = false;
    this.timer = setInterval(() => this.kick(), this.opts.sweepMs ?? 1000);
    this.timer.unref();
    this.kick();
  }

  /** Stops the sweep and waits for the batches in flight; nothing new is claimed after this is called. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await Promise.allSettled(this.running.values());
    for (const replicas of Object.values(this.subscribers)) replicas.stop();
  }

  /** Called after a commit that wrote outbox entries: deliver now rather than at the next sweep. */
  kick(): void {
    // No check of `stopped` here: drain() checks it before each claim, so a kick after stop() claims nothing.
    for (const subscriber of this.drained) {
      if (this.running.has(subscriber)) {
        this.again.add(subscriber);
        continue;
      }
      // Outside the request that kicked it (its log id, its trace): a batch is traced from its own messages (send).
      const run = inBackground(() => this.drain(subscriber)).finally(() => {
        this.running.delete(subscriber);
        if (this.again.delete(subscriber)) this.kick();
      });
      this.running.set(subscriber, run);
    }
  }

  /** Delivers until nothing is due for this subscriber or it cannot be reached. */
  private async drain(subscriber: ServiceName): Promise<void> {
    const batchSize = this.opts.batchSize ?? 100;
    try {
      // Checked before each claim: a batch claimed after stop() would stay leased, unsent, until its lease ends.
      while (!this.stopped) {
        const isolating = this.isolate.get(subscriber) ?? 0;
        const limit = isolating > 0 ? 1 : batchSize;
        const entries = await this.opts.store.claimDue(subscriber, limit, Date.now(), this.leaseMs);
        if (entries.length === 0) return;
        if (isolating > 0) this.isolate.set(subscriber, isolating - 1);
        const { reached, untried } = await this.deliver(subscriber, entries);
        // A short batch means nothing else is due, unless some of it was left untried: those are due again at
        // once and go now, not a sweep later (by when the failed message's backoff may be over too).
        if (!reached || (entries.length < limit && !untried && !this.isolate.get(subscriber))) return;
      }
    } catch (err) {
      this.opts.log.error({ err, subscriber }, 'outbox relay failed');
    }
  }

  /** Sends one batch and records each entry's fate: whether the subscriber was reached, and whether any entry went untried. */
  private async deliver(subscriber: ServiceName, entries: OutboxEntry[]): Promise<{ reached: boolean; untried: boolean }> {
    const verdicts = await this.send(subscriber, entries);
    const now = Date.now();
    const delivered: string[] = [];
    const failures: DeliveryFailure[] = [];
    // An outage is the subscriber's state, not the messages': its backoff grows with the run of unreached tries.
    const cause = verdicts.find((v): v is Exclude<Verdict, { kind: 'delivered' }> => v.kind === 'unreached');
    const streak = cause ? (this.unreached.get(subscriber) ?? 0) + 1 : 0;
    this.unreached.set(subscriber, streak);

    for (const [i, entry] of entries.entries()) {
      const v = verdicts[i]!;
      if (v.kind === 'delivered') delivered.push(entry.id);
      else if (v.kind === 'untried') failures.push({ id: entry.id, attempts: entry.attempts, nextAttemptAt: 0, error: v.error });
      else if (v.kind === 'unreached') failures.push({ id: entry.id, attempts: entry.attempts, nextAttemptAt: now + backoffMs(streak), error: v.error });
      else {
        const attempts = entry.attempts + 1;
        const dead = v.kind === 'rejected' || attempts >= this.opts.maxAttempts;
        failures.push({ id: entry.id, attempts, nextAttemptAt: dead ? null : now + backoffMs(attempts), error: v.error });
        const log = { subscriber, entryId: entry.id, messageId: entry.message.id, type: entry.message.type, attempts, error: v.error };
        if (dead) this.opts.log.error(log, 'message moved to the dead-letter list');
        else if (attempts === 1 || attempts % 10 === 0) this.opts.log.warn(log, 'message failed at the subscriber; will retry');
      }
    }
    if (cause && (streak === 1 || streak % 10 === 0)) {
      this.opts.log.warn({ subscriber, tries: streak, count: entries.length, error: cause.error }, 'subscriber unreachable; will retry');
    }
    if (delivered.length) await this.opts.store.markDelivered(delivered);
    if (failures.length) await this.opts.store.markFailed(failures);
    return { reached: !cause, untried: verdicts.some((v) => v.kind === 'untried') };
  }

  /**
   * One signed POST of the batch, turned into a verdict per entry. A replica that does not answer or answers 503
   * is passed over for the next within the same timeout: sending a batch twice is safe (at-least-once delivery,
   * and the subscriber's inbox drops a message it already applied).
   */
  private async send(subscriber: ServiceName, entries: OutboxEntry[]): Promise<Verdict[]> {
    const messages = entries.map((e) => e.message);
    const body = JSON.stringify({ messages });
    const timestamp = String(Date.now());
    let res: Response;
    let reply: { applied?: unknown; results?: unknown; message?: unknown };
    try {
      res = await inDeliverySpan(subscriber, messages, () =>
        this.subscribers[subscriber].fetch('/internal/messages', {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            [TIMESTAMP_HEADER]: timestamp,
            [SIGNATURE_HEADER]: signBody(this.opts.secret, timestamp, body),
          },
          body,
          signal: AbortSignal.timeout(this.timeoutMs),
        }),
      );
      reply = ((await res.json().catch(() => null)) ?? {}) as typeof reply;
    } catch (err) {
      const error = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
      return entries.map(() => ({ kind: 'unreached', error }));
    }
    const error = `HTTP ${res.status}: ${typeof reply.message === 'string' ? reply.message : ''}`.trim();

    const perEntry = perEntryResults(reply.results, entries);
    if (perEntry) return perEntry;
    if (res.ok) return entries.map(() => ({ kind: 'delivered' }));
    // An inbox that stops at the first bad message says only how many went before it.
    const applied = reply.applied;
    if (typeof applied === 'number' && Number.isInteger(applied) && applied >= 0 && applied < entries.length && (res.status === 400 || res.status === 500)) {
      return entries.map((_, i): Verdict => {
        if (i < applied) return { kind: 'delivered' };
        if (i > applied) return { kind: 'untried', error: 'not tried: an earlier message of its batch failed' };
        return { kind: res.status === 400 ? 'rejected' : 'failed', error };
      });
    }
    if (PERMANENT_STATUSES.has(res.status)) {
      if (entries.length === 1) return [{ kind: 'rejected', error }];
      // Refused as a whole, culprit unknown: send these one per request, so only the bad one is dead-lettered.
      this.isolate.set(subscriber, (this.isolate.get(subscriber) ?? 0) + entries.length);
      return entries.map(() => ({ kind: 'untried', error: `${error} (batch refused; retrying one by one)` }));
    }
    return entries.map(() => ({ kind: 'unreached', error }));
  }
}

/** The inbox's per-message answers when they line up with what was sent, else undefined. */
function perEntryResults(results: unknown, entries: OutboxEntry[]): Verdict[] | undefined {
  if (!Array.isArray(results) || results.length !== entries.length) return undefined;
  const verdicts: Verdict[] = [];
  for (const [i, r] of (results as { id?: unknown; result?: unknown; error?: unknown }[]).entries()) {
    if (r?.id !== entries[i]!.message.id) return undefined;
    const error = typeof r.error === 'string' ? r.error : `subscriber answered ${String(r.result)}`;
    if (r.result === 'applied' || r.result === 'duplicate') verdicts.push({ kind: 'delivered' });
    else if (r.result === 'rejected') verdicts.push({ kind: 'rejected', error });
    else verdicts.push({ kind: 'failed', error });
  }
  return verdicts;
}

/** The relay as every service wires it: subscriber URLs, secret and retry budget from the shared configuration. */
export function relayFromConfig(
  publisher: ServiceName,
  config: { EVENTS_URL: Urls; TICKETING_URL: Urls; ENGAGEMENT_URL: Urls; SERVICE_SECRET: string; OUTBOX_MAX_ATTEMPTS: number },
  store: OutboxStore,
  log: RelayLogger,
): OutboxRelay {
  return new OutboxRelay({
    publisher,
    store,
    subscriberUrls: { events: config.EVENTS_URL, ticketing: config.TICKETING_URL, engagement: config.ENGAGEMENT_URL },
    secret: config.SERVICE_SECRET,
    log,
    maxAttempts: config.OUTBOX_MAX_ATTEMPTS,
  });
}
