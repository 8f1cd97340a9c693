// The waiting-room scenario: a crowd arrives at a queued sale, each arrival behaves as the web app does (joins,
// computes its own admission time, re-reads the room every 10 s, asks for its pass when admitted, buys 1–4).
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { availability, createEventOnSale } from './dems.mjs';
import { percentile } from './load.mjs';

/** How often a waiting page re-reads GET /waiting-rooms/:eventId (web app: every 10 s). */
const POLL_MS = 10_000;
const PASS_MINUTES = 10;

/** A keep-alive JSON client on node:http, its sockets bounded like a browser population behind a few proxies. */
function jsonClient(base, maxSockets = 512) {
  const agent = new http.Agent({ keepAlive: true, maxSockets });
  const request = (method, path, body, headers = {}) =>
    new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const req = http.request(
        `${base}${path}`,
        { method, agent, headers: { ...(payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {}), ...headers } },
        (res) => {
          const chunks = [];
          res.on('data', (c) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString();
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text ? JSON.parse(text) : null });
          });
        },
      );
      req.setTimeout(30_000, () => req.destroy(new Error('timeout')));
      req.on('error', reject);
      req.end(payload);
    });
  return { request, close: () => agent.destroy() };
}

/**
 * When each arrival comes, in ms from the opening: a real crowd is early and then front-loaded — a fifth waits on
 * the page before the opening (spread over the last 3 s, placed in join order), the rest arrive after it with
 * exponentially spaced times (mean 3 s, a dense first second and a tail), cut at 15 s.
 */
function arrivalTimes(n) {
  return Array.from({ length: n }, (_, i) => (i < n / 5 ? -3000 * Math.random() : Math.min(15_000, -3000 * Math.log(1 - Math.random()))));
}

const sleep = (ms) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

/**
 * What became of one arrival. A place (position, admitAtMs) once it joined; grantedAtMs once it held a pass;
 * quantity once it tried to buy.
 * @typedef {{ outcome: string, detail?: string, position?: number, admitAtMs?: number, grantedAtMs?: number, quantity?: number }} Arrival
 */

/**
 * @param {Arrival} r
 * @returns {r is Arrival & { position: number, admitAtMs: number }}
 */
const placed = (r) => r.position !== undefined && r.admitAtMs !== undefined;

/**
 * 8. Waiting room. `o.crowd` arrivals (10,000; --quick 300) join a queued sale at its opening; the organizer sets the
 * rate so the whole queue is admitted within about 40 s (4 s with --quick); capacity = arrivals, demand ≈ 2.5 ×.
 */
