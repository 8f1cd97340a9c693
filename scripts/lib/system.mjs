// Starts and stops the DEMS processes. Used by `npm start`, the system tests and the benchmarks, so that
// all three run the system exactly the same way. Zero dependencies: it runs before `npm install` has.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { chmodSync, closeSync, existsSync, fchmodSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stopChild } from './processes.mjs';
import { startRedisServer } from './redis.mjs';
import { signingKeyForReplicas } from './signing-key.mjs';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Engagement first: it publishes the token keys the others fetch. The gateway last: it fronts the rest. */
export const SERVICES = /** @type {const} */ (['engagement', 'events', 'ticketing', 'gateway']);
export const DEFAULT_PORTS = { gateway: 3000, events: 3001, ticketing: 3002, engagement: 3003 };

/**
 * The data directory holds password hashes, emails, keys and logs with request details: it and what is in it
 * are for this OS user only (0700, files 0600), also when an older version made them readable to all.
 */
export function makePrivateDir(dir) {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  return dir;
}

/** Opens a log file for appending, readable by this user only; returns its descriptor. */
export function openPrivateLog(file) {
  const fd = openSync(file, 'a', 0o600);
  fchmodSync(fd, 0o600);
  return fd;
}

/**
 * The service secret: from the environment (SERVICE_SECRET, or the file SERVICE_SECRET_FILE names, as the services
 * read it), else generated once and kept in the data directory.
 */
export function serviceSecret(dataDir) {
  if (process.env.SERVICE_SECRET) return process.env.SERVICE_SECRET;
  const given = process.env.SERVICE_SECRET_FILE;
  if (given) {
    try {
      return readFileSync(given, 'utf8').replace(/[\r\n]+$/, '');
    } catch (err) {
      throw new Error(`SERVICE_SECRET_FILE ("${given}"): cannot read the file (${err.code ?? err.message}); make it readable or unset SERVICE_SECRET_FILE.`);
    }
  }
  const file = join(dataDir, 'service-secret');
  if (!existsSync(file)) writeFileSync(file, randomBytes(32).toString('hex'), { mode: 0o600 });
  chmodSync(file, 0o600);
  return readFileSync(file, 'utf8').trim();
}

/** At most this many replicas of each service: beyond that one machine gains nothing; more machines do (Kubernetes). */
export const MAX_REPLICAS = 8;
/** Replica i (from 0) of a service listens on its base port + i × this: 3001, 3101, 3201, … for events. */
export const DEFAULT_REPLICA_PORT_STEP = 100;
/** The redis-server started for several replicas when REDIS_URL is not given. */
export const DEFAULT_REDIS_PORT = 6390;
/** The name of the redis-server started for replicas, among the system's processes. */
const REDIS = 'redis-server';
/** The services that run as replicas; the gateway is one process in front of them. */
export const REPLICATED = /** @type {const} */ (['events', 'ticketing', 'engagement']);

/** The console's and the log file's name of a replica: `events` for the first, then `events-2`, `events-3`, … */
export function instanceName(service, index) {
  return index === 0 ? service : `${service}-${index + 1}`;
}

/** `--replicas` / the replicas option: a whole number from 1 to MAX_REPLICAS, else an error saying so. */
export function parseReplicas(value) {
  const n = Number(value);
  if (!/^\d+$/.test(String(value)) || n < 1 || n > MAX_REPLICAS) {
    throw new Error(`--replicas must be a whole number from 1 to ${MAX_REPLICAS} (got "${value}").`);
  }
  return n;
}

/**
 * Every process's port: replica i of a service on its base port + i × step, the gateway alone on its own.
 * Throws, naming the settings to change, when two would share a port or one would pass 65535.
 * @param {typeof DEFAULT_PORTS} base
 * @param {number} replicas
 * @param {number} step
 * @returns {Record<keyof typeof DEFAULT_PORTS, number[]>}
 */
