// Issue 11: a subscriber that answers slowly, then with 500s, for a while. The publisher's backlog grows, nothing
// is dead-lettered (an outage is not the messages' fault), and when the subscriber is well again the backlog
// drains and every message has been applied exactly once — although the slow phase made the relay send some twice.
//
// Real processes; between ticketing (and events) and engagement's inbox sits a FAKE proxy that injects the fault.
// The fault lasts DEMS_FAULT_WINDOW_SECONDS (default 20, at least 14; a full minute's outage is
// DEMS_FAULT_WINDOW_SECONDS=60): its first half slow, its second half 500s.
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, createEvent, eventually, waitOnSale } from '../system/helpers.js';
import { startFaultyInboxProxy } from './faulty-inbox-proxy.js';
import { reservePort } from '../../scripts/lib/ports.mjs';
import { sleep, startFaultSystem } from './helpers.js';

const WINDOW_S = Number(process.env.DEMS_FAULT_WINDOW_SECONDS ?? 20);
if (!Number.isFinite(WINDOW_S) || WINDOW_S < 14) {
  throw new Error(`DEMS_FAULT_WINDOW_SECONDS must be a number of seconds ≥ 14 (got "${process.env.DEMS_FAULT_WINDOW_SECONDS}").`);
}
/** Longer than the relay's HTTP timeout (5 s): the relay gives up although the subscriber applied the batch. */
const SLOW_MS = 6000;
/** A new purchase wave this often during the fault; three buyers each. */
const WAVE_EVERY_MS = 2000;
const WAVE_SIZE = 3;
/** The relay's backoff for an unreachable subscriber is capped at 60 s: draining may take that long, no more. */
const DRAIN_WITHIN_MS = 75_000;

/** What a service's /metrics says it still owes engagement: what an operator watching the outage sees. */
async function pendingOnMetrics(serviceUrl: string): Promise<number> {
  const text = await (await fetch(`${serviceUrl}/metrics`)).text();
  return Number(text.match(/^dems_outbox_pending\{subscriber="engagement"\} (\d+)$/m)?.[1] ?? NaN);
}

/** The outbox rows a service still owes engagement, and those dead-lettered, read from its real SQLite file. */
function owedToEngagement(file: string): { pending: number; dead: number } {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return db.prepare("SELECT COALESCE(SUM(dead = 0), 0) AS pending, COALESCE(SUM(dead = 1), 0) AS dead FROM outbox WHERE subscriber = 'engagement'").get() as {
      pending: number;
      dead: number;
    };
  } finally {
    db.close();
  }
}

describe(`fault: engagement's inbox slow, then failing, for ${WINDOW_S} s`, () => {
  let proxy: Awaited<ReturnType<typeof startFaultyInboxProxy>>;
  let t: Awaited<ReturnType<typeof startFaultSystem>>;
  beforeAll(async () => {
    // The proxy must know engagement's address before engagement starts, and every process the proxy's: a cycle
    // that only a reserved port breaks (engagement gets it, as the harness reserves one for its own cycles).
    const engagementPort = await reservePort();
    proxy = await startFaultyInboxProxy({ target: `http://127.0.0.1:${engagementPort}`, slowMs: SLOW_MS });
    t = await startFaultSystem({
      ports: { engagement: engagementPort },
      // Every process reaches engagement through the proxy. Three failures of its own dead-letter a message: if
      // the relay ever blamed the messages for the outage, they would be dead-lettered within seconds.
      env: { ENGAGEMENT_URL: proxy.url, OUTBOX_MAX_ATTEMPTS: '3' },
    });
  }, 120_000);
  afterAll(async () => {
    await t?.stop();
    await proxy?.close();
  });

  it('the backlog grows, nothing is dead-lettered, and it drains: every purchase notified exactly once', { timeout: WINDOW_S * 1000 + DRAIN_WITHIN_MS + 30_000 }, async () => {
    const ticketingDb = join(t.dataDir, 'ticketing.db');
    const eventsDb = join(t.dataDir, 'events.db');
    const ticketing = client(t.system.urls.ticketing);
    const engagement = client(t.system.urls.engagement);
    const organizer = await t.mint.user('organizer');
    const event = await createEvent(t.api, organizer.token, 1000);
    await waitOnSale(t.api, event.id);
    // Engagement has the event before the fault starts: what follows is only about the outage.
    await eventually(async () => (owedToEngagement(eventsDb).pending === 0 ? true : undefined), 10_000, 'EventPublished to reach engagement');

    const buyers: { id: string; token: string }[] = [];
    const backlog: number[] = [];
    const buyWave = async () => {
      const wave = await Promise.all(Array.from({ length: WAVE_SIZE }, () => t.mint.user()));
      const answers = await Promise.all(
        wave.map((b, i) =>
          ticketing.post('/orders', { eventId: event.id, ticketTypeId: event.ticketTypes[0]!.id, quantity: 1 }, b.token, { 'idempotency-key': `outage-${buyers.length + i}` }),
        ),
      );
      expect(answers.map((a) => a.status)).toEqual(wave.map(() => 201));
      buyers.push(...wave);
      backlog.push(owedToEngagement(ticketingDb).pending);
    };

    // The fault: purchases keep coming while engagement answers slowly, then fails.
    const started = Date.now();
    proxy.setFault('slow');
    while (Date.now() - started < WINDOW_S * 1000) {
      if (Date.now() - started >= (WINDOW_S * 1000) / 2) proxy.setFault('fail');
      await buyWave();
      await sleep(WAVE_EVERY_MS);
    }
    const atEnd = owedToEngagement(ticketingDb);
    const atEndOnMetrics = await pendingOnMetrics(t.system.urls.ticketing);
    proxy.setFault('pass');

    // Both faults happened, nothing was acknowledged during them, and the backlog only grew.
    expect(proxy.seen.slow).toBeGreaterThan(0);
    expect(proxy.seen.fail).toBeGreaterThan(0);
    expect(atEnd).toEqual({ pending: buyers.length, dead: 0 });
    expect(atEndOnMetrics).toBe(buyers.length);
    expect(backlog).toEqual([...backlog].sort((a, b) => a - b));
    expect(backlog[0]).toBeLessThan(backlog.at(-1)!);

    // It drains once engagement is well, without anything being dead-lettered.
    await eventually(async () => (owedToEngagement(ticketingDb).pending === 0 ? true : undefined), DRAIN_WITHIN_MS, 'the backlog to drain');
    expect(owedToEngagement(ticketingDb).dead).toBe(0);
    expect(await pendingOnMetrics(t.system.urls.ticketing)).toBe(0);

    // Every message applied exactly once: one confirmation per buyer, although some batches arrived twice.
    const duplicates = [...proxy.forwarded.values()].filter((n) => n > 1).length;
    expect(duplicates).toBeGreaterThan(0);
    const notified = await Promise.all(buyers.map(async (b) => (await engagement.get('/notifications', b.token)).body.items.map((n: { type: string }) => n.type)));
    expect(notified.filter((types) => types.join() !== 'order_confirmed')).toEqual([]);
  });
});
