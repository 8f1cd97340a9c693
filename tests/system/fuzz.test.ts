import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InjectOptions } from 'fastify';
import { SERVICE_NAMES, type ServiceName } from '@dems/contracts';
import { signedHeaders } from '@dems/kit/testing';
import { account, eventBody, startInProcess, type Account, type InProcess } from './in-process.js';

/**
 * Property-based fuzzing of every JSON endpoint of the three services, in process on real SQLite files:
 * wrong types, missing and extra fields, huge and unicode strings, negative and fractional numbers, deep
 * nesting, malformed JSON and wrong content types. Properties: never a 5xx; a refused request (4xx)
 * leaves the service's SQLite file exactly as it was; the services still answer afterwards.
 */

const RUNS = Number(process.env.FUZZ_RUNS ?? 100);

let sys: InProcess;
let attendee: Account;
let organizer: Account;
let ids: { event: string; ticketType: string; order: string; ticket: string; notification: string };
let tried = 0;
const statuses = new Map<number, number>();

beforeAll(async () => {
  // Throttles high enough that the fuzzer reaches the handlers (the limits have their own tests).
  sys = await startInProcess({
    ordersPerUserPerMinute: 1_000_000,
    accountLimits: { loginFailuresPerAccount: 1_000_000, loginFailuresPerAddress: 1_000_000, signUpsPerAddress: 1_000_000 },
  });
  attendee = await account(sys, 'attendee', 'fuzz-attendee');
  organizer = await account(sys, 'organizer', 'fuzz-organizer');
  const event = (await sys.apps.events.inject({ method: 'POST', url: '/events', headers: organizer.auth, payload: eventBody() })).json();
  await sys.settle();
  await sys.apps.events.inject({ method: 'POST', url: '/register', headers: attendee.auth, payload: { eventId: event.id } });
  const order = (
    await sys.apps.ticketing.inject({
      method: 'POST',
      url: '/orders',
      headers: { ...attendee.auth, 'idempotency-key': 'fuzz-seed' },
      payload: { eventId: event.id, ticketTypeId: event.ticketTypes[0].id, quantity: 2 },
    })
  ).json();
  await sys.settle();
  const notification = (await sys.apps.engagement.inject({ url: '/notifications', headers: attendee.auth })).json().items[0];
  ids = { event: event.id, ticketType: event.ticketTypes[0].id, order: order.id, ticket: order.tickets[0].id, notification: notification.id };
});
afterAll(async () => {
  console.log(`fuzz: ${tried} requests tried; statuses ${JSON.stringify(Object.fromEntries([...statuses].sort()))}`);
  await sys?.close();
});

// ---- generators -------------------------------------------------------------------------------------

const hugeString = fc.integer({ min: 1_000, max: 60_000 }).map((n) => 'é𝄞x'.repeat(Math.ceil(n / 4)).slice(0, n));
const weirdString = fc.oneof(
  fc.string(),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom('', ' ', '\u0000', '\u202e', '<script>alert(1)</script>', "' OR 1=1 --", '../../etc/passwd', '%00', '🎟️🎟️', 'null', 'NaN'),
  hugeString,
);
const weirdNumber = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.constantFrom(-1, 0, 0.5, -0.0001, 1.5, 1e308, -1e308, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER, 2 ** 31, 2 ** 53 + 1),
);
const weirdValue: fc.Arbitrary<unknown> = fc.oneof(
  weirdString,
  weirdNumber,
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.jsonValue(), { maxLength: 5 }),
  fc.dictionary(fc.string(), fc.jsonValue(), { maxKeys: 5 }),
  fc.integer({ min: 33, max: 3000 }).map((d) => JSON.parse('['.repeat(Math.min(d, 500)) + ']'.repeat(Math.min(d, 500)))),
);