export function replicaPorts(base, replicas, step = DEFAULT_REPLICA_PORT_STEP) {
  const ports = /** @type {Record<keyof typeof DEFAULT_PORTS, number[]>} */ (
    Object.fromEntries(
      Object.entries(base).map(([service, p]) => [service, service === 'gateway' ? [p] : Array.from({ length: replicas }, (_, i) => p + i * step)]),
    )
  );
  const owner = new Map();
  for (const [service, list] of Object.entries(ports)) {
    for (const [i, p] of list.entries()) {
      const instance = instanceName(service, i);
      if (p > 65535) {
        throw new Error(`${instance} would listen on port ${p}, above 65535: lower ${service.toUpperCase()}_PORT or REPLICA_PORT_STEP.`);
      }
      if (owner.has(p)) {
        throw new Error(`${owner.get(p)} and ${instance} would both listen on port ${p}: choose GATEWAY_PORT, EVENTS_PORT, TICKETING_PORT, ENGAGEMENT_PORT and REPLICA_PORT_STEP so that they differ.`);
      }
      owner.set(p, instance);
    }
  }
  return ports;
}

/**
 * Starts every service as its own OS process and waits until each answers /healthz: `replicas` processes of
 * events, ticketing and engagement (engagement first: it publishes the token keys the others fetch), then the
 * gateway in front of them. Each process is told every replica's address (EVENTS_URL etc. as comma-separated
 * lists). Several replicas share their ephemeral state through Redis — REDIS_URL, or a redis-server started here
 * on `redisPort` — and engagement's replicas one signing key (JWT_SIGNING_KEY, else the data directory's key file).
 * @param {{ dataDir: string, ports?: Partial<typeof DEFAULT_PORTS>, env?: Record<string,string>,
 *           logs?: 'files' | 'inherit', extraTicketingPorts?: number[], replicas?: number,
 *           replicaPortStep?: number, redisPort?: number }} options
 *   `extraTicketingPorts`: further ticketing processes that the others are not told about (tests address them directly).
 */
