import { BlockList } from 'node:net';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { SERVICE_NAMES, type Message } from '@dems/contracts';
import type { OutboxStats, OutboxStore } from './messaging/outbox.js';
import { inBackground } from './tracing.js';

/**
 * Prometheus metrics (docs/observability.md lists them). Each app has its own registry, so that tests running
 * several apps in one process never clash; the process-wide metrics (CPU, memory, event-loop delay, GC) are
 * one shared registry, measured once per process whatever the number of apps, and appended to every scrape.
 */

/** Who may read /metrics: anyone who reaches the port (a service's port is internal), or see fromPrivatePeer. */
export type MetricsAccess = 'anyone' | 'private-network';

let processRegistry: Registry | undefined;

/** The process metrics: created on first use, with prom-client's defaults (nodejs_eventloop_lag_* among them). */
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

/** Seconds, from 1 ms to 10 s: an API answer, a purchase, a store call. */
const LATENCY_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** One app's metrics. Services add theirs through these factories, so none of them imports prom-client. */
export class AppMetrics {
  readonly registry = new Registry();

  counter<L extends string>(name: string, help: string, labelNames: readonly L[] = []): Counter<L> {
    return new Counter({ name, help, labelNames, registers: [this.registry] });
  }

  histogram<L extends string>(name: string, help: string, labelNames: readonly L[], buckets: number[] = LATENCY_BUCKETS): Histogram<L> {
    return new Histogram({ name, help, labelNames, buckets, registers: [this.registry] });
  }

  /** A gauge read when Prometheus scrapes (a count the app already keeps, such as open sockets). */
  gauge(name: string, help: string, read: () => number): void {
    new Gauge({
      name,
      help,
      registers: [this.registry],
      collect() {
        this.set(read());
      },
    });
  }

  /** The Prometheus text exposition of this app and of the process. */
  async text(): Promise<string> {
    return (await this.registry.metrics()) + (await processMetrics().metrics());
  }

  readonly contentType = this.registry.contentType;
}

const APPS = new WeakMap<object, AppMetrics>();

/** The metrics of an app made by createServiceApp (undefined for any other Fastify instance). */
export function metricsOf(app: object): AppMetrics | undefined {
  return APPS.get(app);
}

/** Loopback and private-network addresses (RFC 1918, RFC 4193): where Prometheus scrapes from inside a cluster. */
const PRIVATE = new BlockList();
PRIVATE.addSubnet('127.0.0.0', 8, 'ipv4');
PRIVATE.addSubnet('10.0.0.0', 8, 'ipv4');
PRIVATE.addSubnet('172.16.0.0', 12, 'ipv4');
PRIVATE.addSubnet('192.168.0.0', 16, 'ipv4');
PRIVATE.addAddress('::1', 'ipv6');
PRIVATE.addSubnet('fc00::', 7, 'ipv6');

/**
 * Whether a request came straight from a loopback or private-network peer. The TCP peer is checked, never
 * X-Forwarded-For (which a client writes), and a request that carries any forwarding header is refused: it was
 * relayed by a proxy or load balancer, whose own private address says nothing about the client behind it.
 */
export function fromPrivatePeer(req: FastifyRequest): boolean {
  const peer = req.socket.remoteAddress;
  if (!peer || req.headers['x-forwarded-for'] !== undefined || req.headers.forwarded !== undefined) return false;
  return PRIVATE.check(peer, peer.includes(':') ? 'ipv6' : 'ipv4');
}

/**
 * Gives the app its metrics: /metrics, and the latency of every request by method, route pattern (never the raw
 * URL: the number of series stays bounded; requests no route matched share one label) and status.
 * A request /metrics refuses is answered as an unknown path (the gateway's is its web app), not 403.
 */
