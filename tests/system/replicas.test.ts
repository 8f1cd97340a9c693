// `npm start -- --replicas 2` on SQLite: two processes of each service behind one gateway (each service's replicas
// share its SQLite file), told about each other through URL lists, sharing state through a redis-server started for
// them, and signing with one key — the one a single engagement had made, so nobody is signed out by the switch.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { client } from './helpers.js';
import { reservePort } from '../../scripts/lib/ports.mjs';
import { demsPerTest, expectReplicas, purchaseWorks, stopAndExpectNoneLeft } from './npm-start.js';

const startDems = demsPerTest();

describe('npm start -- --replicas 2', () => {
  it(
    'on SQLite: every replica up with the URL lists and a redis-server started for them; users signed in with one replica stay signed in; a killed redis-server is restarted',
    { timeout: 180_000 },
    async () => {
      // One replica first, as a user had it: a signed-in user.
      const dataDir = mkdtempSync(join(tmpdir(), 'dems-replicas-'));
      const single = startDems([], {}, dataDir);
      await single.waitFor('✔ DEMS is running', 110_000);
      const ada = await client(`${single.addresses().gateway}/api`).account('attendee');
      expect(await single.interrupt()).toBe(0);

      const dems = startDems(['--replicas', '2'], {}, dataDir);
      await dems.waitFor('✔ DEMS is running with 2 replicas of each service.', 110_000);
      const out = dems.output();
      const addresses = dems.addresses();
      const api = client(`${addresses.gateway}/api`);
      expect(out).toContain(`Event Registration ${addresses.events.map((u) => `${u}/docs`).join('  ')}\n`);
      expect(out).toMatch(/Shared state {7}Redis at redis:\/\/127\.0\.0\.1:\d+ \(redis-server started here; nothing is kept on disk\)/);
      expect(out).toContain(`Signing key        from ${join(dataDir, 'engagement-signing-keys.json')}, the same for every engagement replica`);
      const children = dems.children();
      expect(children.filter((c) => c.program === 'redis-server')).toHaveLength(1);
      await expectReplicas(children, addresses, addresses.redis!);

      // Ada's token from the one-replica run: accepted through the gateway and by each engagement replica itself.
      expect((await api.get('/me', ada.token)).status).toBe(200);
      for (const url of addresses.engagement) expect((await client(url).get('/me', ada.token)).status).toBe(200);
      const jwks = await Promise.all(addresses.engagement.map((url) => fetch(`${url}/.well-known/jwks.json`).then((r) => r.json())));
      expect(jwks[1]).toEqual(jwks[0]);

      // redis-server dies: the supervisor restarts it, the replicas reconnect, and a purchase still works.
      const redis = children.find((c) => c.program === 'redis-server')!;
      process.kill(redis.pid, 'SIGKILL');
      await dems.waitFor(`✖ redis-server (pid ${redis.pid}) was killed by SIGKILL. Restarting it in 0.5 s (at `, 10_000);
      await dems.waitFor('✔ redis-server is running again', 20_000);

      await purchaseWorks(api);
      await stopAndExpectNoneLeft(dems, [...children, ...dems.children()]);
    },
  );

  it('without redis-server installed: the message says how to install it or what else to do, and nothing is left running', { timeout: 60_000 }, async () => {
    const dems = startDems(['--replicas', '2'], { PATH: '/nonexistent' });
    expect(await dems.exited).toBe(1);
    expect(dems.output()).toContain('`redis-server` was not found.\n  Install it:  sudo apt-get install -y redis-server');
    expect(dems.children()).toEqual([]);
  });

  it('--replicas 2 with ports that collide is refused, naming the settings', { timeout: 60_000 }, async () => {
    // events-2 would be events' port + 1: ticketing's port. Nothing listens on either: npm start refuses first.
    const events = await reservePort();
    const dems = startDems(['--replicas', '2'], { EVENTS_PORT: String(events), TICKETING_PORT: String(events + 1), REPLICA_PORT_STEP: '1' });
    expect(await dems.exited).toBe(1);
    expect(dems.output()).toContain(
      `✖ events-2 and ticketing would both listen on port ${events + 1}: choose GATEWAY_PORT, EVENTS_PORT, TICKETING_PORT, ENGAGEMENT_PORT and REPLICA_PORT_STEP so that they differ.`,
    );
  });
});
