// `npm start` keeps the system serving when one process dies: the supervisor restarts it and says so, the others
// never stop answering, no purchase made meanwhile loses its confirmation, and Ctrl-C leaves no process behind.
// A crash loop (a restart that cannot succeed) stops everything with a report.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { client, createEvent, eventually, waitOnSale } from './helpers.js';
import { demsPerTest, isRunning, only } from './npm-start.js';

const startDems = demsPerTest();

describe('npm start supervises its processes', () => {
  it(
    'SIGKILL engagement: the gateway, events and ticketing keep answering; it is restarted; every buyer gets exactly one confirmation; Ctrl-C stops all',
    { timeout: 120_000 },
    async () => {
      const dems = startDems();
      await dems.waitFor('✔ DEMS is running', 110_000);
      const { gateway } = dems.addresses();
      const api = client(`${gateway}/api`);
      const organizer = await api.account('organizer');
      const event = await createEvent(api, organizer.token, 100);
      await waitOnSale(api, event.id);
      const buyers = await Promise.all(Array.from({ length: 8 }, (_, i) => api.account('attendee', `buyer-${i}-${Date.now()}`)));
      const started = dems.children();
      expect(started.map((c) => c.program).sort()).toEqual(['engagement', 'events', 'gateway', 'ticketing']);
      const engagement = only(started, 'engagement');

      // Poll the others through the gateway the whole time engagement is down and restarting.
      const answers: { path: string; status: number }[] = [];
      let polling = true;
      const poll = (async () => {
        while (polling) {
          for (const path of ['/events', `/availability/${event.id}`, '/me']) {
            const status = await fetch(`${gateway}/api${path}`, { headers: { authorization: `Bearer ${buyers[0]!.token}` } })
              .then((r) => r.status)
              .catch(() => 0);
            answers.push({ path, status });
          }
          await new Promise((r) => setTimeout(r, 50));
        }
      })();

      process.kill(engagement.pid, 'SIGKILL');
      // Buyers buy while engagement is down, and while it restarts: half at once, half a little later.
      const buy = (b: (typeof buyers)[number], i: number) =>
        api.post('/orders', { eventId: event.id, ticketTypeId: event.ticketTypes[0]!.id, quantity: 1 }, b.token, { 'idempotency-key': `buyer-${i}` });
      const early = await Promise.all(buyers.slice(0, 4).map(buy));
      await new Promise((r) => setTimeout(r, 400));
      const late = await Promise.all(buyers.slice(4).map((b, i) => buy(b, i + 4)));
      await dems.waitFor('✔ engagement is running again', 30_000);
      // Through the gateway too, once it has probed the restarted engagement back into rotation.
      await eventually(async () => ((await api.get('/me', buyers[0]!.token)).status === 200 ? true : undefined), 15_000, 'engagement answering again');
      polling = false;
      await poll;

      expect([...early, ...late].map((r) => r.status)).toEqual(Array(8).fill(201));
      const out = dems.output();
      const logFile = join(dems.dataDir, 'logs', 'engagement.log');
      expect(out).toContain(`✖ engagement (pid ${engagement.pid}) was killed by SIGKILL; log: ${logFile}. Restarting it in 0.5 s (at `);
      expect(out).toMatch(/✔ engagement is running again \(pid \d+, restart 1\)\./);
      // Events and ticketing never failed; engagement (/me) was seen down.
      expect(answers.filter((a) => a.path !== '/me' && a.status !== 200)).toEqual([]);
      const me = answers.filter((a) => a.path === '/me').map((a) => a.status);
      expect(me.some((s) => s !== 200)).toBe(true);
      const now = dems.children();
      expect(only(now, 'engagement').pid).not.toBe(engagement.pid);
      // The others are the very same processes: nothing else was restarted.
      for (const name of ['events', 'ticketing', 'gateway']) {
        expect(now.find((c) => c.program === name)!.pid).toBe(started.find((c) => c.program === name)!.pid);
      }

      // Each buyer: exactly one confirmation, also after the relay had time to (wrongly) deliver twice.
      const confirmations = async (b: (typeof buyers)[number]) => {
        const r = await api.get('/notifications', b.token);
        return r.status === 200 ? r.body.items.filter((n: { type: string }) => n.type === 'order_confirmed').length : -1;
      };
      await eventually(async () => ((await Promise.all(buyers.map(confirmations))).every((n) => n >= 1) ? true : undefined), 30_000, 'every confirmation');
      await new Promise((r) => setTimeout(r, 1500));
      expect(await Promise.all(buyers.map(confirmations))).toEqual(Array(8).fill(1));

      expect(await dems.interrupt()).toBe(0);
      expect(dems.output()).toContain('✔ Stopped.');
      expect(now.filter((c) => isRunning(c.pid))).toEqual([]);
    },
  );

  it('a restart that cannot succeed (a damaged key file) is a crash loop: everything stops, with the report', { timeout: 120_000 }, async () => {
    const dems = startDems();
    await dems.waitFor('✔ DEMS is running', 110_000);
    const children = dems.children();
    const engagement = only(children, 'engagement');
    writeFileSync(join(dems.dataDir, 'engagement-signing-keys.json'), '{"keys": "damaged by the test"}');
    process.kill(engagement.pid, 'SIGKILL');

    expect(await Promise.race([dems.exited, new Promise((r) => setTimeout(() => r('still running'), 60_000))])).toBe(1);
    const out = dems.output();
    expect(out).toContain('✖ engagement did not start: engagement exited during start-up (code 78); log: ');
    expect(out).toMatch(
      /✖ engagement did not start 3 times in a row \(last: engagement exited during start-up \(code 78\)\)\. Stopping everything\.\n {2}The end of its log, .*engagement\.log:\n/,
    );
    expect(out).toMatch(/│ .*The signing-key file .*engagement-signing-keys\.json is damaged/);
    expect(out).toContain('✔ Stopped.');
    expect(children.filter((c) => isRunning(c.pid))).toEqual([]);
    expect(readFileSync(join(dems.dataDir, 'engagement-signing-keys.json'), 'utf8')).toContain('damaged by the test');
  });

  it('--replicas out of range is refused with a clear error, before anything starts', async () => {
    const dems = startDems(['--replicas', '9']);
    expect(await dems.exited).toBe(2);
    expect(dems.output()).toBe('✖ --replicas must be a whole number from 1 to 8 (got "9"). Usage: npm start [-- --no-demo] [--store sqlite|dynamodb] [--replicas 1-8]\n');
  });
});
