import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Agent, request, type IncomingHttpHeaders } from 'node:http';
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { bundleEntry, startProcess, type ServiceProcess } from './support/service-process.js';

/**
 * A service process run by runService with the kit's app factory, as every service and the gateway are. Its
 * test-only routes are fakes that force the paths under test: a slow request, one that never ends, a counter of
 * requests that reached their handler, a saturated event loop (200 ms of blocking work per loop turn), and work
 * that waits in a queue, one item every 30 ms, behind an event loop that stays idle (as purchases wait for their
 * group commit).
 */
const ENTRY = `
import { setTimeout as sleep } from 'node:timers/promises';
import { createServiceApp, loadConfig, RuntimeConfig, runService, sheddingSettings } from './packages/kit/src/index.ts';
await runService('events', async () => {
  const config = loadConfig(RuntimeConfig);
  const app = await createServiceApp({
    name: 'events', description: 'stop test', isReady: () => true, logger: { level: 'info' },
    shedding: sheddingSettings(config),
  });
  app.get('/test-only/slow', async (req) => { await sleep(Number(req.query.ms)); return { done: true }; });
  app.get('/test-only/hang', () => new Promise(() => {}));
  let handled = 0;
  app.get('/test-only/work', async () => { console.log('work handled'); return { handled: ++handled }; });
  app.post('/test-only/saturate', async (req) => {
    const until = Date.now() + Number(req.query.ms);
    const turn = () => { const end = Date.now() + 200; while (Date.now() < end); if (Date.now() < until) setImmediate(turn); };
    setImmediate(turn);
    return { saturating: true };
  });
  let queue = Promise.resolve();
  let queued = 0;
  app.get('/test-only/queued', async () => {
    const mine = queue.then(() => sleep(30));
    queue = mine;
    await mine;
    return { handled: ++queued };
  });
  // Stands for the relay's batch in flight and the store closing: close hooks finish before the process exits.
  app.addHook('onClose', async () => { await sleep(300); console.log('close hooks finished'); });
  return { app, port: 0, host: '127.0.0.1', config };
});
`;

type Answer = { status: number; headers: IncomingHttpHeaders; body: { code?: string; [k: string]: unknown }; ms: number } | { error: string; ms: number };

/** One HTTP request over node:http (which shows the Connection header), answering an error code instead of throwing. */
function get(port: number, path: string, { method = 'GET', agent }: { method?: string; agent?: Agent } = {}): Promise<Answer> {
  const started = Date.now();
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path, method, agent: agent ?? false }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: text ? JSON.parse(text) : {}, ms: Date.now() - started }));
    });
    req.on('error', (err: NodeJS.ErrnoException) => resolve({ error: err.code ?? err.message, ms: Date.now() - started }));
    req.end();
  });
}

const status = (a: Answer) => ('error' in a ? a.error : `${a.status} ${a.body.code ?? ''}`.trim());

