// Starts and stops the DEMS processes. Used by `npm start`, the system tests and the benchmarks, so that
// all three run the system exactly the same way. Zero dependencies: it runs before `npm install` has.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { chmodSync, closeSync, existsSync, fchmodSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

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

/** The service secret: from the environment, else generated once and kept in the data directory. */
export function serviceSecret(dataDir) {
  if (process.env.SERVICE_SECRET) return process.env.SERVICE_SECRET;
  const file = join(dataDir, 'service-secret');
  if (!existsSync(file)) writeFileSync(file, randomBytes(32).toString('hex'), { mode: 0o600 });
  chmodSync(file, 0o600);
  return readFileSync(file, 'utf8').trim();
}

/**
 * Starts every service as its own OS process and waits until each answers /healthz.
 * @param {{ dataDir: string, ports?: Partial<typeof DEFAULT_PORTS>, env?: Record<string,string>,
 *           logs?: 'files' | 'inherit', extraTicketingPorts?: number[] }} options
 */
export async function startSystem({ dataDir, ports = {}, env = {}, logs = 'files', extraTicketingPorts = [] }) {
  dataDir = makePrivateDir(resolve(dataDir));
  makePrivateDir(join(dataDir, 'logs'));
  const port = { ...DEFAULT_PORTS, ...ports };
  const url = /** @type {Record<keyof typeof DEFAULT_PORTS, string>} */ (
    Object.fromEntries(Object.entries(port).map(([name, p]) => [name, `http://127.0.0.1:${p}`]))
  );
  const common = {
    DATA_DIR: dataDir,
    SERVICE_SECRET: serviceSecret(dataDir),
    EVENTS_URL: url.events,
    TICKETING_URL: url.ticketing,
    ENGAGEMENT_URL: url.engagement,
    GATEWAY_PORT: String(port.gateway),
    EVENTS_PORT: String(port.events),
    TICKETING_PORT: String(port.ticketing),
    ENGAGEMENT_PORT: String(port.engagement),
    WEB_DIST: join(ROOT, 'web', 'dist'),
    ...env,
  };

  /** @type {Map<string, { child: import('node:child_process').ChildProcess, name: string, url: string, logFile: string }>} */
  const running = new Map();

  async function startOne(name, instance = name, extraEnv = {}) {
    const logFile = join(dataDir, 'logs', `${instance}.log`);
    const fd = logs === 'files' ? openPrivateLog(logFile) : 'inherit';
    const child = spawn(process.execPath, ['--enable-source-maps', join(ROOT, 'services', name, 'dist', 'main.js')], {
      cwd: ROOT,
      env: { ...process.env, ...common, ...extraEnv },
      stdio: ['ignore', fd, fd],
    });
    if (typeof fd === 'number') closeSync(fd);
    const instanceUrl = extraEnv.TICKETING_PORT ? `http://127.0.0.1:${extraEnv.TICKETING_PORT}` : url[name];
    const proc = { child, name, url: instanceUrl, logFile };
    running.set(instance, proc);
    await waitHealthy(proc);
    return proc;
  }

  async function stopOne(instance) {
    const proc = running.get(instance);
    if (!proc) return;
    running.delete(instance);
    await stopProcess(proc.child);
  }

  const system = {
    dataDir,
    urls: url,
    ports: port,
    env: common,
    running,
    /** Starts a (stopped) service again, e.g. after a fault test stopped it. */
    start: (name) => startOne(name),
    stop: (instance) => stopOne(instance),
    async stopAll() {
      await Promise.all([...running.keys()].reverse().map((i) => stopOne(i)));
    },
  };

  const busy = [];
  for (const [name, p] of [...Object.entries(port), ...extraTicketingPorts.map((p) => ['ticketing', p])]) {
    if (!(await portIsFree(p))) busy.push(`${p} (${name})`);
  }
  if (busy.length) {
    throw new Error(
      `${busy.length > 1 ? 'Ports' : 'Port'} ${busy.join(', ')} ${busy.length > 1 ? 'are' : 'is'} already in use. Is DEMS already running? Stop it, or choose other ports with GATEWAY_PORT, EVENTS_PORT, TICKETING_PORT and ENGAGEMENT_PORT.`,
    );
  }

  try {
    for (const name of SERVICES) await startOne(name);
    for (const [i, p] of extraTicketingPorts.entries()) await startOne('ticketing', `ticketing-${i + 2}`, { TICKETING_PORT: String(p) });
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

async function waitHealthy(proc, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc.child.exitCode !== null || proc.child.signalCode !== null) {
      throw new Error(`${proc.name} exited during start-up (code ${proc.child.exitCode}).\n${tail(proc.logFile)}`);
    }
    try {
      const res = await fetch(`${proc.url}/healthz`, { signal: AbortSignal.timeout(1000) });
      if (res.ok) return;
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${proc.name} did not answer ${proc.url}/healthz within ${timeoutMs / 1000} s.\n${tail(proc.logFile)}`);
}

function stopProcess(child) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((done) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(kill);
      done();
    });
    child.kill('SIGTERM');
  });
}

function tail(file, lines = 30) {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}
