// The per-hop latency of messages, read from a service's /metrics (dems_message_lag_seconds{hop}, kit
// messaging/lag.ts): cumulative bucket counts per hop, and percentiles of what happened between two reads.

/** { hop: [[upperBoundSeconds, cumulativeCount], …] } from a service's /metrics. */
export async function readMessageLag(baseUrl) {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  /** @type {Record<string, [number, number][]>} */
  const hops = {};
  for (const m of text.matchAll(/^dems_message_lag_seconds_bucket\{([^}]*)\} (\d+)/gm)) {
    const labels = Object.fromEntries([...(m[1] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]));
    (hops[labels.hop] ??= []).push([labels.le === '+Inf' ? Infinity : Number(labels.le), Number(m[2])]);
  }
  return hops;
}

/**
 * The p-th percentile (ms) of one hop between two reads: linear within its bucket, as Prometheus'
 * histogram_quantile does (so a figure is only as fine as the buckets: 1, 2.5, 5, 10, 25, 50, 75, 100, 150 ms …).
 */
export function lagPercentile(before, after, hop, p) {
  const now = after[hop] ?? [];
  const was = new Map(before[hop] ?? []);
  const buckets = now.map(([le, n]) => [le, n - (was.get(le) ?? 0)]);
  const total = buckets.at(-1)?.[1] ?? 0;
  if (!total) return NaN;
  const rank = (p / 100) * total;
  let lower = 0;
  let below = 0;
  for (const [le, n] of buckets) {
    if (n >= rank) {
      if (le === Infinity) return lower * 1000;
      return (lower + ((le - lower) * (rank - below)) / Math.max(1, n - below)) * 1000;
    }
    [lower, below] = [le, n];
  }
  return NaN;
}
