import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InjectOptions } from 'fastify';
import { ACTORS, AUTHORIZATION, endpointName, expectedOutcome, SERVICE_NAMES, type Actor, type EndpointRule, type ServiceName } from '@dems/contracts';
import { registeredRoutes } from '@dems/kit';
import { picture } from '../../services/events/test/images.js';
import { account, eventBody, startInProcess, type Account, type InProcess } from './in-process.js';

/**
 * The authorization matrix (packages/contracts/src/authorization.ts), checked: every endpoint of every
 * service is called as each actor and must answer what the matrix says. The attendee owns the order,
 * ticket, registration and notification used; the organizer owns the event. After every refused call
 * the owner's resource is checked to be untouched, and no answer to anyone else may mention it.
 */

let sys: InProcess;
let who: Record<Exclude<Actor, 'anonymous'>, Account>;
let eventId: string;
/** Ids and codes only the attendee may ever see. */
const privateOfAttendee = new Set<string>();

const call = async (service: ServiceName, opts: InjectOptions) => sys.apps[service].inject(opts);
const authOf = (actor: Actor) => (actor === 'anonymous' ? {} : who[actor].auth);
let keySeq = 0;

async function newEvent(title = 'Fresh event'): Promise<string> {
  const res = await call('events', { method: 'POST', url: '/events', headers: who.organizer.auth, payload: eventBody(title) });
  expect(res.statusCode).toBe(201);
  await sys.settle();
  return res.json().id as string;
}

async function buyOne(buyer: Account, forEvent = eventId) {
  const event = (await call('events', { url: `/events/${forEvent}` })).json();
  const res = await call('ticketing', {
    method: 'POST',
    url: '/orders',
    headers: { ...buyer.auth, 'idempotency-key': `key-${keySeq++}` },
    payload: { eventId: forEvent, ticketTypeId: event.ticketTypes[0].id, quantity: 1 },
  });
  expect(res.statusCode, res.body).toBe(201);
  await sys.settle();
  return res.json() as { id: string; tickets: { id: string; code: string }[] };
}

async function attendeeNotifications() {
  return (await call('engagement', { url: '/notifications?limit=100', headers: who.attendee.auth })).json().items as { id: string; readAt: string | null }[];
}

/** A request for one endpoint as one actor, and what must still hold for the owner when the call is refused. */
interface Case {
  request: (actor: Actor) => Promise<InjectOptions>;
  untouched?: () => Promise<void>;
}

let fixture: Record<string, unknown> = {};
const once = async <T>(key: string, make: () => Promise<T>): Promise<T> => (fixture[key] ??= await make()) as T;

