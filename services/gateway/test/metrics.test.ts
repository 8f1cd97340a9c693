import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Fastify from 'fastify';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, type App } from '@dems/kit';
import { tempDir } from '@dems/kit/testing';
import { buildApp } from '../src/app.js';
import { GatewayConfig, loadGatewayConfig } from '../src/config.js';

/** The gateway's /metrics: its port is public, so who may read them is decided here (METRICS_PUBLIC). */
describe('gateway /metrics', () => {
  const dir = tempDir();
  const events = Fastify();
  const gateways: App[] = [];
  let eventsUrl: string;

  async function gateway(env: Record<string, string> = {}): Promise<string> {
    const config = GatewayConfig.parse({ EVENTS_URL: eventsUrl, WEB_DIST: dir.path, ...env });
    const app = await buildApp({ config });
    gateways.push(app);
    return app.listen({ port: 0, host: '127.0.0.1' });
  }

  beforeAll(async () => {
    // A stand-in for the events service (named as such).
    events.get('/events/:id', async () => ({ ok: true }));
    eventsUrl = await events.listen({ port: 0, host: '127.0.0.1' });
    writeFileSync(join(dir.path, 'index.html'), '<!doctype html><title>web app</title>');
  });
  afterAll(async () => {
    await Promise.all(gateways.map((g) => g.close()));
    await events.close();
    dir.cleanup();
  });

  it('are served to a private peer that connects directly, with the proxied routes as patterns', async () => {
    const url = await gateway();
    expect((await fetch(`${url}/api/events/evt_1`)).status).toBe(200);
    const res = await fetch(`${url}/metrics`);
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toMatch(/^http_request_duration_seconds_count\{method="GET",route="\/api\/events\/\*",status_code="200"\} 1$/m);
    expect(text).not.toContain('evt_1');
  });

  it('are not served through a proxy or load balancer: there /metrics is a page of the web app', async () => {
    const url = await gateway();
    const res = await fetch(`${url}/metrics`, { headers: { 'x-forwarded-for': '203.0.113.7' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await res.text()).toContain('web app');
  });

  it('METRICS_PUBLIC=true serves them to anyone', async () => {
    const url = await gateway({ METRICS_PUBLIC: 'true' });
    const res = await fetch(`${url}/metrics`, { headers: { 'x-forwarded-for': '203.0.113.7' } });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('http_request_duration_seconds');
  });

  it('a METRICS_PUBLIC that is not a boolean is named in the configuration error', () => {
    expect(() => loadGatewayConfig({ METRICS_PUBLIC: 'maybe' })).toThrow(ConfigError);
    expect(() => loadGatewayConfig({ METRICS_PUBLIC: 'maybe' })).toThrow(/METRICS_PUBLIC \("maybe"\)/);
  });
});