export async function waitingRoom(bench, o) {
  const arrivals = o.crowd;
  const large = arrivals >= 1000;
  const admitWindowS = large ? 40 : 4;
  const admitPerMinute = Math.min(100_000, Math.ceil((arrivals / admitWindowS) * 60));
  const organizer = await bench.user('organizer');
  const event = await createEventOnSale(bench, organizer, { capacity: arrivals, title: 'Queued sale' });
  const users = await Promise.all(Array.from({ length: arrivals }, () => bench.user()));
  const api = jsonClient(bench.urls.ticketing);
  /** @type {Record<'join' | 'poll' | 'pass' | 'order', number[]>} */
  const latencies = { join: [], poll: [], pass: [], order: [] };
  const timed = async (kind, ...args) => {
    const t0 = performance.now();
    const res = await api.request(...args);
    latencies[kind].push(performance.now() - t0);
    return res;
  };

  const opensAtMs = Date.now() + 4000;
  const put = await api.request(
    'PUT',
    `/waiting-rooms/${event.id}`,
    { opensAt: new Date(opensAtMs).toISOString(), admitPerMinute, passMinutes: PASS_MINUTES },
    {
      authorization: `Bearer ${organizer.token}`,
    },
  );
  if (put.status !== 200) throw new Error(`queueing the sale failed: ${JSON.stringify(put.body)}`);
  const deadline = opensAtMs + (admitWindowS + (2 * POLL_MS) / 1000 + 5) * 1000;

  /**
   * One arrival, as the web app: join, wait for its own admitAt (re-reading the room every 10 s), pass, buy.
   * @returns {Promise<Arrival>}
   */
  const arrive = async (user, atMs) => {
    await sleep(opensAtMs + atMs - Date.now());
    const auth = { authorization: `Bearer ${user.token}` };
    const joined = await timed('join', 'POST', `/waiting-rooms/${event.id}/entries`, undefined, auth);
    if (joined.status !== 201) return { outcome: 'error', detail: `join ${joined.status} ${joined.body?.code}` };
    const entry = joined.body;
    const result = { position: entry.position, admitAtMs: Date.parse(entry.admitAt) };
    let soldOut = entry.soldOut;
    let nextPoll = Date.now() + POLL_MS;
    for (;;) {
      if (soldOut) return { ...result, outcome: 'told-sold-out' };
      if (Date.now() > deadline) return { ...result, outcome: 'still-waiting' };
      const wake = Math.min(result.admitAtMs, nextPoll, deadline);
      await sleep(wake - Date.now());
      if (Date.now() >= nextPoll) {
        const room = await timed('poll', 'GET', `/waiting-rooms/${event.id}`);
        soldOut = room.body?.soldOut === true;
        nextPoll = Date.now() + POLL_MS;
        continue;
      }
      if (Date.now() < result.admitAtMs) continue;
      const pass = await timed('pass', 'POST', `/waiting-rooms/${event.id}/passes`, { token: entry.token }, auth);
      if (pass.status === 409 && pass.body?.code === 'NOT_ADMITTED_YET') {
        await sleep(Number(pass.headers['retry-after'] ?? 1) * 1000);
        continue;
      }
      if (pass.status !== 201) return { ...result, outcome: 'error', detail: `pass ${pass.status} ${pass.body?.code}` };
      // The server opened the window when it granted it: expiresAt (whole seconds) − passMinutes.
      const grantedAtMs = Date.parse(pass.body.expiresAt) - PASS_MINUTES * 60_000;
      const quantity = 1 + Math.floor(Math.random() * 4);
      const order = await timed(
        'order',
        'POST',
        '/orders',
        { eventId: event.id, ticketTypeId: event.ticketTypeId, quantity },
        {
          ...auth,
          'idempotency-key': `wr-${user.id}`,
          'queue-pass': pass.body.pass,
        },
      );
      if (order.status === 201) return { ...result, grantedAtMs, outcome: 'bought', quantity };
      if (order.status === 409 && order.body?.code === 'SOLD_OUT') return { ...result, grantedAtMs, outcome: 'refused-sold-out', quantity };
      return { ...result, grantedAtMs, outcome: 'error', detail: `order ${order.status} ${order.body?.code}` };
    }
  };

  const started = Date.now();
  const times = arrivalTimes(arrivals);
  const results = await Promise.all(users.map((u, i) => arrive(u, times[i]).catch((err) => /** @type {Arrival} */ ({ outcome: 'error', detail: String(err?.message ?? err) }))));
  const elapsedS = (Date.now() - started) / 1000;
  api.close();

  const after = await availability(bench, event.id);
  const by = (outcome) => results.filter((r) => r.outcome === outcome);
  const errors = by('error');
  const byPosition = results.filter(placed).sort((a, b) => a.position - b.position);
  const positions = byPosition.map((r) => r.position);
  const everyPosition = positions.length === arrivals && positions.every((p, i) => p === i + 1);
  const outOfOrder = byPosition.filter((r, i) => i > 0 && r.admitAtMs < (byPosition[i - 1]?.admitAtMs ?? -Infinity)).length;
  // A pass granted before its place's admission time (to the second the window is reported in) would let it jump the queue.
  const early = byPosition.filter((r) => r.grantedAtMs !== undefined && r.grantedAtMs < Math.floor(r.admitAtMs / 1000) * 1000 - 1000).length;
  // Every bought or refused arrival carries the quantity it asked for.
  const sold = by('bought').reduce((n, r) => n + (r.quantity ?? 0), 0);
  const refused = by('refused-sold-out');
  const minRefused = refused.length ? Math.min(...refused.map((r) => r.quantity ?? Infinity)) : Infinity;
  const p99 = Object.fromEntries(Object.entries(latencies).map(([k, xs]) => [k, xs.length ? percentile(xs, 99) : 0]));
  const p50 = Object.fromEntries(Object.entries(latencies).map(([k, xs]) => [k, xs.length ? percentile(xs, 50) : 0]));
  const worstP99 = Math.max(...Object.values(p99));
  const requests = Object.values(latencies).reduce((n, xs) => n + xs.length, 0);
  const tag = '8 waiting room';
  const counts = `bought ${by('bought').length}, refused SOLD_OUT ${refused.length}, told sold out ${by('told-sold-out').length}, still waiting ${by('still-waiting').length}, errors ${errors.length}`;

  // A kind nobody needed (no page waited 10 s to re-read the room in a short run) has nothing to report.
  const rows = /** @type {(keyof typeof latencies)[]} */ (Object.keys(latencies))
    .filter((kind) => latencies[kind].length > 0)
    .map((kind) => ({
      scenario: tag,
      what: `${kind === 'join' ? 'POST entries' : kind === 'poll' ? 'GET room' : kind === 'pass' ? 'POST passes' : 'POST /orders with pass'} (${latencies[kind].length})`,
      rps: latencies[kind].length / elapsedS,
      p50: p50[kind],
      p99: p99[kind],
      goal: 'p99 ≤ 100 ms',
      met: (p99[kind] ?? Infinity) <= 100,
    }));
  rows.unshift({
    scenario: tag,
    what: `${arrivals} arrivals, ${admitPerMinute}/min admitted, capacity ${arrivals}: ${counts}`,
    rps: requests / elapsedS,
    p50: Math.max(...Object.values(p50)),
    p99: worstP99,
    goal: 'correctness',
    met: true,
  });
  const checks = [
    { scenario: tag, check: 'every arrival got a position: 1…N, each once, in join order', ok: everyPosition, detail: `${positions.length} positions of ${arrivals}` },
    {
      scenario: tag,
      check: 'admitted in order of position: admission times rise with position, no pass before its time',
      ok: outOfOrder === 0 && early === 0,
      detail: `${outOfOrder} out of order, ${early} early passes`,
    },
    {
      scenario: tag,
      check: 'none lost: each bought, was refused SOLD_OUT, was told sold out, or still waits with a valid position',
      ok: errors.length === 0 && everyPosition,
      detail: `${counts}${errors[0] ? `; first error: ${errors[0].detail}` : ''}`,
    },
    {
      scenario: tag,
      check: 'no oversell: tickets in 201 answers = sold ≤ capacity, and the sale sold out',
      ok: sold === after.sold && after.sold <= arrivals && after.remaining < Math.min(minRefused, 4),
      detail: `answers ${sold}, ticketing sold ${after.sold} of ${arrivals}, remaining ${after.remaining}`,
    },
  ];
  // A run of a few hundred arrivals is too short to judge a p99 by (--quick); the full crowd is.
  if (large)
    checks.push({
      scenario: tag,
      check: 'p99 of every kind of answer ≤ 100 ms',
      ok: worstP99 <= 100,
      detail: Object.entries(p99)
        .map(([k, v]) => `${k} ${v.toFixed(1)} ms`)
        .join(', '),
    });
  return { rows, checks };
}
