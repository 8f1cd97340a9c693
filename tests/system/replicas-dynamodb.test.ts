// `npm start -- --replicas 2 --store dynamodb` on the test run's DynamoDB Local, with a REDIS_URL given: every
// replica runs on DynamoDB with that Redis, npm start starts no redis-server of its own, and a signed-in purchase
// through the gateway works.
import { afterEach, describe, expect, inject, it } from 'vitest';
import { uniqueTablePrefix } from '@dems/kit/testing';
import { startRedisServer } from '../../scripts/lib/redis.mjs';
import { client } from './helpers.js';
import { demsPerTest, expectReplicas, purchaseWorks, stopAndExpectNoneLeft } from './npm-start.js';

let redis: Awaited<ReturnType<typeof startRedisServer>> | undefined;
const startDems = demsPerTest();
afterEach(async () => redis?.stop());

const endpoint = inject('dynamodbEndpoint');

describe.skipIf(!endpoint)('npm start -- --replicas 2 --store dynamodb', () => {
  it('on DynamoDB Local, with a REDIS_URL given: no redis-server is started, every replica gets that URL', { timeout: 180_000 }, async () => {
    redis = await startRedisServer();
    const dems = startDems(['--replicas', '2', '--store', 'dynamodb'], {
      REDIS_URL: redis.url,
      DYNAMODB_ENDPOINT: endpoint,
      TABLE_PREFIX: uniqueTablePrefix('replicas'),
    });
    await dems.waitFor('✔ DEMS is running with 2 replicas of each service.', 110_000);
    expect(dems.output()).toContain(`Shared state       Redis at ${redis.url}\n`);
    const children = dems.children();
    expect(children.filter((c) => c.program === 'redis-server')).toEqual([]);
    await expectReplicas(children, dems.addresses(), redis.url);
    expect(children.every((c) => c.program === 'gateway' || (c.env.STORE === 'dynamodb' && c.env.DYNAMODB_ENDPOINT === endpoint))).toBe(true);

    await purchaseWorks(client(`${dems.addresses().gateway}/api`));
    await stopAndExpectNoneLeft(dems, children);
  });
});

if (!endpoint) {
  describe.skip(`npm start -- --replicas 2 --store dynamodb — skipped: ${inject('dynamodbSkipReason')}`, () => {
    it('runs when DynamoDB Local is available', () => {});
  });
}
