import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  ACCESS_DESCRIPTIONS,
  type Access,
  ACTORS,
  type Actor,
  AUTHORIZATION,
  authorizationTable,
  DEFAULT_PORTS,
  endpointName,
  ERROR_CODES,
  type ErrorCode,
  errorStatus,
  expectedOutcome,
  GATEWAY_ROUTES,
  LIVE_PATH,
  SIGNATURE_HEADER,
  TIMESTAMP_HEADER,
} from '@dems/contracts';

describe('error codes', () => {
  it('are documented in docs/errors.md with their status and meaning', () => {
    const doc = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8');
    for (const [code, { status, description }] of Object.entries(ERROR_CODES)) {
      expect(doc).toContain(`| \`${code}\` | ${status} | ${description} |`);
    }
  });

  it.each([
    ['VALIDATION_FAILED', 400],
    ['IDEMPOTENCY_KEY_REQUIRED', 400],
    ['UNAUTHENTICATED', 401],
    ['INVALID_REFRESH_TOKEN', 401],
    ['FORBIDDEN', 403],
    ['EVENT_NOT_FOUND', 404],
    ['WAITING_ROOM_NOT_FOUND', 404],
    ['QUEUE_TOKEN_INVALID', 403],
    ['QUEUE_PASS_REQUIRED', 403],
    ['QUEUE_PASS_INVALID', 403],
    ['SALE_NOT_OPEN_YET', 409],
    ['NOT_ADMITTED_YET', 409],
    ['QUEUE_PASS_EXPIRED', 409],
    ['EMAIL_TAKEN', 409],
    ['SOLD_OUT', 409],
    ['EVENT_ENDED', 409],
    ['PAYLOAD_TOO_LARGE', 413],
    ['UNSUPPORTED_MEDIA_TYPE', 415],
    ['IDEMPOTENCY_KEY_REUSED', 422],
    ['CHALLENGE_REQUIRED', 428],
    ['RATE_LIMITED', 429],
    ['INTERNAL', 500],
    ['UPSTREAM_UNAVAILABLE', 502],
    ['NOT_READY', 503],
  ] as [ErrorCode, number][])('%s answers %i', (code, status) => {
    expect(errorStatus(code)).toBe(status);
  });

  it('every code has a sentence and an HTTP error status', () => {
    for (const [code, { status, description }] of Object.entries(ERROR_CODES)) {
      expect(errorStatus(code as ErrorCode)).toBe(status);
      expect(status, code).toBeGreaterThanOrEqual(400);
      expect(status, code).toBeLessThan(600);
      expect(description.length, code).toBeGreaterThan(10);
    }
  });
});

describe('gateway routes', () => {
  it('send each API prefix to the service that owns it', () => {
    expect(Object.fromEntries(GATEWAY_ROUTES.map((r) => [r.prefix, r.service]))).toEqual({
      '/events': 'events',
      '/register': 'events',
      '/registrations': 'events',
      '/orders': 'ticketing',
      '/tickets': 'ticketing',
      '/availability': 'ticketing',
      '/waiting-rooms': 'ticketing',
      '/users': 'engagement',
      '/sessions': 'engagement',
      '/me': 'engagement',
      '/notifications': 'engagement',
      '/announcements': 'engagement',
      '/.well-known': 'engagement',
    });
  });

  it('forward /socket.io to engagement and use the agreed ports and signature headers', () => {
    expect(LIVE_PATH).toBe('/socket.io');
    expect(DEFAULT_PORTS).toEqual({ gateway: 3000, events: 3001, ticketing: 3002, engagement: 3003 });
    expect(SIGNATURE_HEADER).toBe('x-dems-signature');
    expect(TIMESTAMP_HEADER).toBe('x-dems-timestamp');
  });
});

