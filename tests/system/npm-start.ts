// `npm start` as a user runs it: `node scripts/start.mjs` in its own process, on ports the OS picks (the URLs it
// prints say which) and a temporary data directory, with its console collected and its children found by parent pid (Linux /proc), so a test can kill
// one of them, read what the supervisor said and check that Ctrl-C leaves nothing behind.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect } from 'vitest';
import { createEvent, eventually, waitOnSale, type Api } from './helpers.js';

const ROOT = new URL('../..', import.meta.url).pathname;

export interface Child {
  pid: number;
  /** What it runs: events, ticketing, engagement, gateway, redis-server, … */
  program: string;
  env: Record<string, string>;
}

export interface Dems {
  proc: ChildProcess;
  dataDir: string;
  /** Everything it printed so far, stdout and stderr interleaved. */
  output(): string;
  /** Resolves once the console shows `text` (or rejects when it exits first or time runs out). */
  waitFor(text: string | RegExp, timeoutMs?: number): Promise<void>;
  /** The addresses it printed once running. */
  addresses(): Addresses;
  children(): Child[];
  /** Resolves with the exit code (or signal) once it exited. */
  exited: Promise<number | string>;
  /** Ctrl-C: SIGINT to npm start alone; resolves with its exit code. */
  interrupt(): Promise<number | string>;
  cleanUp(): void;
}

/** Variables a developer's shell might hold that would change what these tests start. */
const SCRUBBED = ['REDIS_URL', 'JWT_SIGNING_KEY', 'JWT_SIGNING_KEY_RESET', 'STORE', 'DYNAMODB_ENDPOINT', 'TABLE_PREFIX', 'SERVICE_SECRET', 'REPLICA_PORT_STEP', 'REDIS_PORT'];

/** The addresses npm start prints when it is running: the gateway's, each replica's of each service, and Redis's. */
export interface Addresses {
  gateway: string;
  events: string[];
  ticketing: string[];
  engagement: string[];
  redis?: string;
}

/** Reads the addresses from what npm start printed (see scripts/start.mjs). */
export function printedAddresses(output: string): Addresses {
  const line = (label: string) => {
    const found = output.match(new RegExp(`^ {2}${label} +(.+)$`, 'm'))?.[1];
    if (!found) throw new Error(`npm start printed no "${label}" line:\n${output}`);
    return found;
  };
  const docs = (label: string) =>
    line(label)
      .split(/\s+/)
      .map((u) => u.replace(/\/docs$/, ''));
  return {
    gateway: line('Web app and API:').split(/\s+/)[0]!,
    events: docs('Event Registration'),
    ticketing: docs('Ticketing'),
    engagement: docs('User Engagement'),
    redis: output.match(/^ {2}Shared state +Redis at (\S+)/m)?.[1],
  };
}

