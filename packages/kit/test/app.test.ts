import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { AppError, BaseConfig, ConfigError, createServiceApp, loadConfig, registerAuth, requireRole, type App } from '@dems/kit';
import { testTokens } from '@dems/kit/testing';

describe('service app factory', () => {
  let app: App;
  let tokens: Awaited<ReturnType<typeof testTokens>>;
  beforeAll(async () => {
    tokens = await testTokens();
    app = await createServiceApp({ name: 'test', description: 'kit test', isReady: () => true, bodyLimit: 2048 });
    registerAuth(app, tokens.verify, 'events');
    app.post('/things', { schema: { body: z.strictObject({ name: z.string().min(1), count: z.number().int() }) } }, async (req) => req.body);
    app.get('/boom', async () => {
      throw new Error('database password is hunter2');
    });
    app.get('/conflict', async () => {
      throw new AppError('SOLD_OUT', 'Sorry — only 2 tickets left.');
    });
    app.get('/organizers-only', async (req) => requireRole(req, 'organizer'));
  });
  afterAll(() => app.close());

  const post = (payload: string, contentType = 'application/json') => app.inject({ method: 'POST', url: '/things', headers: { 'content-type': contentType }, payload });

  it('answers schema errors with VALIDATION_FAILED naming the field', async () => {
    const res = await post(JSON.stringify({ name: '', count: 1.5 }));
    expect(res.statusCode).toBe(400);
    const body = res.json();
    expect(body.code).toBe('VALIDATION_FAILED');
    expect(body.requestId).toBe(res.headers['x-request-id']);
    expect(body.details.map((d: { path: string }) => d.path)).toEqual(['body.name', 'body.count']);
  });

  it('rejects unknown fields, malformed JSON, wrong content types and oversized bodies', async () => {
    expect((await post(JSON.stringify({ name: 'a', count: 1, admin: true }))).json().code).toBe('VALIDATION_FAILED');
    expect((await post('{"name": "a",')).json()).toMatchObject({ code: 'MALFORMED_JSON' });
    expect((await post('name=a', 'application/x-www-form-urlencoded')).statusCode).toBe(415);
    for (const type of ['text/plain', 'text/plain; charset=utf-8']) {
      const text = await post(JSON.stringify({ name: 'a', count: 1 }), type);
      expect(text.statusCode, type).toBe(415);
      expect(text.json().code).toBe('UNSUPPORTED_MEDIA_TYPE');
    }
    const big = await post(JSON.stringify({ name: 'x'.repeat(5000), count: 1 }));
    expect(big.statusCode).toBe(413);
    expect(big.json().code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('maps AppError to its status and never leaks internals in a 5xx', async () => {
    expect((await app.inject('/conflict')).json()).toMatchObject({ code: 'SOLD_OUT', message: 'Sorry — only 2 tickets left.' });
    const res = await app.inject('/boom');
    expect(res.statusCode).toBe(500);
    expect(res.json().code).toBe('INTERNAL');
    expect(res.body).not.toContain('hunter2');
  });

  it('builds a refusal without a stack trace, a 5xx with one, and leaves the stack limit as it was', () => {
    const limit = Error.stackTraceLimit;
    const refusal = new AppError('SOLD_OUT', 'Sorry — this ticket type is sold out.');
    expect(refusal).toMatchObject({ code: 'SOLD_OUT', status: 409, headers: {}, name: 'AppError' });
    expect(refusal.stack).toBe('AppError: Sorry — this ticket type is sold out.');
    const failure = new AppError('INTERNAL', 'broken');
    expect(failure.stack?.split('\n').length).toBeGreaterThan(1);
    expect(Error.stackTraceLimit).toBe(limit);
  });

  it('authenticates bearer tokens and checks roles', async () => {
    expect((await app.inject('/organizers-only')).statusCode).toBe(401);
    const attendee = await tokens.bearer({ id: 'usr_a', role: 'attendee' });
    expect((await app.inject({ url: '/organizers-only', headers: attendee })).json().code).toBe('FORBIDDEN');
    const organizer = await tokens.bearer({ id: 'usr_o', role: 'organizer' });
    expect((await app.inject({ url: '/organizers-only', headers: organizer })).json()).toMatchObject({ id: 'usr_o', role: 'organizer' });
    const expired = await tokens.tokenFor({ id: 'usr_o' }, '-1s');
    const res = await app.inject({ url: '/organizers-only', headers: { authorization: `Bearer ${expired}` } });
    expect(res.json()).toMatchObject({ code: 'UNAUTHENTICATED', message: 'Your session has expired. Please sign in again.' });
    expect((await app.inject({ url: '/organizers-only', headers: { authorization: 'Bearer not.a.jwt' } })).statusCode).toBe(401);
  });

  it('serves health, readiness and OpenAPI', async () => {
    expect((await app.inject('/healthz')).json()).toMatchObject({ status: 'ok' });
    expect((await app.inject('/readyz')).statusCode).toBe(200);
    const spec = (await app.inject('/openapi.json')).json();
    expect(spec.openapi).toMatch(/^3\./);
    expect(Object.keys(spec.paths)).toContain('/things');
    expect((await app.inject('/docs')).statusCode).toBeLessThan(400);
    expect((await app.inject('/nope')).json().code).toBe('NOT_FOUND');
  });
});

describe('config', () => {
  it('names every bad variable at once and hides secrets', () => {
    const schema = BaseConfig.extend({ PORT: z.coerce.number().int().min(1) });
    try {
      loadConfig(schema, { SERVICE_SECRET: 'short', PORT: 'abc', LOG_LEVEL: 'loud' });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      const problems = (err as ConfigError).problems.join('\n');
      expect(problems).toContain('SERVICE_SECRET (set)');
      expect(problems).not.toContain('short');
      expect(problems).toContain('PORT ("abc")');
      expect(problems).toContain('LOG_LEVEL ("loud")');
    }
  });

  it('fills defaults', () => {
    const cfg = loadConfig(BaseConfig, { SERVICE_SECRET: 'x'.repeat(20) });
    expect(cfg).toMatchObject({ DATA_DIR: './data', SQLITE_SYNCHRONOUS: 'FULL', STORE: 'sqlite' });
  });
});
