import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import { LIVE_PATH } from '@dems/contracts';
import { createServiceApp, lifecycleOf, setLifecycle, type App } from '@dems/kit';
import { QUEUE_MIN_ANSWERS, QUEUE_WINDOW_MS } from '../src/standing-queues.js';

describe('a replica stage by stage (what runService sets on SIGTERM)', () => {
  let app: App;
  let handled = 0;
  beforeAll(async () => {
    app = await createServiceApp({ name: 'ticketing', description: 'admission test', isReady: () => true });
    app.get('/work', async () => ({ handled: ++handled }));
  });
  afterAll(() => app.close());

  it('serving: ready, and connections are kept', async () => {
    expect(lifecycleOf(app)).toBe('serving');
    expect((await app.inject('/readyz')).statusCode).toBe(200);
    const res = await app.inject('/work');
    expect(res.statusCode).toBe(200);
    expect(res.headers.connection).not.toBe('close');
  });

  it('draining: not ready, but what still arrives is served, closing its connection', async () => {
    setLifecycle(app, 'draining');
    const ready = await app.inject('/readyz');
    expect(ready.statusCode).toBe(503);
    expect(ready.json()).toEqual({ code: 'SHUTTING_DOWN', message: 'ticketing is stopping.', requestId: ready.headers['x-request-id'] });
    const before = handled;
    const res = await app.inject('/work');
    expect(res.statusCode).toBe(200);
    expect(res.headers.connection).toBe('close');
    expect(handled).toBe(before + 1);
  });

  it('refusing: new requests get 503 SHUTTING_DOWN in the one error shape and reach no handler; probes still answer', async () => {
    setLifecycle(app, 'refusing');
    const before = handled;
    const res = await app.inject({ method: 'GET', url: '/work', headers: { 'x-request-id': 'stop-1' } });
    expect(res.statusCode).toBe(503);
    expect(res.headers['retry-after']).toBe('1');
    expect(res.headers.connection).toBe('close');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.json()).toEqual({ code: 'SHUTTING_DOWN', message: 'ticketing is stopping and did nothing with this request; send it again.', requestId: 'stop-1' });
    expect(handled).toBe(before);
    expect((await app.inject('/healthz')).statusCode).toBe(200);
    expect((await app.inject('/readyz')).json()).toMatchObject({ code: 'SHUTTING_DOWN' });
    // Unknown routes too: nothing is looked at while the replica stops.
    expect((await app.inject('/nowhere')).json()).toMatchObject({ code: 'SHUTTING_DOWN' });
  });

  it('an app the factory did not make has no stage to change', () => {
    const other = {};
    setLifecycle(other, 'refusing');
    expect(lifecycleOf(other)).toBe('serving');
  });
});

describe('the standing-queue watch in an app', () => {
  it('sheds a route whose every answer waited, but never judges Socket.IO long polls (slow by design)', async () => {
    const app = await createServiceApp({ name: 'gateway', description: 'admission test', isReady: () => true, shedding: { maxQueueDelayMs: 50, maxEventLoopDelayMs: 0 } });
    const slowly = async () => {
      await sleep(100);
      return { ok: true };
    };
    app.get('/slow', slowly);
    app.get(`${LIVE_PATH}/*`, slowly);
    await app.ready();
    try {
      await sleep(QUEUE_WINDOW_MS + 100);
      await app.inject('/healthz'); // starts a fresh window now
      const started = Date.now();
      const answers = await Promise.all([
        ...Array.from({ length: QUEUE_MIN_ANSWERS }, () => app.inject('/slow')),
        ...Array.from({ length: QUEUE_MIN_ANSWERS }, () => app.inject(`${LIVE_PATH}/?EIO=4&transport=polling`)),
      ]);
      expect(answers.map((a) => a.statusCode).every((s) => s === 200)).toBe(true);
      await sleep(started + QUEUE_WINDOW_MS + 50 - Date.now());
      const slow = await app.inject('/slow');
      expect([slow.statusCode, slow.json().code]).toEqual([503, 'OVERLOADED']);
      expect((await app.inject(`${LIVE_PATH}/?EIO=4&transport=polling`)).statusCode).toBe(200);
    } finally {
      await app.close();
    }
  });
});
