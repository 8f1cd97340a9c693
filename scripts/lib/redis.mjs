// Starts a local redis-server (Debian's `redis-server`) for `npm start -- --replicas N` and for the tests that
// need shared state across replicas. Zero dependencies; nothing is persisted (the state it holds is short-lived:
// rate-limit windows, spent one-time values, the live notification stream).
import { spawn, spawnSync } from 'node:child_process';
import { connect } from 'node:net';
import { onReservedPort } from './ports.mjs';
import { stopChild } from './processes.mjs';

export class RedisMissingError extends Error {}

/** Whether `redis-server` runs here; its version line, or null. */
export function redisServerVersion() {
  const res = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  if (res.error || res.status !== 0) return null;
  return res.stdout.trim();
}

/** @typedef {{ url: string, port: number, child: import('node:child_process').ChildProcess, stop: () => Promise<void> }} LocalRedis */

/**
 * A redis-server on `port`, or with port 0 (the default) on a port the OS picks: redis-server cannot report such a
 * port itself (to it, 0 means no TCP at all), so one is reserved for it, and another reserved if it was taken.
 * @param {{ port?: number, bind?: string }} options
 * @returns {Promise<LocalRedis>}
 */
export async function startRedisServer({ port = 0, bind = '127.0.0.1' } = {}) {
  if (!redisServerVersion()) {
    throw new RedisMissingError(
      'Several replicas share their rate limits and live notifications through Redis, and `redis-server` was not found.\n' +
        '  Install it:  sudo apt-get install -y redis-server   (macOS: brew install redis)\n' +
        '  or point DEMS at a Redis you already run:  REDIS_URL=redis://127.0.0.1:6379 npm start -- --replicas 2\n' +
        '  or run one replica of each service (no Redis needed):  npm start',
    );
  }
  if (port === 0)
    return onReservedPort(
      (p) => startOn(p, bind),
      (err) => err instanceof Error && /Address already in use/.test(err.message),
    );
  return startOn(port, bind);
}

/** @returns {Promise<LocalRedis>} */
async function startOn(port, bind) {
  // No RDB/AOF files, no protected-mode surprises on loopback, and no daemonising: the child is the server.
  const child = spawn('redis-server', ['--port', String(port), '--bind', bind, '--save', '', '--appendonly', 'no', '--daemonize', 'no'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (d) => (output += d));
  child.stderr?.on('data', (d) => (output += d));
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`redis-server exited (code ${child.exitCode}) on port ${port}:\n${output.trim()}`);
    if (await answersPing(port, bind)) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`redis-server did not answer on port ${port} within 15 s:\n${output.trim()}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url: `redis://${bind}:${port}`,
    port,
    child,
    stop: () => stopChild(child, 5000),
  };
}

/** One PING over a raw socket: true when the server answers +PONG. */
function answersPing(port, host) {
  return new Promise((resolve) => {
    const socket = connect(port, host);
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.on('error', () => done(false));
    socket.on('data', (d) => done(d.toString().startsWith('+PONG')));
    socket.on('connect', () => socket.write('PING\r\n'));
  });
}
