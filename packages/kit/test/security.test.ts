import fastifyHelmet from '@fastify/helmet';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { newMessage, SIGNATURE_HEADER, TIMESTAMP_HEADER, type Message } from '@dems/contracts';
import { createServiceApp, jsonTooDeep, MAX_JSON_DEPTH, registerInternalRoutes, signBody, SIGNATURE_MAX_AGE_MS, type App, type OutboxStore } from '@dems/kit';
import { signedHeaders, TEST_SECRET } from '@dems/kit/testing';

/** A service with the standard /internal routes whose inbox records what it applied (and ignores duplicates). */
async function inboxApp() {
  const applied: string[] = [];
  const replayed: string[] = [];
  const outbox = {
    listDeadLetters: async () => [],
    replayDeadLetter: async (id: string) => (replayed.push(id), true),
  } as unknown as OutboxStore;
  const app = await createServiceApp({ name: 'test', description: 'internal routes', isReady: () => true });
  await registerInternalRoutes(app, {
    secret: TEST_SECRET,
    outbox,
    apply: async (m: Message) => {
      if (applied.includes(m.id)) return 'duplicate';
      applied.push(m.id);
      return 'applied';
    },
  });
  return { app, applied, replayed };
}

/** The headers of an answer that are not about its content, its connection or its request. */
const securityHeadersOf = (headers: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(headers).filter(([name]) => !['content-type', 'content-length', 'date', 'connection', 'keep-alive', 'x-request-id'].includes(name)));

const message = () => newMessage('events', 'UserRegistered', { registrationId: 'reg_1', eventId: 'evt_1', eventTitle: 'Jazz', userId: 'usr_1' });

describe('/internal: signed requests only', () => {
  let t: Awaited<ReturnType<typeof inboxApp>>;
  beforeAll(async () => (t = await inboxApp()));
  afterAll(() => t.app.close());

  const post = (url: string, payload: string, headers: Record<string, string>) => t.app.inject({ method: 'POST', url, payload, headers });

  it('refuses unsigned, wrongly signed, tampered, stale and future-dated requests with 401 BAD_SIGNATURE', async () => {
    const payload = JSON.stringify({ messages: [message()] });
    const now = Date.now();
    const at = (ms: number) => ({ [TIMESTAMP_HEADER]: String(ms), [SIGNATURE_HEADER]: signBody(TEST_SECRET, String(ms), payload) });
    const cases: Record<string, Record<string, string>> = {
      unsigned: { 'content-type': 'application/json' },
      'wrong secret': signedHeaders(payload, 'not-the-service-secret-at-all'),
      'signature of another body': { ...signedHeaders('{"messages":[]}'), 'content-type': 'application/json' },
      'stale timestamp': { 'content-type': 'application/json', ...at(now - SIGNATURE_MAX_AGE_MS - 1000) },
      // A minute beyond the window: the requests before this one may take a second or more on a busy machine.
      'future timestamp': { 'content-type': 'application/json', ...at(now + SIGNATURE_MAX_AGE_MS + 60_000) },
      'timestamp not a number': { ...signedHeaders(payload), [TIMESTAMP_HEADER]: 'yesterday' },
      'signature not hex': { ...signedHeaders(payload), [SIGNATURE_HEADER]: 'zz' },
    };
    for (const [name, headers] of Object.entries(cases)) {
      const res = await post('/internal/messages', payload, headers);
      expect(res.statusCode, name).toBe(401);
      expect(res.json().code, name).toBe('BAD_SIGNATURE');
    }
    expect(t.applied).toEqual([]);
  });

  it('accepts no other content type, so nothing reaches a handler unverified', async () => {
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'application/octet-stream']) {
      const res = await post('/internal/dead-letters/5/replay', 'x', { 'content-type': type });
      expect([401, 415], type).toContain(res.statusCode);
    }
    expect(t.replayed).toEqual([]);
    // Body-less requests must be signed over the empty body.
    expect((await t.app.inject({ method: 'POST', url: '/internal/dead-letters/5/replay' })).statusCode).toBe(401);
    expect((await t.app.inject({ url: '/internal/dead-letters' })).statusCode).toBe(401);
    const ts = String(Date.now());
    const ok = await t.app.inject({ url: '/internal/dead-letters', headers: { [TIMESTAMP_HEADER]: ts, [SIGNATURE_HEADER]: signBody(TEST_SECRET, ts, '') } });
    expect(ok.statusCode).toBe(200);
  });

  it('a replayed signed delivery (within the time window) is harmless: the inbox applies each message once', async () => {
    const m = message();
    const payload = JSON.stringify({ messages: [m] });
    const headers = signedHeaders(payload);
    const first = await post('/internal/messages', payload, headers);
    expect(first.json()).toEqual({ applied: 1, results: [{ id: m.id, result: 'applied' }] });
    const replay = await post('/internal/messages', payload, headers);
    expect(replay.statusCode).toBe(200);
    expect(replay.json().results).toEqual([{ id: m.id, result: 'duplicate' }]);
    expect(t.applied.filter((id) => id === m.id)).toHaveLength(1);
  });
});