/** Bodies derived from a valid one: a field of the wrong type, a field missing, an extra field, or anything at all. */
function bodies(valid: Record<string, unknown>): fc.Arbitrary<unknown> {
  const keys = Object.keys(valid);
  if (keys.length === 0) {
    return fc.oneof(
      fc.constant({}),
      fc.record({ key: fc.string({ minLength: 1, maxLength: 20 }), value: weirdValue }).map(({ key, value }) => ({ [key]: value })),
      fc.jsonValue(),
      fc.anything(),
    );
  }
  const mutated = fc.record({ key: fc.constantFrom(...keys), value: weirdValue }).map(({ key, value }) => ({ ...valid, [key]: value }));
  const missing = fc.subarray(keys, { minLength: 1 }).map((drop) => Object.fromEntries(Object.entries(valid).filter(([k]) => !drop.includes(k))));
  const extra = fc.record({ key: fc.string({ minLength: 1, maxLength: 20 }), value: weirdValue }).map(({ key, value }) => ({ ...valid, [key]: value }));
  const prototype = fc.constantFrom({ ...valid, __proto__: { admin: true } }, { ...valid, constructor: { prototype: { admin: true } } });
  return fc.oneof(
    { arbitrary: mutated, weight: 4 },
    { arbitrary: missing, weight: 2 },
    { arbitrary: extra, weight: 2 },
    { arbitrary: fc.jsonValue(), weight: 2 },
    { arbitrary: fc.anything(), weight: 1 },
    { arbitrary: prototype, weight: 1 },
    { arbitrary: fc.constant(valid), weight: 1 },
  );
}

/** How the body travels: JSON, malformed JSON, absurdly deep JSON, or the wrong content type. */
function payloads(valid: Record<string, unknown>): fc.Arbitrary<{ payload: string; contentType?: string }> {
  const json = bodies(valid).map((b) => ({ payload: safeStringify(b), contentType: 'application/json' }));
  return fc.oneof(
    { arbitrary: json, weight: 8 },
    { arbitrary: fc.string().map((s) => ({ payload: s, contentType: 'application/json' })), weight: 1 },
    {
      arbitrary: fc.constantFrom('{', '{"a":', '[1,2', '{"email":"a@b.c",}', "{'a':1}", 'undefined', '\u0000{}').map((s) => ({ payload: s, contentType: 'application/json' })),
      weight: 1,
    },
    { arbitrary: fc.integer({ min: 33, max: 100_000 }).map((d) => ({ payload: '{"a":' + '['.repeat(d) + ']'.repeat(d) + '}', contentType: 'application/json' })), weight: 1 },
    {
      arbitrary: fc
        .tuple(
          bodies(valid),
          fc.constantFrom('text/plain', 'application/x-www-form-urlencoded', 'application/xml', 'multipart/form-data; boundary=x', 'application/json; charset=latin1', undefined),
        )
        .map(([b, contentType]) => ({ payload: safeStringify(b), contentType })),
      weight: 1,
    },
  );
}

function safeStringify(value: unknown): string {
  try {
    return JSON.stringify(value) ?? 'null';
  } catch {
    return '{}';
  }
}

const idLike = fc.oneof(
  { arbitrary: fc.constant('real'), weight: 3 },
  { arbitrary: fc.string({ maxLength: 80 }), weight: 2 },
  { arbitrary: fc.constantFrom('..', '%2e%2e', 'a'.repeat(65), '-1', '0', 'null', '%00', '🎟️'), weight: 1 },
);

// ---- the endpoints ------------------------------------------------------------------------------------

interface Target {
  service: ServiceName;
  method: 'POST' | 'PATCH' | 'DELETE' | 'GET';
  /** The URL, given the (possibly fuzzed) id; 'real' means the seeded id. */
  url: (id: string) => string;
  valid: () => Record<string, unknown>;
  auth: () => Record<string, string>;
  headers?: fc.Arbitrary<Record<string, string>>;
}

const realOr = (id: string, real: string) => (id === 'real' ? real : encodeURIComponent(id));

