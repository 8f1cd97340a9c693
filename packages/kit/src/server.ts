import type { FastifyInstance } from 'fastify';
import { ConfigError } from './config.js';

/**
 * The whole life of a service process: build, listen, and on SIGINT/SIGTERM stop taking requests,
 * finish those in flight, then close the store. A bad configuration exits with the list of problems.
 */
export async function runService(name: string, start: () => Promise<{ app: FastifyInstance; port: number; host: string }>) {
  let app: FastifyInstance;
  let port: number;
  let host: string;
  try {
    ({ app, port, host } = await start());
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`[${name}] ${err.message}`);
      process.exit(78); // EX_CONFIG
    }
    console.error(`[${name}] failed to start:`, err);
    process.exit(1);
  }
  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, `${name} shutting down`);
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    try {
      await app.close();
      process.exit(0);
    } catch (err) {
      app.log.error({ err }, 'shutdown failed');
      process.exit(1);
    }
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  // A deep accept queue: a flash crowd arrives in one burst, and Node's default (511) drops the overflow.
  await app.listen({ port, host, backlog: 4096 });
}
