// `npm run bench -- soak`: a long, steady, mixed load (browse, buy, sign in, notifications and live sockets)
// through the gateway, while every process's resident memory and open file descriptors are sampled. A leak shows
// as growth after the warm-up; the run fails when memory or descriptors grow beyond the stated tolerance.
//
//   npm run bench -- soak                       10 minutes, two replicas of each service (and a redis-server)
//   npm run bench -- soak --duration 60         a one-minute smoke check
//   options: --replicas N (default 2) --rate R (requests/s, default 60) --connections C (default 8)
//            --users U (signed-in users with a live socket, default 20) --sample-every S (seconds)
//            --max-rss-growth P (% of the post-warm-up memory, default 25) --max-fd-growth N (default 16)
//            --port-base P (default 4600) --out DIR (default bench/results) --no-build
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { io } from 'socket.io-client';
import { ensureBuilt } from '../../scripts/lib/setup.mjs';
import { ROOT } from '../../scripts/lib/system.mjs';
import { createEventOnSale, startBench } from './dems.mjs';
import { pool } from './load.mjs';
import { processStats, verdict } from './process-stats.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A positive number from an option, or an error naming the option. */
function positive(values, name, { integer = false } = {}) {
  const n = Number(values[name]);
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) {
    throw new Error(`--${name} must be a positive ${integer ? 'whole ' : ''}number (got "${values[name]}").`);
  }
  return n;
}

function options(argv) {
  const { values } = parseArgs({
    args: argv,
    options: {
      duration: { type: 'string', default: '600' },
      replicas: { type: 'string', default: '2' },
      rate: { type: 'string', default: '60' },
      connections: { type: 'string', default: '8' },
      users: { type: 'string', default: '20' },
      'sample-every': { type: 'string' },
      'max-rss-growth': { type: 'string', default: '25' },
      'max-fd-growth': { type: 'string', default: '16' },
      'port-base': { type: 'string', default: '4600' },
      out: { type: 'string', default: join(ROOT, 'bench', 'results') },
      'no-build': { type: 'boolean', default: false },
    },
  });
  const durationS = positive(values, 'duration');
  return {
    durationS,
    replicas: positive(values, 'replicas', { integer: true }),
    rate: positive(values, 'rate'),
    connections: positive(values, 'connections', { integer: true }),
    users: positive(values, 'users', { integer: true }),
    // 10–30 s over a long run (enough to see a trend, few enough to read), more often in a short one so that it still has a series.
    sampleEveryS: values['sample-every'] ? positive(values, 'sample-every') : Math.min(15, Math.max(2, durationS / 12)),
    // The first fifth of the run (at least 10 s, at most 2 minutes) is warm-up: caches, JIT, connection pools.
    warmupS: Math.min(120, Math.max(10, durationS / 5)),
    rssGrowth: positive(values, 'max-rss-growth') / 100,
    fdGrowth: Number(values['max-fd-growth']),
    portBase: positive(values, 'port-base', { integer: true }),
    out: values.out,
    build: !values['no-build'],
  };
}

/**
 * One request as the web app makes it: a 503 ("nothing was done") or no answer is tried again after Retry-After
 * or 1 s doubling (at most 10 s), four times at most. Every try is counted by its outcome.
 * @param {Record<string, number>} counts
 * @param {string} method
 * @param {string} url
 * @param {{ body?: unknown, token?: string, headers?: Record<string, string> }} [options]
 * @returns {Promise<{ status: number, outcome: string, body: any }>}
 */
async function request(counts, method, url, { body, token, headers = {} } = {}) {
  for (let n = 0; ; n++) {
    let outcome;
    let res;
    try {
      res = await fetch(url, {
        method,
        headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(30_000),
      });
      outcome = String(res.status);
    } catch (err) {
      outcome = err?.cause?.code ?? err?.name ?? 'error';
    }
    counts[outcome] = (counts[outcome] ?? 0) + 1;
    const busy = !res || res.status === 503;
    if (!busy || n === 4) {
      const text = res ? await res.text() : '';
      return { status: res?.status ?? 0, outcome, body: text && res?.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text };
    }
    await res?.arrayBuffer();
    const asked = Number(res?.headers.get('retry-after'));
    await sleep(Math.min(10_000, Number.isFinite(asked) && asked > 0 ? asked * 1000 : 1000 * 2 ** n));
  }
}

