// Issue 11: SIGKILL one of three ticketing processes during a 1,000-buyer sale. Buyers retry a failed purchase
// with the same Idempotency-Key on another replica. Nothing may be sold twice, lost, or answered differently on a
// retry. Run on SQLite (three processes on one file) and on DynamoDB Local, one test file each.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, createEvent, waitOnSale } from '../system/helpers.js';
import { buyWithRetries, pool, startFaultSystem, type Attempt } from './helpers.js';

const BUYERS = 1000;
const CAPACITY = 300;
/** Purchases in flight at once: enough to keep three processes busy on two cores, few enough to stay quick. */
const IN_FLIGHT = 50;
/** The victim dies once this many buyers have their answer: early, so retries still find seats on sale. */
const KILL_AFTER = 30;

type Answer = Extract<Attempt, { status: number }>;

/**
 * The sale on one store: `env` (a function, so that a skipped suite never computes it) configures the store of
 * every process; `skip` says why the suite cannot run here.
 */
export function describeKilledMidSale(store: string, env: () => Record<string, string>, skip?: string) {
  describe.skipIf(Boolean(skip))(`fault: a ticketing replica SIGKILLed mid-sale, ${store}${skip ? ` — skipped: ${skip}` : ''}`, () => {
    let t: Awaited<ReturnType<typeof startFaultSystem>>;
    beforeAll(async () => {
      t = await startFaultSystem({ extraTicketing: 2, env: env() });
    }, 120_000);
    afterAll(async () => t?.stop());

    it(`${BUYERS} buyers, capacity ${CAPACITY}: no oversell, every 201 has its tickets, every retried key keeps its first order`, { timeout: 120_000 }, async () => {
      const replicas = ['ticketing', 'ticketing-2', 'ticketing-3'].map((instance) => t.system.urlOf(instance));
      const victim = t.system.running.get('ticketing-2')!;
      const organizer = await t.mint.user('organizer');
      const event = await createEvent(t.api, organizer.token, CAPACITY);
      await waitOnSale(t.api, event.id);
      const ticketTypeId = event.ticketTypes[0]!.id;
      const buyers = await Promise.all(Array.from({ length: BUYERS }, () => t.mint.user()));

      let answered = 0;
      let inFlight = 0;
      let inFlightAtKill = -1;
      const sale = await pool(buyers, IN_FLIGHT, async (buyer, i) => {
        const quantity = 1 + (i % 2);
        inFlight++;
        const tries = await buyWithRetries({
          bases: replicas,
          first: i % replicas.length,
          token: buyer.token,
          key: `sale-${i}`,
          body: { eventId: event.id, ticketTypeId, quantity },
        });
        inFlight--;
        if (++answered === KILL_AFTER) {
          inFlightAtKill = inFlight;
          victim.child.kill('SIGKILL');
        }
        return { buyer, quantity, key: `sale-${i}`, tries, last: tries.at(-1)! };
      });

      // The fault happened mid-sale and was felt: some buyers had no answer at first and tried again.
      expect(inFlightAtKill).toBeGreaterThan(0);
      expect(victim.child.signalCode).toBe('SIGKILL');
      const retried = sale.filter((s) => s.tries.length > 1);
      expect(retried.length).toBeGreaterThan(0);
      // …and seats were still on sale when they did, so retries bought some of them.
      expect(retried.filter((s) => (s.last as Answer).status === 201).length).toBeGreaterThan(0);

      // Every buyer ends with an answer: a 201, or 409 SOLD_OUT. No buyer is left with an error.
      const unanswered = sale.filter((s) => 'error' in s.last || ![201, 409].includes(s.last.status));
      expect(unanswered.map((s) => s.tries)).toEqual([]);
      const bought = sale.filter((s) => (s.last as Answer).status === 201);
      expect(sale.filter((s) => (s.last as Answer).status === 409).every((s) => (s.last as Answer).body.code === 'SOLD_OUT')).toBe(true);

      // 0 oversell; sold = the tickets in the 201 answers.
      const soldInAnswers = bought.reduce((n, s) => n + s.quantity, 0);
      const availability = (await client(replicas[0]!).get(`/availability/${event.id}`)).body.ticketTypes[0];
      expect(availability.sold).toBeLessThanOrEqual(CAPACITY);
      expect(availability.sold).toBe(soldInAnswers);
      expect(availability.remaining).toBeLessThan(2); // sold out: what is left is less than the largest purchase
      const orderIds = bought.map((s) => (s.last as Answer).body.id as string);
      expect(new Set(orderIds).size).toBe(bought.length);

      // The store holds exactly the orders that were answered: each buyer has the order of its 201, with its
      // tickets, or none at all.
      const survivor = client(replicas[0]!);
      const stored = await pool(sale, IN_FLIGHT, async (s) => (await survivor.get('/orders', s.buyer.token)).body.items as { id: string; quantity: number; tickets: unknown[] }[]);
      expect(stored.reduce((n, items) => n + items.length, 0)).toBe(bought.length);
      expect(stored.reduce((n, items) => n + items.reduce((m, o) => m + o.tickets.length, 0), 0)).toBe(availability.sold);
      for (const [i, s] of sale.entries()) {
        const answer = s.last as Answer;
        if (answer.status === 201) expect(stored[i]!.map((o) => [o.id, o.quantity, o.tickets.length])).toEqual([[answer.body.id, s.quantity, s.quantity]]);
        else expect(stored[i]).toEqual([]);
      }
      const fetched = await pool(bought, IN_FLIGHT, async (s) => (await survivor.get(`/orders/${(s.last as Answer).body.id}`, s.buyer.token)).body);
      expect(fetched.filter((o, i) => o.tickets?.length !== bought[i]!.quantity || o.status !== 'confirmed')).toEqual([]);

      // Every retried key, tried once more on a surviving replica, returns its first answer and creates nothing.
      const again = await pool(retried, IN_FLIGHT, async (s) =>
        buyWithRetries({ bases: [replicas[2]!], first: 0, token: s.buyer.token, key: s.key, body: { eventId: event.id, ticketTypeId, quantity: s.quantity } }),
      );
      for (const [i, s] of retried.entries()) {
        const first = s.last as Answer;
        const replay = again[i]!.at(-1) as Answer;
        expect(replay.status).toBe(first.status);
        if (first.status === 201) expect([replay.body.id, replay.replayed]).toEqual([first.body.id, true]);
      }
      expect((await survivor.get(`/availability/${event.id}`)).body.ticketTypes[0].sold).toBe(soldInAnswers);
    });
  });
}
