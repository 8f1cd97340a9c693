// Load generation: autocannon, driven programmatically, and the median-of-runs arithmetic.
import autocannon from 'autocannon';

/**
 * @typedef {{ rps: number, p50: number, p90: number, p99: number, requests: number, errors: number,
 *             timeouts: number, statuses: Record<string, number>, durationS: number }} Run
 */

/**
 * One autocannon run. `requests` may carry setupRequest/onResponse to vary each request and record each answer.
 * @param {import('autocannon').Options} options
 * @returns {Promise<Run>}
 */
export function load(options) {
  return new Promise((resolve, reject) => {
    const instance = autocannon({ ...options, excludeErrorStats: false }, (err, result) => {
      if (err) return reject(err);
      /** @type {Record<string, number>} */
      const statuses = {};
      for (const [code, { count }] of Object.entries(result.statusCodeStats ?? {})) statuses[code] = count;
      const total = Object.values(statuses).reduce((a, b) => a + b, 0);
      const durationS = result.duration || 1;
      resolve({
        rps: total / durationS,
        p50: result.latency.p50,
        p90: result.latency.p90,
        p99: result.latency.p99,
        requests: total,
        errors: result.errors,
        timeouts: result.timeouts,
        statuses,
        durationS,
      });
    });
    // A request that cannot even connect shows up as an error count; keep the reason for the report.
    instance.on('reqError', () => {});
  });
}

export const median = (/** @type {number[]} */ xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  if (s.length === 0) return NaN;
  // `?? NaN` only tells the type checker that these indexes are in range.
  return s.length % 2 ? (s[m] ?? NaN) : ((s[m - 1] ?? NaN) + (s[m] ?? NaN)) / 2;
};

/** Percentile (0–100) of raw samples, nearest-rank. */
export const percentile = (/** @type {number[]} */ xs, /** @type {number} */ p) => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return /** @type {number} */ (s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]);
};

/**
 * The median, metric by metric, of several runs; counters (requests, errors, statuses) are summed so that
 * a single 5xx in any run is still visible.
 * @param {Run[]} runs
 */
export function medianOf(runs) {
  /** @type {Record<string, number>} */
  const statuses = {};
  for (const r of runs) for (const [k, v] of Object.entries(r.statuses)) statuses[k] = (statuses[k] ?? 0) + v;
  return {
    rps: median(runs.map((r) => r.rps)),
    p50: median(runs.map((r) => r.p50)),
    p90: median(runs.map((r) => r.p90)),
    p99: median(runs.map((r) => r.p99)),
    requests: runs.reduce((n, r) => n + r.requests, 0),
    errors: runs.reduce((n, r) => n + r.errors, 0),
    timeouts: runs.reduce((n, r) => n + r.timeouts, 0),
    statuses,
    runs: runs.length,
    rpsRuns: runs.map((r) => Math.round(r.rps)),
  };
}

/** Runs `once` `times` times (after `warmup`, if given) and returns the per-metric median. */
export async function repeat(times, once, warmup) {
  if (warmup) await warmup();
  const runs = [];
  for (let i = 0; i < times; i++) runs.push(await once(i));
  return medianOf(runs);
}

/** Runs `fn` over `items` with at most `limit` in flight. */
export async function pool(items, limit, fn) {
  const results = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
