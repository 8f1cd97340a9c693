// A FAKE, to force a failure path: an HTTP proxy in front of a real service that forwards everything, except that
// while a fault is switched on, message deliveries (POST /internal/messages) are answered slowly or with a 500.
// It records every message id it forwarded, so a test can see the duplicates a slow subscriber causes.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * - pass: forward and answer at once;
 * - slow: forward at once (the service applies the batch) but hold the answer `slowMs`, longer than the sender waits;
 * - fail: answer 500 for the whole request without forwarding (the service never sees the batch).
 */
export type InboxFault = 'pass' | 'slow' | 'fail';

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length', 'host', 'content-encoding']);

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** The proxy, on a port the OS picks (`url`), in front of `target`. */
export async function startFaultyInboxProxy(options: { target: string; slowMs: number }) {
  let fault: InboxFault = 'pass';
  /** How often each message id was handed to the real service. */
  const forwarded = new Map<string, number>();
  const seen: Record<InboxFault, number> = { pass: 0, slow: 0, fail: 0 };

  const server: Server = createServer(async (req, res) => {
    try {
      const body = await readBody(req);
      const delivery = req.method === 'POST' && req.url === '/internal/messages';
      const mode = delivery ? fault : 'pass';
      if (delivery) seen[mode]++;
      if (mode === 'fail') {
        res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ code: 'INTERNAL', message: 'fault injected by the test proxy' }));
        return;
      }
      const heldUntil = Date.now() + (mode === 'slow' ? options.slowMs : 0);
      const headers = Object.entries(req.headers).filter(([k]) => !HOP_BY_HOP.has(k)) as [string, string][];
      const upstream = await fetch(`${options.target}${req.url}`, { method: req.method, headers, body: body.length ? body : undefined });
      const answer = Buffer.from(await upstream.arrayBuffer());
      if (delivery) {
        for (const m of (JSON.parse(body.toString()) as { messages: { id: string }[] }).messages) forwarded.set(m.id, (forwarded.get(m.id) ?? 0) + 1);
      }
      const wait = heldUntil - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      if (res.destroyed) return; // the sender gave up waiting
      res.writeHead(upstream.status, Object.fromEntries([...upstream.headers].filter(([k]) => !HOP_BY_HOP.has(k)))).end(answer);
    } catch (err) {
      if (!res.headersSent) res.writeHead(502).end(String(err));
    }
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', () => resolve()));

  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    forwarded,
    seen,
    setFault(next: InboxFault) {
      fault = next;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
