import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Agent, request, type IncomingHttpHeaders } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { createServiceApp, type App } from '@dems/kit';
import { buildApp } from '../src/app.js';
import { GatewayConfig } from '../src/config.js';

/**
 * Odd-but-valid HTTP through a listening gateway to a listening upstream, over real keep-alive sockets:
 * app.inject() skips the HTTP parser, 100-continue and connection reuse, which is where these broke.
 */

const LIMIT = 100_000;

// A stand-in for a service, built by the same factory the services use. Its own limit is far higher than the
// gateway's, so a 413 here can only be the gateway's; it counts the requests with a body that reached it.
async function upstreamService(): Promise<{ app: App; url: string; bodies: () => number }> {
  const app = await createServiceApp({ name: 'upstream', description: 'test upstream', isReady: () => true, bodyLimit: 10_000_000 });
  let bodies = 0;
  const echo = async (req: { method: string; url: string; body?: unknown }) => ({
    bodies: req.body === undefined ? bodies : ++bodies,
    method: req.method,
    url: req.url,
    bodyBytes: req.body === undefined ? 0 : JSON.stringify(req.body).length,
  });
  app.route({ method: ['GET', 'HEAD', 'POST', 'PATCH', 'DELETE', 'OPTIONS'], url: '/events', handler: echo });
  app.route({ method: ['GET', 'HEAD', 'POST', 'PATCH', 'DELETE', 'OPTIONS'], url: '/events/*', handler: echo });
  app.get('/orders/slow', async () => {
    await new Promise((r) => setTimeout(r, 1500));
    return { slow: true };
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  return { app, url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`, bodies: () => bodies };
}

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  socket: Socket;
  reused: boolean;
}

/** One request on the agent's single keep-alive socket; `expectContinue` waits for 100 Continue before the body. */
function send(
  agent: Agent,
  port: number,
  opts: { method?: string; path: string; headers?: Record<string, string | number>; body?: string | Buffer | Buffer[]; expectContinue?: boolean },
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { ...opts.headers };
    const chunked = Array.isArray(opts.body);
    if (opts.body !== undefined && !chunked) headers['content-length'] = Buffer.byteLength(opts.body as string | Buffer);
    if (opts.body !== undefined && !headers['content-type']) headers['content-type'] = 'application/json';
    if (opts.expectContinue) headers.expect = '100-continue';
    const req = request({ host: '127.0.0.1', port, agent, method: opts.method ?? 'GET', path: opts.path, headers });
    req.on('error', reject);
    req.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body, socket: req.socket as Socket, reused: req.reusedSocket }));
      res.on('error', reject);
    });
    const writeBody = () => {
      if (Array.isArray(opts.body)) for (const chunk of opts.body) req.write(chunk);
      else if (opts.body !== undefined) req.write(opts.body);
      req.end();
    };
    if (opts.expectContinue) req.on('continue', writeBody);
    else writeBody();
  });
}

/** Writes `text` on a fresh connection and returns all the gateway sent until it closed the connection. */
async function rawExchange(port: number, text: string): Promise<string> {
  const socket = connect(port, '127.0.0.1');
  socket.write(text);
  let received = '';
  socket.setEncoding('utf8');
  socket.on('data', (c: string) => (received += c));
  await new Promise((resolve) => socket.on('close', resolve));
  return received;
}

describe('gateway over real sockets', () => {
  let upstream: Awaited<ReturnType<typeof upstreamService>>;
  let gateway: App;
  let port: number;
  let agent: Agent;

  beforeAll(async () => {
    upstream = await upstreamService();
    const config = GatewayConfig.parse({
      EVENTS_URL: upstream.url,
      TICKETING_URL: upstream.url,
      ENGAGEMENT_URL: upstream.url,
      WEB_DIST: '/nonexistent',
      BODY_LIMIT_BYTES: String(LIMIT),
    });
    gateway = await buildApp({ config });
    await gateway.listen({ port: 0, host: '127.0.0.1' });
    port = (gateway.server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    agent.destroy();
    await gateway.close();
    await upstream.app.close();
  });
  beforeEach(() => {
    agent?.destroy();
    agent = new Agent({ keepAlive: true, maxSockets: 1 });
  });

  /** The request after an odd one goes over the same socket and is answered. */
  async function connectionStillServes(first: Answer) {
    const next = await send(agent, port, { path: '/api/events/after' });
    expect(next.status).toBe(200);
    expect(next.reused, JSON.stringify(first.headers)).toBe(true);
    expect(next.socket).toBe(first.socket);
  }

  it('answers a POST sent with Expect: 100-continue with the upstream answer', async () => {
    const body = JSON.stringify({ title: 'x'.repeat(5000) });
    const res = await send(agent, port, { method: 'POST', path: '/api/events', body, expectContinue: true });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({ method: 'POST', url: '/events', bodyBytes: body.length });
    await connectionStillServes(res);
  });

  it('refuses a 2 MB body itself with 413 PAYLOAD_TOO_LARGE and keeps the connection', async () => {
    const before = upstream.bodies();
    const body = JSON.stringify({ title: 'x'.repeat(2_000_000) });
    const res = await send(agent, port, { method: 'POST', path: '/api/events', body });
    expect(res.status).toBe(413);
    expect(JSON.parse(res.body)).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', message: expect.any(String), requestId: res.headers['x-request-id'] });
    expect(upstream.bodies()).toBe(before);
    await connectionStillServes(res);
  });

  it('refuses a body far too large to be worth reading before the client sends it', async () => {
    const received = await rawExchange(
      port,
      'POST /api/events HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 1000000000\r\nexpect: 100-continue\r\n\r\n',
    );
    expect(received).toMatch(/^HTTP\/1\.1 413 /);
    expect(received).toMatch(/\r\nconnection: close\r\n/i);
    expect(received).toContain('"code":"PAYLOAD_TOO_LARGE"');
  });

  it('refuses a 2 MB body announced with Expect: 100-continue', async () => {
    const body = JSON.stringify({ title: 'x'.repeat(2_000_000) });
    const res = await send(agent, port, { method: 'POST', path: '/api/events', body, expectContinue: true });
    expect(res.status).toBe(413);
    expect(JSON.parse(res.body).code).toBe('PAYLOAD_TOO_LARGE');
    await connectionStillServes(res);
  });

  it('refuses a chunked body without content-length once it passes the limit, and keeps the connection', async () => {
    const chunks = Array.from({ length: 40 }, (_, i) => Buffer.from(i === 0 ? `{"title":"${'x'.repeat(10_000)}` : 'x'.repeat(10_000)));
    chunks.push(Buffer.from('"}'));
    const before = upstream.bodies();
    const res = await send(agent, port, { method: 'POST', path: '/api/events', body: chunks });
    expect(res.status).toBe(413);
    expect(upstream.bodies()).toBe(before);
    expect(JSON.parse(res.body).code).toBe('PAYLOAD_TOO_LARGE');
    await connectionStillServes(res);
  });

  it('passes a chunked body under the limit through', async () => {
    const res = await send(agent, port, { method: 'POST', path: '/api/events', body: [Buffer.from('{"title":'), Buffer.from('"chunked"}')] });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({ method: 'POST', bodyBytes: '{"title":"chunked"}'.length });
    await connectionStillServes(res);
  });

  it('answers a body just under the limit from the upstream, not the gateway', async () => {
    const body = JSON.stringify({ title: 'x'.repeat(LIMIT - 100) });
    const res = await send(agent, port, { method: 'PATCH', path: '/api/events/e1', body });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({ method: 'PATCH', url: '/events/e1', bodyBytes: body.length });
  });

  it('answers HEAD, OPTIONS, DELETE with a body, and a GET with a body from the upstream', async () => {
    const head = await send(agent, port, { method: 'HEAD', path: '/api/events/e1' });
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
    const options = await send(agent, port, { method: 'OPTIONS', path: '/api/events/e1' });
    expect(options.status).toBe(200);
    expect(JSON.parse(options.body)).toMatchObject({ method: 'OPTIONS' });
    const del = await send(agent, port, { method: 'DELETE', path: '/api/events/e1', body: '{"reason":"gone"}' });
    expect(del.status).toBe(200);
    expect(JSON.parse(del.body)).toMatchObject({ method: 'DELETE', bodyBytes: '{"reason":"gone"}'.length });
    const getWithBody = await send(agent, port, { method: 'GET', path: '/api/events/e1', body: '{"ignored":true}' });
    expect(getWithBody.status).toBe(200);
    expect(JSON.parse(getWithBody.body)).toMatchObject({ method: 'GET', url: '/events/e1' });
    await connectionStillServes(getWithBody);
  });

  it('forwards hop-by-hop headers it must not, without failing the request', async () => {
    const res = await send(agent, port, {
      method: 'POST',
      path: '/api/events',
      body: '{"a":1}',
      headers: { 'keep-alive': 'timeout=5', upgrade: 'h2c', te: 'trailers', 'proxy-connection': 'keep-alive' },
    });
    expect(res.status).toBe(200);
    await connectionStillServes(res);
  });

  it('answers a very long URL and a request with many headers', async () => {
    const long = await send(agent, port, { path: `/api/events/${'a'.repeat(8000)}?q=${'b'.repeat(1000)}` });
    expect(long.status).toBe(200);
    expect(JSON.parse(long.body).url).toHaveLength(`/events/${'a'.repeat(8000)}?q=${'b'.repeat(1000)}`.length);
    const headers = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`x-extra-${i}`, `value-${i}`]));
    const many = await send(agent, port, { path: '/api/events/many', headers });
    expect(many.status).toBe(200);
    await connectionStillServes(many);
  });

  it('answers a request that offers an upgrade the gateway does not take (curl --http2 on http://)', async () => {
    const received = await rawExchange(
      port,
      'GET /api/events/h2c HTTP/1.1\r\nhost: x\r\nconnection: Upgrade, HTTP2-Settings\r\nupgrade: h2c\r\nhttp2-settings: AAMAAABkAAQCAAAAAAIAAAAA\r\n\r\n',
    );
    expect(received).toMatch(/^HTTP\/1\.1 200 /);
    expect(received).toContain('"url":"/events/h2c"');
  });

  it('waits for a slow upstream', async () => {
    const res = await send(agent, port, { path: '/api/orders/slow' });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toEqual({ slow: true });
    await connectionStillServes(res);
  });
});
