import { afterEach, describe, expect, it } from 'vitest';
import { get } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { App } from '@dems/kit';
import { replicaStandIn, type ReplicaStandIn } from '@dems/kit/testing';
import { buildApp } from '../src/app.js';
import { GatewayConfig } from '../src/config.js';
import { MAX_ATTEMPTS, UNAVAILABLE_RETRY_AFTER_SECONDS } from '../src/forward.js';

/**
 * The gateway in front of several replicas of a service: stand-in replicas (real HTTP servers on 127.0.0.1 that
 * answer with their name) that a test stops, starts and makes answer 503. Each test gets a fresh gateway, so the
 * first request goes to the first replica listed.
 */

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function gatewayOver(count: number): Promise<{ gateway: App; replicas: ReplicaStandIn[] }> {
  const replicas = await Promise.all(Array.from({ length: count }, (_, i) => replicaStandIn(`r${i + 1}`)));
  cleanups.push(() => Promise.all(replicas.map((r) => r.stop().catch(() => {}))));
  const list = replicas.map((r) => r.url).join(',');
  const config = GatewayConfig.parse({ EVENTS_URL: list, TICKETING_URL: list, ENGAGEMENT_URL: list, WEB_DIST: '/nonexistent' });
  const gateway = await buildApp({ config });
  cleanups.push(() => gateway.close());
  return { gateway, replicas };
}

const replicaOf = (res: { json: () => { replica: string } }) => res.json().replica;
const order = (key?: string) => ({
  method: 'POST' as const,
  url: '/api/orders',
  headers: { 'content-type': 'application/json', ...(key ? { 'idempotency-key': key } : {}) },
  payload: '{"eventId":"evt_1","quantity":2}',
});

