import { AsyncLocalStorage } from 'node:async_hooks';
import type { FastifyInstance } from 'fastify';

/**
 * The id of the request being handled, kept in its async context, so that a line logged without the request's
 * own logger (app.log in a shared component, a store hook) still names the request it was written for.
 */
const requests = new AsyncLocalStorage<string>();

/** The id of the request this code runs for, if any. */
export function currentRequestId(): string | undefined {
  return requests.getStore();
}

/** Runs `fn` outside any request: background work a request merely started (the relay's drain) is not part of it. */
export function outsideRequests<T>(fn: () => T): T {
  return requests.exit(fn);
}

/**
 * The hook that puts each request's id in its async context, first of all hooks: the rest of the request runs
 * inside it, its body's arrival included (tested with a body that arrives in parts).
 */
export function trackRequests(app: FastifyInstance): void {
  app.addHook('onRequest', (req, _reply, done) => requests.run(req.id, done));
}

/** The request's id as a log field, unless the logger writing the line carries it already (req.log does). */
export function requestLogFields(logger: { bindings(): Record<string, unknown> }): { reqId?: string } {
  const reqId = requests.getStore();
  return reqId && !('reqId' in logger.bindings()) ? { reqId } : {};
}