describe('authorization: expectedOutcome', () => {
  const outcomes: Record<Access, Record<Actor, 'allowed' | 401 | 403 | 404>> = {
    anyone: { anonymous: 'allowed', attendee: 'allowed', otherAttendee: 'allowed', organizer: 'allowed', otherOrganizer: 'allowed', admin: 'allowed' },
    'signed-in': { anonymous: 401, attendee: 'allowed', otherAttendee: 'allowed', organizer: 'allowed', otherOrganizer: 'allowed', admin: 'allowed' },
    self: { anonymous: 401, attendee: 'allowed', otherAttendee: 'allowed', organizer: 'allowed', otherOrganizer: 'allowed', admin: 'allowed' },
    owner: { anonymous: 401, attendee: 'allowed', otherAttendee: 404, organizer: 404, otherOrganizer: 404, admin: 404 },
    'event-organizer': { anonymous: 401, attendee: 403, otherAttendee: 403, organizer: 'allowed', otherOrganizer: 403, admin: 'allowed' },
    'organizer-role': { anonymous: 401, attendee: 403, otherAttendee: 403, organizer: 'allowed', otherOrganizer: 'allowed', admin: 'allowed' },
    service: { anonymous: 401, attendee: 401, otherAttendee: 401, organizer: 401, otherOrganizer: 401, admin: 401 },
  };

  it('covers every access rule and actor', () => {
    expect(Object.keys(outcomes).sort()).toEqual(Object.keys(ACCESS_DESCRIPTIONS).sort());
    expect(ACTORS).toEqual(['anonymous', 'attendee', 'otherAttendee', 'organizer', 'otherOrganizer', 'admin']);
  });

  it.each(Object.entries(outcomes).flatMap(([access, byActor]) => Object.entries(byActor).map(([actor, outcome]) => [access as Access, actor as Actor, outcome] as const)))(
    '%s as %s → %s',
    (access, actor, outcome) => {
      expect(expectedOutcome(access, actor)).toBe(outcome);
    },
  );

  it.each([
    [{ method: 'GET', path: '/events' }, 'GET /events'],
    [{ method: 'GET', path: '/events', query: 'mine=true' }, 'GET /events?mine=true'],
    [{ method: 'POST', path: '/events/:id/cancel', query: '' }, 'POST /events/:id/cancel'],
  ] as const)('names %j as %s', (rule, name) => {
    expect(endpointName(rule)).toBe(name);
  });

  it.each([
    ['engagement', 'POST', '/users', 'anyone', 201],
    ['engagement', 'POST', '/sessions/logout-everywhere', 'signed-in', 200],
    ['engagement', 'POST', '/notifications/:id/read', 'owner', 200],
    ['engagement', 'POST', '/announcements', 'event-organizer', 201],
    ['events', 'POST', '/events', 'organizer-role', 201],
    ['events', 'PATCH', '/events/:id', 'event-organizer', 200],
    ['events', 'POST', '/register', 'signed-in', 201],
    ['events', 'DELETE', '/register/:eventId', 'owner', 200],
    ['ticketing', 'POST', '/orders', 'signed-in', 201],
    ['ticketing', 'POST', '/tickets/:id/cancel', 'owner', 200],
    ['ticketing', 'POST', '/internal/capacity', 'service', 200],
    ['ticketing', 'GET', '/healthz', 'anyone', 200],
    ['events', 'POST', '/internal/messages', 'service', 200],
  ])('%s %s %s is for %s and answers %i', (service, method, path, access, ok) => {
    const rule = AUTHORIZATION.find((r) => r.service === service && r.method === method && r.path === path && !r.query);
    expect(rule).toMatchObject({ access, ok });
  });
});

describe('authorizationTable (the table in docs/security.md)', () => {
  const lines = authorizationTable().split('\n');

  it('has a header, a separator and one row per rule', () => {
    expect(lines[0]).toBe("| service | endpoint | who may call | anonymous | attendee (owner) | other attendee | organizer (event's) | other organizer | admin |");
    expect(lines[1]).toBe('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
    expect(lines).toHaveLength(AUTHORIZATION.length + 2);
  });

  it('shows each rule with its outcome per actor', () => {
    expect(lines).toContain("| events | `PATCH /events/:id` | the event's organizer, or an admin | 401 | 403 | 403 | ✔ 200 | 403 | ✔ 200 |");
    expect(lines).toContain('| events | `GET /events?mine=true` | organizer or admin role | 401 | 403 | 403 | ✔ 200 | ✔ 200 | ✔ 200 |');
  });
});
