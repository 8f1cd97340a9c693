import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Fastify, { type FastifyInstance } from 'fastify';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '@dems/kit/testing';
import type { App } from '@dems/kit';
import { buildApp } from '../src/app.js';
import { GatewayConfig } from '../src/config.js';

// A stand-in upstream (named as such): it echoes what reached it, so we can see what the gateway forwards.
async function echoUpstream(name: string): Promise<{ app: FastifyInstance; url: string }> {
  const app = Fastify();
  app.all('/*', async (req) => ({ service: name, method: req.method, url: req.url, requestId: req.headers['x-request-id'], body: req.body ?? null }));
  app.get('/readyz', async () => ({ status: 'ready' }));
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  return { app, url };
}

describe('gateway', () => {
  const dir = tempDir();
  let gateway: App;
  let upstreams: { app: FastifyInstance; url: string }[];

  beforeAll(async () => {
    upstreams = await Promise.all(['events', 'ticketing'].map(echoUpstream));
    mkdirSync(join(dir.path, 'assets'));
    writeFileSync(join(dir.path, 'index.html'), '<!doctype html><div id="root"></div>');
    writeFileSync(join(dir.path, 'assets', 'app-abc123.js'), 'console.log(1)');
    writeFileSync(join(dir.path, 'assets', 'app-abc123.js.map'), '{"version":3,"sources":["src/app.tsx"]}');
    const config = GatewayConfig.parse({
      EVENTS_URL: upstreams[0]!.url,
      TICKETING_URL: upstreams[1]!.url,
      ENGAGEMENT_URL: 'http://127.0.0.1:9', // nothing listens here: engagement is "down"
      WEB_DIST: dir.path,
    });
    gateway = await buildApp({ config });
  });
  afterAll(async () => {
    await gateway.close();
    await Promise.all(upstreams.map((u) => u.app.close()));
    dir.cleanup();
  });

  it('forwards /api/<path> to the owning service without the /api prefix, with a request id', async () => {
    const res = await gateway.inject({ method: 'POST', url: '/api/orders?x=1', payload: { quantity: 2 } });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ service: 'ticketing', method: 'POST', url: '/orders?x=1', body: { quantity: 2 } });
    expect(body.requestId).toBe(res.headers['x-request-id']);
    expect((await gateway.inject('/api/events/abc')).json()).toMatchObject({ service: 'events', url: '/events/abc' });
  });

  it('never forwards /internal', async () => {
    const res = await gateway.inject({ method: 'POST', url: '/api/internal/messages', payload: {} });
    expect(res.statusCode).toBe(404);
    expect(res.json().code).toBe('NOT_FOUND');
  });

  it('answers 502 UPSTREAM_UNAVAILABLE in the standard error shape when a service is down', async () => {
    const res = await gateway.inject('/api/notifications');
    expect(res.statusCode).toBe(502);
    expect(res.json()).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', requestId: expect.any(String) });
  });

  it('stays ready while a service is down (readiness is the gateway’s own), and says which services answer elsewhere', async () => {
    await gateway.inject('/api/notifications'); // engagement does not answer: it leaves the rotation
    expect((await gateway.inject('/readyz')).statusCode).toBe(200);
    expect((await gateway.inject('/healthz')).statusCode).toBe(200);
    const upstreams = await gateway.inject('/healthz/upstreams');
    expect(upstreams.json()).toEqual({
      events: { replicas: 1, answering: 1 },
      ticketing: { replicas: 1, answering: 1 },
      engagement: { replicas: 1, answering: 0 },
    });
    expect(upstreams.body).not.toContain('127.0.0.1'); // internal addresses stay private
  });

  it('serves the web app: hashed assets cached for a year, client routes fall back to index.html', async () => {
    const asset = await gateway.inject('/assets/app-abc123.js');
    expect(asset.statusCode).toBe(200);
    expect(asset.headers['cache-control']).toContain('immutable');
    const home = await gateway.inject('/');
    expect(home.statusCode).toBe(200);
    expect(home.body).toContain('<div id="root">');
    expect(home.headers['cache-control']).toBe('no-cache');
    const page = await gateway.inject('/events/123');
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('<div id="root">');
    expect(page.headers['cache-control']).toBe('no-cache');
    expect((await gateway.inject('/missing.png')).statusCode).toBe(404);
  });

  it('never publishes a source map, even one an older build left in web/dist', async () => {
    for (const url of ['/assets/app-abc123.js.map', '/assets/app-abc123.js.MAP', '/assets/./app-abc123.js.map']) {
      const res = await gateway.inject(url);
      expect(res.statusCode, url).toBe(404);
      expect(res.body, url).not.toContain('"sources"');
    }
    // An escaped dot is not a file extension to the page fallback, which answers with the app, never the map.
    expect((await gateway.inject('/assets/app-abc123.js%2emap')).body).not.toContain('"sources"');
  });

  it('serves assets of a rebuild made while it runs', async () => {
    writeFileSync(join(dir.path, 'assets', 'app-def456.js'), 'console.log(2)');
    const asset = await gateway.inject('/assets/app-def456.js');
    expect(asset.statusCode).toBe(200);
    expect(asset.body).toBe('console.log(2)');
  });
});
