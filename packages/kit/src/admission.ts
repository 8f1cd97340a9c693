import underPressure, { type FastifyUnderPressureOptions } from '@fastify/under-pressure';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ErrorCode } from '@dems/contracts';

/**
 * Which requests a replica takes. Every refusal here is a 503 that means "nothing was done", so a client (and
 * the gateway, on another replica) may send the same request again. See docs/adr/008-graceful-stop-and-load-shedding.md.
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

function refusal(req: FastifyRequest, reply: FastifyReply, code: ErrorCode, message: string, retryAfterSeconds: number) {
  reply.code(503).header('retry-after', String(retryAfterSeconds));
  return { code, message, requestId: req.id };
}

/**
 * Installs the replica's admission rules on a new app: refusal while stopping, `connection: close` once the stop
 * has begun, and load shedding (503 OVERLOADED) while the event loop lags more than `maxEventLoopDelayMs` (0: never).
 */
export async function registerAdmission(app: FastifyInstance, opts: { name: string; maxEventLoopDelayMs: number }): Promise<void> {
  const life = { stage: 'serving' as Lifecycle };
  LIFECYCLES.set(app, life);

  app.addHook('onRequest', async (req, reply) => {
    if (life.stage !== 'refusing' || alwaysAnswered(req)) return;
    return reply.send(refusal(req, reply, 'SHUTTING_DOWN', `${opts.name} is stopping and did nothing with this request; send it again.`, SHUTTING_DOWN_RETRY_AFTER_SECONDS));
  });
  app.addHook('onSend', async (_req, reply) => {
    if (life.stage !== 'serving') reply.header('connection', 'close');
  });

  if (opts.maxEventLoopDelayMs <= 0) return;
  let warnedAt = 0;
  const shed = (req: FastifyRequest, reply: FastifyReply, _type: string, delayMs?: number) => {
    if (alwaysAnswered(req)) return undefined;
    if (Date.now() - warnedAt >= OVERLOAD_LOG_EVERY_MS) {
      warnedAt = Date.now();
      req.log.warn({ eventLoopDelayMs: Math.round(delayMs ?? 0), maxEventLoopDelayMs: opts.maxEventLoopDelayMs }, 'overloaded: answering 503 OVERLOADED until the event loop catches up');
    }
    return refusal(req, reply, 'OVERLOADED', `${opts.name} is too busy to take this request now; nothing was done.`, OVERLOADED_RETRY_AFTER_SECONDS);
  };
  await app.register(underPressure, {
    maxEventLoopDelay: opts.maxEventLoopDelayMs,
    // under-pressure sends what the handler returns and stops the request there. (A handler that sends the reply
    // itself and returns nothing lets the request run on into its route: work done behind a 503.) Its typings
    // allow only void, hence the cast.
    pressureHandler: shed as unknown as FastifyUnderPressureOptions['pressureHandler'],
  });
}