describe('gateway over several replicas of each service', () => {
  it('balances requests over the replicas in turn', async () => {
    const { gateway, replicas } = await gatewayOver(2);
    const answered: string[] = [];
    for (let i = 0; i < 4; i++) answered.push(replicaOf(await gateway.inject('/api/events')));
    expect(answered).toEqual(['r1', 'r2', 'r1', 'r2']);
    expect(replicas.map((r) => r.seen.map((s) => s.url))).toEqual([
      ['/events', '/events'],
      ['/events', '/events'],
    ]);
  });

  it('sends a GET to another replica when one is down, keeps it out of rotation, and takes it back once it is ready', async () => {
    const { gateway, replicas } = await gatewayOver(2);
    const [r1] = replicas as [ReplicaStandIn, ReplicaStandIn];
    await r1.stop();
    for (let i = 0; i < 3; i++) {
      const res = await gateway.inject('/api/events/e1');
      expect(res.statusCode).toBe(200);
      expect(replicaOf(res)).toBe('r2');
    }
    expect((await gateway.inject('/healthz/upstreams')).json().events).toEqual({ replicas: 2, answering: 1 });
    await r1.start();
    await until(async () => (await gateway.inject('/healthz/upstreams')).json().events.answering === 2);
    const answered = new Set<string>();
    for (let i = 0; i < 2; i++) answered.add(replicaOf(await gateway.inject('/api/events')));
    expect([...answered].sort()).toEqual(['r1', 'r2']);
  });

  it('sends a POST with an Idempotency-Key again, body and key unchanged, to another replica when one does not answer', async () => {
    const { gateway, replicas } = await gatewayOver(2);
    const [r1, r2] = replicas as [ReplicaStandIn, ReplicaStandIn];
    await r1.stop();
    const res = await gateway.inject(order('k-1'));
    expect(res.statusCode).toBe(200);
    expect(replicaOf(res)).toBe('r2');
    expect(r2.seen).toMatchObject([{ method: 'POST', url: '/orders', body: '{"eventId":"evt_1","quantity":2}', headers: { 'idempotency-key': 'k-1' } }]);
  });

  it('never sends a POST without an Idempotency-Key again after a replica took it and failed to answer: it may have been carried out', async () => {
    const { gateway, replicas } = await gatewayOver(2);
    const [r1, r2] = replicas as [ReplicaStandIn, ReplicaStandIn];
    r1.hangUp();
    const res = await gateway.inject(order());
    expect(r1.seen).toHaveLength(1);
    expect(res.statusCode).toBe(502);
    expect(res.json()).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', message: expect.stringContaining('ticketing'), requestId: res.headers['x-request-id'] });
    expect(r2.seen).toEqual([]);
    // The replica that did not answer left the rotation: the next POST goes to one that answers.
    const next = await gateway.inject(order());
    expect(next.statusCode).toBe(200);
    expect(replicaOf(next)).toBe('r2');
  });

  it('sends any request to another replica after a 503 (nothing was done there), and shows none of the 503’s headers', async () => {
    const { gateway, replicas } = await gatewayOver(2);
    const [r1, r2] = replicas as [ReplicaStandIn, ReplicaStandIn];
    r1.answer(503, { 'retry-after': '7', 'x-replica-note': 'busy' });
    const res = await gateway.inject(order());
    expect(res.statusCode).toBe(200);
    expect(replicaOf(res)).toBe('r2');
    expect(res.headers['retry-after']).toBeUndefined();
    expect(res.headers['x-replica-note']).toBeUndefined();
    expect(res.headers['x-request-id']).toEqual(expect.any(String));
    expect(r1.seen.map((s) => s.body)).toEqual(r2.seen.map((s) => s.body));
    // A 503 is an answer: an overloaded replica stays in rotation.
    expect((await gateway.inject('/healthz/upstreams')).json().ticketing).toEqual({ replicas: 2, answering: 2 });
  });

  it('keeps the client’s connection open when a replica closes its own (a stopping replica does)', async () => {
    const { gateway, replicas } = await gatewayOver(1);
    replicas[0]!.answer(200, { connection: 'close' });
    await gateway.listen({ port: 0, host: '127.0.0.1' });
    const { port } = gateway.server.address() as AddressInfo;
    const connection = await new Promise<string | undefined>((resolve, reject) => {
      get({ host: '127.0.0.1', port, path: '/api/events' }, (res) => {
        res.resume();
        resolve(res.headers.connection);
      }).on('error', reject);
    });
    expect(connection).toBe('keep-alive');
  });

  it('sends nothing more to a replica that is stopping (it answers with connection: close), so no POST meets its closed port', async () => {
    const { gateway, replicas } = await gatewayOver(2);
    const [r1, r2] = replicas as [ReplicaStandIn, ReplicaStandIn];
    r1.answer(200, { connection: 'close' });
    r1.ready(false);
    expect(replicaOf(await gateway.inject(order()))).toBe('r1'); // served while it drains
    await r1.stop();
    for (let i = 0; i < 3; i++) {
      const res = await gateway.inject(order());
      expect(res.statusCode).toBe(200);
      expect(replicaOf(res)).toBe('r2');
    }
    expect(r2.seen).toHaveLength(3);
  });

  it('passes on the last 503 when every replica answers 503, and tries at most a bounded number of them', async () => {
    const { gateway, replicas } = await gatewayOver(MAX_ATTEMPTS + 1);
    for (const r of replicas) r.answer(503, { 'retry-after': '3' });
    const res = await gateway.inject('/api/events');
    expect(res.statusCode).toBe(503);
    expect(res.headers['retry-after']).toBe('3');
    expect(replicaOf(res)).toBe(`r${MAX_ATTEMPTS}`);
    expect(replicas.map((r) => r.seen.length)).toEqual([...Array(MAX_ATTEMPTS).fill(1), 0]);
  });

  it('passes on any other answer as it is, from the one replica that gave it', async () => {
    const { gateway, replicas } = await gatewayOver(2);
    replicas[0]!.answer(500);
    const res = await gateway.inject('/api/events');
    expect(res.statusCode).toBe(500);
    expect(replicaOf(res)).toBe('r1');
    expect(replicas[1]!.seen).toEqual([]);
  });

  it('sends a POST without an Idempotency-Key to another replica when one refused the connection: it never got it', async () => {
    const { gateway, replicas } = await gatewayOver(2);
    const [r1, r2] = replicas as [ReplicaStandIn, ReplicaStandIn];
    await r1.stop();
    const res = await gateway.inject(order());
    expect(res.statusCode).toBe(200);
    expect(replicaOf(res)).toBe('r2');
    expect(r2.seen).toHaveLength(1);
  });

  it('asks replicas out of rotation when none is in it: one restarted a moment ago answers before its next probe', async () => {
    const { gateway, replicas } = await gatewayOver(2);
    const [r1, r2] = replicas as [ReplicaStandIn, ReplicaStandIn];
    await Promise.all(replicas.map((r) => r.stop()));
    expect((await gateway.inject('/api/events')).statusCode).toBe(502);
    await r2.start();
    const res = await gateway.inject(order());
    expect(res.statusCode).toBe(200);
    expect(replicaOf(res)).toBe('r2');
    expect(r1.seen).toEqual([]);
  });

  it('answers quickly with 502 UPSTREAM_UNAVAILABLE naming the service and a Retry-After when no replica answers', async () => {
    const { gateway, replicas } = await gatewayOver(2);
    await Promise.all(replicas.map((r) => r.stop()));
    const first = await gateway.inject('/api/events');
    expect(first.statusCode).toBe(502);
    const started = performance.now();
    const res = await gateway.inject('/api/events');
    expect(performance.now() - started).toBeLessThan(500); // refused connections: no waiting for a timeout
    expect(res.statusCode).toBe(502);
    expect(res.headers['retry-after']).toBe(String(UNAVAILABLE_RETRY_AFTER_SECONDS));
    expect(res.json()).toEqual({
      code: 'UPSTREAM_UNAVAILABLE',
      message: 'The events service is not answering right now. Please try again in a moment.',
      requestId: res.headers['x-request-id'],
    });
    // The other services are not concerned.
    expect((await gateway.inject('/healthz/upstreams')).json()).toMatchObject({ events: { answering: 0 }, ticketing: { answering: 2 } });
  });
});

async function until(check: () => Promise<boolean>, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}