const CASES: Record<string, Case> = {
  'engagement POST /users': {
    request: async () => ({
      method: 'POST',
      url: '/users',
      payload: { email: `new-${keySeq++}@example.com`, password: 'correct horse battery', name: 'New', role: 'attendee' },
    }),
  },
  'engagement POST /sessions': {
    request: async () => ({ method: 'POST', url: '/sessions', payload: { email: who.otherAttendee.email, password: who.otherAttendee.password } }),
  },
  'engagement POST /sessions/challenge': {
    request: async () => ({ method: 'POST', url: '/sessions/challenge', payload: { email: who.otherAttendee.email } }),
  },
  'engagement POST /sessions/refresh': {
    request: async () => {
      const fresh = (await call('engagement', { method: 'POST', url: '/sessions', payload: { email: who.otherAttendee.email, password: who.otherAttendee.password } })).json();
      return { method: 'POST', url: '/sessions/refresh', payload: { refreshToken: fresh.refreshToken } };
    },
  },
  'engagement POST /sessions/logout': {
    request: async () => {
      const fresh = (await call('engagement', { method: 'POST', url: '/sessions', payload: { email: who.otherAttendee.email, password: who.otherAttendee.password } })).json();
      return { method: 'POST', url: '/sessions/logout', payload: { refreshToken: fresh.refreshToken } };
    },
  },
  'engagement POST /sessions/logout-everywhere': { request: async () => ({ method: 'POST', url: '/sessions/logout-everywhere' }) },
  'engagement GET /.well-known/jwks.json': { request: async () => ({ url: '/.well-known/jwks.json' }) },
  'engagement GET /me': { request: async () => ({ url: '/me' }) },
  'engagement GET /notifications': { request: async () => ({ url: '/notifications?limit=100' }) },
  'engagement POST /notifications/read-all': {
    request: async () => ({ method: 'POST', url: '/notifications/read-all' }),
    untouched: async () => expect((await attendeeNotifications()).every((n) => n.readAt === null)).toBe(true),
  },
  'engagement POST /notifications/:id/read': {
    request: async () => {
      await buyOne(who.attendee); // a new order_confirmed notification for the attendee
      const newest = (await attendeeNotifications())[0]!;
      privateOfAttendee.add(newest.id);
      fixture.notification = newest.id;
      return { method: 'POST', url: `/notifications/${newest.id}/read` };
    },
    untouched: async () => expect((await attendeeNotifications()).find((n) => n.id === fixture.notification)?.readAt).toBeNull(),
  },
  'engagement POST /announcements': { request: async () => ({ method: 'POST', url: '/announcements', payload: { eventId, message: 'Doors open at 7.' } }) },

  'events POST /events': { request: async () => ({ method: 'POST', url: '/events', payload: eventBody('Another event') }) },
  'events GET /events': { request: async () => ({ url: '/events' }) },
  'events GET /events?mine=true': { request: async () => ({ url: '/events?mine=true' }) },
  'events GET /events/:id': { request: async () => ({ url: `/events/${eventId}` }) },
  'events PATCH /events/:id': {
    request: async () => {
      fixture.patched = await newEvent('Before');
      return { method: 'PATCH', url: `/events/${fixture.patched}`, payload: { title: 'After' } };
    },
    untouched: async () => expect((await call('events', { url: `/events/${fixture.patched}` })).json().title).toBe('Before'),
  },
  'events POST /events/:id/cancel': {
    request: async () => {
      fixture.cancelled = await newEvent('To cancel');
      return { method: 'POST', url: `/events/${fixture.cancelled}/cancel` };
    },
    untouched: async () => expect((await call('events', { url: `/events/${fixture.cancelled}` })).json().status).toBe('published'),
  },
  'events PUT /events/:id/banner': {
    request: async () => {
      fixture.bannered = await newEvent('Gets a banner');
      return { method: 'PUT', url: `/events/${fixture.bannered}/banner`, headers: { 'content-type': 'image/png' }, payload: await once('banner', () => picture('png', 640, 320)) };
    },
    untouched: async () => expect((await call('events', { url: `/events/${fixture.bannered}` })).json().bannerUrl).toBeNull(),
  },
  'events DELETE /events/:id/banner': {
    request: async () => {
      fixture.unbannered = await newEvent('Keeps its banner');
      const image = await once('banner', () => picture('png', 640, 320));
      const set = await call('events', {
        method: 'PUT',
        url: `/events/${fixture.unbannered}/banner`,
        headers: { ...who.organizer.auth, 'content-type': 'image/png' },
        payload: image,
      });
      expect(set.statusCode, set.body).toBe(200);
      return { method: 'DELETE', url: `/events/${fixture.unbannered}/banner` };
    },
    untouched: async () => expect((await call('events', { url: `/events/${fixture.unbannered}` })).json().bannerUrl).toMatch(/^\/banners\//),
  },
  'events GET /events/:id/registrations': { request: async () => ({ url: `/events/${eventId}/registrations` }) },
  'events POST /register': {
    request: async () => ({ method: 'POST', url: '/register', payload: { eventId: await once('registerTarget', () => newEvent('Open house')) } }),
  },
  'events DELETE /register/:eventId': {
    request: async () => {
      const target = await newEvent('RSVP');
      const reg = await call('events', { method: 'POST', url: '/register', headers: who.attendee.auth, payload: { eventId: target } });
      expect(reg.statusCode).toBe(201);
      privateOfAttendee.add(reg.json().id);
      await sys.settle();
      fixture.rsvp = target;
      return { method: 'DELETE', url: `/register/${target}` };
    },
    untouched: async () => {
      const mine = (await call('events', { url: '/registrations', headers: who.attendee.auth })).json().items as { eventId: string }[];
      expect(mine.some((r) => r.eventId === fixture.rsvp)).toBe(true);
    },
  },
  'events GET /registrations': { request: async () => ({ url: '/registrations' }) },

  'ticketing POST /orders': {
    request: async () => {
      const event = (await call('events', { url: `/events/${eventId}` })).json();
      return {
        method: 'POST',
        url: '/orders',
        headers: { 'idempotency-key': `key-${keySeq++}` },
        payload: { eventId, ticketTypeId: event.ticketTypes[0].id, quantity: 1 },
      };
    },
  },
  'ticketing GET /orders': { request: async () => ({ url: '/orders' }) },
  'ticketing GET /orders/:id': {
    request: async () => ({ url: `/orders/${await once('order', async () => (await buyOne(who.attendee)).id)}` }),
  },
  'ticketing GET /tickets': { request: async () => ({ url: '/tickets' }) },
  'ticketing POST /tickets/:id/cancel': {
    request: async () => {
      const order = await buyOne(who.attendee);
      order.tickets.forEach((t) => (privateOfAttendee.add(t.id), privateOfAttendee.add(t.code)));
      privateOfAttendee.add(order.id);
      fixture.ticket = order.tickets[0]!.id;
      return { method: 'POST', url: `/tickets/${fixture.ticket}/cancel` };
    },
    untouched: async () => {
      const tickets = (await call('ticketing', { url: '/tickets', headers: who.attendee.auth })).json().items as { id: string; status: string }[];
      expect(tickets.find((t) => t.id === fixture.ticket)?.status).toBe('valid');
    },
  },
  'ticketing GET /availability/:eventId': { request: async () => ({ url: `/availability/${eventId}` }) },
  'ticketing PUT /waiting-rooms/:eventId': {
    request: async () => ({ method: 'PUT', url: `/waiting-rooms/${await queuedSale()}`, payload: { opensAt: QUEUE_OPENED, admitPerMinute: 50_000 } }),
    untouched: async () => expect((await call('ticketing', { url: `/waiting-rooms/${await queuedSale()}` })).json().admitPerMinute).toBe(100_000),
  },
  'ticketing DELETE /waiting-rooms/:eventId': {
    request: async () => ({ method: 'DELETE', url: `/waiting-rooms/${await queuedSale()}` }),
    untouched: async () => expect((await call('ticketing', { url: `/waiting-rooms/${await queuedSale()}` })).statusCode).toBe(200),
  },
  'ticketing GET /waiting-rooms/:eventId': { request: async () => ({ url: `/waiting-rooms/${await queuedSale()}` }) },
  'ticketing POST /waiting-rooms/:eventId/entries': { request: async () => ({ method: 'POST', url: `/waiting-rooms/${await queuedSale()}/entries` }) },
  'ticketing POST /waiting-rooms/:eventId/passes': {
    request: async (actor) => {
      const eventId = await queuedSale();
      const joined = await call('ticketing', { method: 'POST', url: `/waiting-rooms/${eventId}/entries`, headers: authOf(actor) });
      return { method: 'POST', url: `/waiting-rooms/${eventId}/passes`, payload: { token: joined.statusCode < 300 ? joined.json().token : 'no-place' } };
    },
  },
};

const QUEUE_OPENED = new Date(Date.now() - 60_000).toISOString();

/** An event of its own whose sale is queued (open since a minute, everyone admitted at once): set again before each use. */
async function queuedSale(): Promise<string> {
  const id = await once('queuedSale', () => newEvent('Queued sale'));
  const set = await call('ticketing', { method: 'PUT', url: `/waiting-rooms/${id}`, headers: who.organizer.auth, payload: { opensAt: QUEUE_OPENED, admitPerMinute: 100_000 } });
  expect(set.statusCode, set.body).toBe(200);
  return id;
}

for (const service of SERVICE_NAMES) {
  Object.assign(CASES, {
    [`${service} GET /healthz`]: { request: async () => ({ url: '/healthz' }) },
    [`${service} GET /readyz`]: { request: async () => ({ url: '/readyz' }) },
    [`${service} GET /metrics`]: { request: async () => ({ url: '/metrics' }) },
    [`${service} GET /openapi.json`]: { request: async () => ({ url: '/openapi.json' }) },
    [`${service} GET /docs`]: { request: async () => ({ url: '/docs' }) },
    [`${service} POST /internal/messages`]: { request: async () => ({ method: 'POST', url: '/internal/messages', payload: { messages: [] } }) },
    [`${service} GET /internal/dead-letters`]: { request: async () => ({ url: '/internal/dead-letters' }) },
    [`${service} POST /internal/dead-letters/:id/replay`]: { request: async () => ({ method: 'POST', url: '/internal/dead-letters/1/replay' }) },
  });
}
CASES['engagement POST /internal/signing-keys/rotate'] = { request: async () => ({ method: 'POST', url: '/internal/signing-keys/rotate', payload: {} }) };
CASES['ticketing POST /internal/capacity'] = {
  request: async () => ({ method: 'POST', url: '/internal/capacity', payload: { eventId, version: 99, ticketTypes: [{ id: 'tt_x', capacity: 1 }] } }),
};

const key = (r: EndpointRule) => `${r.service} ${endpointName(r)}`;
/** The owner acts last, so resources refused to everyone else are still there to check. */
const ORDER: Actor[] = ['anonymous', 'otherAttendee', 'otherOrganizer', 'organizer', 'admin', 'attendee'];

beforeAll(async () => {
  sys = await startInProcess({ ordersPerUserPerMinute: 10_000 });
  who = {
    attendee: await account(sys, 'attendee', 'ada'),
    otherAttendee: await account(sys, 'attendee', 'bob'),
    organizer: await account(sys, 'organizer', 'olga'),
    otherOrganizer: await account(sys, 'organizer', 'pete'),
    admin: await account(sys, 'admin'),
  };
  eventId = await newEvent('Jazz Night');
  const reg = await call('events', { method: 'POST', url: '/register', headers: who.attendee.auth, payload: { eventId } });
  privateOfAttendee.add(reg.json().id);
  const order = await buyOne(who.attendee);
  privateOfAttendee.add(order.id);
  order.tickets.forEach((t) => (privateOfAttendee.add(t.id), privateOfAttendee.add(t.code)));
  (await attendeeNotifications()).forEach((n) => privateOfAttendee.add(n.id));
  expect(privateOfAttendee.size).toBeGreaterThan(4);
});
afterAll(async () => sys?.close());

describe('authorization matrix', () => {
  it('covers every route every service registers, and has a request for every entry', () => {
    for (const service of SERVICE_NAMES) {
      const inMatrix = new Set(AUTHORIZATION.filter((r) => r.service === service).map((r) => `${r.method} ${r.path}`));
      const routes = registeredRoutes(sys.apps[service])
        .filter((r) => !r.url.startsWith('/docs/') && r.url !== '/docs/')
        .map((r) => `${r.method} ${r.url}`);
      const missing = routes.filter((r) => !inMatrix.has(r));
      expect(missing, `${service} routes missing from the matrix`).toEqual([]);
    }
    expect(AUTHORIZATION.map(key).filter((k) => !CASES[k])).toEqual([]);
  });

  const results: string[] = [];
  afterAll(() => console.log(`authorization matrix: ${results.length} calls (${AUTHORIZATION.length} endpoints × ${ACTORS.length} actors)`));

  for (const rule of AUTHORIZATION) {
    it(`${key(rule)} — ${rule.access}`, async () => {
      fixture = { ...fixture, patched: undefined, cancelled: undefined, ticket: undefined, rsvp: undefined, notification: undefined };
      for (const actor of ORDER) {
        const c = CASES[key(rule)]!;
        const req = await c.request(actor);
        const res = await call(rule.service, { ...req, headers: { ...authOf(actor), ...(req.headers ?? {}) } });
        results.push(`${key(rule)} ${actor} ${res.statusCode}`);
        const expected = expectedOutcome(rule.access, actor);
        const what = `${key(rule)} as ${actor}: ${res.body.slice(0, 200)}`;
        if (expected === 'allowed') {
          expect(res.statusCode, what).toBe(rule.ok);
        } else {
          expect(res.statusCode, what).toBe(expected);
          const code = res.json().code;
          if (expected === 401) expect(code, what).toBe(rule.access === 'service' ? 'BAD_SIGNATURE' : 'UNAUTHENTICATED');
          if (expected === 403) expect(code, what).toBe('FORBIDDEN');
          if (expected === 404) expect(code, what).toMatch(/_NOT_FOUND$/);
          await c.untouched?.();
        }
        if (actor !== 'attendee' && (rule.access === 'self' || rule.access === 'owner')) {
          for (const secret of privateOfAttendee) expect(res.body, `${what} leaks ${secret}`).not.toContain(secret);
        }
      }
    });
  }
});

describe('who may call comes before what is sent', () => {
  // Validation errors describe a route's rules: an anonymous caller (or an attendee at an organizer route)
  // must be refused before the body, query or path is looked at, whatever is sent.
  const protectedRules = AUTHORIZATION.filter((r) => r.access !== 'anyone' && r.access !== 'service');
  const garbled = (rule: EndpointRule): InjectOptions => ({
    method: rule.method,
    url: `${rule.path.replace(/:[A-Za-z]+/g, 'not an id!')}?${rule.query ? `${rule.query}&` : ''}limit=lots&junk=1`,
    ...(rule.method === 'GET' ? {} : { headers: { 'content-type': 'application/json' }, payload: '{"half": ' }),
  });

  it.each(protectedRules.map((r) => [key(r), r] as const))('%s refuses an anonymous caller with 401 before validating', async (_name, rule) => {
    const res = await call(rule.service, garbled(rule));
    expect(res.statusCode, res.body).toBe(401);
    expect(res.json().code).toBe('UNAUTHENTICATED');
  });

  const organizerRules = protectedRules.filter((r) => r.access === 'organizer-role' || r.access === 'event-organizer');
  it.each(organizerRules.map((r) => [key(r), r] as const))('%s refuses an attendee with 403 before validating', async (_name, rule) => {
    const req = garbled(rule);
    const res = await call(rule.service, { ...req, headers: { ...(req.headers ?? {}), ...who.attendee.auth } });
    expect(res.statusCode, res.body).toBe(403);
    expect(res.json().code).toBe('FORBIDDEN');
  });
});

describe('admin', () => {
  it('is never created by sign-up, only from configuration', async () => {
    const res = await call('engagement', {
      method: 'POST',
      url: '/users',
      payload: { email: 'sneaky@example.com', password: 'correct horse battery', name: 'Sneaky', role: 'admin' },
    });
    expect(res.statusCode).toBe(400);
    expect((await call('engagement', { url: '/me', headers: who.admin.auth })).json().role).toBe('admin');
  });

  it("sees and cancels any organizer's event; its ticket holders are refunded and told", async () => {
    const target = await newEvent('Admin cancels this');
    const buyer = await buyOne(who.otherAttendee, target);
    const seen = await call('events', { url: `/events/${target}/registrations`, headers: who.admin.auth });
    expect(seen.statusCode).toBe(200);
    const res = await call('events', { method: 'POST', url: `/events/${target}/cancel`, headers: who.admin.auth });
    expect(res.statusCode).toBe(200);
    expect(res.json().status).toBe('cancelled');
    await sys.settle();
    const order = (await call('ticketing', { url: `/orders/${buyer.id}`, headers: who.otherAttendee.auth })).json();
    expect(order).toMatchObject({ status: 'cancelled', refundStatus: 'full' });
    const notes = (await call('engagement', { url: '/notifications?limit=100', headers: who.otherAttendee.auth })).json().items;
    expect(notes.some((n: { type: string; eventId: string }) => n.type === 'event_cancelled' && n.eventId === target)).toBe(true);
    expect((await call('events', { url: `/events/${target}`, headers: who.admin.auth })).json().status).toBe('cancelled');
  });
});