export function registerMetrics(app: FastifyInstance, access: MetricsAccess): AppMetrics {
  const metrics = new AppMetrics();
  APPS.set(app, metrics);
  const requests = metrics.histogram('http_request_duration_seconds', 'Time to answer an HTTP request, by method, route pattern and status.', ['method', 'route', 'status_code']);
  app.addHook('onResponse', (req, reply, done) => {
    requests.observe({ method: req.method, route: req.routeOptions.url ?? 'unmatched', status_code: String(reply.statusCode) }, reply.elapsedTime / 1000);
    done();
  });
  app.get('/metrics', { schema: { hide: true } }, async (req, reply) => {
    if (access === 'private-network' && !fromPrivatePeer(req)) return reply.callNotFound();
    return reply.type(metrics.contentType).send(await metrics.text());
  });
  return metrics;
}

/** Seconds from a message's creation to its effect: milliseconds when all is well, hours after an outage. */
const LAG_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 14_400];

/**
 * The inbox's metrics on the app's registry: what became of each message by type, and for those applied, how
 * long after its creation. Returns what the inbox calls per message: with the result, and the message unless it
 * was refused unparsed (counted with type "unknown"). Nothing is counted for an app without metrics.
 */
export function inboxMetrics(app: object): (result: InboxOutcome, message?: Message) => void {
  const metrics = metricsOf(app);
  if (!metrics) return () => {};
  const handled = metrics.counter('dems_inbox_messages_total', 'Messages received from other services, by type and result (applied, duplicate, rejected, failed).', [
    'type',
    'result',
  ]);
  const lag = metrics.histogram('dems_inbox_lag_seconds', 'Seconds from the creation of a message to its effect here, by type.', ['type'], LAG_BUCKETS);
  return (result, message) => {
    const type = message?.type ?? 'unknown';
    handled.inc({ type, result });
    // Clocks of two hosts may disagree by a little: a message never arrives before it was written.
    if (message && result === 'applied') lag.observe({ type }, Math.max(0, Date.now() - Date.parse(message.occurredAt)) / 1000);
  };
}

type InboxOutcome = 'applied' | 'duplicate' | 'rejected' | 'failed';

/** How long a scrape waits for the outbox figures before it answers without them. */
const OUTBOX_STATS_TIMEOUT_MS = 3000;

/**
 * The outbox gauges, per subscriber: entries waiting, the age of the oldest, dead letters. They are read from the
 * store at scrape time (one read serves the three gauges of a scrape). When the store does not answer in time the
 * scrape goes on without them, logged, rather than failing as a whole.
 */
export function outboxMetrics(app: object, store: OutboxStore, log: { warn: (o: object, m: string) => void }): void {
  const metrics = metricsOf(app);
  if (!metrics) return;
  let pending: Promise<OutboxStats[] | null> | undefined;
  const read = () =>
    // Not traced: a scrape every few seconds would otherwise be a trace of store calls each time.
    (pending ??= withTimeout(
      inBackground(() => store.stats()),
      OUTBOX_STATS_TIMEOUT_MS,
    )
      .catch((err: unknown) => {
        log.warn({ err }, 'could not read the outbox for /metrics');
        return null;
      })
      // The three gauges of a scrape are collected together, before this settles: they share one read.
      .finally(() => (pending = undefined)));
  const gauge = (name: string, help: string, value: (s: OutboxStats, now: number) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ['subscriber'],
      registers: [metrics.registry],
      async collect() {
        const stats = await read();
        this.reset();
        if (!stats) return;
        const now = Date.now();
        for (const subscriber of SERVICE_NAMES) {
          const s = stats.find((x) => x.subscriber === subscriber) ?? { subscriber, pending: 0, oldestPendingAt: null, deadLetters: 0 };
          this.set({ subscriber }, value(s, now));
        }
      },
    });
  gauge('dems_outbox_pending', 'Messages waiting in the outbox for delivery to a subscriber (dead letters not included).', (s) => s.pending);
  gauge('dems_outbox_oldest_pending_age_seconds', 'Age of the oldest message waiting for a subscriber; 0 when none waits.', (s, now) =>
    s.oldestPendingAt === null ? 0 : Math.max(0, now - s.oldestPendingAt) / 1000,
  );
  gauge('dems_outbox_dead_letters', 'Messages a subscriber refused or failed too often, waiting for an operator (npm run dead-letters).', (s) => s.deadLetters);
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
