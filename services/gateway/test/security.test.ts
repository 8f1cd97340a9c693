import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Fastify, { type FastifyInstance } from 'fastify';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '@dems/kit/testing';
import type { App } from '@dems/kit';
import { buildApp } from '../src/app.js';
import { GatewayConfig } from '../src/config.js';

// A stand-in upstream: it records every path that reached it and echoes the client address it was told.
async function recordingUpstream(): Promise<{ app: FastifyInstance; url: string; seen: string[] }> {
  const seen: string[] = [];
  const app = Fastify();
  app.all('/*', async (req) => {
    seen.push(req.url);
    return { url: req.url, forwardedFor: req.headers['x-forwarded-for'] ?? null };
  });
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  return { app, url, seen };
}

describe('gateway security', () => {
  const dir = tempDir();
  let gateway: App;
  let upstream: Awaited<ReturnType<typeof recordingUpstream>>;

  beforeAll(async () => {
    upstream = await recordingUpstream();
    writeFileSync(join(dir.path, 'index.html'), '<!doctype html><div id="root"></div>');
    const config = GatewayConfig.parse({
      EVENTS_URL: upstream.url,
      TICKETING_URL: upstream.url,
      ENGAGEMENT_URL: upstream.url,
      WEB_DIST: dir.path,
      CORS_ORIGINS: 'https://partner.example.com',
    });
    gateway = await buildApp({ config });
  });
  afterAll(async () => {
    await gateway.close();
    await upstream.app.close();
    dir.cleanup();
  });

  it('never lets a request reach /internal of a service, however the path is spelled', async () => {
    const attempts = [
      'POST /api/internal/messages',
      'GET /api/internal/dead-letters',
      'POST /internal/messages',
      'POST /api/events/../internal/messages',
      'POST /api/events/%2e%2e/internal/messages',
      'POST /api/events/..%2finternal/messages',
      'POST /api/events/%2E%2E%2Finternal%2Fmessages',
      'POST /api//internal/messages',
      'POST /api/events/..\\internal/messages',
      'GET /api/orders/%2e%2e%2f%2e%2e%2finternal%2fdead-letters',
      'POST /api/INTERNAL/messages',
    ];
    for (const attempt of attempts) {
      const [method, url] = attempt.split(' ') as ['GET' | 'POST', string];
      const res = await gateway.inject({ method, url, payload: method === 'POST' ? { messages: [] } : undefined });
      expect(res.statusCode, attempt).toBe(404);
      expect(res.json().code, attempt).toBe('NOT_FOUND');
    }
    expect(upstream.seen.filter((u) => /internal/i.test(decodeURIComponent(u)))).toEqual([]);
  });

  it('tells the services the address it saw, never one the client wrote', async () => {
    const res = await gateway.inject({ url: '/api/events', headers: { 'x-forwarded-for': '6.6.6.6' }, remoteAddress: '203.0.113.7' });
    expect(res.json()).toMatchObject({ url: '/events', forwardedFor: '203.0.113.7' });
  });

  it('sends security headers and a strict Content-Security-Policy with the web app, and no X-Powered-By', async () => {
    const page = await gateway.inject({ url: '/events/123', headers: { host: 'tickets.example.com:3000' } });
    expect(page.statusCode).toBe(200);
    const csp = String(page.headers['content-security-policy']);
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self';");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toContain('unsafe-eval');
    expect(csp).toContain("img-src 'self' data:");
    expect(csp).toContain("connect-src 'self' ws://tickets.example.com:3000 wss://tickets.example.com:3000");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("object-src 'none'");
    expect(csp).not.toContain('upgrade-insecure-requests');
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    expect(page.headers['x-frame-options']).toBe('SAMEORIGIN');
    expect(page.headers['referrer-policy']).toBe('no-referrer');
    expect(page.headers['cross-origin-opener-policy']).toBe('same-origin');
    expect(page.headers['x-powered-by']).toBeUndefined();

    const api = await gateway.inject('/api/events');
    expect(api.headers['x-content-type-options']).toBe('nosniff');
    expect(api.headers['x-powered-by']).toBeUndefined();
  });

  it('a Host header cannot inject into the policy', async () => {
    const page = await gateway.inject({ url: '/', headers: { host: "evil.example.com; script-src 'unsafe-inline'" } });
    expect(String(page.headers['content-security-policy'])).not.toContain('unsafe-inline');
  });

  it('answers CORS only for configured origins', async () => {
    const allowed = await gateway.inject({ url: '/api/events', headers: { origin: 'https://partner.example.com' } });
    expect(allowed.headers['access-control-allow-origin']).toBe('https://partner.example.com');
    const other = await gateway.inject({ url: '/api/events', headers: { origin: 'https://evil.example.com' } });
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
    const preflight = await gateway.inject({
      method: 'OPTIONS',
      url: '/api/orders',
      headers: { origin: 'https://partner.example.com', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type,idempotency-key' },
    });
    expect(preflight.statusCode).toBe(204);
    expect(preflight.headers['access-control-allow-headers']).toContain('idempotency-key');
    const evilPreflight = await gateway.inject({
      method: 'OPTIONS',
      url: '/api/orders',
      headers: { origin: 'https://evil.example.com', 'access-control-request-method': 'POST' },
    });
    expect(evilPreflight.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('refuses CORS_ORIGINS that are not origins', () => {
    expect(GatewayConfig.safeParse({ CORS_ORIGINS: 'https://a.example.com/path' }).success).toBe(false);
    expect(GatewayConfig.safeParse({ CORS_ORIGINS: '*' }).success).toBe(false);
  });
});
