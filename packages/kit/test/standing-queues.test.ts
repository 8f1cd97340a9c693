import { describe, expect, it } from 'vitest';
import { QUEUE_MIN_ANSWERS, QUEUE_WINDOW_MS, StandingQueues } from '../src/standing-queues.js';

/** A watch on a clock the test moves. */
function watch(maxDelayMs = 500) {
  let now = 0;
  const queues = new StandingQueues(maxDelayMs, () => now);
  return {
    queues,
    at: (ms: number) => (now = ms),
    answers: (route: string, ...elapsed: number[]) => elapsed.forEach((ms) => queues.answered(route, ms)),
  };
}
const slow = (n: number, ms = 800) => Array.from({ length: n }, (_, i) => ms + i);

describe('a standing queue, route by route', () => {
  it('is found when a whole window of answers, even the quickest, took longer than the limit; it lasts one window', () => {
    const w = watch();
    w.answers('POST /orders', ...slow(QUEUE_MIN_ANSWERS));
    expect(w.queues.standing('POST /orders')).toBeUndefined(); // judged when the window ends, not before
    w.at(QUEUE_WINDOW_MS);
    expect(w.queues.standing('POST /orders')).toBe(800);
    expect(w.queues.standing('GET /events')).toBeUndefined();
    // Its new requests are refused, so the next window has no answers of it: judged afresh after that.
    w.at(2 * QUEUE_WINDOW_MS);
    expect(w.queues.standing('POST /orders')).toBeUndefined();
  });

  it('is not found from fewer answers than QUEUE_MIN_ANSWERS, nor when one of them was quick, nor at exactly the limit', () => {
    const w = watch();
    w.answers('POST /few', ...slow(QUEUE_MIN_ANSWERS - 1));
    w.answers('POST /one-quick', ...slow(QUEUE_MIN_ANSWERS), 499);
    w.answers('POST /at-limit', ...slow(QUEUE_MIN_ANSWERS, 500));
    w.answers('POST /over', ...slow(QUEUE_MIN_ANSWERS, 501));
    w.at(QUEUE_WINDOW_MS + 10);
    expect(['POST /few', 'POST /one-quick', 'POST /at-limit', 'POST /over'].map((r) => w.queues.standing(r))).toEqual([undefined, undefined, undefined, 501]);
  });

  it('keeps being found while each window is still slow', () => {
    const w = watch();
    for (let i = 0; i < 3; i++) {
      w.answers('POST /orders', ...slow(QUEUE_MIN_ANSWERS, 2000 - i));
      w.at((i + 1) * QUEUE_WINDOW_MS);
      expect(w.queues.standing('POST /orders')).toBe(2000 - i);
    }
  });

  it('says nothing from a window that ended long ago', () => {
    const w = watch();
    w.answers('POST /orders', ...slow(QUEUE_MIN_ANSWERS));
    w.at(2 * QUEUE_WINDOW_MS);
    expect(w.queues.standing('POST /orders')).toBeUndefined();
  });

  it('counts answers only in their own window', () => {
    const w = watch();
    w.answers('POST /orders', ...slow(QUEUE_MIN_ANSWERS - 1));
    w.at(QUEUE_WINDOW_MS);
    w.answers('POST /orders', 900);
    w.at(2 * QUEUE_WINDOW_MS);
    expect(w.queues.standing('POST /orders')).toBeUndefined();
  });
});
