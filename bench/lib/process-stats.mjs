// What the soak watches in every process: resident memory and open file descriptors, read from /proc (Linux),
// and the arithmetic that turns a series of samples into start / end / max, a slope and a verdict.
import { readdirSync, readFileSync } from 'node:fs';

/** Resident memory (MB) and open file descriptors of one process, or null once it is gone. */
export function processStats(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rssKb = Number(status.match(/^VmRSS:\s+(\d+)\s+kB/m)?.[1] ?? NaN);
    return { rssMb: rssKb / 1024, fds: readdirSync(`/proc/${pid}/fd`).length };
  } catch {
    return null;
  }
}

/** Least-squares slope of y over x. */
export function slope(points) {
  const n = points.length;
  if (n < 2) return 0;
  const mx = points.reduce((s, p) => s + p.x, 0) / n;
  const my = points.reduce((s, p) => s + p.y, 0) / n;
  const sxx = points.reduce((s, p) => s + (p.x - mx) ** 2, 0);
  return sxx === 0 ? 0 : points.reduce((s, p) => s + (p.x - mx) * (p.y - my), 0) / sxx;
}

/**
 * One process's series, after the warm-up (caches fill, the JIT settles, pools open). Memory is a sawtooth — it
 * climbs until a garbage collection brings it down — so levels are compared peak to peak: `start` is the highest
 * sample of the first third after the warm-up, `end` the highest of the last third. Where a collection happens to
 * fall then decides nothing, while a leak raises every later peak. `max` is over the whole run; slopes are per
 * minute, least squares over the samples after the warm-up. Memory may grow by `rssGrowth` (a fraction of start),
 * descriptors by `fdGrowth` (a count), no more.
 * @param {{ t: number, rssMb: number, fds: number }[]} samples t in seconds since the load began
 */
export function verdict(samples, { warmupS, rssGrowth, fdGrowth }) {
  const steady = samples.filter((s) => s.t >= warmupS);
  const series = steady.length >= 3 ? steady : samples;
  const third = Math.max(1, Math.floor(series.length / 3));
  const level = (key) => ({
    start: Math.max(...series.slice(0, third).map((s) => s[key])),
    end: Math.max(...series.slice(-third).map((s) => s[key])),
    max: Math.max(...samples.map((s) => s[key])),
    perMin: slope(series.map((s) => ({ x: s.t / 60, y: s[key] }))),
  });
  const rss = level('rssMb');
  const fds = level('fds');
  return { rss, fds, rssOk: rss.end - rss.start <= rss.start * rssGrowth, fdsOk: fds.end - fds.start <= fdGrowth, samples: samples.length };
}