/** Starts `node scripts/start.mjs --no-demo …args`, every process on a port the OS picks unless `env` says otherwise. */
export function startDems(args: string[] = [], env: Record<string, string> = {}, dataDir = mkdtempSync(join(tmpdir(), 'dems-npm-start-'))): Dems {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !SCRUBBED.includes(k)));
  const proc = spawn(process.execPath, [join(ROOT, 'scripts', 'start.mjs'), '--no-demo', ...args], {
    cwd: ROOT,
    env: {
      ...base,
      DATA_DIR: dataDir,
      GATEWAY_PORT: '0',
      EVENTS_PORT: '0',
      TICKETING_PORT: '0',
      ENGAGEMENT_PORT: '0',
      REDIS_PORT: '0',
      LOG_LEVEL: 'warn',
      // Every test client is 127.0.0.1 and buys more than a person would: the abuse limits are not under test here.
      SIGNUPS_PER_ADDRESS_PER_HOUR: '100000',
      ORDERS_PER_USER_PER_MINUTE: '100000',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  proc.stdout!.on('data', (d) => (text += d));
  proc.stderr!.on('data', (d) => (text += d));
  const exited = new Promise<number | string>((resolve) => proc.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  let gone = false;
  void exited.then(() => (gone = true));

  return {
    proc,
    dataDir,
    output: () => text,
    async waitFor(wanted, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      const seen = () => (typeof wanted === 'string' ? text.includes(wanted) : wanted.test(text));
      while (!seen()) {
        if (gone) throw new Error(`npm start exited before printing ${wanted}:\n${text}`);
        if (Date.now() > deadline) throw new Error(`npm start did not print ${wanted} within ${timeoutMs / 1000} s:\n${text}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    addresses: () => printedAddresses(text),
    children: () => childrenOf(proc.pid!),
    exited,
    async interrupt() {
      if (!gone) proc.kill('SIGINT');
      return exited;
    },
    cleanUp() {
      // A failed test may leave npm start running: its children first, so that none outlives it.
      if (!gone) for (const c of [...childrenOf(proc.pid!), proc]) process.kill(c.pid!, 'SIGKILL');
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * For a test file: `startDems` whose npm start (with its children and data directory) is cleaned up after each test,
 * whatever the test did.
 */
export function demsPerTest(): typeof startDems {
  let started: Dems[] = [];
  afterEach(() => {
    started.forEach((d) => d.cleanUp());
    started = [];
  });
  return (...args) => {
    const dems = startDems(...args);
    started.push(dems);
    return dems;
  };
}

/** The processes whose parent is `pid`, with what they run and their environment. */
export function childrenOf(pid: number): Child[] {
  let listed: string;
  try {
    listed = execFileSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' });
  } catch {
    return []; // ps exits 1 when there are none
  }
  return listed
    .split('\n')
    .map((l) => Number(l.trim()))
    .filter((p) => p > 0)
    .flatMap((p) => {
      try {
        const cmdline = readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0');
        const env = Object.fromEntries(
          readFileSync(`/proc/${p}/environ`, 'utf8')
            .split('\0')
            .filter(Boolean)
            .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
        );
        const service = cmdline.join(' ').match(/services\/(\w+)\/dist\/main\.js/)?.[1];
        // redis-server rewrites its title to "redis-server 127.0.0.1:port": the program is the first word's file name.
        return [{ pid: p, program: service ?? cmdline[0]!.split(' ')[0]!.split('/').pop()!, env }];
      } catch {
        return []; // exited meanwhile
      }
    });
}

/** Whether a process with this pid still exists (a zombie counts as gone: it runs nothing). */
export function isRunning(pid: number): boolean {
  try {
    return !/^\S+ \S+ Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/\(.*\)/, 'x'));
  } catch {
    return false;
  }
}

/** The one child running `program`. */
export function only(children: Child[], program: string): Child {
  const found = children.filter((c) => c.program === program);
  if (found.length !== 1) throw new Error(`${found.length} ${program} processes among ${children.map((c) => `${c.program}:${c.pid}`).join(', ')}`);
  return found[0]!;
}

/**
 * The addresses of the services each process must be given when it starts (scripts/lib/system.mjs): it may be
 * given more, but none that is not the system's own.
 */
const NEEDED: Record<string, readonly ('events' | 'ticketing' | 'engagement')[]> = {
  engagement: ['ticketing'],
  ticketing: ['engagement'],
  events: ['ticketing', 'engagement'],
  gateway: ['events', 'ticketing', 'engagement'],
};

/** Every replica is up and answers where npm start said; each was told the Redis URL and the replicas' addresses it needs. */
export async function expectReplicas(children: Child[], addresses: Addresses, redisUrl: string) {
  const services = children.filter((c) => c.program !== 'redis-server');
  expect(services.map((c) => c.program).sort()).toEqual(['engagement', 'engagement', 'events', 'events', 'gateway', 'ticketing', 'ticketing']);
  const { gateway, redis, ...replicas } = addresses;
  expect(redis).toBe(redisUrl);
  for (const url of [gateway, ...Object.values(replicas).flat()]) expect((await fetch(`${url}/healthz`)).status, url).toBe(200);
  expect(Object.values(replicas).map((urls) => new Set(urls).size)).toEqual([2, 2, 2]);
  for (const c of services) {
    expect(c.env.REDIS_URL, c.program).toBe(redisUrl);
    for (const [service, urls] of Object.entries(replicas)) {
      const told = c.env[`${service.toUpperCase()}_URL`];
      if (NEEDED[c.program]!.includes(service as 'events') || told !== undefined) expect(told, `${c.program}'s ${service.toUpperCase()}_URL`).toBe(urls.join(','));
    }
  }
  // One signing key, given to the engagement replicas only.
  const keys = services.map((c) => (c.program === 'engagement' ? c.env.JWT_SIGNING_KEY : c.env.JWT_SIGNING_KEY === undefined));
  expect(keys.filter((k) => k !== true)).toHaveLength(2);
  expect(new Set(keys.filter((k) => k !== true)).size).toBe(1);
}

/** A signed-in purchase through the gateway, and its confirmation. */
export async function purchaseWorks(api: Api) {
  const organizer = await api.account('organizer');
  const buyer = await api.account('attendee');
  const event = await createEvent(api, organizer.token, 10);
  await waitOnSale(api, event.id);
  const order = await api.post('/orders', { eventId: event.id, ticketTypeId: event.ticketTypes[0]!.id, quantity: 2 }, buyer.token, { 'idempotency-key': 'replicas-1' });
  expect(order.status).toBe(201);
  expect((await api.get(`/availability/${event.id}`)).body.ticketTypes[0]).toMatchObject({ sold: 2 });
  await eventually(
    async () => {
      const r = await api.get('/notifications', buyer.token);
      return r.status === 200 && r.body.items.some((n: { type: string }) => n.type === 'order_confirmed') ? true : undefined;
    },
    20_000,
    'the order confirmation',
  );
}

/** Ctrl-C: npm start exits 0 and none of its children is left. */
export async function stopAndExpectNoneLeft(d: Dems, children: Child[]) {
  expect(await d.interrupt()).toBe(0);
  expect(children.filter((c) => isRunning(c.pid))).toEqual([]);
}
