import underPressure, { type FastifyUnderPressureOptions } from '@fastify/under-pressure';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { LIVE_PATH, type ErrorCode } from '@dems/contracts';
import { StandingQueues } from './standing-queues.js';

/**
 * Which requests a replica takes. Every refusal here is a 503 that means "nothing was done", so a client (and
 * the gateway, on another replica) may send the same request again: SHUTTING_DOWN while the replica stops,
 * OVERLOADED while its event loop lags or a route's requests stand in a queue (standing-queues.ts).
 * See docs/adr/008-graceful-stop-and-load-shedding.md.
 *
 * Where a replica is in its life; runService moves it along on SIGTERM:
 * - serving: everything is answered;
 * - draining: /readyz says 503 so load balancers stop sending, but what still arrives is served (they take a few
 *   seconds to notice), each answer closing its connection so keep-alive clients reconnect elsewhere;
 * - refusing: new requests get 503 SHUTTING_DOWN while those in flight finish and the process closes.
 */
export type Lifecycle = 'serving' | 'draining' | 'refusing';

const LIFECYCLES = new WeakMap<object, { stage: Lifecycle }>();

/** Moves an app made by createServiceApp to the next stage of its stop (runService does this on SIGTERM). */
export function setLifecycle(app: object, stage: Lifecycle): void {
  const life = LIFECYCLES.get(app);
  if (life) life.stage = stage;
}

/** The stage an app is in; an app not made by createServiceApp is always serving. */
export function lifecycleOf(app: object): Lifecycle {
  return LIFECYCLES.get(app)?.stage ?? 'serving';
}

/**
 * Answered whatever the load or the stage of a stop: probes must report the truth rather than be shed (a shed
 * liveness probe gets a busy replica killed, which turns overload into an outage), and so must metrics.
 */
export const ALWAYS_ANSWERED: ReadonlySet<string> = new Set(['/healthz', '/readyz', '/metrics']);

/** Another replica can take the request at once; the gateway does not even wait. */
export const SHUTTING_DOWN_RETRY_AFTER_SECONDS = 1;
/** Long enough for an event-loop sample or two to show the replica recovered. */
export const OVERLOADED_RETRY_AFTER_SECONDS = 2;
/** One log line per overload episode, not one per shed request (which would add to the overload). */
const OVERLOAD_LOG_EVERY_MS = 10_000;

const alwaysAnswered = (req: FastifyRequest) => ALWAYS_ANSWERED.has(req.routeOptions.url ?? '');
/**
 * A route as the standing-queue watch knows it; undefined for requests that matched no route and for Socket.IO's
 * long polls (the gateway proxies them), which are answered when there is news or after half a minute: slow by design.
 */
const routeOf = (req: FastifyRequest) => {
  const url = req.routeOptions.url;
  return url && !url.startsWith(LIVE_PATH) ? `${req.method} ${url}` : undefined;
};

export interface AdmissionOptions {
  name: string;
  /** MAX_EVENT_LOOP_DELAY_MS: shed while the event loop's mean delay exceeds this; 0 never. */
  maxEventLoopDelayMs: number;
  /** MAX_QUEUE_DELAY_MS: shed a route while even its quickest answers take longer than this (standing-queues.ts); 0 never. */
  maxQueueDelayMs: number;
}

/**
 * Installs the replica's admission rules on a new app: refusal while stopping, `connection: close` once the stop
 * has begun, and load shedding (503 OVERLOADED) while the event loop lags or a route's requests stand in a queue.
 */
export async function registerAdmission(app: FastifyInstance, opts: AdmissionOptions): Promise<void> {
  const life = { stage: 'serving' as Lifecycle };
  LIFECYCLES.set(app, life);
  // Refused requests did no work and took no time: they must not count as the answers that judge a queue.
  const refused = new WeakSet<FastifyRequest>();
  const refuse = (req: FastifyRequest, reply: FastifyReply, code: ErrorCode, message: string, retryAfterSeconds: number) => {
    refused.add(req);
    reply.code(503).header('retry-after', String(retryAfterSeconds));
    return { code, message, requestId: req.id };
  };
  let warnedAt = 0;
  const overloaded = (req: FastifyRequest, reply: FastifyReply, why: object) => {
    if (Date.now() - warnedAt >= OVERLOAD_LOG_EVERY_MS) {
      warnedAt = Date.now();
      req.log.warn(why, 'overloaded: answering 503 OVERLOADED until it catches up');
    }
    return refuse(req, reply, 'OVERLOADED', `${opts.name} is too busy to take this request now; nothing was done.`, OVERLOADED_RETRY_AFTER_SECONDS);
  };
  const queues = opts.maxQueueDelayMs > 0 ? new StandingQueues(opts.maxQueueDelayMs) : undefined;

  // Callback hooks, not async ones: they run on every request, and a promise each is a cost for nothing.
  app.addHook('onRequest', (req, reply, done) => {
    if (alwaysAnswered(req)) return done();
    if (life.stage === 'refusing') {
      return reply.send(refuse(req, reply, 'SHUTTING_DOWN', `${opts.name} is stopping and did nothing with this request; send it again.`, SHUTTING_DOWN_RETRY_AFTER_SECONDS));
    }
    const route = routeOf(req);
    const quickestMs = route && queues?.standing(route);
    if (quickestMs) return reply.send(overloaded(req, reply, { route, quickestMs: Math.round(quickestMs), maxQueueDelayMs: opts.maxQueueDelayMs }));
    done();
  });
  app.addHook('onResponse', (req, reply, done) => {
    const route = routeOf(req);
    if (queues && route && !refused.has(req) && !alwaysAnswered(req)) queues.answered(route, reply.elapsedTime);
    done();
  });
  app.addHook('onSend', (_req, reply, payload, done) => {
    if (life.stage !== 'serving') reply.header('connection', 'close');
    done(null, payload);
  });

  if (opts.maxEventLoopDelayMs <= 0) return;
  const shed = (req: FastifyRequest, reply: FastifyReply, _type: string, delayMs?: number) => {
    if (alwaysAnswered(req)) return undefined;
    return overloaded(req, reply, { eventLoopDelayMs: Math.round(delayMs ?? 0), maxEventLoopDelayMs: opts.maxEventLoopDelayMs });
  };
  await app.register(underPressure, {
    maxEventLoopDelay: opts.maxEventLoopDelayMs,
    // under-pressure sends what the handler returns and stops the request there. (A handler that sends the reply
    // itself and returns nothing lets the request run on into its route: work done behind a 503.) Its typings
    // allow only void, hence the cast.
    pressureHandler: shed as unknown as FastifyUnderPressureOptions['pressureHandler'],
  });
}
