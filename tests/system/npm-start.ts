// `npm start` as a user runs it: `node scripts/start.mjs` in its own process, on test ports and a temporary data
// directory, with its console collected and its children found by parent pid (Linux /proc), so a test can kill
// one of them, read what the supervisor said and check that Ctrl-C leaves nothing behind.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

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
  children(): Child[];
  /** Resolves with the exit code (or signal) once it exited. */
  exited: Promise<number | string>;
  /** Ctrl-C: SIGINT to npm start alone; resolves with its exit code. */
  interrupt(): Promise<number | string>;
  cleanUp(): void;
}

/** Variables a developer's shell might hold that would change what these tests start. */
const SCRUBBED = ['REDIS_URL', 'JWT_SIGNING_KEY', 'JWT_SIGNING_KEY_RESET', 'STORE', 'DYNAMODB_ENDPOINT', 'TABLE_PREFIX', 'SERVICE_SECRET', 'REPLICA_PORT_STEP', 'REDIS_PORT'];

/** Starts `node scripts/start.mjs --no-demo …args` with the gateway on `basePort` and the services on the next three. */
export function startDems(basePort: number, args: string[] = [], env: Record<string, string> = {}, dataDir = mkdtempSync(join(tmpdir(), 'dems-npm-start-'))): Dems {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !SCRUBBED.includes(k)));
  const proc = spawn(process.execPath, [join(ROOT, 'scripts', 'start.mjs'), '--no-demo', ...args], {
    cwd: ROOT,
    env: {
      ...base,
      DATA_DIR: dataDir,
      GATEWAY_PORT: String(basePort),
      EVENTS_PORT: String(basePort + 1),
      TICKETING_PORT: String(basePort + 2),
      ENGAGEMENT_PORT: String(basePort + 3),
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
    children: () => childrenOf(proc.pid!),
    exited,
    async interrupt() {
      if (!gone) proc.kill('SIGINT');
      return exited;
    },
    cleanUp() {
      if (!gone) proc.kill('SIGKILL');
      rmSync(dataDir, { recursive: true, force: true });
    },
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
        return [{ pid: p, program: service ?? cmdline[0]!.split('/').pop()!, env }];
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

/** The child running `program` that listens on `port` (its own *_PORT). */
export function instance(children: Child[], program: string, port: number): Child {
  const found = children.find((c) => c.program === program && c.env[`${program.toUpperCase()}_PORT`] === String(port));
  if (!found) throw new Error(`no ${program} on port ${port} among ${children.map((c) => `${c.program}:${c.pid}`).join(', ')}`);
  return found;
}
