// Baseline 2: a bare POST whose body is validated by a zod schema (as the services validate theirs) and
// that then does nothing: JSON parsing + validation + a reply, with no auth and no storage.
import Fastify from 'fastify';
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import { z } from 'zod';

const Body = z.strictObject({
  eventId: z
    .string()
    .min(1)
    .max(64)
    .regex(/^[A-Za-z0-9_-]+$/),
  ticketTypeId: z
    .string()
    .min(1)
    .max(64)
    .regex(/^[A-Za-z0-9_-]+$/),
  quantity: z.number().int().min(1).max(10),
});

const app = Fastify({ logger: false });
app.setValidatorCompiler(validatorCompiler);
app.setSerializerCompiler(serializerCompiler);
app.post('/orders', { schema: { body: Body } }, async (req, reply) => reply.code(201).send({ ok: true, quantity: /** @type {z.infer<typeof Body>} */ (req.body).quantity }));
app.get('/healthz', async () => ({ status: 'ok' }));
await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' });
// On PORT=0 the bench learns the port the OS gave over its IPC channel (bench/lib/dems.mjs).
process.send?.({ type: 'listening', port: /** @type {import('node:net').AddressInfo} */ (app.server.address()).port });
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => void app.close().then(() => process.exit(0)));