const TARGETS: Record<string, Target> = {
  'POST /users': {
    service: 'engagement',
    method: 'POST',
    url: () => '/users',
    valid: () => ({ email: `fuzz-${Math.random().toString(36).slice(2)}@example.com`, password: 'correct horse battery', name: 'Fuzz', role: 'attendee' }),
    auth: () => ({}),
  },
  'POST /sessions': {
    service: 'engagement',
    method: 'POST',
    url: () => '/sessions',
    valid: () => ({ email: attendee.email, password: 'wrong but long password' }),
    auth: () => ({}),
  },
  'POST /sessions/challenge': { service: 'engagement', method: 'POST', url: () => '/sessions/challenge', valid: () => ({ email: attendee.email }), auth: () => ({}) },
  'POST /sessions/refresh': { service: 'engagement', method: 'POST', url: () => '/sessions/refresh', valid: () => ({ refreshToken: 'A'.repeat(43) }), auth: () => ({}) },
  'POST /sessions/logout': { service: 'engagement', method: 'POST', url: () => '/sessions/logout', valid: () => ({ refreshToken: 'B'.repeat(43) }), auth: () => ({}) },
  'POST /sessions/logout-everywhere': { service: 'engagement', method: 'POST', url: () => '/sessions/logout-everywhere', valid: () => ({}), auth: () => organizer.auth },
  'POST /notifications/read-all': { service: 'engagement', method: 'POST', url: () => '/notifications/read-all', valid: () => ({}), auth: () => ({}) },
  'POST /notifications/:id/read': {
    service: 'engagement',
    method: 'POST',
    url: (id) => `/notifications/${realOr(id, 'ntf_not_mine')}/read`,
    valid: () => ({}),
    auth: () => organizer.auth,
  },
  'POST /announcements': {
    service: 'engagement',
    method: 'POST',
    url: () => '/announcements',
    valid: () => ({ eventId: ids.event, message: 'Doors open at 7.' }),
    auth: () => attendee.auth,
  },
  'POST /events': { service: 'events', method: 'POST', url: () => '/events', valid: () => eventBody('Fuzzed') as Record<string, unknown>, auth: () => organizer.auth },
  'PATCH /events/:id': {
    service: 'events',
    method: 'PATCH',
    url: (id) => `/events/${realOr(id, ids.event)}`,
    valid: () => ({ title: 'Jazz Night', ticketTypes: [{ id: ids.ticketType, name: 'General', priceCents: 2500, currency: 'EUR', capacity: 100 }] }),
    auth: () => organizer.auth,
  },
  'POST /events/:id/cancel': { service: 'events', method: 'POST', url: (id) => `/events/${realOr(id, 'evt_nope')}/cancel`, valid: () => ({}), auth: () => organizer.auth },
  'POST /register': { service: 'events', method: 'POST', url: () => '/register', valid: () => ({ eventId: ids.event }), auth: () => attendee.auth },
  'DELETE /register/:eventId': { service: 'events', method: 'DELETE', url: (id) => `/register/${realOr(id, 'evt_nope')}`, valid: () => ({}), auth: () => organizer.auth },
  'POST /orders': {
    service: 'ticketing',
    method: 'POST',
    url: () => '/orders',
    valid: () => ({ eventId: ids.event, ticketTypeId: ids.ticketType, quantity: 1 }),
    auth: () => attendee.auth,
    headers: fc.oneof(
      fc.constant({ 'idempotency-key': 'fuzz-seed' }),
      fc.string({ maxLength: 300 }).map((k) => ({ 'idempotency-key': k.replace(/[\r\n]/g, '') })),
      fc.constant({}),
    ),
  },
  'POST /tickets/:id/cancel': { service: 'ticketing', method: 'POST', url: (id) => `/tickets/${realOr(id, 'tkt_not_mine')}/cancel`, valid: () => ({}), auth: () => organizer.auth },
};

async function send(service: ServiceName, opts: InjectOptions) {
  const before = sys.digest(service);
  let res;
  try {
    res = await sys.apps[service].inject(opts);
  } catch (err) {
    throw new Error(`${opts.method} ${opts.url} threw: ${String(err)}`);
  }
  tried++;
  statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
  const what = `${opts.method} ${opts.url} ${String(opts.payload ?? '').slice(0, 200)} → ${res.statusCode} ${res.body.slice(0, 200)}`;
  expect(res.statusCode, what).toBeLessThan(500);
  if (res.statusCode >= 400) {
    expect(sys.digest(service), `a refused request changed the store: ${what}`).toBe(before);
    expect(res.json(), what).toMatchObject({ code: expect.any(String), message: expect.any(String), requestId: expect.any(String) });
  }
  return res;
}

