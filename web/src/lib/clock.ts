import { useEffect, useState } from 'react';
import { hasEnded } from '@dems/contracts';

/**
 * The clock is state here, read through these hooks, so that rendering stays pure (React may render twice, or
 * later than it commits) and a view that depends on the time changes when the time does, not when something
 * else happens to re-render it.
 */

/** setTimeout runs a longer delay at once; a later moment is waited for in steps of this. */
const LONGEST_TIMEOUT_MS = 2_147_483_647;

/** This device's time, re-rendered every `everyMs`. */
export function useNow(everyMs: number): number {
  const [now, setNow] = useState(Date.now);
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(timer);
  }, [everyMs]);
  return now;
}

/** Whether the event is over, turning true at its end instant while the page stays open. */
export function useHasEnded(event: { endsAt: string }): boolean {
  const [now, setNow] = useState(Date.now);
  const ended = hasEnded(event, now);
  const endsAtMs = Date.parse(event.endsAt);
  useEffect(() => {
    if (ended || Number.isNaN(endsAtMs)) return;
    // Each time the clock is read (`now`), wait again for what is left from this moment on.
    const timer = setTimeout(() => setNow(Date.now()), Math.min(endsAtMs - Date.now(), LONGEST_TIMEOUT_MS));
    return () => clearTimeout(timer);
  }, [ended, endsAtMs, now]);
  return ended;
}