/** Sum of a metric's samples on one /metrics page (all label sets), or NaN when the page cannot be read. */
async function metricSum(baseUrl, name) {
  try {
    const text = await (await fetch(`${baseUrl}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
    return text
      .split('\n')
      .filter((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`))
      .reduce((s, l) => s + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
  } catch {
    return NaN;
  }
}

/** A person of the soak: an account, a session, and the live socket the web app keeps open. */
async function signUp(api, counts, gatewayUrl, i) {
  const user = { email: `soak-${i}-${randomUUID().slice(0, 8)}@bench.example`, password: 'soak passphrase 0123', pushes: 0 };
  const created = await request(counts, 'POST', `${api}/users`, { body: { email: user.email, password: user.password, name: `Soak ${i}` } });
  if (created.status !== 201) throw new Error(`soak sign-up failed: ${created.status} ${JSON.stringify(created.body)}`);
  await signIn(api, counts, gatewayUrl, user);
  return user;
}

/**
 * Signs the user in again (scrypt), renews the new session once, moves the live socket to it and signs the old
 * session out: the sign-in path, refresh-token rotation, revocation and a socket opened and closed, every time.
 */
async function signIn(api, counts, gatewayUrl, user) {
  const session = await request(counts, 'POST', `${api}/sessions`, { body: { email: user.email, password: user.password } });
  if (session.status !== 200) throw new Error(`soak sign-in failed: ${session.status} ${JSON.stringify(session.body)}`);
  const renewed = await request(counts, 'POST', `${api}/sessions/refresh`, { body: { refreshToken: session.body.refreshToken } });
  if (renewed.status !== 200) throw new Error(`soak refresh failed: ${renewed.status} ${JSON.stringify(renewed.body)}`);
  const socket = io(gatewayUrl, { auth: { token: renewed.body.token }, transports: ['websocket'], reconnectionDelay: 200, reconnectionDelayMax: 2000, forceNew: true });
  socket.on('notification', () => user.pushes++);
  await new Promise((resolve) => {
    socket.once('connect', () => resolve(undefined));
    setTimeout(resolve, 10_000);
  });
  const old = { socket: user.socket, refreshToken: user.refreshToken };
  Object.assign(user, { token: renewed.body.token, refreshToken: renewed.body.refreshToken, socket });
  old.socket?.close();
  if (old.refreshToken) await request(counts, 'POST', `${api}/sessions/logout`, { body: { refreshToken: old.refreshToken } });
}

export async function main(argv) {
  let o;
  try {
    o = options(argv);
  } catch (err) {
    console.error(err.message);
    return 2;
  }
  if (process.platform !== 'linux') {
    console.error('The soak reads memory and open files from /proc: it runs on Linux only.');
    return 2;
  }
  if (o.build) ensureBuilt();
  console.log(
    `DEMS soak: ${o.durationS} s, ${o.replicas} replica(s) of each service, ~${o.rate} requests/s over ${o.connections} connections, ` +
      `${o.users} signed-in users with live sockets; samples every ${o.sampleEveryS} s after a ${o.warmupS} s warm-up.`,
  );
  const bench = await startBench({ portBase: o.portBase, replicas: o.replicas, baselines: false });
  const api = `${bench.urls.gateway}/api`;
  /** @type {Record<string, number>} */
  const counts = {};
  const failures = [];
  const samples = new Map();
  const checks = [];
  let users = [];
  try {
    const organizer = await bench.user('organizer');
    const events = [];
    for (let i = 0; i < 8; i++) events.push(await createEventOnSale(bench, organizer, { capacity: 1_000_000, title: `Soak night ${i + 1}` }));
    users = await pool(
      Array.from({ length: o.users }, (_, i) => i),
      4,
      (i) => signUp(api, counts, bench.urls.gateway, i),
    );
    const pick = (xs) => xs[Math.floor(Math.random() * xs.length)];
    let orders = 0;

    /**
     * The mix, by weight: mostly browsing, a fifth purchases, the rest the signed-in pages.
     * @type {[number, () => ReturnType<typeof request>][]}
     */
    const actions = [
      [30, () => request(counts, 'GET', `${api}/events?limit=20`)],
      [15, () => request(counts, 'GET', `${api}/events/${pick(events).id}`)],
      [10, () => request(counts, 'GET', `${api}/availability/${pick(events).id}`)],
      [
        20,
        async () => {
          const event = pick(events);
          orders++;
          return request(counts, 'POST', `${api}/orders`, {
            body: { eventId: event.id, ticketTypeId: event.ticketTypeId, quantity: 1 },
            token: pick(users).token,
            headers: { 'idempotency-key': randomUUID() },
          });
        },
      ],
      [12, () => request(counts, 'GET', `${api}/notifications`, { token: pick(users).token })],
      [3, () => request(counts, 'POST', `${api}/notifications/read-all`, { token: pick(users).token })],
      [10, () => request(counts, 'GET', `${api}/tickets`, { token: pick(users).token })],
    ];
    const totalWeight = actions.reduce((s, [w]) => s + w, 0);
    const someAction = () => {
      let r = Math.random() * totalWeight;
      for (const [w, act] of actions) if ((r -= w) < 0) return act;
      // Only when rounding leaves r at exactly 0 after the last weight: the first action, which always exists.
      return /** @type {(typeof actions)[number]} */ (actions[0])[1];
    };

    // Every process of the system, by instance name: its pid at the start, then a sample every few seconds.
    const pids = new Map([...bench.system.running].map(([name, proc]) => [name, proc.child.pid]));
    const started = Date.now();
    const sample = () => {
      const t = (Date.now() - started) / 1000;
      for (const [name, pid] of pids) {
        const stats = bench.system.running.get(name)?.child.pid === pid ? processStats(pid) : null;
        if (!samples.has(name)) samples.set(name, []);
        samples.get(name).push(stats ? { t, ...stats } : { t, gone: true });
      }
    };
    sample();
    const sampler = setInterval(sample, o.sampleEveryS * 1000);
    const deadline = started + o.durationS * 1000;
    const progress = setInterval(() => {
      const done = Object.values(counts).reduce((a, b) => a + b, 0);
      console.log(`  ${((Date.now() - started) / 1000).toFixed(0)} s: ${done} requests, ${orders} orders`);
    }, 60_000);

    const pace = (o.connections / o.rate) * 1000;
    const worker = async () => {
      while (Date.now() < deadline) {
        const t0 = Date.now();
        const res = await someAction()();
        if (res.status < 200 || res.status >= 300) failures.push(res.outcome);
        await sleep(Math.max(0, pace - (Date.now() - t0)));
      }
    };
    const signIns = async () => {
      for (let i = 0; Date.now() < deadline; i++) {
        await signIn(api, counts, bench.urls.gateway, users[i % users.length]).catch((err) => failures.push(err.message));
        await sleep(3000);
      }
    };
    await Promise.all([...Array.from({ length: o.connections }, worker), signIns()]);
    sample();
    clearInterval(sampler);
    clearInterval(progress);

    // After the load: the outbox drains, nothing is dead-lettered, and engagement holds exactly the sockets we hold.
    const services = Object.entries(bench.system.upstreams)
      .filter(([name]) => name !== 'gateway')
      .flatMap(([, urls]) => urls);
    const sumOver = async (urls, name) => (await Promise.all(urls.map((u) => metricSum(u, name)))).reduce((a, b) => a + b, 0);
    let pending = NaN;
    for (const until = Date.now() + 60_000; Date.now() < until; await sleep(1000)) {
      pending = await sumOver(services, 'dems_outbox_pending');
      if (pending === 0) break;
    }
    const dead = await sumOver(services, 'dems_outbox_dead_letters');
    await sleep(1000);
    const open = users.filter((u) => u.socket?.connected).length;
    const held = await sumOver(bench.system.upstreams.engagement, 'dems_live_sockets');
    const pushes = users.reduce((s, u) => s + u.pushes, 0);
    const fiveXx = Object.entries(counts).filter(([k]) => /^5/.test(k) && k !== '503');
    checks.push(
      {
        check: 'every request answered in the end (503s and lost answers retried as the web app does)',
        ok: failures.length === 0,
        detail: failures.length
          ? `${failures.length} failed, e.g. ${failures.slice(0, 5).join(', ')}`
          : `${Object.values(counts).reduce((a, b) => a + b, 0)} tries: ${fmt(counts)}`,
      },
      { check: 'no 5xx but 503', ok: fiveXx.length === 0, detail: fiveXx.length ? fmt(Object.fromEntries(fiveXx)) : 'none' },
      {
        check: 'every process ran the whole soak (same pid)',
        ok: [...samples.values()].every((s) => !s.some((x) => x.gone)),
        detail:
          [...samples]
            .filter(([, s]) => s.some((x) => x.gone))
            .map(([n]) => n)
            .join(', ') || 'all',
      },
      { check: 'the outbox drained, no dead letters', ok: pending === 0 && dead === 0, detail: `pending ${pending}, dead letters ${dead}` },
      {
        check: 'engagement holds exactly the live sockets the clients hold',
        ok: held === open && open === users.length,
        detail: `${held} held by engagement, ${open} of ${users.length} clients connected; ${pushes} pushes received for ${orders} orders`,
      },
    );
  } finally {
    for (const u of users) u.socket?.close();
    await bench.stop();
  }

  const rows = [...samples].map(([name, s]) => ({
    name,
    ...verdict(
      s.filter((x) => !x.gone),
      o,
    ),
  }));
  for (const r of rows) {
    checks.push({
      check: `${r.name}: memory and open files stay flat`,
      ok: r.rssOk && r.fdsOk,
      detail: `RSS ${mb(r.rss.start)} → ${mb(r.rss.end)} MB (tolerance +${Math.round(o.rssGrowth * 100)} %), fds ${r.fds.start} → ${r.fds.end} (tolerance +${o.fdGrowth})`,
    });
  }
  const report = markdown(rows, checks, o);
  console.log(`\n${report}`);
  mkdirSync(o.out, { recursive: true });
  writeFileSync(join(o.out, 'soak-latest.md'), report);
  writeFileSync(join(o.out, 'soak-latest.json'), `${JSON.stringify({ options: o, rows, checks, samples: Object.fromEntries(samples) }, null, 2)}\n`);
  console.log(`wrote ${join(o.out, 'soak-latest.md')} (+ .json with every sample)`);
  return checks.every((c) => c.ok) ? 0 : 1;
}

const mb = (x) => x.toFixed(0);
const fmt = (counts) =>
  Object.entries(counts)
    .map(([k, v]) => `${k}×${v}`)
    .join(' ');

function markdown(rows, checks, o) {
  const line = (cells) => `| ${cells.join(' | ')} |`;
  return [
    `# DEMS soak — ${new Date().toISOString().slice(0, 16)}Z`,
    '',
    `${o.durationS} s of mixed load through the gateway (~${o.rate} requests/s, ${o.connections} connections, ${o.users} signed-in users ` +
      `with live sockets, a sign-in cycle every 3 s), ${o.replicas} replica(s) of each service. Samples every ${o.sampleEveryS} s; ` +
      `after a ${o.warmupS} s warm-up, start = the highest sample of the first third, end = the highest of the last third (peak to peak: ` +
      'garbage collection makes memory a sawtooth), slope per minute by least squares.',
    '',
    line(['process', 'RSS start MB', 'RSS end MB', 'RSS max MB', 'RSS MB/min', 'fds start', 'fds end', 'fds max', 'fds/min', 'flat']),
    line(['---', '---:', '---:', '---:', '---:', '---:', '---:', '---:', '---:', '---']),
    ...rows.map((r) =>
      line([
        r.name,
        mb(r.rss.start),
        mb(r.rss.end),
        mb(r.rss.max),
        r.rss.perMin.toFixed(2),
        r.fds.start,
        r.fds.end,
        r.fds.max,
        r.fds.perMin.toFixed(2),
        r.rssOk && r.fdsOk ? '✔' : '✘',
      ]),
    ),
    '',
    `Tolerance: memory may end at most ${Math.round(o.rssGrowth * 100)} % above its post-warm-up start, open files at most ${o.fdGrowth} above.`,
    '',
    ...checks.map((c) => `- ${c.ok ? '✔' : '✘'} ${c.check} — ${c.detail}`),
    '',
  ].join('\n');
}
