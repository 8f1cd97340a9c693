// Baseline 1: the ceiling of a Node HTTP service on this machine — bare Fastify answering a constant.
import Fastify from 'fastify';

const app = Fastify({ logger: false });
app.get('/', async () => ({ hello: 'world' }));
app.get('/healthz', async () => ({ status: 'ok' }));
await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' });
// On PORT=0 the bench learns the port the OS gave over its IPC channel (bench/lib/dems.mjs).
process.send?.({ type: 'listening', port: /** @type {import('node:net').AddressInfo} */ (app.server.address()).port });
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => void app.close().then(() => process.exit(0)));
