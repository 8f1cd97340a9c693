import { afterEach, describe, expect, it } from 'vitest';
import { newMessage, type Message } from '@dems/contracts';
import { createServiceApp, fromPrivatePeer, metricsOf, registerInternalRoutes, type App, type OutboxStore } from '@dems/kit';
import { deliver, describeEachAdapter } from '@dems/kit/testing';
import type { FastifyRequest } from 'fastify';
import { outboxAdapters } from './support/outboxes.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function serviceApp(opts: Partial<Parameters<typeof createServiceApp>[0]> = {}): Promise<App> {
  const app = await createServiceApp({ name: 'things', description: 'metrics test', isReady: () => true, ...opts });
  app.get('/things/:id', async (req) => ({ id: (req.params as { id: string }).id }));
  app.post('/things', async (_req, reply) => reply.code(409).send({ code: 'SOLD_OUT', message: 'none left', requestId: 'x' }));
  cleanups.push(() => app.close());
  return app;
}

/** The samples of one metric in a Prometheus text exposition, as `{labels} value` pairs. */
function samples(text: string, name: string): { labels: Record<string, string>; value: number }[] {
  const out: { labels: Record<string, string>; value: number }[] = [];
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const labels = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1]!, l[2]!]));
    out.push({ labels, value: Number(m[3]) });
  }
  return out;
}
const value = (text: string, name: string, labels: Record<string, string> = {}) =>
  samples(text, name).find((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;

async function scrape(app: App): Promise<string> {
  const res = await app.inject({ method: 'GET', url: '/metrics' });
  expect(res.statusCode).toBe(200);
  expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
  return res.body;
}

describe('/metrics on every service app', () => {
  it('times each request by method, route pattern and status; unknown paths share one label', async () => {
    const app = await serviceApp();
    for (const id of ['a', 'b', 'c']) expect((await app.inject({ method: 'GET', url: `/things/${id}` })).statusCode).toBe(200);
    expect((await app.inject({ method: 'POST', url: '/things', payload: {} })).statusCode).toBe(409);
    await app.inject({ method: 'GET', url: '/nothing/here/1' });
    await app.inject({ method: 'GET', url: '/nothing/else?x=2' });
    const text = await scrape(app);

    expect(text).toContain('# TYPE http_request_duration_seconds histogram');
    expect(value(text, 'http_request_duration_seconds_count', { method: 'GET', route: '/things/:id', status_code: '200' })).toBe(3);
    expect(value(text, 'http_request_duration_seconds_count', { method: 'POST', route: '/things', status_code: '409' })).toBe(1);
    expect(value(text, 'http_request_duration_seconds_count', { method: 'GET', route: 'unmatched', status_code: '404' })).toBe(2);
    // Buckets are cumulative and end in +Inf with the count.
    expect(value(text, 'http_request_duration_seconds_bucket', { route: '/things/:id', le: '+Inf' })).toBe(3);
    expect(value(text, 'http_request_duration_seconds_bucket', { route: '/things/:id', le: '10' })).toBe(3);
    expect(value(text, 'http_request_duration_seconds_sum', { route: '/things/:id' })).toBeGreaterThan(0);
    // Bounded cardinality: no raw URL ever becomes a label.
    const routes = new Set(samples(text, 'http_request_duration_seconds_count').map((s) => s.labels.route));
    expect([...routes].sort()).toEqual(['/things', '/things/:id', 'unmatched']);
    expect(text).not.toMatch(/things\/a|nothing\/here/);
  });

  it('includes the process: event-loop delay, CPU, memory, and the Node.js defaults', async () => {
    const text = await scrape(await serviceApp());
    for (const name of [
      'nodejs_eventloop_lag_seconds',
      'nodejs_eventloop_lag_p99_seconds',
      'process_cpu_user_seconds_total',
      'process_resident_memory_bytes',
      'nodejs_heap_size_used_bytes',
    ]) {
      expect(value(text, name), name).toBeGreaterThanOrEqual(0);
    }
  });

  it('keeps the counts of two apps in one process apart', async () => {
    const [a, b] = [await serviceApp(), await serviceApp()];
    await a.inject({ method: 'GET', url: '/things/1' });
    await a.inject({ method: 'GET', url: '/things/2' });
    await b.inject({ method: 'GET', url: '/things/1' });
    const count = async (app: App) => value(await scrape(app), 'http_request_duration_seconds_count', { route: '/things/:id' });
    expect(await count(a)).toBe(2);
    expect(await count(b)).toBe(1);
    expect(metricsOf(a)).not.toBe(metricsOf(b));
  });

  it('offers gauges read at scrape time to the services, without them importing prom-client', async () => {
    const app = await serviceApp();
    let open = 3;
    metricsOf(app)!.gauge('dems_test_open', 'Things open now.', () => open);
    expect(value(await scrape(app), 'dems_test_open')).toBe(3);
    open = 5;
    expect(value(await scrape(app), 'dems_test_open')).toBe(5);
  });
});

describe('who may read /metrics', () => {
  async function listening(metricsAccess: 'anyone' | 'private-network') {
    const app = await serviceApp({ metricsAccess });
    return `${await app.listen({ port: 0, host: '127.0.0.1' })}/metrics`;
  }

  it('a service: anyone who reaches its (internal) port, also through a proxy', async () => {
    const url = await listening('anyone');
    expect((await fetch(url)).status).toBe(200);
    expect((await fetch(url, { headers: { 'x-forwarded-for': '203.0.113.9' } })).status).toBe(200);
  });

  it('the gateway: a loopback or private peer that connects directly; through a proxy it is an unknown path', async () => {
    const url = await listening('private-network');
    const direct = await fetch(url);
    expect(direct.status).toBe(200);
    expect(await direct.text()).toContain('http_request_duration_seconds');
    const proxied: Record<string, string>[] = [{ 'x-forwarded-for': '203.0.113.9' }, { forwarded: 'for=203.0.113.9' }, { 'x-forwarded-for': '127.0.0.1' }];
    for (const headers of proxied) {
      const relayed = await fetch(url, { headers });
      expect(relayed.status).toBe(404);
      expect(await relayed.json()).toMatchObject({ code: 'NOT_FOUND' });
    }
  });

  const peer = (remoteAddress: string | undefined, headers: Record<string, string> = {}) => ({ socket: { remoteAddress }, headers }) as unknown as FastifyRequest;

  it.each([
    ['127.0.0.1', true],
    ['127.255.0.9', true],
    ['10.1.2.3', true],
    ['172.16.0.1', true],
    ['172.31.255.255', true],
    ['192.168.10.20', true],
    ['::1', true],
    ['::ffff:10.0.0.7', true],
    ['fd12:3456::1', true],
    ['172.15.255.255', false],
    ['172.32.0.1', false],
    ['192.169.0.1', false],
    ['8.8.8.8', false],
    ['::ffff:8.8.8.8', false],
    ['2001:db8::1', false],
    [undefined, false],
  ])('a direct peer at %s is private: %s', (address, expected) => {
    expect(fromPrivatePeer(peer(address))).toBe(expected);
  });
});

describe('inbox metrics: results by type, and lag from creation to effect', () => {
  const TYPE = 'UserRegistered';
  const registered = (n: number, occurredAt = new Date()): Message =>
    newMessage('events', TYPE, { registrationId: `reg_${n}`, eventId: 'evt_1', eventTitle: 'Jazz', userId: `usr_${n}` }, occurredAt);

  it('counts applied, duplicate, failed and rejected messages, and observes the lag of each one applied', async () => {
    const app = await serviceApp();
    const seen = new Set<string>();
    await registerInternalRoutes(app, {
      secret: 'test-service-secret-0123456789',
      apply: async (m) => {
        if ((m.data as { userId: string }).userId === 'usr_9') throw new Error('handler fails (test fake)');
        if (seen.has(m.id)) return 'duplicate';
        seen.add(m.id);
        return 'applied';
      },
    });
    const old = registered(1, new Date(Date.now() - 30_000));
    await deliver(app, [old, registered(2), old, registered(9)]);
    await deliver(app, [{ id: 'nope' } as unknown as Message]);
    const text = await scrape(app);

    expect(value(text, 'dems_inbox_messages_total', { type: TYPE, result: 'applied' })).toBe(2);
    expect(value(text, 'dems_inbox_messages_total', { type: TYPE, result: 'duplicate' })).toBe(1);
    expect(value(text, 'dems_inbox_messages_total', { type: TYPE, result: 'failed' })).toBe(1);
    expect(value(text, 'dems_inbox_messages_total', { type: 'unknown', result: 'rejected' })).toBe(1);
    // Only applied messages have a lag: one written 30 s ago, one just now.
    expect(value(text, 'dems_inbox_lag_seconds_count', { type: TYPE })).toBe(2);
    const sum = value(text, 'dems_inbox_lag_seconds_sum', { type: TYPE })!;
    expect(sum).toBeGreaterThanOrEqual(30);
    expect(sum).toBeLessThan(40);
    expect(value(text, 'dems_inbox_lag_seconds_bucket', { type: TYPE, le: '10' })).toBe(1);
    expect(value(text, 'dems_inbox_lag_seconds_bucket', { type: TYPE, le: '60' })).toBe(2);
  });

  it('a message from a clock slightly ahead counts as no lag, not a negative one', async () => {
    const app = await serviceApp();
    await registerInternalRoutes(app, { secret: 'test-service-secret-0123456789', apply: async () => 'applied' });
    await deliver(app, [registered(1, new Date(Date.now() + 5000))]);
    const text = await scrape(app);
    expect(value(text, 'dems_inbox_lag_seconds_sum', { type: TYPE })).toBe(0);
    expect(value(text, 'dems_inbox_lag_seconds_bucket', { type: TYPE, le: '0.01' })).toBe(1);
  });
});

describeEachAdapter('outbox gauges: pending, age of the oldest, dead letters, per subscriber', outboxAdapters, (h) => {
  /** A publisher's outbox, with a way to write messages as a store transaction does. */
  const adapter = { open: async () => ({ store: h.store.outbox, enqueue: h.store.commit }) };
  const snapshot = {
    id: 'evt_1',
    organizerId: 'usr_1',
    title: 'Jazz',
    venue: 'Hall',
    timezone: 'UTC',
    startsAt: '2030-01-01T20:00:00.000Z',
    endsAt: '2030-01-01T22:00:00.000Z',
    status: 'published' as const,
    ticketTypes: [],
    version: 1,
  };

  it('reflects a pending entry and a dead letter, read from the store at each scrape', async () => {
    const { store, enqueue } = await adapter.open();
    const app = await serviceApp();
    await registerInternalRoutes(app, { secret: 'test-service-secret-0123456789', apply: async () => 'applied', outbox: store });

    let text = await scrape(app);
    for (const subscriber of ['events', 'ticketing', 'engagement']) {
      expect(value(text, 'dems_outbox_pending', { subscriber })).toBe(0);
      expect(value(text, 'dems_outbox_oldest_pending_age_seconds', { subscriber })).toBe(0);
      expect(value(text, 'dems_outbox_dead_letters', { subscriber })).toBe(0);
    }

    // EventPublished goes to ticketing and engagement; written two minutes ago.
    await enqueue(newMessage('events', 'EventPublished', { event: snapshot }, new Date(Date.now() - 120_000)));
    await enqueue(newMessage('events', 'UserRegistered', { registrationId: 'reg_1', eventId: 'evt_1', eventTitle: 'Jazz', userId: 'usr_2' }));
    text = await scrape(app);
    expect(value(text, 'dems_outbox_pending', { subscriber: 'engagement' })).toBe(2);
    expect(value(text, 'dems_outbox_pending', { subscriber: 'ticketing' })).toBe(1);
    expect(value(text, 'dems_outbox_pending', { subscriber: 'events' })).toBe(0);
    for (const subscriber of ['engagement', 'ticketing']) {
      const age = value(text, 'dems_outbox_oldest_pending_age_seconds', { subscriber })!;
      expect(age).toBeGreaterThanOrEqual(120);
      expect(age).toBeLessThan(150);
    }

    // Ticketing's copy is refused for good: a dead letter, no longer pending.
    const [entry] = await store.claimDue('ticketing', 10, Date.now(), 60_000);
    await store.markFailed([{ id: entry!.id, attempts: 1, nextAttemptAt: null, error: 'refused' }]);
    text = await scrape(app);
    expect(value(text, 'dems_outbox_pending', { subscriber: 'ticketing' })).toBe(0);
    expect(value(text, 'dems_outbox_oldest_pending_age_seconds', { subscriber: 'ticketing' })).toBe(0);
    expect(value(text, 'dems_outbox_dead_letters', { subscriber: 'ticketing' })).toBe(1);
    expect(value(text, 'dems_outbox_dead_letters', { subscriber: 'engagement' })).toBe(0);
    expect(value(text, 'dems_outbox_pending', { subscriber: 'engagement' })).toBe(2);
  });
});

describe('outbox gauges when the store does not answer', () => {
  it('the scrape still answers, without them, and the reason is logged', async () => {
    const warnings: string[] = [];
    const app = await serviceApp({ logger: { level: 'warn', stream: { write: (line: string) => warnings.push(line) } } });
    // A fake store, to force the failure path: reading it fails.
    const failing = { stats: () => Promise.reject(new Error('store unreachable (test fake)')) } as unknown as OutboxStore;
    await registerInternalRoutes(app, { secret: 'test-service-secret-0123456789', apply: async () => 'applied', outbox: failing });
    await app.inject({ method: 'GET', url: '/things/1' });
    const text = await scrape(app);
    expect(value(text, 'http_request_duration_seconds_count', { route: '/things/:id' })).toBe(1);
    expect(text).toContain('# TYPE dems_outbox_pending gauge');
    expect(samples(text, 'dems_outbox_pending')).toEqual([]);
    expect(warnings.join('')).toContain('could not read the outbox for /metrics');
    expect(warnings.join('')).toContain('store unreachable (test fake)');
  });
});
