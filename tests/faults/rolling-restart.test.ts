// Issue 11: a rolling restart of every service under steady load. Two replicas of events, ticketing and
// engagement behind the gateway (sharing state through a redis-server), mixed reads and purchases with
// Idempotency-Keys through the gateway, each retried only as the web app does (503 or no answer). Every replica,
// then the gateway, is stopped with SIGTERM and started again, one at a time. The clients may see 503s and
// refused connections that a retry then gets past, never any other 5xx, and every acknowledged purchase exists.
import { io } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, createEvent, eventually, waitOnSale } from '../system/helpers.js';
import { attempt, sleep, startFaultSystem, WEB_APP_RETRIES, withRetries, type Attempt } from './helpers.js';

const WORKERS = 4;
/** How long the gateway may take to see that a replica is back (kit upstreams.ts, probeMaxMs default). */
const GATEWAY_PROBE_MAX_MS = 2000;
const BUYERS = 24;
/** Every instance, one at a time; the gateway last (it is one process, so its clients wait for the new one). */
const ROLLING_ORDER = ['events', 'events-2', 'ticketing', 'ticketing-2', 'engagement', 'engagement-2', 'gateway'];

type Answer = Extract<Attempt, { status: number }>;
const isAnswer = (a: Attempt): a is Answer => 'status' in a;

