import type { IncomingHttpHeaders } from 'node:http';
import { Readable } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { failureReason, type Upstreams } from '@dems/kit';

/**
 * At most this many replicas are tried for one request: one more than a replica stopping and one crashing at the
 * same moment, and a bound on what one request may cost during a wide outage.
 */
export const MAX_ATTEMPTS = 3;

/** Seconds a client is asked to wait when no replica of a service answers: about one probe interval. */
export const UNAVAILABLE_RETRY_AFTER_SECONDS = 2;

/**
 * The HTTP client options of every proxy route (@fastify/reply-from's undici pool). reply-from turns TLS
 * certificate checks off unless told otherwise: an https replica must prove who it is like any other server
 * (trust a private CA with NODE_EXTRA_CA_CERTS).
 */
export const upstreamClient = () => ({ undici: { connect: { rejectUnauthorized: true } } });

/** A request body read whole by the gateway, replayed to the service as a stream so it is sent as it came. */
export class ForwardedBody extends Readable {
  constructor(readonly bytes: Buffer) {
    super();
  }
  override _read(): void {
    this.push(this.bytes);
    this.push(null);
  }
}

/**
 * Whether a request may be sent again after a replica failed to answer it, perhaps having carried it out: safe
 * methods, and any request with an Idempotency-Key (the service answers a repeat with the first result).
 */
export function repeatable(req: FastifyRequest): boolean {
  const key = req.headers['idempotency-key'];
  return req.method === 'GET' || req.method === 'HEAD' || req.method === 'OPTIONS' || (typeof key === 'string' && key.length > 0);
}

/** Whether the replica refused the connection: the request never reached it, so it cannot have been carried out. */
export function refused(error: Error): boolean {
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    if ((e as NodeJS.ErrnoException).code === 'ECONNREFUSED') return true;
  }
  return false;
}

/** What reply.from() takes (@fastify/reply-from, through @fastify/http-proxy), and a replica's answer in it. */
export type FromOptions = NonNullable<Parameters<FastifyReply['from']>[1]>;
type Answer = Parameters<NonNullable<FromOptions['onResponse']>>[2];

export interface Forwarding {
  /** The replicas this request may go to, in order (default: the service's replicas in rotation, round robin). */
  replicas?: (req: FastifyRequest) => string[] | undefined;
  /** Sends the chosen replica's answer (default: as it came). */
  answer?: (req: FastifyRequest, reply: FastifyReply, res: Answer, replica: string) => void;
  /** Extra reply-from options for this route (e.g. the query string sent on). */
  options?: FromOptions;
}

/**
 * The proxy handler of one service's routes (@fastify/http-proxy's `handler`): sends the request to a replica in
 * rotation and, when it cannot serve it, to the next one, at most once each and at most MAX_ATTEMPTS in all:
 * - an answer 503 means "nothing was done" in DEMS (overloaded, stopping, not ready): any request goes on;
 * - no answer at all (refused, reset, timed out) takes the replica out of rotation; a refused connection never
 *   carried the request, so any request goes on; after a reset or a timeout only a request that is safe to repeat
 *   goes on: the replica may have carried it out before it failed;
 * - any other answer is the answer; one with `connection: close` also takes its replica out of rotation (it is
 *   stopping, Upstreams.markStopping), so that no request meets its closed port.
 * When no replica answers, the client gets 502 UPSTREAM_UNAVAILABLE with Retry-After.
 */
export function forwardTo(upstreams: Upstreams, forwarding: Forwarding = {}) {
  return (request: FastifyRequest, reply: FastifyReply, dest: string, options: FromOptions): FastifyReply => {
    const chosen = forwarding.replicas?.(request);
    // With none in rotation every replica is asked anyway (candidates()): one just restarted answers before its
    // next probe, and a refused connection costs a millisecond.
    const replicas = chosen ?? upstreams.candidates().slice(0, MAX_ATTEMPTS);
    if (replicas.length === 0) return unavailable(reply, upstreams.service);
    const body = request.body instanceof ForwardedBody ? request.body.bytes : undefined;
    const headersBefore = { ...reply.getHeaders() };
    const send = forwarding.answer ?? ((_req, rep, res) => void rep.send(res.stream));

    const attempt = (i: number): void => {
      const replica = replicas[i]!;
      const more = i + 1 < replicas.length;
      if (i > 0) {
        restoreHeaders(reply, headersBefore);
        if (body) request.body = new ForwardedBody(body);
      }
      reply.from(dest, {
        ...options,
        ...forwarding.options,
        getUpstream: () => replica,
        // reply-from would repeat a GET answered 503 on the same replica; the next replica is tried instead.
        retryDelay: () => null,
        onResponse: (_req, _rep, res) => {
          // reply-from's type leaves out the answer's headers, which it has.
          upstreams.markStopping(replica, (res as unknown as { headers: IncomingHttpHeaders }).headers.connection);
          if (res.statusCode !== 503 || !more) return send(request, reply, res, replica);
          res.stream.resume();
          request.log.info({ service: upstreams.service, replica }, 'replica answered 503; trying another');
          attempt(i + 1);
        },
        onError: (_rep, { error }) => {
          upstreams.markDown(replica, failureReason(error));
          if (more && (repeatable(request) || refused(error))) return attempt(i + 1);
          request.log.warn({ service: upstreams.service, replica, err: error.message }, 'upstream unavailable');
          unavailable(reply, upstreams.service);
        },
      });
    };
    attempt(0);
    return reply;
  };
}

/** Takes back the headers a replica's answer set on the reply, before another replica's answer is sent. */
function restoreHeaders(reply: FastifyReply, before: Record<string, unknown>): void {
  for (const name of Object.keys(reply.getHeaders())) reply.removeHeader(name);
  for (const [name, value] of Object.entries(before)) reply.header(name, value);
}

export function unavailable(reply: FastifyReply, service: string): FastifyReply {
  return reply
    .code(502)
    .header('retry-after', String(UNAVAILABLE_RETRY_AFTER_SECONDS))
    .send({
      code: 'UPSTREAM_UNAVAILABLE',
      message: `The ${service} service is not answering right now. Please try again in a moment.`,
      requestId: reply.request.id,
    });
}
