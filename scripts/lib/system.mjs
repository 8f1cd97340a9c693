// Starts and stops the DEMS processes. Used by `npm start`, the system tests and the benchmarks, so that
// all three run the system exactly the same way. Zero dependencies: it runs before `npm install` has.
import { spawn } from 'node:child_process';
import { chmodSync, closeSync, existsSync, fchmodSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import defaultPorts from '../../packages/contracts/src/default-ports.json' with { type: 'json' };
import { stopChild } from './processes.mjs';
import { portIsFree, reservePort } from './ports.mjs';
import { startRedisServer } from './redis.mjs';
import { signingKeyForReplicas } from './signing-key.mjs';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Where each process listens unless told otherwise; the services' configuration defaults read the same file. */
export const DEFAULT_PORTS = defaultPorts;

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
/** Every process on a port the OS picks (each replica its own), read back once it listens: the tests' ports. */
export const ANY_PORTS = /** @type {typeof DEFAULT_PORTS} */ ({ gateway: 0, events: 0, ticketing: 0, engagement: 0 });
/** The name of the redis-server started for replicas, among the system's processes. */
const REDIS = 'redis-server';
/** The services that run as replicas; the gateway is one process in front of them. */
export const REPLICATED = /** @type {const} */ (['events', 'ticketing', 'engagement']);

/**
 * The order the services start in, and whose addresses each must be given when it starts (those it calls or
 * delivers messages to; engagement needs the gateway's port, the origin of live sockets). Engagement first: it
 * publishes the token keys the others fetch (a service started before it would refuse the first tokens it sees).
 * Its own needs are a cycle (ticketing and the gateway need engagement's address too): so when those two are
 * asked to listen on port 0 their ports are reserved before engagement starts; all other ports are read back.
 * @type {readonly (keyof typeof DEFAULT_PORTS)[]}
 */
const START_ORDER = ['engagement', 'ticketing', 'events', 'gateway'];
/** @type {Record<keyof typeof DEFAULT_PORTS, readonly (keyof typeof DEFAULT_PORTS)[]>} */
const NEEDS_AT_START = { engagement: ['ticketing', 'gateway'], ticketing: ['engagement'], events: ['ticketing', 'engagement'], gateway: ['events', 'ticketing', 'engagement'] };

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
 * Every process's port: replica i of a service on its base port + i × step, the gateway alone on its own; a
 * service on port 0 has every replica on 0 (each gets its own from the OS). Throws, naming the settings to change,
 * when two would share a port or one would pass 65535.
 * @param {typeof DEFAULT_PORTS} base
 * @param {number} replicas
 * @param {number} step
 * @returns {Record<keyof typeof DEFAULT_PORTS, number[]>}
 */
export function replicaPorts(base, replicas, step = DEFAULT_REPLICA_PORT_STEP) {
  const ports = /** @type {Record<keyof typeof DEFAULT_PORTS, number[]>} */ (
    Object.fromEntries(
      Object.entries(base).map(([service, p]) => [service, service === 'gateway' ? [p] : Array.from({ length: replicas }, (_, i) => (p === 0 ? 0 : p + i * step))]),
    )
  );
  const owner = new Map();
  for (const [service, list] of Object.entries(ports)) {
    for (const [i, p] of list.entries()) {
      const instance = instanceName(service, i);
      if (p > 65535) {
        throw new Error(`${instance} would listen on port ${p}, above 65535: lower ${service.toUpperCase()}_PORT or REPLICA_PORT_STEP.`);
      }
      if (p !== 0 && owner.has(p)) {
        throw new Error(
          `${owner.get(p)} and ${instance} would both listen on port ${p}: choose GATEWAY_PORT, EVENTS_PORT, TICKETING_PORT, ENGAGEMENT_PORT and REPLICA_PORT_STEP so that they differ.`,
        );
      }
      owner.set(p, instance);
    }
  }
  return ports;
}

/** A reserved port that another process took before the service it was reserved for could listen on it. */
class ReservedPortTaken extends Error {}

/**
 * Starts every service as its own OS process and waits until each answers /healthz: `replicas` processes of
 * events, ticketing and engagement, then the gateway in front of them (START_ORDER). Each process is told the
 * address of every replica of the services it needs (EVENTS_URL etc. as comma-separated lists). A port of 0 (see
 * ANY_PORTS) lets the OS pick one for each of that service's processes; the harness reads it back from the process
 * and keeps it, so that a process started again (`start(instance)`) listens where the others expect it. Several
 * replicas share their ephemeral state through Redis — REDIS_URL, or a redis-server started here on `redisPort`
 * (0: one the OS picks) — and engagement's replicas one signing key (JWT_SIGNING_KEY, else the data directory's key file).
 * @param {{ dataDir: string, ports?: Partial<typeof DEFAULT_PORTS>, env?: Record<string,string>,
 *           logs?: 'files' | 'inherit', extraTicketing?: number, replicas?: number,
 *           replicaPortStep?: number, redisPort?: number }} options
 *   `extraTicketing`: how many further ticketing processes to start on ports the OS picks, which the others are not
 *   told about (tests address them directly: `urlOf('ticketing-2')`).
 */
export async function startSystem(options) {
  try {
    return await startSystemOnce(options);
  } catch (err) {
    // A port reserved for a start-up cycle was taken in the moment between (rare): once more, on fresh ones.
    if (!(err instanceof ReservedPortTaken)) throw err;
    return startSystemOnce(options);
  }
}

/** @param {Parameters<typeof startSystem>[0]} options */
async function startSystemOnce({
  dataDir,
  ports = {},
  env = {},
  logs = 'files',
  extraTicketing = 0,
  replicas = 1,
  replicaPortStep = DEFAULT_REPLICA_PORT_STEP,
  redisPort = DEFAULT_REDIS_PORT,
}) {
  replicas = parseReplicas(replicas);
  if (replicas > 1 && extraTicketing) throw new Error('Use either replicas or extraTicketing, not both.');
  dataDir = makePrivateDir(resolve(dataDir));
  makePrivateDir(join(dataDir, 'logs'));
  const portsOf = replicaPorts({ ...DEFAULT_PORTS, ...ports }, replicas, replicaPortStep);
  /** Each instance's service: the replicas of each service, and any extra ticketing processes. */
  const instances = new Map();
  /** Where each instance listens, once known: given, reserved, or read back from the process. */
  const portOf = new Map();
  for (const name of START_ORDER) {
    for (const [i, p] of portsOf[name].entries()) {
      instances.set(instanceName(name, i), name);
      if (p !== 0) portOf.set(instanceName(name, i), p);
    }
  }
  for (let i = 0; i < extraTicketing; i++) instances.set(`ticketing-${i + 2}`, 'ticketing');
  /** The ports reserved here: a process that cannot listen on one is a ReservedPortTaken, not a configuration error. */
  const reserved = new Set();
  const urlOf = (p) => `http://127.0.0.1:${p}`;
  /** Every replica's address of a service (not the extra ticketing processes), or undefined while one is unknown. */
  const addressesOf = (name) => {
    const list = portsOf[name].map((_, i) => portOf.get(instanceName(name, i)));
    return list.every((p) => p !== undefined) ? list.map(urlOf) : undefined;
  };

  const given = { ...process.env, ...env };
  // Redis: given, or started here for several replicas. One replica keeps its state in memory and needs none.
  const startRedis = replicas > 1 && !given.REDIS_URL;
  /** @type {string | undefined} */
  let redisUrl = startRedis ? undefined : given.REDIS_URL;
  // Wherever state is shared, engagement's replicas sign with one key from configuration (never one each).
  const signingKey =
    (startRedis || redisUrl) && !given.JWT_SIGNING_KEY && !given.JWT_SIGNING_KEY_FILE
      ? signingKeyForReplicas(dataDir, {
          storeHasAccounts: (given.STORE ?? 'sqlite') === 'sqlite' && existsSync(join(dataDir, 'engagement.db')),
          reset: /^(true|1|yes|on)$/i.test(given.JWT_SIGNING_KEY_RESET ?? ''),
        })
      : undefined;

  /** The settings every process is given besides the addresses (system.env: what a start, or a restart, uses). */
  const settings = {
    DATA_DIR: dataDir,
    SERVICE_SECRET: serviceSecret(dataDir),
    // Passed resolved: an inherited SERVICE_SECRET_FILE beside it would be "both set" (empty is unset).
    SERVICE_SECRET_FILE: '',
    WEB_DIST: join(ROOT, 'web', 'dist'),
    ...env,
  };
  /**
   * The addresses known now: every service's URL list and first port once all its replicas' ports are known (a
   * process started before then has no need of them, see NEEDS_AT_START), and REDIS_URL.
   */
  const addressEnv = () => {
    /** @type {Record<string, string>} */
    const known = {};
    for (const name of REPLICATED) {
      const list = addressesOf(name);
      if (list) Object.assign(known, { [`${name.toUpperCase()}_URL`]: list.join(','), [`${name.toUpperCase()}_PORT`]: String(portOf.get(name)) });
    }
    if (portOf.has('gateway')) known.GATEWAY_PORT = String(portOf.get('gateway'));
    if (redisUrl) known.REDIS_URL = redisUrl;
    return known;
  };

  // A service stopping gracefully takes at most its drain plus its shutdown timeout (0 + 10 s by default) and then
  // exits by itself; only a process that overstays that by 5 s is killed.
  const secondsOf = (name, fallback) => (given[name] && Number.isFinite(Number(given[name])) ? Number(given[name]) : fallback);
  const stopGraceMs = (secondsOf('SHUTDOWN_DRAIN_SECONDS', 0) + secondsOf('SHUTDOWN_TIMEOUT_SECONDS', 10) + 5) * 1000;

  /** @typedef {{ child: import('node:child_process').ChildProcess, name: string, url: string, logFile?: string }} Running */
  /** @type {Map<string, Running>} */
  const running = new Map();
  /** Set by stopAll(): a process that finishes starting after it is stopped at once. */
  let closed = false;

  /**
   * Spawns one service process on its known port (or 0), learns the port it listens on, and resolves once it
   * answers /healthz; else stops it and rejects.
   */
  async function spawnService(instance) {
    const name = instances.get(instance);
    if (!name) throw new Error(`No process named ${instance} in this system.`);
    const port = portOf.get(instance) ?? 0;
    const logFile = join(dataDir, 'logs', `${instance}.log`);
    const fd = logs === 'files' ? openPrivateLog(logFile) : 'inherit';
    const addresses = addressEnv();
    // What is not known yet is not passed at all: no process falls back on another system's default address.
    const inherited = Object.fromEntries(
      Object.entries(process.env).filter(([k]) => !/^(EVENTS|TICKETING|ENGAGEMENT)_(URL|PORT)$|^GATEWAY_PORT$|^REDIS_URL$/.test(k) || k in addresses),
    );
    const keyEnv = name === 'engagement' && signingKey ? { JWT_SIGNING_KEY: signingKey.value } : {};
    const child = spawn(process.execPath, ['--enable-source-maps', join(ROOT, 'services', name, 'dist', 'main.js')], {
      cwd: ROOT,
      env: { ...inherited, ...addresses, ...settings, ...keyEnv, [`${name.toUpperCase()}_PORT`]: String(port) },
      // The fourth is an IPC channel: the service tells its port there (kit's runService).
      stdio: ['ignore', fd, fd, 'ipc'],
    });
    if (typeof fd === 'number') closeSync(fd);
    const proc = { child, name, url: '', logFile };
    running.set(instance, proc);
    try {
      const deadline = Date.now() + START_TIMEOUT_MS;
      const bound = await listeningPort(proc, deadline);
      portOf.set(instance, bound);
      proc.url = urlOf(bound);
      await waitHealthy(proc, deadline);
    } catch (err) {
      await stopChild(child);
      if (running.get(instance) === proc) running.delete(instance);
      if (err instanceof ListenFailed && err.code === 'EADDRINUSE' && reserved.has(port)) throw new ReservedPortTaken(err.message);
      throw err;
    }
    return proc;
  }

  async function startRedisHere() {
    const redis = await startRedisServer({ port: redisPort });
    // Everything was stopped while it started: it is not wanted any more.
    if (closed) {
      await redis.stop();
      throw new Error('The system was stopped while redis-server started.');
    }
    // Started again (after a crash), it listens where the services expect it.
    redisPort = redis.port;
    redisUrl = redis.url;
    const proc = { child: redis.child, name: REDIS, url: redis.url };
    running.set(REDIS, proc);
    return proc;
  }

  /** Starts an instance (again) by name: a service replica, or the redis-server started here. */
  async function launch(instance) {
    return instance === REDIS && startRedis ? startRedisHere() : spawnService(instance);
  }

  async function stopOne(instance) {
    const proc = running.get(instance);
    if (!proc) return;
    running.delete(instance);
    await stopChild(proc.child, stopGraceMs);
  }

  /** The first replica of each service, and the gateway, by service; filled in as they start. */
  const urls = /** @type {Record<keyof typeof DEFAULT_PORTS, string>} */ ({});
  /** Every replica's address, per service; filled in as they start. */
  const upstreams = /** @type {Record<keyof typeof DEFAULT_PORTS, string[]>} */ ({});
  /** Where each service's first process listens; filled in as they start. */
  const boundPorts = /** @type {typeof DEFAULT_PORTS} */ ({});

  const system = {
    dataDir,
    urls,
    upstreams,
    ports: boundPorts,
    replicas,
    /** Where the replicas share state: { url, local: true } when a redis-server was started here; undefined without Redis. */
    redis: /** @type {{ url: string, local: boolean } | undefined} */ (undefined),
    /** Where engagement's replicas got their one signing key: the key file's path, 'JWT_SIGNING_KEY' or 'JWT_SIGNING_KEY_FILE', or undefined (no shared state: engagement reads its key file itself). */
    signingKeySource: signingKey ? signingKey.file : startRedis || redisUrl ? (given.JWT_SIGNING_KEY_FILE ? 'JWT_SIGNING_KEY_FILE' : 'JWT_SIGNING_KEY') : undefined,
    env: settings,
    running,
    /** Where an instance listens (`ticketing-2`, …), also while it is stopped: a restart comes back on the same port. */
    urlOf(instance) {
      const p = portOf.get(instance);
      if (p === undefined) throw new Error(`No process named ${instance} has listened in this system.`);
      return urlOf(p);
    },
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

  // Given ports in use: say so before starting anything (the usual cause: DEMS is already running).
  const busy = [];
  const wanted = [...portOf.entries()].map(([instance, p]) => [instance, p]);
  if (startRedis && redisPort !== 0) wanted.push([REDIS, redisPort]);
  for (const [name, p] of wanted) {
    if (!(await portIsFree(p))) busy.push(`${p} (${name})`);
  }
  if (busy.length) {
    throw new Error(
      `${busy.length > 1 ? 'Ports' : 'Port'} ${busy.join(', ')} ${busy.length > 1 ? 'are' : 'is'} already in use. Is DEMS already running? Stop it, or choose other ports with GATEWAY_PORT, EVENTS_PORT, TICKETING_PORT and ENGAGEMENT_PORT${startRedis ? ' (REDIS_PORT for Redis)' : ''}.`,
    );
  }

  try {
    if (startRedis) await launch(REDIS);
    system.redis = redisUrl ? { url: redisUrl, local: startRedis } : undefined;
    for (const name of START_ORDER) {
      // A service this one needs whose port is still unknown starts after it: reserve that port now (see START_ORDER).
      for (const needed of NEEDS_AT_START[name]) {
        for (const [i] of portsOf[needed].entries()) {
          const instance = instanceName(needed, i);
          if (!portOf.has(instance) && !running.has(instance)) {
            const p = await reservePort();
            portOf.set(instance, p);
            reserved.add(p);
          }
        }
      }
      // The first replica of each alone creates its store's schema (or tables); the others then start side by side.
      await launch(name);
      const others = [...instances.keys()].filter((i) => instances.get(i) === name && i !== name);
      await Promise.all(others.map(launch));
      upstreams[name] = addressesOf(name) ?? [];
      const [first] = upstreams[name];
      if (!first) throw new Error(`${name} started but reported no address.`);
      urls[name] = first;
      boundPorts[name] = portOf.get(name);
    }
  } catch (err) {
    await system.stopAll();
    throw err;
  }
  return system;
}

/** The whole start of one process, from spawn to its first 200 on /healthz: a minute, since seven processes starting together on a busy laptop take their time. */
const START_TIMEOUT_MS = 60_000;

/** A service that reported it could not listen (kit's runService), with the error's code: EADDRINUSE, EACCES, … */
class ListenFailed extends Error {
  constructor(message, code) {
    super(message);
    this.code = code;
  }
}

/**
 * The port a service process listens on, as it reports over its IPC channel; rejects when it exits first, says it
 * could not listen, or the deadline passes. The channel is closed once it has reported: nothing else comes that way.
 * @returns {Promise<number>}
 */
function listeningPort(proc, deadline) {
  const { child } = proc;
  return new Promise((resolve, reject) => {
    const done = (fn) => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
      if (child.connected) child.disconnect();
      fn();
    };
    const onMessage = (m) => {
      if (m?.type === 'listening' && Number.isInteger(m.port)) done(() => resolve(m.port));
      else if (m?.type === 'listen-failed') done(() => reject(new ListenFailed(`${proc.name} could not listen on port ${m.port} (${m.code}).\n${tailOf(proc.logFile)}`, m.code)));
    };
    const onExit = () => done(() => reject(new Error(`${proc.name} exited during start-up (${child.signalCode ?? `code ${child.exitCode}`}).\n${tailOf(proc.logFile)}`)));
    const timer = setTimeout(
      () => done(() => reject(new Error(`${proc.name} did not start listening within ${START_TIMEOUT_MS / 1000} s.\n${tailOf(proc.logFile)}`))),
      Math.max(0, deadline - Date.now()),
    );
    child.on('message', onMessage);
    child.once('exit', onExit);
    if (child.exitCode !== null || child.signalCode !== null) onExit();
  });
}

/** Until `/healthz` answers 200, or the deadline passes. */
async function waitHealthy(proc, deadline) {
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
  throw new Error(`${proc.name} did not answer ${proc.url}/healthz within ${START_TIMEOUT_MS / 1000} s.\n${tailOf(proc.logFile)}`);
}

/** The last lines of a log file, or why there are none. */
export function tailOf(file, lines = 30) {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n') || '(the log is empty)';
  } catch {
    return '(no log)';
  }
}
