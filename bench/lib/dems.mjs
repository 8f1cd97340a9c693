// The system under test: the real DEMS processes on a fresh data directory, the two baseline servers,
// and the few API calls the scenarios need to set themselves up.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { callJson } from '../../scripts/lib/json-call.mjs';
import { ANY_PORTS, ROOT, startSystem } from '../../scripts/lib/system.mjs';

/**
 * Starts the four services exactly as `npm start` and the system tests do (scripts/lib/system.mjs), plus the
 * baselines as separate processes (unless `baselines: false`), on ports base … base+11; with base 0 every process
 * on a port the OS picks (the test that runs the bench uses that: it runs beside other tests and a `npm start`).
 * Tokens: the bench gives engagement its signing key (JWT_SIGNING_KEY, a supported setting) and signs the
 * benchmark users' tokens itself, because signing up 2,000 users costs 4,000 scrypt runs (~55 ms each here)
 * and measures nothing we benchmark. Every service still verifies every token exactly as in production.
 */
export async function startBench({ portBase = 4600, env = {}, replicas = 1, baselines: withBaselines = true } = {}) {
  const dataDir = mkdtempSync(join(tmpdir(), 'dems-bench-'));
  const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
  const jwk = { ...(await exportJWK(privateKey)), kid: 'bench' };
  const system = await startSystem({
    dataDir,
    ports: portBase === 0 ? ANY_PORTS : { gateway: portBase, events: portBase + 1, ticketing: portBase + 2, engagement: portBase + 3 },
    env: {
      LOG_LEVEL: 'warn',
      SERVICE_SECRET: 'bench-secret-0123456789abcdef',
      JWT_SIGNING_KEY: JSON.stringify(jwk),
      // The bench's few hundred users stand for a crowd of thousands, so each buys far more than a person
      // would: the per-user purchase throttle (default 30/min) stays in the path but is set not to trip.
      ORDERS_PER_USER_PER_MINUTE: '100000',
      // The live fan-out signs its socket users up for real, all from this one address.
      SIGNUPS_PER_ADDRESS_PER_HOUR: '100000',
      ...env,
    },
    // Several replicas (the soak): replica i of a service on its port + 20 i, and their redis-server on base + 19.
    replicas,
    replicaPortStep: 20,
    redisPort: portBase && portBase + 19,
  });
  const baselines = [];
  try {
    if (withBaselines) {
      baselines.push(await startBaseline('hello', portBase && portBase + 10));
      baselines.push(await startBaseline('noop', portBase && portBase + 11));
    }
  } catch (err) {
    await Promise.all(baselines.map((b) => b.stop()));
    await system.stopAll();
    throw err;
  }
  const ttl = 24 * 3600;
  return {
    system,
    dataDir,
    portBase,
    urls: { ...system.urls, hello: baselines[0]?.url, noop: baselines[1]?.url },
    /** A user and a token engagement itself would have issued. */
    async user(role = 'attendee') {
      const id = `usr_bench_${randomUUID().replaceAll('-', '')}`;
      const name = `Bench ${role} ${id.slice(-6)}`;
      const iat = Math.floor(Date.now() / 1000);
      const token = await new SignJWT({ role, email: `${id}@bench.example`, name })
        .setProtectedHeader({ alg: 'EdDSA', kid: 'bench', typ: 'JWT' })
        .setSubject(id)
        .setIssuer('dems-engagement')
        .setAudience('dems')
        .setIssuedAt(iat)
        .setExpirationTime(iat + ttl)
        .sign(privateKey);
      return { id, token };
    },
    /**
     * A real account with a real session, through engagement's sign-up and sign-in: a live socket opens only for
     * a session that is signed in, which a minted token does not have. Costs two scrypt runs, so only the live
     * fan-out uses it.
     */
    async signedInUser() {
      const email = `bench-${randomUUID()}@bench.example`;
      const password = 'bench passphrase 0123';
      const created = await call('POST', `${system.urls.engagement}/users`, { email, password, name: 'Bench listener' });
      if (created.status !== 201) throw new Error(`bench sign-up failed: ${JSON.stringify(created.body)}`);
      const session = await call('POST', `${system.urls.engagement}/sessions`, { email, password });
      if (session.status !== 200) throw new Error(`bench sign-in failed: ${JSON.stringify(session.body)}`);
      return { id: session.body.user.id, token: session.body.token };
    },
    /** Restarts ticketing with other settings (e.g. SQLITE_SYNCHRONOUS); `system.env` is what every start uses. */
    async restartTicketing(extraEnv) {
      const saved = { ...system.env };
      Object.assign(system.env, extraEnv);
      try {
        await system.stop('ticketing');
        await system.start('ticketing');
      } finally {
        for (const k of Object.keys(extraEnv)) {
          if (k in saved) system.env[k] = saved[k];
          else delete system.env[k];
        }
      }
    },
    async stop({ keepData = false } = {}) {
      await Promise.all(baselines.map((b) => b.stop()));
      await system.stopAll();
      if (!keepData) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A baseline server on `port` (0: one the OS picks, which it reports over its IPC channel). */
async function startBaseline(name, port) {
  const child = spawn(process.execPath, [join(ROOT, 'bench', 'servers', `${name}.mjs`)], {
    cwd: ROOT,
    env: { ...process.env, PORT: String(port) },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  child.once('message', (/** @type {{ type?: string, port?: number }} */ m) => {
    if (m?.type === 'listening' && m.port) port = m.port;
    child.disconnect();
  });
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`baseline ${name} exited (code ${child.exitCode}); is port ${port} free?`);
    try {
      if (port !== 0 && (await fetch(`http://127.0.0.1:${port}/healthz`)).ok) break;
    } catch {
      /* not yet */
    }
    if (Date.now() > deadline) throw new Error(`baseline ${name} did not start on port ${port}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url: `http://127.0.0.1:${port}`,
    stop: () =>
      new Promise((done) => {
        if (child.exitCode !== null) return done(undefined);
        child.once('exit', () => done(undefined));
        child.kill('SIGTERM');
      }),
  };
}

/** A JSON call that returns status, headers and body and never throws on 4xx/5xx. */
export const call = callJson;

/** Creates and publishes an event through the events service and waits until ticketing has it on sale. */
export async function createEventOnSale(bench, organizer, { capacity, title = 'Bench Night' }) {
  const start = new Date(Date.now() + 30 * 86_400_000);
  const created = await call(
    'POST',
    `${bench.urls.events}/events`,
    {
      title,
      description: 'A benchmark event',
      venue: 'Loopback Hall',
      timezone: 'Europe/Lisbon',
      startsAt: start.toISOString(),
      endsAt: new Date(start.getTime() + 3 * 3_600_000).toISOString(),
      ticketTypes: [{ name: 'General', priceCents: 2500, currency: 'EUR', capacity }],
    },
    organizer.token,
  );
  if (created.status !== 201) throw new Error(`creating the event failed: ${JSON.stringify(created.body)}`);
  const event = { id: created.body.id, ticketTypeId: created.body.ticketTypes[0].id };
  await availability(bench, event.id, 15_000);
  return event;
}

/** Ticketing's own count for the event's (first) ticket type; waits up to `waitMs` for the event to arrive. */
export async function availability(bench, eventId, waitMs = 0) {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const r = await call('GET', `${bench.urls.ticketing}/availability/${eventId}`);
    if (r.status === 200) return /** @type {{ capacity: number, sold: number, remaining: number }} */ (r.body.ticketTypes[0]);
    if (Date.now() > deadline) throw new Error(`event ${eventId} did not reach ticketing (${r.status})`);
    await new Promise((res) => setTimeout(res, 50));
  }
}
