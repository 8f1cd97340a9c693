import { describe, expect, it } from 'vitest';
import { LOST_RACE, untilCommitted } from '../../src/use-cases/plan-again.js';

/** An attempt that loses the race `losses` times, then answers `result`; counts its calls. */
function attempts<T>(losses: number, result: T) {
  const counter = { calls: 0 };
  const attempt = async () => (++counter.calls <= losses ? LOST_RACE : result);
  return { counter, attempt };
}

describe('untilCommitted', () => {
  it('answers what the first attempt that does not lose a race answers, and tries no more', async () => {
    const { counter, attempt } = attempts(0, 'done');
    expect(await untilCommitted(3, () => new Error('gave up'), attempt)).toBe('done');
    expect(counter.calls).toBe(1);
  });

  it('plans again after each lost race, up to the last try', async () => {
    const { counter, attempt } = attempts(2, { saved: true });
    expect(await untilCommitted(3, () => new Error('gave up'), attempt)).toEqual({ saved: true });
    expect(counter.calls).toBe(3);
  });

  it('gives up with the error it is given after exactly `tries` lost races', async () => {
    const { counter, attempt } = attempts(Infinity, 'never');
    await expect(untilCommitted(4, () => new Error('gave up'), attempt)).rejects.toThrow('gave up');
    expect(counter.calls).toBe(4);
  });

  it('passes on what an attempt throws (a refusal), without planning again', async () => {
    let calls = 0;
    const refused = untilCommitted(
      5,
      () => new Error('gave up'),
      async () => {
        calls++;
        throw new Error('refused');
      },
    );
    await expect(refused).rejects.toThrow('refused');
    expect(calls).toBe(1);
  });

  it('takes a falsy answer as an answer, not as a lost race', async () => {
    const { counter, attempt } = attempts(0, 0);
    expect(await untilCommitted(3, () => new Error('gave up'), attempt)).toBe(0);
    expect(counter.calls).toBe(1);
  });
});
