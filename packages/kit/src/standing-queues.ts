/** How long one look at a route's answers lasts. */
export const QUEUE_WINDOW_MS = 1000;
/** Answers a route needs in one window to be judged: a few slow requests are slow work, not a queue. */
export const QUEUE_MIN_ANSWERS = 20;

/**
 * Finds queues that are not draining, route by route (CoDel's idea, applied to answers). Work can queue behind
 * a responsive event loop — purchases waiting for their group commit, requests waiting on a slow store or
 * upstream — so answers take seconds while the event-loop delay stays low. When, over one window, a route
 * answered at least QUEUE_MIN_ANSWERS times and even the quickest answer took longer than `maxDelayMs`, every
 * request of that route waited in a standing queue: the route is overloaded for the next window. A route whose
 * new requests are all refused gets no answers, so it is judged afresh once the queue has drained.
 */
export class StandingQueues {
  private window = new Map<string, { answers: number; quickestMs: number }>();
  private overloaded = new Map<string, number>();
  private windowStartedAt: number;

  constructor(
    private readonly maxDelayMs: number,
    private readonly now: () => number = Date.now,
  ) {
    this.windowStartedAt = now();
  }

  /** Records one answer of `route` (its method and pattern) that took `elapsedMs` from arrival. */
  answered(route: string, elapsedMs: number): void {
    this.roll();
    const seen = this.window.get(route);
    if (seen) {
      seen.answers++;
      seen.quickestMs = Math.min(seen.quickestMs, elapsedMs);
    } else this.window.set(route, { answers: 1, quickestMs: elapsedMs });
  }

  /** The quickest answer of the last window when `route` is overloaded by a standing queue; else undefined. */
  standing(route: string): number | undefined {
    this.roll();
    return this.overloaded.get(route);
  }

  private roll(): void {
    const now = this.now();
    const age = now - this.windowStartedAt;
    if (age < QUEUE_WINDOW_MS) return;
    // A window that ended long ago says nothing about now (the routes have been idle since).
    const recent = age < 2 * QUEUE_WINDOW_MS;
    this.overloaded = new Map(
      [...this.window].filter(([, w]) => recent && w.answers >= QUEUE_MIN_ANSWERS && w.quickestMs > this.maxDelayMs).map(([route, w]) => [route, w.quickestMs]),
    );
    this.window.clear();
    this.windowStartedAt = now;
  }
}
