import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance } from 'fastify';
import { setLifecycle } from './admission.js';
import { ConfigError, type RuntimeConfig } from './config.js';

export interface StartedService {
  app: FastifyInstance;
  port: number;
  host: string;
  /** The service's configuration, for SHUTDOWN_DRAIN_SECONDS and SHUTDOWN_TIMEOUT_SECONDS (defaults 0 and 10). */
  config?: Pick<RuntimeConfig, 'SHUTDOWN_DRAIN_SECONDS' | 'SHUTDOWN_TIMEOUT_SECONDS'>;
}

/**
 * The whole life of a service process: build, listen, and on SIGINT/SIGTERM stop without losing anything.
 * The stop: /readyz answers 503 at once; for SHUTDOWN_DRAIN_SECONDS the replica still serves what arrives (a
 * load balancer needs a moment to notice); then it refuses new requests (503 SHUTTING_DOWN), finishes those in
 * flight and the close hooks (outbox batches in flight, live sockets, the store) and exits 0 — or exits 1 when
 * that takes longer than SHUTDOWN_TIMEOUT_SECONDS. A bad configuration exits with the list of problems.
 */
export async function runService(name: string, start: () => Promise<StartedService>) {
  // Whatever the process creates (stores, key files, caches) is readable by this OS user only, even where a
  // write does not set a mode itself.
  process.umask(0o077);
  let started: StartedService;
  try {
    started = await start();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`[${name}] ${err.message}`);
      process.exit(78); // EX_CONFIG
    }
    const known = startProblem(err as NodeJS.ErrnoException);
    if (known) console.error(`[${name}] failed to start: ${known}`);
    else console.error(`[${name}] failed to start:`, err);
    process.exit(1);
  }
  const { app, port, host } = started;
  const drainSeconds = started.config?.SHUTDOWN_DRAIN_SECONDS ?? 0;
  const timeoutSeconds = started.config?.SHUTDOWN_TIMEOUT_SECONDS ?? 10;
  let stopping = false;
  const stop = async (signal: string) => {
    // A second signal (the terminal's Ctrl-C and the supervisor's SIGTERM arrive together) changes nothing.
    if (stopping) return;
    stopping = true;
    setLifecycle(app, 'draining');
    app.log.info({ signal, drainSeconds, timeoutSeconds }, `${name} stopping: not ready from now on`);
    // Not unref'd: a request that never ends keeps the process alive, and this is what ends it.
    setTimeout(
      () => {
        app.log.error({ timeoutSeconds }, `${name} did not finish its requests and deliveries within SHUTDOWN_TIMEOUT_SECONDS (${timeoutSeconds} s); exiting anyway`);
        process.exit(1);
      },
      (drainSeconds + timeoutSeconds) * 1000,
    );
    if (drainSeconds > 0) await sleep(drainSeconds * 1000);
    setLifecycle(app, 'refusing');
    try {
      // Stops accepting connections, closes idle keep-alive ones, waits for requests in flight, then runs the
      // close hooks (relay, sockets, store).
      await app.close();
      app.log.info(`${name} stopped`);
      process.exit(0);
    } catch (err) {
      app.log.error({ err }, 'shutdown failed');
      process.exit(1);
    }
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
  try {
    // A deep accept queue: a flash crowd arrives in one burst, and Node's default (511) drops the overflow.
    await app.listen({ port, host, backlog: 4096 });
    await tellParent({ type: 'listening', port: (app.server.address() as AddressInfo).port });
  } catch (err) {
    // Someone starting a second copy, or a port or host that is not theirs, needs one line saying what to change.
    console.error(`[${name}] ${listenProblem(name, port, host, err as NodeJS.ErrnoException)}`);
    await tellParent({ type: 'listen-failed', port, code: (err as NodeJS.ErrnoException).code ?? 'unknown' });
    const force = setTimeout(() => process.exit(1), 2_000);
    force.unref();
    await app.close().catch(() => undefined);
    process.exit(1);
  }
}

/** What a service tells the process that started it (scripts/lib/system.mjs) over an IPC channel, when there is one. */
export type ListenReport = { type: 'listening'; port: number } | { type: 'listen-failed'; port: number; code: string };

/**
 * With PORT 0 the OS picks a free port, which only this process learns: a parent that spawned it with an IPC
 * channel (the test harness, `npm start`) is told the port it got, or why it got none. Without a channel
 * (containers, Kubernetes) there is nobody to tell. Resolves once the message is handed over.
 */
function tellParent(report: ListenReport): Promise<void> {
  if (!process.send || !process.connected) return Promise.resolve();
  return new Promise((resolve) => process.send!(report, undefined, undefined, () => resolve()));
}

/** The start failures an operator fixes in their environment, said in one line (others keep their stack). */
function startProblem(err: NodeJS.ErrnoException): string | undefined {
  if ((err.code === 'EACCES' || err.code === 'EPERM' || err.code === 'EROFS') && err.path) {
    return `cannot write ${err.path} (${err.code}) — check that DATA_DIR is a directory this user may write`;
  }
  if (err.code === 'ENOSPC') return `the disk is full (${err.path ?? 'DATA_DIR'})`;
  if (err.code === 'SQLITE_CANTOPEN') return `cannot open the SQLite database (${err.message}) — check that DATA_DIR exists and this user may write it`;
  return undefined;
}

/** Why a service could not listen, in words that name the setting to change. */
function listenProblem(name: string, port: number, host: string, err: NodeJS.ErrnoException): string {
  const portVariable = `${name.toUpperCase()}_PORT`;
  switch (err.code) {
    case 'EADDRINUSE':
      return `port ${port} is already in use — is DEMS already running? set ${portVariable} to use another`;
    case 'EACCES':
      return `port ${port} needs privileges this user does not have — set ${portVariable} to a port above 1023`;
    case 'EADDRNOTAVAIL':
      return `${host} is not an address of this machine — set HOST to one that is (127.0.0.1, or 0.0.0.0 for every interface)`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `HOST ${host} cannot be resolved — set HOST to an address of this machine`;
    default:
      return `could not listen on ${host}:${port}: ${err.message}`;
  }
}
