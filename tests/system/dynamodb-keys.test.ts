import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dynamoTestTarget, uniqueTablePrefix } from '@dems/kit/testing';
import { dynamoCapacityEnv, keyUnits, outboxPending, readCapacityLog } from '../../bench/lib/capacity-log.mjs';
import { ANY_PORTS, startSystem } from '../../scripts/lib/system.mjs';
import { client, eventually, inDays } from './helpers.js';

// Hot keys on the purchase path, measured: a simulated sale of one event through the real processes on DynamoDB
// Local with 32 inventory shards, every DynamoDB call logged with the partition keys it wrote (table and index;
// DYNAMODB_CAPACITY_LOG). Each key's write units per order, scaled to 10,000 orders/s, must stay within the
// 1,000 WCU/s a DynamoDB partition sustains. Every order has its own buyer, as in a real sale: keys that are per
// order or per user are then naturally tiny, and what the test finds are event-wide keys (a constant index key,
// an index keyed by event, an inventory shard, an outbox bucket).

const dynamo = dynamoTestTarget();

const SHARDS = 32;
const ORDERS = Number(process.env.DEMS_KEYS_ORDERS ?? 600);
const CONCURRENCY = 20;
const ORDERS_PER_SECOND = 10_000;
const PARTITION_WCU = 1_000;

/**
 * The most a key may show in this sample. Shards (and outbox buckets) are picked at random, so in a sample of a few
 * hundred orders each one's share scatters around its mean (at 10,000 orders/s it is that mean within a few per
 * cent): a shard written 2 units per order averages 625 WCU/s, yet one of 32 reads 1,200 in a 300-order sample now
 * and then. A key fails when it shows more than a key exactly at 1,000 WCU/s would show in 3 standard deviations
 * of sampling (Poisson): with 600 orders that is 1.55× the line for a 2-unit key, which a shard averaging 625 WCU/s
 * reaches about once in 60 million samples (binomial; any of the 32: once in 2 million), while a key at twice the
 * line fails 97 % of the time, and the hot keys this test exists for (one per event, one per subscriber: 10,000+
 * WCU/s) fail every time.
 */
function allowance(units: number, writes: number): number {
  const unitsPerWrite = units / writes;
  const writesAtLine = (PARTITION_WCU / ORDERS_PER_SECOND) * (ORDERS / unitsPerWrite);
  return PARTITION_WCU * (1 + 3 / Math.sqrt(writesAtLine));
}

if (dynamo.skip) {
  describe.skip(`DynamoDB key distribution — skipped: ${dynamo.skip}`, () => {
    it('runs when DynamoDB Local is available', () => {});
  });
}

