import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createServiceApp, etagOf, matchesEtag, PRIVATE_NO_STORE, publicAnswers, publicCacheControl, ResponseCache, type App } from '@dems/kit';

// The cache of serialised public answers on a clock and a data version the test moves; the routes that use it
// (events, availability) are tested with their real stores in their services.

function harness(opts: { maxAgeMs?: number; maxEntries?: number; maxBytes?: number } = {}) {
  const state = { version: 1, now: 1_000 };
  const cache = new ResponseCache({ dataVersion: () => String(state.version), now: () => state.now, ...opts });
  let builds = 0;
  const build = (body: string, validUntil?: number) => async () => {
    builds++;
    return { body, validUntil };
  };
  return { state, cache, build, builds: () => builds };
}

describe('ResponseCache', () => {
  it('builds an answer once and serves it while the data version stays', async () => {
    const { cache, build, builds } = harness();
    const first = await cache.answer('a', build('{"n":1}'));
    expect(first.body.toString()).toBe('{"n":1}');
    expect(first.etag).toBe(etagOf('{"n":1}'));
    expect(await cache.answer('a', build('{"n":2}'))).toBe(first);
    expect(builds()).toBe(1);
    expect(cache.get('a')).toBe(first);
    expect(cache.get('b')).toBeUndefined();
  });

  it('drops every answer when the data version changes', async () => {
    const { state, cache, build } = harness();
    await cache.answer('a', build('1'));
    await cache.answer('b', build('2'));
    state.version++;
    expect(cache.get('a')).toBeUndefined();
    expect(cache.size).toBe(0);
    expect((await cache.answer('a', build('3'))).body.toString()).toBe('3');
  });

  it('keeps nothing built from data that changed while it was built, but answers the caller', async () => {
    const { state, cache } = harness();
    const answer = await cache.answer('a', async () => {
      state.version++;
      return { body: 'old' };
    });
    expect(answer.body.toString()).toBe('old');
    expect(cache.get('a')).toBeUndefined();
  });

  it('serves an answer until its own end, and at most maxAgeMs', async () => {
    const { state, cache, build } = harness({ maxAgeMs: 500 });
    await cache.answer('ends', build('x', 1_200));
    await cache.answer('ages', build('y'));
    state.now = 1_199;
    expect(cache.get('ends')).toBeDefined();
    state.now = 1_200;
    expect(cache.get('ends')).toBeUndefined();
    expect(cache.get('ages')).toBeDefined();
    state.now = 1_500;
    expect(cache.get('ages')).toBeUndefined();
    // An answer already over when built is not kept.
    await cache.answer('over', build('z', 1_000));
    expect(cache.get('over')).toBeUndefined();
  });

  it('keeps nothing with maxAgeMs 0', async () => {
    const { cache, build } = harness({ maxAgeMs: 0 });
    await cache.answer('a', build('1'));
    expect(cache.get('a')).toBeUndefined();
  });

  it('lets go of the least recently used answers beyond maxEntries or maxBytes', async () => {
    const byCount = harness({ maxEntries: 2 });
    await byCount.cache.answer('a', byCount.build('1'));
    await byCount.cache.answer('b', byCount.build('2'));
    byCount.cache.get('a');
    await byCount.cache.answer('c', byCount.build('3'));
    expect([byCount.cache.get('a'), byCount.cache.get('b'), byCount.cache.get('c')].map((x) => x?.body.toString())).toEqual(['1', undefined, '3']);

    const byBytes = harness({ maxBytes: 10 });
    await byBytes.cache.answer('a', byBytes.build('12345'));
    await byBytes.cache.answer('b', byBytes.build('12345'));
    expect(byBytes.cache.size).toBe(2);
    await byBytes.cache.answer('c', byBytes.build('1'));
    expect(byBytes.cache.get('a')).toBeUndefined();
    expect(byBytes.cache.size).toBe(2);
    await byBytes.cache.answer('huge', byBytes.build('12345678901'));
    expect(byBytes.cache.get('huge')).toBeUndefined();
    expect(byBytes.cache.size).toBe(2);
  });

  it('counts the bytes of answers replaced, expired and dropped', async () => {
    const { state, cache, build } = harness({ maxBytes: 10, maxAgeMs: 100 });
    await cache.answer('a', build('12345'));
    state.now += 100;
    expect(cache.get('a')).toBeUndefined();
    await cache.answer('b', build('1234567890'));
    expect(cache.get('b')).toBeDefined();
    state.version++;
    cache.get('b');
    await cache.answer('c', build('1234567890'));
    expect(cache.get('c')).toBeDefined();
  });

  it('builds once for a crowd that misses at once, and keeps nothing from a build that failed', async () => {
    const { cache } = harness();
    let builds = 0;
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    const slow = async () => {
      builds++;
      await gate;
      return { body: 'slow' };
    };
    const crowd = Promise.all([cache.answer('a', slow), cache.answer('a', slow), cache.answer('a', slow)]);
    release();
    const answers = await crowd;
    expect(builds).toBe(1);
    expect(new Set(answers).size).toBe(1);

    const failing = async () => {
      builds++;
      throw new Error('store down');
    };
    await expect(cache.answer('b', failing)).rejects.toThrow('store down');
    await expect(cache.answer('b', failing)).rejects.toThrow('store down');
    expect(builds).toBe(3);
  });
});

