import { describe, expect, it } from 'vitest';
import { ApiError, retryAfterMs } from './api-client';
import { MAX_RETRIES, MAX_RETRY_WAIT_MS, retryDelay, retryIdempotent, retryQuery } from './retry-policy';

const answer = (status: number, code: string, retryAfter: number | null = null) => new ApiError(code, 'x', 'r', status, [], retryAfter);
const overloaded = answer(503, 'OVERLOADED', 2000);
const stopping = answer(503, 'SHUTTING_DOWN', 1000);
const tooFast = answer(429, 'RATE_LIMITED', 5000);
const network = answer(0, 'NETWORK');

describe('reads (queries)', () => {
  it('repeat busy, stopping, too-fast and unanswered requests up to MAX_RETRIES times', () => {
    for (const error of [overloaded, stopping, tooFast, network]) {
      expect(retryQuery(0, error)).toBe(true);
      expect(retryQuery(MAX_RETRIES - 1, error)).toBe(true);
      expect(retryQuery(MAX_RETRIES, error)).toBe(false);
    }
  });

  it('do not wait longer than MAX_RETRY_WAIT_MS for a repeat: a server asking for more gets an answer shown instead', () => {
    expect(retryQuery(0, answer(429, 'RATE_LIMITED', MAX_RETRY_WAIT_MS))).toBe(true);
    expect(retryQuery(0, answer(429, 'RATE_LIMITED', MAX_RETRY_WAIT_MS + 1000))).toBe(false);
  });

  it('repeat other server failures twice and never another 4xx', () => {
    const internal = answer(500, 'INTERNAL');
    expect([0, 1, 2].map((n) => retryQuery(n, internal))).toEqual([true, true, false]);
    for (const [status, code] of [
      [400, 'VALIDATION_FAILED'],
      [401, 'UNAUTHENTICATED'],
      [404, 'EVENT_NOT_FOUND'],
      [409, 'SOLD_OUT'],
    ] as const) {
      expect(retryQuery(0, answer(status, code))).toBe(false);
    }
  });
});

describe('changes with an Idempotency-Key (a purchase)', () => {
  it('repeat a 503, a lost answer or a gateway that reached no replica, as reads do', () => {
    for (const error of [overloaded, stopping, network, answer(502, 'UPSTREAM_UNAVAILABLE', 2000)]) {
      expect(retryIdempotent(0, error)).toBe(true);
      expect(retryIdempotent(MAX_RETRIES - 1, error)).toBe(true);
      expect(retryIdempotent(MAX_RETRIES, error)).toBe(false);
    }
    expect(retryIdempotent(0, answer(503, 'OVERLOADED', MAX_RETRY_WAIT_MS + 1000))).toBe(false);
  });

  it('do not repeat a 429 (it would count against the person), a 500 or any refusal', () => {
    for (const error of [tooFast, answer(500, 'INTERNAL'), answer(409, 'SOLD_OUT'), answer(400, 'VALIDATION_FAILED'), new Error('bug')]) {
      expect(retryIdempotent(0, error)).toBe(false);
    }
  });
});

describe('the pause before a repeat', () => {
  it('is what Retry-After asked, spread by up to half again at random', () => {
    expect(retryDelay(0, overloaded, () => 0)).toBe(2000);
    expect(retryDelay(3, overloaded, () => 1)).toBe(3000);
    expect(retryDelay(0, stopping, () => 0.5)).toBe(1250);
  });

  it('doubles from one second without Retry-After, never beyond MAX_RETRY_WAIT_MS', () => {
    expect([0, 1, 2, 3].map((n) => retryDelay(n, network, () => 0))).toEqual([1000, 2000, 4000, 8000]);
    expect(retryDelay(4, network, () => 0)).toBe(MAX_RETRY_WAIT_MS);
    expect(retryDelay(0, new Error('anything'), () => 0)).toBe(1000);
  });
});

describe('Retry-After', () => {
  it('reads delay-seconds and HTTP dates; nothing or nonsense is null', () => {
    const now = Date.parse('2030-01-01T00:00:00Z');
    expect(retryAfterMs('2', now)).toBe(2000);
    expect(retryAfterMs(' 0 ', now)).toBe(0);
    expect(retryAfterMs('Tue, 01 Jan 2030 00:00:05 GMT', now)).toBe(5000);
    expect(retryAfterMs('Mon, 31 Dec 2029 23:59:00 GMT', now)).toBe(0);
    expect(retryAfterMs(null, now)).toBeNull();
    expect(retryAfterMs('soon', now)).toBeNull();
  });
});