describe('fuzzing every JSON endpoint', () => {
  for (const [name, target] of Object.entries(TARGETS)) {
    it(`${target.service} ${name}: never a 5xx, a refused request changes nothing`, async () => {
      await fc.assert(
        fc.asyncProperty(payloads(target.valid()), idLike, target.headers ?? fc.constant({}), async ({ payload, contentType }, id, extra) => {
          const headers: Record<string, string> = { ...target.auth(), ...extra };
          if (contentType) headers['content-type'] = contentType;
          await send(target.service, { method: target.method, url: target.url(id), headers, payload });
        }),
        { numRuns: RUNS },
      );
    });
  }

  it('query strings and path parameters of the GET endpoints: never a 5xx', async () => {
    const query = fc.dictionary(
      fc.constantFrom('limit', 'cursor', 'q', 'from', 'to', 'mine', 'x', '__proto__'),
      fc.oneof(
        weirdString.filter((s) => s.length < 3000),
        weirdNumber.map(String),
        fc.constant('true'),
      ),
      { maxKeys: 4 },
    );
    const gets: [ServiceName, (id: string) => string, () => Record<string, string>][] = [
      ['events', () => '/events', () => ({})],
      ['events', () => '/events', () => organizer.auth],
      ['events', (id) => `/events/${realOr(id, ids.event)}`, () => ({})],
      ['events', (id) => `/events/${realOr(id, ids.event)}/registrations`, () => organizer.auth],
      ['events', () => '/registrations', () => attendee.auth],
      ['engagement', () => '/notifications', () => attendee.auth],
      ['ticketing', (id) => `/orders/${realOr(id, ids.order)}`, () => attendee.auth],
      ['ticketing', (id) => `/availability/${realOr(id, ids.event)}`, () => ({})],
    ];
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...gets), idLike, query, async ([service, url, auth], id, q) => {
        const search = new URLSearchParams(Object.entries(q).map(([k, v]): [string, string] => [k, String(v)])).toString();
        await send(service, { method: 'GET', url: `${url(id)}${search ? `?${search}` : ''}`, headers: auth() });
      }),
      { numRuns: RUNS * 2 },
    );
  });

  it('broken bearer tokens: never a 5xx', async () => {
    const token = fc.oneof(
      fc.string({ maxLength: 200 }),
      fc.constantFrom(
        'Bearer',
        'Bearer ',
        'Basic abc',
        `Bearer ${attendee.token}x`,
        `Bearer ${attendee.token.split('.').slice(0, 2).join('.')}.`,
        'Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.',
      ),
      fc.string({ maxLength: 100 }).map((s) => `Bearer ${Buffer.from(s).toString('base64url')}.${Buffer.from(s).toString('base64url')}.x`),
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...SERVICE_NAMES), token, async (service, authorization) => {
        const url = { events: '/registrations', ticketing: '/orders', engagement: '/me' }[service];
        await send(service, { method: 'GET', url, headers: { authorization: authorization.replace(/[\r\n]/g, '') } });
      }),
      { numRuns: RUNS },
    );
  });

  it('signed garbage on /internal/messages: never a 5xx, nothing applied', async () => {
    const batch = fc.oneof(
      fc.jsonValue(),
      fc.record({ messages: fc.array(fc.jsonValue(), { minLength: 1, maxLength: 3 }) }),
      fc.record({
        messages: fc.array(
          fc.record({
            id: weirdString,
            type: fc.constantFrom('EventPublished', 'OrderPlaced', 'UserRegistered', 'Nope'),
            source: fc.string(),
            occurredAt: fc.string(),
            data: fc.jsonValue(),
          }),
          { minLength: 1, maxLength: 2 },
        ),
      }),
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...SERVICE_NAMES), batch, async (service, body) => {
        const payload = safeStringify(body);
        await send(service, { method: 'POST', url: '/internal/messages', headers: signedHeaders(payload), payload });
      }),
      { numRuns: RUNS },
    );
  });

  it('dates: any ISO 8601 text with any offset is checked on its UTC value; lists never break', async () => {
    // Valid texts whose UTC value leaves 1970–9999 once broke GET /events for every visitor.
    const two = (n: number) => String(n).padStart(2, '0');
    const edges = fc.constantFrom('0000-01-01T00:00:00+00:01', '9999-12-31T23:59:59-01:00', '9999-12-31T23:59:59.999Z', '1970-01-01T00:00:00Z', '1970-01-01T00:30:00+01:00');
    const generated = fc
      .record({
        year: fc.oneof(fc.constantFrom(0, 1, 1969, 1970, 9999), fc.integer({ min: 0, max: 9999 })),
        month: fc.integer({ min: 1, max: 12 }),
        day: fc.integer({ min: 1, max: 31 }),
        hour: fc.integer({ min: 0, max: 23 }),
        minute: fc.integer({ min: 0, max: 59 }),
        fraction: fc.constantFrom('', '.5', '.123', '.999999'),
        offset: fc.oneof(
          fc.constant('Z'),
          fc.tuple(fc.constantFrom('+', '-'), fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 })).map(([sign, h, m]) => `${sign}${two(h)}:${two(m)}`),
        ),
      })
      .map((d) => `${String(d.year).padStart(4, '0')}-${two(d.month)}-${two(d.day)}T${two(d.hour)}:${two(d.minute)}:00${d.fraction}${d.offset}`);
    const isoText = fc.oneof(edges, generated);
    const utcInRange = (v: unknown) => typeof v === 'string' && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/.test(v) && v >= '1970-01-01' && v <= '9999-12-31T23:59:59.999Z';
    await fc.assert(
      fc.asyncProperty(isoText, isoText, fc.constantFrom('create', 'patch', 'filter'), async (a, b, how) => {
        const [startsAt, endsAt] = a <= b ? [a, b] : [b, a];
        if (how === 'filter') {
          await send('events', { method: 'GET', url: `/events?from=${encodeURIComponent(startsAt)}&to=${encodeURIComponent(endsAt)}` });
        } else {
          const res =
            how === 'create'
              ? await send('events', { method: 'POST', url: '/events', headers: organizer.auth, payload: { ...eventBody('Dated'), startsAt, endsAt } })
              : await send('events', { method: 'PATCH', url: `/events/${ids.event}`, headers: organizer.auth, payload: { endsAt } });
          if (res.statusCode < 300) expect([res.json().startsAt, res.json().endsAt].every(utcInRange), res.body).toBe(true);
        }
        for (const list of [{ url: '/events' }, { url: '/events?mine=true', headers: organizer.auth }]) {
          const page = await send('events', { method: 'GET', ...list });
          expect(page.statusCode).toBe(200);
          for (const e of page.json().items) expect([e.startsAt, e.endsAt].every(utcInRange), JSON.stringify(e)).toBe(true);
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('content types: a body that is not JSON is 415 on every JSON endpoint, for anyone allowed to call it', async () => {
    const notJson = fc.constantFrom(
      'text/plain',
      'text/plain; charset=utf-8',
      'application/x-www-form-urlencoded',
      'application/xml',
      'multipart/form-data; boundary=x',
      'text/html',
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...Object.values(TARGETS)), notJson, async (target, contentType) => {
        const res = await send(target.service, {
          method: target.method,
          url: target.url('real'),
          headers: { ...target.auth(), 'content-type': contentType, 'idempotency-key': `ct-${tried}` },
          payload: safeStringify(target.valid()),
        });
        if (res.statusCode === 401 || res.statusCode === 403) expect(res.json().code).toMatch(/^(UNAUTHENTICATED|FORBIDDEN)$/);
        else expect([res.statusCode, res.json().code], res.body).toEqual([415, 'UNSUPPORTED_MEDIA_TYPE']);
      }),
      { numRuns: RUNS },
    );
  });

  it('afterwards every service still answers, and a normal purchase still works', async () => {
    for (const service of SERVICE_NAMES) {
      expect((await sys.apps[service].inject('/healthz')).statusCode).toBe(200);
      expect((await sys.apps[service].inject('/readyz')).statusCode).toBe(200);
    }
    const order = await sys.apps.ticketing.inject({
      method: 'POST',
      url: '/orders',
      headers: { ...organizer.auth, 'idempotency-key': 'after-fuzz' },
      payload: { eventId: ids.event, ticketTypeId: ids.ticketType, quantity: 1 },
    });
    expect([201, 409]).toContain(order.statusCode);
    expect((await sys.apps.engagement.inject({ url: '/me', headers: attendee.auth })).statusCode).toBe(200);
  });
});