describe('request limits', () => {
  let app: App;
  beforeAll(async () => {
    app = await createServiceApp({ name: 'test', description: 'limits', isReady: () => true, bodyLimit: 200_000 });
    app.post('/things', { schema: { body: z.record(z.string(), z.unknown()) } }, async () => ({ ok: true }));
  });
  afterAll(() => app.close());

  const nested = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);

  it(`refuses JSON nested deeper than ${MAX_JSON_DEPTH} levels with 400 JSON_TOO_DEEP`, async () => {
    const deep = await app.inject({ method: 'POST', url: '/things', headers: { 'content-type': 'application/json' }, payload: `{"a":${nested(50_000)}}` });
    expect(deep.statusCode).toBe(400);
    expect(deep.json().code).toBe('JSON_TOO_DEEP');
    const fine = await app.inject({ method: 'POST', url: '/things', headers: { 'content-type': 'application/json' }, payload: `{"a":${nested(MAX_JSON_DEPTH - 1)}}` });
    expect(fine.statusCode).toBe(200);
  });

  it('counts depth correctly around strings and escapes', () => {
    expect(jsonTooDeep(`{"a":"${'['.repeat(100)}"}`)).toBe(false);
    expect(jsonTooDeep(`{"a":"\\"${'{'.repeat(100)}"}`)).toBe(false);
    expect(jsonTooDeep(`{"a":"\\\\",${'['.repeat(40)}`)).toBe(true);
    expect(jsonTooDeep(nested(MAX_JSON_DEPTH))).toBe(false);
    expect(jsonTooDeep(nested(MAX_JSON_DEPTH + 1))).toBe(true);
  });

  it('refuses prototype poisoning', async () => {
    const res = await app.inject({ method: 'POST', url: '/things', headers: { 'content-type': 'application/json' }, payload: '{"__proto__":{"admin":true}}' });
    expect(res.statusCode).toBe(400);
  });

  it('sends exactly the headers @fastify/helmet would, on answers and on refusals', async () => {
    // The reference: the plugin itself on a bare Fastify, with the options createServiceApp uses.
    const reference = Fastify();
    await reference.register(fastifyHelmet, {
      contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"], baseUri: ["'none'"], formAction: ["'none'"] } },
    });
    reference.get('/healthz', async () => ({ ok: true }));
    const expected = securityHeadersOf((await reference.inject('/healthz')).headers);
    await reference.close();
    expect(Object.keys(expected).length).toBeGreaterThan(10);
    expect(securityHeadersOf((await app.inject('/healthz')).headers)).toEqual(expected);
    const refused = await app.inject({ method: 'POST', url: '/things', headers: { 'content-type': 'application/json' }, payload: '{' });
    expect(refused.statusCode).toBe(400);
    expect(securityHeadersOf(refused.headers)).toEqual(expected);
  });

  it('sends security headers on API answers, no X-Powered-By, and a CSP that loads nothing', async () => {
    const res = await app.inject('/healthz');
    expect(res.headers['content-security-policy']).toContain("default-src 'none'");
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['x-powered-by']).toBeUndefined();
    const docs = await app.inject('/docs');
    expect(docs.statusCode).toBe(200);
    expect(docs.headers['content-security-policy']).toContain("script-src 'self'");
  });
});
