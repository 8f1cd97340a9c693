import { afterEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import { CachedJwks, ConfigError, loadConfig, Upstreams, urlList } from '@dems/kit';
import { replicaStandIn, tempDir, type ReplicaStandIn } from '@dems/kit/testing';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function standIns(...names: string[]): Promise<ReplicaStandIn[]> {
  const replicas = await Promise.all(names.map(replicaStandIn));
  cleanups.push(() => Promise.all(replicas.map((r) => r.stop().catch(() => {}))));
  return replicas;
}

function upstreamsOf(replicas: { url: string }[], opts: { probeMinMs?: number; probeMaxMs?: number } = {}): Upstreams {
  const upstreams = new Upstreams({ service: 'events', urls: replicas.map((r) => r.url), probeMinMs: 50, probeMaxMs: 200, ...opts });
  cleanups.push(() => upstreams.stop());
  return upstreams;
}

const answeredBy = async (res: Response) => ((await res.json()) as { replica: string }).replica;

const until = async (check: () => boolean, ms = 3000) => {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe('urlList: one URL or a comma-separated list, one per replica', () => {
  const Config = z.object({ EVENTS_URL: urlList('http://127.0.0.1:3001') });
  const parse = (EVENTS_URL?: string) => loadConfig(Config, { EVENTS_URL }).EVENTS_URL;
  const problem = (EVENTS_URL: string) => {
    try {
      parse(EVENTS_URL);
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      return (err as ConfigError).problems.join('\n');
    }
    throw new Error(`"${EVENTS_URL}" was accepted`);
  };

  it('reads one URL, a list with spaces, and the default, as origins without a trailing slash', () => {
    expect(parse()).toEqual(['http://127.0.0.1:3001']);
    expect(parse('https://events.internal')).toEqual(['https://events.internal']);
    expect(parse(' http://10.0.0.5:3001/ , http://10.0.0.6:3001')).toEqual(['http://10.0.0.5:3001', 'http://10.0.0.6:3001']);
  });

  it('refuses what is not a list of http(s) origins, naming the variable and the entry', () => {
    expect(problem('')).toMatch(/^EVENTS_URL \(""\): needs one URL, or a comma-separated list/);
    expect(problem('http://a:1,,http://b:1')).toContain('an entry is empty');
    expect(problem('http://a:1,')).toContain('an entry is empty');
    expect(problem('events:3001')).toContain('"events:3001" is not an http(s) address without a path');
    expect(problem('ftp://files.example.com')).toContain('"ftp://files.example.com" is not an http(s) address');
    expect(problem('http://a:1/api')).toContain('"http://a:1/api" is not an http(s) address without a path');
    expect(problem('http://a:1?x=1')).toContain('is not an http(s) address');
    expect(problem('http://a:1/#top')).toContain('is not an http(s) address');
    expect(problem('http://user:pw@a:1')).toContain('is not an http(s) address');
    expect(problem('http://a:1, http://a:1/')).toContain('lists http://a:1 twice; give each replica once');
  });
});

describe('Upstreams', () => {
  it('refuses an empty list', () => {
    expect(() => new Upstreams({ service: 'events', urls: [] })).toThrow(/No URL given for the events service/);
  });

  it('takes the replicas in turn', async () => {
    const replicas = await standIns('a', 'b', 'c');
    const upstreams = upstreamsOf(replicas);
    const order: string[] = [];
    for (let i = 0; i < 6; i++) order.push(await answeredBy(await upstreams.fetch('/who')));
    expect(order).toEqual(['a', 'b', 'c', 'a', 'b', 'c']);
    expect(replicas.map((r) => r.seen.length)).toEqual([2, 2, 2]);
  });

  it('passes over a replica that does not answer, keeps it out of rotation, and brings it back once it is ready', async () => {
    const [a, b] = await standIns('a', 'b');
    const upstreams = upstreamsOf([a!, b!]);
    await a!.stop();
    expect(await answeredBy(await upstreams.fetch('/who'))).toBe('b');
    expect(upstreams.status()).toEqual([
      { url: a!.url, up: false },
      { url: b!.url, up: true },
    ]);
    expect(upstreams.candidates()).toEqual([b!.url]);
    for (let i = 0; i < 3; i++) expect(await answeredBy(await upstreams.fetch('/who'))).toBe('b');

    // Listening but not ready: still out of rotation.
    a!.ready(false);
    await a!.start();
    await until(() => a!.probes() >= 2);
    expect(upstreams.isUp(a!.url)).toBe(false);
    a!.ready(true);
    await until(() => upstreams.isUp(a!.url));
    const after = [await answeredBy(await upstreams.fetch('/who')), await answeredBy(await upstreams.fetch('/who'))];
    expect(after.sort()).toEqual(['a', 'b']);
  });

  it('probes a replica that stays down at a growing interval, no more often than the ceiling allows', async () => {
    const [a, b] = await standIns('a', 'b');
    const upstreams = upstreamsOf([a!, b!], { probeMinMs: 20, probeMaxMs: 80 });
    a!.ready(false);
    upstreams.markDown(a!.url, 'test');
    const started = Date.now();
    await until(() => a!.probes() >= 6, 5000);
    // 20 + 40 + 80 + 80 + 80 + 80 ms at least between the mark and the sixth probe; never faster than that.
    expect(Date.now() - started).toBeGreaterThanOrEqual(370);
    expect(upstreams.isUp(a!.url)).toBe(false);
  });

  it('tries the next replica after a 503 ("nothing was done") and returns the last 503 when every replica answers it', async () => {
    const [a, b] = await standIns('a', 'b');
    const upstreams = upstreamsOf([a!, b!]);
    a!.answer(503);
    const res = await upstreams.fetch('/orders', { method: 'POST', body: '{"n":1}' });
    expect(res.status).toBe(200);
    expect(await answeredBy(res)).toBe('b');
    expect(a!.seen.map((s) => s.body)).toEqual(['{"n":1}']);
    // A 503 is an answer: the replica stays in rotation.
    expect(upstreams.isUp(a!.url)).toBe(true);
    b!.answer(503);
    const last = await upstreams.fetch('/orders', { method: 'POST', body: '{"n":2}' });
    expect(last.status).toBe(503);
    expect(a!.seen).toHaveLength(2);
    expect(b!.seen).toHaveLength(2);
  });

  it('with every replica down, asks each of them and throws why the last did not answer', async () => {
    const [a, b] = await standIns('a', 'b');
    const upstreams = upstreamsOf([a!, b!]);
    await a!.stop();
    await b!.stop();
    await expect(upstreams.fetch('/who')).rejects.toThrow(/fetch failed/);
    expect(upstreams.anyUp).toBe(false);
    expect(upstreams.healthy()).toEqual([]);
    expect(upstreams.candidates()).toEqual([a!.url, b!.url]);
    // One that is back answers the next request at once, without waiting for its probe.
    await b!.start();
    expect(await answeredBy(await upstreams.fetch('/who'))).toBe('b');
    expect(upstreams.isUp(b!.url)).toBe(true);
  });

  it('gives up when the caller’s deadline passes, without starting on another replica', async () => {
    const silent: Server = createServer(() => {}); // accepts and never answers
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    cleanups.push(
      () =>
        new Promise((r) => {
          silent.close(r);
          silent.closeAllConnections();
        }),
    );
    const [b] = await standIns('b');
    const upstreams = upstreamsOf([{ url: `http://127.0.0.1:${(silent.address() as AddressInfo).port}` }, b!]);
    const started = Date.now();
    await expect(upstreams.fetch('/who', { signal: AbortSignal.timeout(200) })).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(1000);
    expect(b!.seen).toEqual([]);
  });

  it('tells the operator when a replica leaves and rejoins the rotation, and says nothing of a lone replica', async () => {
    const [a, b] = await standIns('a', 'b');
    const lines: string[] = [];
    const log = { info: (o: object, m: string) => lines.push(`info ${m} ${JSON.stringify(o)}`), warn: (o: object, m: string) => lines.push(`warn ${m} ${JSON.stringify(o)}`) };
    const pair = new Upstreams({ service: 'events', urls: [a!.url, b!.url], probeMinMs: 20, log });
    const lone = new Upstreams({ service: 'events', urls: [b!.url], probeMinMs: 20, log });
    cleanups.push(
      () => pair.stop(),
      () => lone.stop(),
    );
    pair.markDown(a!.url, 'ECONNREFUSED');
    pair.markDown(a!.url, 'ECONNREFUSED'); // already out: said once
    await until(() => pair.isUp(a!.url));
    lone.markDown(b!.url, 'ECONNREFUSED');
    await until(() => lone.isUp(b!.url));
    expect(lines).toEqual([
      `warn replica out of rotation until it is ready again {"service":"events","url":"${a!.url}","reason":"ECONNREFUSED"}`,
      `info replica answering again; back in rotation {"service":"events","url":"${a!.url}"}`,
    ]);
  });

  it('takes a replica that answers with connection: close (it is stopping) out of rotation, unless it is the last one', async () => {
    const [a, b] = await standIns('a', 'b');
    const upstreams = upstreamsOf([a!, b!]);
    a!.answer(200, { connection: 'close' });
    a!.ready(false); // as a stopping replica answers its probe
    const res = await upstreams.fetch('/who');
    expect(await answeredBy(res)).toBe('a'); // its answer counts
    expect(upstreams.isUp(a!.url)).toBe(false);
    for (let i = 0; i < 3; i++) expect(await answeredBy(await upstreams.fetch('/who'))).toBe('b');
    b!.answer(200, { connection: 'close' });
    await upstreams.fetch('/who');
    expect(upstreams.isUp(b!.url)).toBe(true); // the last one in rotation stays: it still serves
    a!.ready(true);
    await until(() => upstreams.isUp(a!.url));
  });

  it('probes nothing after stop()', async () => {
    const [a] = await standIns('a');
    const upstreams = upstreamsOf([a!], { probeMinMs: 20, probeMaxMs: 20 });
    a!.ready(false);
    upstreams.markDown(a!.url, 'test');
    await until(() => a!.probes() >= 2);
    upstreams.stop();
    const probes = a!.probes();
    await new Promise((r) => setTimeout(r, 150));
    expect(a!.probes()).toBeLessThanOrEqual(probes + 1); // at most the one already in flight
  });
});

describe('CachedJwks across engagement replicas', () => {
  it('fetches the keys from a replica that answers when another is down', async () => {
    const dir = tempDir();
    cleanups.push(() => dir.cleanup());
    const keys = { keys: [{ kty: 'OKP', crv: 'Ed25519', x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo', kid: 'k1', alg: 'EdDSA', use: 'sig' }] };
    const live: Server = createServer((req, res) => res.writeHead(req.url === '/.well-known/jwks.json' ? 200 : 404).end(JSON.stringify(keys)));
    await new Promise<void>((r) => live.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise((r) => live.close(r)));
    const [gone] = await standIns('gone');
    await gone!.stop();
    const jwks = new CachedJwks({ engagementUrls: [gone!.url, `http://127.0.0.1:${(live.address() as AddressInfo).port}`], cacheFile: join(dir.path, 'jwks.json') });
    cleanups.push(() => jwks.stop());
    expect(await jwks.refresh()).toBe(true);
    expect(await jwks.refresh()).toBe(true);
  });
});