describe('runService stopping on SIGTERM', () => {
  let bundle: Awaited<ReturnType<typeof bundleEntry>>;
  let running: ServiceProcess | undefined;
  beforeAll(async () => {
    bundle = await bundleEntry(ENTRY);
  });
  afterAll(() => bundle.remove());
  afterEach(() => {
    if (running?.child.exitCode === null) running.child.kill('SIGKILL');
  });
  const start = (env: Record<string, string>) => (running = startProcess(bundle.entry, env));

  it('reports not ready at once, serves through the drain, then refuses new work, finishes what is in flight and exits 0', async () => {
    const proc = start({ SHUTDOWN_DRAIN_SECONDS: '1', SHUTDOWN_TIMEOUT_SECONDS: '5' });
    const port = await proc.port;
    expect(status(await get(port, '/readyz'))).toBe('200');

    const slow = get(port, '/test-only/slow?ms=2500');
    // A connection whose request is not complete yet: it is finished after the drain, once the replica refuses.
    const late = connect(port, '127.0.0.1');
    let lateAnswer = '';
    late.on('data', (c: Buffer) => (lateAnswer += c));
    const lateClosed = new Promise((resolve) => late.once('close', resolve));
    late.write('GET /test-only/work HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    await sleep(300);

    const signalledAt = Date.now();
    proc.child.kill('SIGTERM');
    await sleep(100);
    const readiness = await get(port, '/readyz');
    expect(status(readiness)).toBe('503 SHUTTING_DOWN');
    expect(status(await get(port, '/healthz'))).toBe('200');
    // Still within the drain: served, but the connection is not kept for more.
    const duringDrain = await get(port, '/test-only/work');
    expect(status(duringDrain)).toBe('200');
    expect('headers' in duringDrain && duringDrain.headers.connection).toBe('close');

    await sleep(signalledAt + 1400 - Date.now());
    // New connections are no longer accepted; a request on a connection already open gets the one error shape.
    expect(status(await get(port, '/test-only/work'))).toBe('ECONNREFUSED');
    late.write('\r\n');
    await lateClosed;
    expect(lateAnswer).toMatch(/^HTTP\/1\.1 503 /);
    expect(lateAnswer).toMatch(/\r\nretry-after: 1\r\n/i);
    expect(lateAnswer).toMatch(/\r\nconnection: close\r\n/i);
    expect(JSON.parse(lateAnswer.slice(lateAnswer.indexOf('\r\n\r\n') + 4))).toMatchObject({ code: 'SHUTTING_DOWN', requestId: expect.any(String) });

    const slowAnswer = await slow;
    expect(status(slowAnswer)).toBe('200');
    expect('body' in slowAnswer && slowAnswer.body).toEqual({ done: true });
    const { code, at } = await proc.exit;
    expect(code).toBe(0);
    expect(at - signalledAt).toBeLessThan(4500);
    expect(proc.stdout()).toContain('close hooks finished');
    // Only the request answered during the drain reached a handler; the refused one did nothing.
    expect(proc.stdout().match(/^work handled$/gm)).toHaveLength(1);
  });

  it('is not held up by idle keep-alive connections', async () => {
    const proc = start({ SHUTDOWN_TIMEOUT_SECONDS: '10' });
    const port = await proc.port;
    const agent = new Agent({ keepAlive: true });
    expect(status(await get(port, '/test-only/work', { agent }))).toBe('200');
    const signalledAt = Date.now();
    proc.child.kill('SIGTERM');
    const { code, at } = await proc.exit;
    agent.destroy();
    expect(code).toBe(0);
    expect(at - signalledAt).toBeLessThan(2000);
  });

  it('exits 1 at SHUTDOWN_TIMEOUT_SECONDS when a request never ends, saying so', async () => {
    const proc = start({ SHUTDOWN_TIMEOUT_SECONDS: '1' });
    const port = await proc.port;
    const hung = get(port, '/test-only/hang');
    await sleep(200);
    const signalledAt = Date.now();
    proc.child.kill('SIGTERM');
    const { code, at } = await proc.exit;
    expect(code).toBe(1);
    expect(at - signalledAt).toBeGreaterThanOrEqual(950);
    expect(at - signalledAt).toBeLessThan(3000);
    expect(proc.stdout()).toContain('did not finish its requests and deliveries within SHUTDOWN_TIMEOUT_SECONDS (1 s); exiting anyway');
    expect(status(await hung)).toBe('ECONNRESET');
  });
});

describe('load shedding', () => {
  let bundle: Awaited<ReturnType<typeof bundleEntry>>;
  let proc: ServiceProcess;
  beforeAll(async () => {
    bundle = await bundleEntry(ENTRY);
    proc = startProcess(bundle.entry, { MAX_EVENT_LOOP_DELAY_MS: '100' });
  });
  afterAll(() => {
    proc.child.kill('SIGKILL');
    bundle.remove();
  });

  it('answers 503 OVERLOADED with Retry-After quickly while the event loop lags, keeps /healthz and /readyz answering, and recovers', async () => {
    const port = await proc.port;
    expect(status(await get(port, '/test-only/work'))).toBe('200');
    expect(status(await get(port, '/test-only/saturate?ms=3000', { method: 'POST' }))).toBe('200');

    const work: Answer[] = [];
    const probes: Answer[] = [];
    const until = Date.now() + 2800;
    while (Date.now() < until) {
      work.push(await get(port, '/test-only/work'));
      probes.push(await get(port, '/healthz'), await get(port, '/readyz'));
    }
    const shed = work.filter((a) => status(a) === '503 OVERLOADED');
    expect(shed.length).toBeGreaterThan(0);
    for (const a of shed) {
      expect('headers' in a && a.headers['retry-after']).toBe('2');
      expect('body' in a && a.body.requestId).toEqual(expect.any(String));
      // Each waits for at most one 200 ms turn of the saturated loop, never for a queue of seconds.
      expect(a.ms).toBeLessThan(1000);
    }
    expect(probes.map(status).filter((s) => s !== '200')).toEqual([]);

    // Once the loop catches up (a sample or two), work is taken again; the shed requests never reached the handler.
    let after: Answer = { error: 'not tried', ms: 0 };
    for (let i = 0; i < 40 && status(after) !== '200'; i++) {
      await sleep(150);
      after = await get(port, '/test-only/work');
    }
    expect(status(after)).toBe('200');
    const served = work.filter((a) => status(a) === '200').length;
    expect('body' in after && after.body.handled).toBe(1 + served + 1);
  });
});

describe('load shedding of a standing queue', () => {
  let bundle: Awaited<ReturnType<typeof bundleEntry>>;
  let proc: ServiceProcess;
  beforeAll(async () => {
    bundle = await bundleEntry(ENTRY);
    // The event-loop measure is off: only the queue can cause a 503 here.
    proc = startProcess(bundle.entry, { MAX_QUEUE_DELAY_MS: '300', MAX_EVENT_LOOP_DELAY_MS: '0' });
  });
  afterAll(() => {
    proc.child.kill('SIGKILL');
    bundle.remove();
  });

  it('refuses new requests of a route whose answers all waited, answers its other routes, and finishes everything it took', async () => {
    const port = await proc.port;
    // 120 at once: about 33 answers a second, the k-th after k × 30 ms, so from the second second on every answer waited > 1 s.
    const started = Date.now();
    const crowd = Array.from({ length: 120 }, () => get(port, '/test-only/queued'));
    await sleep(started + 2300 - Date.now());
    const refused = await get(port, '/test-only/queued');
    expect(status(refused)).toBe('503 OVERLOADED');
    expect('headers' in refused && refused.headers['retry-after']).toBe('2');
    expect(refused.ms).toBeLessThan(500);
    expect(status(await get(port, '/test-only/work'))).toBe('200');
    expect(status(await get(port, '/healthz'))).toBe('200');
    // A window later the queue still stands (refusals are quick but are not answers that judge it).
    await sleep(started + 3200 - Date.now());
    expect(status(await get(port, '/test-only/queued'))).toBe('503 OVERLOADED');

    // Nothing already taken is dropped.
    expect((await Promise.all(crowd)).map(status).filter((s) => s !== '200')).toEqual([]);
    // Once the queue has drained, the route is judged afresh and takes work again.
    let after: Answer = { error: 'not tried', ms: 0 };
    for (let i = 0; i < 30 && status(after) !== '200'; i++) {
      await sleep(150);
      after = await get(port, '/test-only/queued');
    }
    expect(status(after)).toBe('200');
    expect('body' in after && after.body.handled).toBe(121);
  });
});
