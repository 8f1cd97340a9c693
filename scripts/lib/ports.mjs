// Ports for the processes the scripts and tests start. Zero dependencies: it runs before `npm install` has.
//
// A process that can listen on port 0 and say which port the OS gave it (every DEMS service: kit's runService
// reports it to its parent) needs nothing here. These helpers are for the rest: a program that cannot report its
// port (redis-server, where port 0 means "no TCP at all"; DynamoDB Local), and a service whose address others must
// be told before it starts (a start-up cycle, see system.mjs).
import { createServer } from 'node:net';

/** Whether nothing listens on `port` at 127.0.0.1 right now. */
export function portIsFree(port) {
  return new Promise((resolve) => {
    const probe = createServer()
      .once('error', () => resolve(false))
      .listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

/**
 * A port the OS considers free: bound on port 0, read, and released at once. Until the program it is meant for
 * listens on it, anyone may take it (rarely: the OS hands out ephemeral ports in turn); see onReservedPort.
 * @returns {Promise<number>}
 */
export function reservePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject).listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/**
 * `start(port)` on a reserved port; when another process took that port in the moment between (`taken(err)`
 * says so), once more on a fresh one.
 * @template T
 * @param {(port: number) => Promise<T>} start
 * @param {(err: unknown) => boolean} taken
 * @returns {Promise<T>}
 */
export async function onReservedPort(start, taken) {
  try {
    return await start(await reservePort());
  } catch (err) {
    if (!taken(err)) throw err;
    return start(await reservePort());
  }
}