export async function startSystem({
  dataDir,
  ports = {},
  env = {},
  logs = 'files',
  extraTicketingPorts = [],
  replicas = 1,
  replicaPortStep = DEFAULT_REPLICA_PORT_STEP,
  redisPort = DEFAULT_REDIS_PORT,
}) {
  replicas = parseReplicas(replicas);
  if (replicas > 1 && extraTicketingPorts.length) throw new Error('Use either replicas or extraTicketingPorts, not both.');
  dataDir = makePrivateDir(resolve(dataDir));
  makePrivateDir(join(dataDir, 'logs'));
  const port = { ...DEFAULT_PORTS, ...ports };
  const portsOf = replicaPorts(port, replicas, replicaPortStep);
  const urlOf = (p) => `http://127.0.0.1:${p}`;
  /** Every replica's address, per service. */
  const upstreams = /** @type {Record<keyof typeof DEFAULT_PORTS, string[]>} */ (
    Object.fromEntries(Object.entries(portsOf).map(([name, list]) => [name, list.map(urlOf)]))
  );
  const url = /** @type {Record<keyof typeof DEFAULT_PORTS, string>} */ (
    Object.fromEntries(Object.entries(upstreams).map(([name, list]) => [name, list[0]]))
  );

  const given = { ...process.env, ...env };
  // Redis: given, or started here for several replicas. One replica keeps its state in memory and needs none.
  const startRedis = replicas > 1 && !given.REDIS_URL;
  const redisUrl = startRedis ? `redis://127.0.0.1:${redisPort}` : given.REDIS_URL;
  // Wherever state is shared, engagement's replicas sign with one key from configuration (never one each).
  const signingKey =
    redisUrl && !given.JWT_SIGNING_KEY && !given.JWT_SIGNING_KEY_FILE
      ? signingKeyForReplicas(dataDir, {
          storeHasAccounts: (given.STORE ?? 'sqlite') === 'sqlite' && existsSync(join(dataDir, 'engagement.db')),
          reset: /^(true|1|yes|on)$/i.test(given.JWT_SIGNING_KEY_RESET ?? ''),
        })
      : undefined;

  const common = {
    DATA_DIR: dataDir,
    SERVICE_SECRET: serviceSecret(dataDir),
    // Passed resolved: an inherited SERVICE_SECRET_FILE beside it would be "both set" (empty is unset).
    SERVICE_SECRET_FILE: '',
    EVENTS_URL: upstreams.events.join(','),
    TICKETING_URL: upstreams.ticketing.join(','),
    ENGAGEMENT_URL: upstreams.engagement.join(','),
    GATEWAY_PORT: String(port.gateway),
    EVENTS_PORT: String(port.events),
    TICKETING_PORT: String(port.ticketing),
    ENGAGEMENT_PORT: String(port.engagement),
    WEB_DIST: join(ROOT, 'web', 'dist'),
    ...(redisUrl ? { REDIS_URL: redisUrl } : {}),
    ...env,
  };

  // A service stopping gracefully takes at most its drain plus its shutdown timeout (0 + 10 s by default) and then
  // exits by itself; only a process that overstays that by 5 s is killed.
  const secondsOf = (name, fallback) => (given[name] && Number.isFinite(Number(given[name])) ? Number(given[name]) : fallback);
  const stopGraceMs = (secondsOf('SHUTDOWN_DRAIN_SECONDS', 0) + secondsOf('SHUTDOWN_TIMEOUT_SECONDS', 10) + 5) * 1000;

  /**
   * How to start each instance (again): a service replica, or the redis-server started here.
   * @type {Map<string, () => Promise<Running>>}
   */
  const launchers = new Map();
  /** @typedef {{ child: import('node:child_process').ChildProcess, name: string, url: string, logFile?: string }} Running */
  /** @type {Map<string, Running>} */
  const running = new Map();
  /** Set by stopAll(): a process that finishes starting after it is stopped at once. */
  let closed = false;

  /** Spawns one service process; resolves once it answers /healthz, else stops it and rejects. */
  async function spawnService(name, instance, servicePort, extraEnv = {}) {
    const logFile = join(dataDir, 'logs', `${instance}.log`);
    const fd = logs === 'files' ? openPrivateLog(logFile) : 'inherit';
    const child = spawn(process.execPath, ['--enable-source-maps', join(ROOT, 'services', name, 'dist', 'main.js')], {
      cwd: ROOT,
      env: { ...process.env, ...common, [`${name.toUpperCase()}_PORT`]: String(servicePort), ...extraEnv },
      stdio: ['ignore', fd, fd],
    });
    if (typeof fd === 'number') closeSync(fd);
    const proc = { child, name, url: urlOf(servicePort), logFile };
    running.set(instance, proc);
    try {
      await waitHealthy(proc);
    } catch (err) {
      await stopChild(child);
      if (running.get(instance) === proc) running.delete(instance);
      throw err;
    }
    return proc;
  }

  async function launch(instance) {
    const start = launchers.get(instance);
    if (!start) throw new Error(`No process named ${instance} in this system.`);
    return start();
  }

  async function stopOne(instance) {
    const proc = running.get(instance);
    if (!proc) return;
    running.delete(instance);
    await stopChild(proc.child, stopGraceMs);
  }

  const system = {
    dataDir,
    /** The first replica of each service, and the gateway. */
    urls: url,
    /** Every replica's address, per service. */
    upstreams,
    ports: port,
    replicas,
    /** Where the replicas share state: { url, local: true } when a redis-server was started here; undefined without Redis. */
    redis: redisUrl ? { url: redisUrl, local: startRedis } : undefined,
    /** Where engagement's replicas got their one signing key: the key file's path, 'JWT_SIGNING_KEY' or 'JWT_SIGNING_KEY_FILE', or undefined (no shared state: engagement reads its key file itself). */
    signingKeySource: signingKey ? signingKey.file : redisUrl ? (given.JWT_SIGNING_KEY_FILE ? 'JWT_SIGNING_KEY_FILE' : 'JWT_SIGNING_KEY') : undefined,
    env: common,
    running,
    /** Starts an instance (again) by name, e.g. after a fault test or a crash stopped it: `engagement`, `events-2`, `redis-server`. */
    start: launch,
    stop: stopOne,
    /** Stops the services together, then the redis-server started here (the services use it until they are gone). */
    async stopAll() {
      closed = true;
      await Promise.all([...running.keys()].filter((i) => i !== REDIS).map(stopOne));
      await stopOne(REDIS);
    },
  };

  const busy = [];
  const wanted = [...Object.entries(portsOf).flatMap(([name, list]) => list.map((p, i) => [instanceName(name, i), p])), ...extraTicketingPorts.map((p) => ['ticketing', p])];
  if (startRedis) wanted.push(['redis-server', redisPort]);
  for (const [name, p] of wanted) {
    if (!(await portIsFree(p))) busy.push(`${p} (${name})`);
  }
  if (busy.length) {
    throw new Error(
      `${busy.length > 1 ? 'Ports' : 'Port'} ${busy.join(', ')} ${busy.length > 1 ? 'are' : 'is'} already in use. Is DEMS already running? Stop it, or choose other ports with GATEWAY_PORT, EVENTS_PORT, TICKETING_PORT and ENGAGEMENT_PORT${startRedis ? ' (REDIS_PORT for Redis)' : ''}.`,
    );
  }

  if (startRedis) {
    launchers.set(REDIS, async () => {
      const redis = await startRedisServer({ port: redisPort });
      // Everything was stopped while it started: it is not wanted any more.
      if (closed) {
        await redis.stop();
        throw new Error('The system was stopped while redis-server started.');
      }
      const proc = { child: redis.child, name: REDIS, url: redis.url };
      running.set(REDIS, proc);
      return proc;
    });
  }
  for (const name of REPLICATED) {
    for (const [i, p] of portsOf[name].entries()) {
      const keyEnv = name === 'engagement' && signingKey ? { JWT_SIGNING_KEY: signingKey.value } : {};
      launchers.set(instanceName(name, i), () => spawnService(name, instanceName(name, i), p, keyEnv));
    }
  }
  launchers.set('gateway', () => spawnService('gateway', 'gateway', port.gateway));
  for (const [i, p] of extraTicketingPorts.entries()) launchers.set(`ticketing-${i + 2}`, () => spawnService('ticketing', `ticketing-${i + 2}`, p));

  try {
    if (startRedis) await launch(REDIS);
    // The first replica of each alone creates its store's schema (or tables); the others then start side by side.
    for (const name of SERVICES.filter((s) => s !== 'gateway')) await launch(name);
    const others = [...launchers.keys()].filter((i) => ![REDIS, 'gateway', ...SERVICES].includes(i));
    await Promise.all(others.map(launch));
    await launch('gateway');
  } catch (err) {
    await system.stopAll();
    throw err;
  }
  return system;
}

function portIsFree(port) {
  return new Promise((resolve) => {
    const probe = createServer()
      .once('error', () => resolve(false))
      .listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

/** Until `/healthz` answers 200: a minute, since seven processes starting together on a busy laptop take their time. */
async function waitHealthy(proc, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc.child.exitCode !== null || proc.child.signalCode !== null) {
      throw new Error(`${proc.name} exited during start-up (${proc.child.signalCode ?? `code ${proc.child.exitCode}`}).\n${tailOf(proc.logFile)}`);
    }
    try {
      const res = await fetch(`${proc.url}/healthz`, { signal: AbortSignal.timeout(1000) });
      if (res.ok) return;
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${proc.name} did not answer ${proc.url}/healthz within ${timeoutMs / 1000} s.\n${tailOf(proc.logFile)}`);
}

/** The last lines of a log file, or why there are none. */
export function tailOf(file, lines = 30) {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n') || '(the log is empty)';
  } catch {
    return '(no log)';
  }
}