describe.skipIf(!dynamo.endpoint)(`hot keys: a sale of ${ORDERS} orders of one event, ${SHARDS} inventory shards, real processes on DynamoDB Local`, () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'dems-system-keys-'));
  const log = join(dataDir, 'dynamodb-capacity.jsonl');
  const prefix = uniqueTablePrefix('keys');
  let system: Awaited<ReturnType<typeof startSystem>>;
  /** Tokens the way engagement would issue them: signing up thousands of buyers (scrypt) measures nothing here. */
  let tokenFor: (role: 'organizer' | 'attendee') => Promise<string>;

  beforeAll(async () => {
    const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
    const jwk = { ...(await exportJWK(privateKey)), kid: 'keys-test' };
    tokenFor = async (role) => {
      const id = `usr_${randomUUID().replaceAll('-', '')}`;
      const iat = Math.floor(Date.now() / 1000);
      return new SignJWT({ role, email: `${id}@keys.example`, name: `Buyer ${id.slice(-6)}` })
        .setProtectedHeader({ alg: 'EdDSA', kid: 'keys-test', typ: 'JWT' })
        .setSubject(id)
        .setIssuer('dems-engagement')
        .setAudience('dems')
        .setIssuedAt(iat)
        .setExpirationTime(iat + 3600)
        .sign(privateKey);
    };
    system = await startSystem({
      dataDir,
      ports: ANY_PORTS,
      env: {
        LOG_LEVEL: 'warn',
        SERVICE_SECRET: 'system-test-secret-0123456789',
        JWT_SIGNING_KEY: JSON.stringify(jwk),
        ...dynamoCapacityEnv({ endpoint: dynamo.endpoint!, tablePrefix: prefix, log }),
        INVENTORY_SHARDS: String(SHARDS),
        ORDERS_PER_USER_PER_MINUTE: '100000',
      },
    });
  }, 120_000);

  afterAll(async () => {
    await system?.stopAll();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it(`no partition key takes more than ${PARTITION_WCU} WCU/s at ${ORDERS_PER_SECOND.toLocaleString('en')} orders/s`, { timeout: 600_000 }, async () => {
    const events = client(system.urls.events);
    const ticketing = client(system.urls.ticketing);
    const created = await events.post(
      '/events',
      {
        title: 'The Grand Midsummer Jazz and Blues Night at the Old Harbour!',
        description: 'A sale',
        venue: 'Harbour Hall',
        timezone: 'Europe/Lisbon',
        ...inDays(30),
        ticketTypes: [{ name: 'General', priceCents: 2500, currency: 'EUR', capacity: ORDERS * 4 + 100 }],
      },
      await tokenFor('organizer'),
    );
    expect(created.status).toBe(201);
    const event = created.body as { id: string; ticketTypes: { id: string }[] };
    await eventually(async () => ((await ticketing.get(`/availability/${event.id}`)).status === 200 ? true : undefined), 15_000, 'the event on sale');
    const buyers = await Promise.all(Array.from({ length: ORDERS }, () => tokenFor('attendee')));

    const from = Date.now();
    let next = 0;
    const statuses: number[] = [];
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < ORDERS) {
          const i = next++;
          const res = await ticketing.post('/orders', { eventId: event.id, ticketTypeId: event.ticketTypes[0]!.id, quantity: 1 + (i % 4) }, buyers[i], {
            'idempotency-key': `sale-${i}`,
          });
          statuses.push(res.status);
        }
      }),
    );
    const sold = Date.now();
    expect(statuses.filter((s) => s !== 201)).toEqual([]);
    // Settled: every OrderPlaced delivered (and so applied by engagement) and deleted from ticketing's outbox.
    await eventually(async () => ((await outboxPending(system.urls.ticketing)) === 0 ? true : undefined), 120_000, 'an empty ticketing outbox');
    const to = Date.now();
    await new Promise((r) => setTimeout(r, 500)); // the last lines reach the file

    const perKey = [...keyUnits(readCapacityLog(log, { from, to }), prefix)]
      .map(([key, { units, writes }]) => ({ key, writes, perOrder: units / ORDERS, wcuPerSecond: (units / ORDERS) * ORDERS_PER_SECOND, allowed: allowance(units, writes) }))
      .sort((a, b) => b.wcuPerSecond - a.wcuPerSecond);
    // `Table.Index:?` sums the writes whose index key the requests do not show (a Delete, an Update that leaves
    // the key alone): together they bound any one of those keys, so they are held to the same line.
    const unattributed = perKey.filter((k) => k.key.endsWith(':?'));
    const keys = perKey.filter((k) => !k.key.endsWith(':?'));
    const fmt = (k: (typeof perKey)[number]) =>
      `  ${k.wcuPerSecond.toFixed(0).padStart(7)} WCU/s  ${k.perOrder.toFixed(4).padStart(8)} units per order  ${String(k.writes).padStart(5)} writes  (sample allows ${k.allowed.toFixed(0)})  ${k.key}`;
    console.log(
      [
        `${ORDERS} orders in ${((sold - from) / 1000).toFixed(1)} s (${(ORDERS / ((sold - from) / 1000)).toFixed(0)}/s on DynamoDB Local), settled after ${((to - from) / 1000).toFixed(1)} s; ${keys.length} partition keys written`,
        `top 10 keys at ${ORDERS_PER_SECOND.toLocaleString('en')} orders/s:`,
        ...keys.slice(0, 10).map(fmt),
        ...(unattributed.length ? ['index or table writes whose key the requests do not show:', ...unattributed.map(fmt)] : []),
      ].join('\n'),
    );

    expect(keys.length).toBeGreaterThan(ORDERS); // per-order keys are there: the log saw the sale
    expect(perKey.filter((k) => k.wcuPerSecond > k.allowed).map((k) => `${k.key}: ${k.wcuPerSecond.toFixed(0)} WCU/s`)).toEqual([]);
  });
});
