import { ApiError } from './api-client';

/**
 * When the app sends a request again by itself. The servers answer 503 only when they did nothing (OVERLOADED,
 * SHUTTING_DOWN, NOT_READY, …) and 429 when asked to slow down, so those, and requests that got no answer at all,
 * are worth repeating after a pause — a few times, never in a tight loop, and spread out so that a crowd of
 * browsers does not come back in step. Everything else is shown to the person at once.
 */

/** Repeats of one request after its first failure. */
export const MAX_RETRIES = 4;
/** The longest pause before a repeat; a server asking for longer (a rate limit of a minute) is not retried. */
export const MAX_RETRY_WAIT_MS = 10_000;

/** A failure that says "try again shortly": busy or stopping (503), slow down (429), or no answer (network). */
export function isBusy(error: unknown): error is ApiError {
  return error instanceof ApiError && (error.status === 503 || error.status === 429 || error.code === 'NETWORK');
}

const waitIsShort = (error: ApiError) => error.retryAfterMs === null || error.retryAfterMs <= MAX_RETRY_WAIT_MS;

/** Reads (TanStack Query `retry`): busy answers up to MAX_RETRIES times, other 5xx twice, never another 4xx. */
export function retryQuery(failureCount: number, error: unknown): boolean {
  if (isBusy(error)) return failureCount < MAX_RETRIES && waitIsShort(error);
  if (error instanceof ApiError && error.status >= 400 && error.status < 500) return false;
  return failureCount < 2;
}

/**
 * Changes that carry an Idempotency-Key (a purchase): the server does the work once whatever the number of
 * repeats, so a 503, a lost answer or the gateway's 502 UPSTREAM_UNAVAILABLE (no replica answered it: a moment
 * between restarts) is retried too. Not a 429: the limit counts purchases per person, and a
 * repeat would only count against it. Changes without a key are never repeated by the app.
 */
export function retryIdempotent(failureCount: number, error: unknown): boolean {
  const busy = (isBusy(error) && error.status !== 429) || (error instanceof ApiError && error.code === 'UPSTREAM_UNAVAILABLE');
  return busy && failureCount < MAX_RETRIES && waitIsShort(error);
}

/** TanStack Query `retryDelay`: what Retry-After asked, else 1 s doubling; plus up to half again, at random. */
export function retryDelay(failureCount: number, error: unknown, random: () => number = Math.random): number {
  const asked = error instanceof ApiError ? error.retryAfterMs : null;
  const wait = Math.min(MAX_RETRY_WAIT_MS, asked ?? 1000 * 2 ** failureCount);
  return Math.round(wait * (1 + random() / 2));
}