describe('fault: a rolling restart of every service under steady load (two replicas each)', () => {
  let t: Awaited<ReturnType<typeof startFaultSystem>>;
  beforeAll(async () => {
    t = await startFaultSystem({ replicas: 2 });
  }, 120_000);
  afterAll(async () => t?.stop());

  it('no client-visible 5xx but retried 503s, every acknowledged purchase exists, live sockets come back', { timeout: 150_000 }, async () => {
    const gateway = `${t.system.urls.gateway}/api`;
    const organizer = await t.mint.user('organizer');
    const event = await createEvent(t.api, organizer.token, 100_000);
    await waitOnSale(t.api, event.id);
    const buyers = await Promise.all(Array.from({ length: BUYERS }, () => t.mint.user()));

    // A signed-in person with the web app's live socket through the gateway (sockets need a real session).
    const listener = await t.api.account('attendee');
    const socket = io(t.system.urls.gateway, { auth: { token: listener.token }, transports: ['websocket'], reconnectionDelay: 200, reconnectionDelayMax: 1000 });
    /** What is being restarted at the moment: failures say when they happened. */
    let phase = 'before the restarts';
    const disconnects: { phase: string; reason: string }[] = [];
    const pushed: string[] = [];
    socket.on('disconnect', (reason) => disconnects.push({ phase, reason }));
    socket.on('notification', (n: { type: string; body: string }) => pushed.push(n.body));
    await eventually(async () => (socket.connected ? true : undefined), 10_000, 'the live socket to connect');

    // Steady load: each worker cycles through a purchase and three reads, each retried as the web app does.
    const requests: { what: string; phase: string; tries: Attempt[] }[] = [];
    const acknowledged: { buyer: (typeof buyers)[number]; id: string }[] = [];
    let running = true;
    const worker = async (w: number) => {
      for (let n = 0; running; n++) {
        const buyer = buyers[(w + n * WORKERS) % BUYERS]!;
        const headers = { authorization: `Bearer ${buyer.token}` };
        const [what, send] = [
          [
            'POST /orders',
            () =>
              attempt('POST', `${gateway}/orders`, {
                body: { eventId: event.id, ticketTypeId: event.ticketTypes[0]!.id, quantity: 1 },
                headers: { ...headers, 'idempotency-key': `roll-${w}-${n}` },
              }),
          ],
          ['GET /events/:id', () => attempt('GET', `${gateway}/events/${event.id}`)],
          ['GET /availability/:id', () => attempt('GET', `${gateway}/availability/${event.id}`)],
          ['GET /notifications', () => attempt('GET', `${gateway}/notifications`, { headers })],
        ][n % 4] as [string, () => Promise<Attempt>];
        const startedIn = phase;
        const tries = await withRetries(send, WEB_APP_RETRIES);
        requests.push({ what, phase: startedIn, tries });
        const last = tries.at(-1)!;
        if (what === 'POST /orders' && isAnswer(last) && last.status === 201) acknowledged.push({ buyer, id: last.body.id });
        await sleep(20);
      }
    };
    const load = Promise.all(Array.from({ length: WORKERS }, (_, w) => worker(w)));

    // The rolling restart: each instance stops gracefully (SIGTERM, exit 0) and starts again, while the load runs.
    const exits: Record<string, [number | null, string | null]> = {};
    const servedDuring: Record<string, number> = {};
    try {
      await sleep(1000);
      for (const instance of ROLLING_ORDER) {
        phase = `restarting ${instance}`;
        const before = requests.length;
        const { child, url } = t.system.running.get(instance)!;
        await t.system.stop(instance);
        exits[instance] = [child.exitCode, child.signalCode];
        // Back where the gateway and the other replicas were told it is (its port was read back once, at the start).
        expect((await t.system.start(instance)).url).toBe(url);
        phase = `after restarting ${instance}`;
        // Like a readiness gate (Kubernetes' minReadySeconds) before the next replica stops: the gateway probes a
        // replica it took out of rotation at most every 2 s (kit Upstreams' probeMaxMs), so after this the new process
        // is back in rotation and taking load.
        await sleep(GATEWAY_PROBE_MAX_MS + 500);
        servedDuring[instance] = requests.length - before;
      }
      phase = 'after the restarts';
    } finally {
      running = false;
      await load;
    }

    if (process.env.DEMS_FAULT_DUMP) (await import('node:fs')).writeFileSync(process.env.DEMS_FAULT_DUMP, JSON.stringify({ requests, exits, servedDuring, disconnects }));
    // Every process stopped by itself, cleanly, and the load kept being served through each restart.
    expect(exits).toEqual(Object.fromEntries(ROLLING_ORDER.map((i) => [i, [0, null]])));
    for (const instance of ROLLING_ORDER) expect(servedDuring[instance], instance).toBeGreaterThan(0);

    // No request failed in the end, and no try saw a 5xx other than a 503 (which the web app retries).
    const failed = requests.filter((r) => {
      const last = r.tries.at(-1)!;
      return !isAnswer(last) || last.status >= 300;
    });
    expect(failed).toEqual([]);
    const otherFiveXx = requests.flatMap((r) => r.tries.filter((a) => isAnswer(a) && a.status >= 500 && a.status !== 503).map((a) => ({ what: r.what, a })));
    expect(otherFiveXx).toEqual([]);

    // Every acknowledged purchase exists, once; nothing else was sold.
    const api = client(gateway);
    const ordersOf = async (token: string): Promise<string[]> => {
      const ids: string[] = [];
      for (let cursor = ''; ;) {
        const page = (await api.get(`/orders?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, token)).body;
        ids.push(...page.items.map((o: { id: string }) => o.id));
        if (!page.nextCursor) return ids;
        cursor = page.nextCursor;
      }
    };
    const stored = await Promise.all(buyers.map(async (b) => (await ordersOf(b.token)).sort()));
    const expected = buyers.map((b) =>
      acknowledged
        .filter((a) => a.buyer === b)
        .map((a) => a.id)
        .sort(),
    );
    expect(stored).toEqual(expected);
    expect((await api.get(`/availability/${event.id}`)).body.ticketTypes[0].sold).toBe(acknowledged.length);

    // The live socket was closed by the restarts (never for good) and came back; pushes reach it again.
    expect(disconnects.length).toBeGreaterThan(0);
    expect(disconnects.filter((d) => d.reason === 'io server disconnect')).toEqual([]);
    await eventually(async () => (socket.connected ? true : undefined), 10_000, 'the live socket to reconnect');
    const last = await api.post('/orders', { eventId: event.id, ticketTypeId: event.ticketTypes[0]!.id, quantity: 2 }, listener.token, { 'idempotency-key': 'after-the-restart' });
    expect(last.status).toBe(201);
    await eventually(async () => (pushed.some((b) => b.includes('2 tickets')) ? true : undefined), 10_000, 'the push after the restart');
    socket.close();
  });
});
