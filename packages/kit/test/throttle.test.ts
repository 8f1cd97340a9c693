import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SharedState, Throttle } from '@dems/kit';

// The in-process throttle (no REDIS_URL) on a clock the test moves; the Redis-backed one is in shared-state.test.ts.
const START = 1_700_000_000_000;
beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(START);
});
afterEach(() => vi.useRealTimers());
const at = (ms: number) => vi.setSystemTime(START + ms);

const throttle = (limit = 3, windowMs = 10_000) => new SharedState().throttle({ name: `test:${limit}:${windowMs}`, limit, windowMs });

/** What a refused take throws: 429 RATE_LIMITED, its message and Retry-After. */
async function refusal(take: Promise<void>) {
  const err = await take.then(
    () => expect.fail('the hit was allowed'),
    (e: unknown) => e as { code: string; status: number; message: string; headers: Record<string, string> },
  );
  return { code: err.code, status: err.status, message: err.message, headers: err.headers };
}

describe('Throttle (in this process)', () => {
  it('allows `limit` hits per window, then refuses with 429 RATE_LIMITED and Retry-After until the window ends', async () => {
    const t = throttle();
    for (let i = 0; i < 3; i++) await t.take('k', 'Slow down.');
    expect(await refusal(t.take('k', 'Slow down.'))).toEqual({
      code: 'RATE_LIMITED',
      status: 429,
      message: 'Slow down. Try again in 10 seconds.',
      headers: { 'retry-after': '10' },
    });
    at(4_000);
    expect(await t.retryAfter('k')).toBe(6);
    expect(await t.retryAfter('other')).toBe(0);
    at(9_500);
    expect(await refusal(t.take('k', 'Slow down.'))).toMatchObject({ message: 'Slow down. Try again in 1 second.', headers: { 'retry-after': '1' } });
    at(10_001);
    expect(await t.retryAfter('k')).toBe(0);
    await t.take('k', 'Slow down.');
    expect(await t.count('k')).toBe(1);
  });

  it('counts without refusing: hit answers the count so far, count stays at most `limit`', async () => {
    const t = throttle();
    const counts = [];
    for (let i = 0; i < 5; i++) counts.push(await t.hit('k'));
    expect(counts).toEqual([1, 2, 3, 4, 5]);
    expect(await t.count('k')).toBe(3);
    expect(await t.count('other')).toBe(0);
    expect(await t.retryAfter('k')).toBe(10);
    at(10_001);
    expect(await t.count('k')).toBe(0);
  });

  it('check refuses over the limit and counts nothing', async () => {
    const t = throttle(2);
    await t.check('k', 'Slow down.');
    expect(await t.count('k')).toBe(0);
    await t.hit('k');
    await t.hit('k');
    expect(await refusal(t.check('k', 'Slow down.'))).toMatchObject({ code: 'RATE_LIMITED', headers: { 'retry-after': '10' } });
    expect(await t.count('k')).toBe(2);
  });

  it('undo takes back one hit, and nothing from a key without hits; reset forgets the key', async () => {
    const t = throttle();
    await t.hit('k');
    await t.hit('k');
    await t.undo('k');
    expect(await t.count('k')).toBe(1);
    await t.undo('k');
    await t.undo('k');
    expect(await t.count('k')).toBe(0);
    // No credit: the next window still holds exactly `limit` hits.
    for (let i = 0; i < 3; i++) await t.take('k', 'Slow down.');
    expect(await t.retryAfter('k')).toBeGreaterThan(0);
    await t.reset('k');
    expect(await t.count('k')).toBe(0);
    expect(await t.retryAfter('k')).toBe(0);
  });

  it('keeps keys and throttles apart', async () => {
    const a = throttle(1);
    const b = new SharedState().throttle({ name: 'test:other', limit: 1, windowMs: 10_000 });
    await a.take('k', 'Slow down.');
    await a.take('j', 'Slow down.');
    await b.take('k', 'Slow down.');
    expect(await refusal(a.take('k', 'Slow down.'))).toMatchObject({ code: 'RATE_LIMITED' });
  });

  it('refuses a limit below 1 or a window that is not whole seconds, naming the throttle', () => {
    expect(() => new Throttle({ name: 'x:zero', limit: 0, windowMs: 1000 })).toThrow('Throttle x:zero: the limit must be a whole number of at least 1 (got 0).');
    expect(() => new Throttle({ name: 'x:half', limit: 1.5, windowMs: 1000 })).toThrow('Throttle x:half: the limit must be a whole number of at least 1 (got 1.5).');
    expect(() => new Throttle({ name: 'x:ms', limit: 1, windowMs: 1500 })).toThrow('Throttle x:ms: the window must be a whole number of seconds (got 1500 ms).');
    expect(() => new Throttle({ name: 'x:short', limit: 1, windowMs: 0 })).toThrow('the window must be a whole number of seconds');
    expect(new Throttle({ name: 'x:ok', limit: 1, windowMs: 1000 })).toMatchObject({ limit: 1, windowMs: 1000 });
  });
});