describe('ETags and Cache-Control', () => {
  it('derives the ETag from the body alone', () => {
    expect(etagOf('{"a":1}')).toBe(etagOf(Buffer.from('{"a":1}')));
    expect(etagOf('{"a":1}')).not.toBe(etagOf('{"a":2}'));
    expect(etagOf('x')).toMatch(/^W\/"[A-Za-z0-9_-]{27}"$/);
  });

  it('matches If-None-Match weakly, in a list, and *', () => {
    const tag = 'W/"abc"';
    expect(matchesEtag(undefined, tag)).toBe(false);
    expect(matchesEtag('', tag)).toBe(false);
    expect(matchesEtag('W/"abc"', tag)).toBe(true);
    expect(matchesEtag('"abc"', tag)).toBe(true);
    expect(matchesEtag('"x", W/"abc"', tag)).toBe(true);
    expect(matchesEtag('"x",W/"y"', tag)).toBe(false);
    expect(matchesEtag('"abcd"', tag)).toBe(false);
    expect(matchesEtag('*', tag)).toBe(true);
    expect(matchesEtag('"abc"', '"abc"')).toBe(true);
  });

  it('says public with a shared-cache lifetime, or private', () => {
    expect(publicCacheControl(1, 5)).toBe('public, max-age=0, s-maxage=1, stale-while-revalidate=5');
    expect(PRIVATE_NO_STORE).toBe('private, no-store');
  });
});

describe('publicAnswers on a route', () => {
  let app: App;
  afterEach(async () => {
    await app.close();
  });

  it('serves a URL it answered before its validation and handler run, with 304 for a client that has it', async () => {
    let version = 1;
    let handled = 0;
    const answers = publicAnswers({ dataVersion: () => String(version), cacheControl: publicCacheControl(3, 9) });
    app = await createServiceApp({ name: 'test', description: 'test', isReady: () => true });
    app.get(
      '/things/:id',
      {
        onRequest: answers.serveKept,
        schema: { params: z.strictObject({ id: z.string().regex(/^t_/) }), response: { 200: z.object({ id: z.string(), n: z.number() }) } },
      },
      async (req, reply) =>
        answers.send(req, reply, async () => {
          handled++;
          // The route's response schema serialises it: the field it does not know is left out.
          return { data: { id: req.params.id, n: handled, secret: 'dropped' } };
        }),
    );

    const first = await app.inject({ method: 'GET', url: '/things/t_1' });
    expect(first.statusCode).toBe(200);
    expect(first.json()).toEqual({ id: 't_1', n: 1 });
    expect(first.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(first.headers['cache-control']).toBe('public, max-age=0, s-maxage=3, stale-while-revalidate=9');
    expect(first.headers.etag).toBe(etagOf(first.body));

    const again = await app.inject({ method: 'GET', url: '/things/t_1' });
    expect(again.body).toBe(first.body);
    expect(handled).toBe(1);
    const notModified = await app.inject({ method: 'GET', url: '/things/t_1', headers: { 'if-none-match': String(first.headers.etag) } });
    expect(notModified.statusCode).toBe(304);
    expect(notModified.body).toBe('');
    expect(handled).toBe(1);

    // Invalid input is never kept and never answered from memory.
    expect((await app.inject({ method: 'GET', url: '/things/bad' })).statusCode).toBe(400);
    expect((await app.inject({ method: 'GET', url: '/things/bad' })).statusCode).toBe(400);

    version++;
    expect((await app.inject({ method: 'GET', url: '/things/t_1' })).json()).toEqual({ id: 't_1', n: 2 });
  });
});
