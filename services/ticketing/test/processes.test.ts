import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TOKEN_AUDIENCE, TOKEN_ISSUER } from '@dems/kit';
import { signedHeaders, tempDir, TEST_SECRET } from '@dems/kit/testing';
import { eventSnapshot, published, ticketType } from './fixtures.js';

/**
 * The claim the SQLite adapter rests on: BEGIN IMMEDIATE serializes writers across OS processes, so two
 * ticketing processes sharing one file never oversell. In-process tests cannot show that (better-sqlite3
 * is synchronous), so this one bundles main.ts the way `npm run build` does and starts it twice.
 */
const serviceDir = fileURLToPath(new URL('..', import.meta.url));
const bundle = `${serviceDir}dist/main.process-test.js`;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

describe('two ticketing processes on one SQLite file', () => {
  const data = tempDir('ticketing-procs-');
  const procs: ChildProcess[] = [];
  const urls: string[] = [];
  let tokenFor: (sub: string) => Promise<string>;

  beforeAll(async () => {
    await build({
      entryPoints: [`${serviceDir}src/main.ts`],
      outfile: bundle,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      logLevel: 'warning',
      plugins: [
        {
          name: 'external-dependencies',
          setup: (b) => b.onResolve({ filter: /^[^./]/ }, (a) => (a.path.startsWith('@dems/') ? undefined : { path: a.path, external: true })),
        },
      ],
    });
    // Engagement is not running: the processes verify tokens with the key set cached in the data directory.
    const { publicKey, privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'EdDSA', use: 'sig' };
    writeFileSync(`${data.path}/jwks-cache-ticketing.json`, JSON.stringify({ keys: [jwk] }));
    tokenFor = (sub) =>
      new SignJWT({ role: 'attendee', email: `${sub}@example.com`, name: sub })
        .setProtectedHeader({ alg: 'EdDSA', kid: 'k1' })
        .setSubject(sub)
        .setIssuer(TOKEN_ISSUER)
        .setAudience(TOKEN_AUDIENCE)
        .setExpirationTime('15m')
        .sign(privateKey);

    const nowhere = `http://127.0.0.1:${await freePort()}`;
    for (let i = 0; i < 2; i++) {
      const port = await freePort();
      urls.push(`http://127.0.0.1:${port}`);
      procs.push(
        spawn(process.execPath, [bundle], {
          env: {
            ...process.env,
            TICKETING_PORT: String(port),
            DATA_DIR: data.path,
            SERVICE_SECRET: TEST_SECRET,
            LOG_LEVEL: 'error',
            SQLITE_SYNCHRONOUS: 'NORMAL',
            EVENTS_URL: nowhere,
            ENGAGEMENT_URL: nowhere,
            TICKETING_URL: urls[i],
          },
          stdio: ['ignore', 'ignore', 'inherit'],
        }),
      );
    }
    for (const url of urls) {
      for (let tries = 0; ; tries++) {
        const ok = await fetch(`${url}/readyz`).then((r) => r.ok, () => false);
        if (ok) break;
        if (tries > 200) throw new Error(`${url} did not become ready`);
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  });

  afterAll(async () => {
    await Promise.all(procs.map((p) => new Promise((resolve) => (p.exitCode !== null ? resolve(null) : (p.once('exit', resolve), p.kill('SIGTERM'))))));
    data.cleanup();
  });

  it('sells exactly the capacity to 300 concurrent buyers, answers everyone else 409, and shuts down cleanly', async () => {
    const hot = eventSnapshot({ id: 'evt_hot', ticketTypes: [ticketType({ id: 'tt_hot', capacity: 100 })] });
    const payload = JSON.stringify({ messages: [published(hot)] });
    const delivered = await fetch(`${urls[0]}/internal/messages`, { method: 'POST', headers: signedHeaders(payload), body: payload });
    expect(delivered.status).toBe(200);

    const tokens = await Promise.all(Array.from({ length: 40 }, (_, i) => tokenFor(`usr_${i}`)));
    const results = await Promise.all(
      Array.from({ length: 300 }, async (_, i) => {
        const res = await fetch(`${urls[i % 2]}/orders`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${tokens[i % 40]}`, 'idempotency-key': randomUUID() },
          body: JSON.stringify({ eventId: 'evt_hot', ticketTypeId: 'tt_hot', quantity: (i % 3) + 1 }),
        });
        return { status: res.status, body: (await res.json()) as { quantity?: number; code?: string } };
      }),
    );
    const sold = results.filter((r) => r.status === 201).reduce((sum, r) => sum + (r.body.quantity ?? 0), 0);
    expect(sold).toBe(100);
    expect(results.every((r) => r.status === 201 || (r.status === 409 && r.body.code === 'SOLD_OUT'))).toBe(true);
    for (const url of urls) {
      const availability = (await (await fetch(`${url}/availability/evt_hot`)).json()) as { ticketTypes: { sold: number; remaining: number }[] };
      expect(availability.ticketTypes[0]).toMatchObject({ sold: 100, remaining: 0 });
    }

    const exits = procs.map((p) => new Promise<number | null>((resolve) => p.once('exit', resolve)));
    procs.forEach((p) => p.kill('SIGTERM'));
    expect(await Promise.all(exits)).toEqual([0, 0]);
  }, 60_000);
});
