import type { ServiceName } from './messages.js';

/**
 * The authorization matrix: for every endpoint of every service, who may call it. Written once here;
 * tests/system/authorization.test.ts calls every endpoint as each actor below and asserts the outcome
 * `expectedOutcome` derives from this table, and docs/security.md shows `authorizationTable()` verbatim.
 */
export type Access =
  /** Anyone, signed in or not. */
  | 'anyone'
  /** Any valid access token. */
  | 'signed-in'
  /** Any valid access token; the answer holds only the caller's own data (lists, "mark all read"). */
  | 'self'
  /** The caller must own the order, ticket, registration or notification named in the path; anyone else gets 404. */
  | 'owner'
  /** The organizer of the event named in the path or body, or an admin. */
  | 'event-organizer'
  /** An account with the organizer or admin role. */
  | 'organizer-role'
  /** Requests signed with SERVICE_SECRET only; never reachable through the gateway. */
  | 'service';

export const ACCESS_DESCRIPTIONS: Record<Access, string> = {
  anyone: 'anyone',
  'signed-in': 'signed in',
  self: 'signed in; only own data',
  owner: 'owner of the resource',
  'event-organizer': "the event's organizer, or an admin",
  'organizer-role': 'organizer or admin role',
  service: 'services only (signed with SERVICE_SECRET)',
};

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface EndpointRule {
  service: ServiceName;
  method: HttpMethod;
  /** The route as the service registers it (`:id` style parameters); `query` narrows a variant of it. */
  path: string;
  query?: string;
  access: Access;
  /** Status of a successful call. */
  ok: number;
}

/**
 * Served by every service: probes, metrics, API description, and the signed /internal routes. A service's port is
 * internal (only the gateway is public, and it forwards /api only), so its probes and metrics are for anyone there.
 */
const common = (service: ServiceName): EndpointRule[] => [
  { service, method: 'GET', path: '/healthz', access: 'anyone', ok: 200 },
  { service, method: 'GET', path: '/readyz', access: 'anyone', ok: 200 },
  { service, method: 'GET', path: '/metrics', access: 'anyone', ok: 200 },
  { service, method: 'GET', path: '/openapi.json', access: 'anyone', ok: 200 },
  { service, method: 'GET', path: '/docs', access: 'anyone', ok: 200 },
  { service, method: 'POST', path: '/internal/messages', access: 'service', ok: 200 },
  { service, method: 'GET', path: '/internal/dead-letters', access: 'service', ok: 200 },
  { service, method: 'POST', path: '/internal/dead-letters/:id/replay', access: 'service', ok: 200 },
];

export const AUTHORIZATION: readonly EndpointRule[] = [
  { service: 'engagement', method: 'POST', path: '/users', access: 'anyone', ok: 201 },
  { service: 'engagement', method: 'POST', path: '/sessions', access: 'anyone', ok: 200 },
  { service: 'engagement', method: 'POST', path: '/sessions/challenge', access: 'anyone', ok: 200 },
  { service: 'engagement', method: 'POST', path: '/sessions/refresh', access: 'anyone', ok: 200 },
  { service: 'engagement', method: 'POST', path: '/sessions/logout', access: 'anyone', ok: 200 },
  { service: 'engagement', method: 'POST', path: '/sessions/logout-everywhere', access: 'signed-in', ok: 200 },
  { service: 'engagement', method: 'GET', path: '/.well-known/jwks.json', access: 'anyone', ok: 200 },
  { service: 'engagement', method: 'GET', path: '/me', access: 'signed-in', ok: 200 },
  { service: 'engagement', method: 'GET', path: '/notifications', access: 'self', ok: 200 },
  { service: 'engagement', method: 'POST', path: '/notifications/read-all', access: 'self', ok: 200 },
  { service: 'engagement', method: 'POST', path: '/notifications/:id/read', access: 'owner', ok: 200 },
  { service: 'engagement', method: 'POST', path: '/announcements', access: 'event-organizer', ok: 201 },
  { service: 'engagement', method: 'POST', path: '/internal/signing-keys/rotate', access: 'service', ok: 200 },
  ...common('engagement'),

  { service: 'events', method: 'POST', path: '/events', access: 'organizer-role', ok: 201 },
  { service: 'events', method: 'GET', path: '/events', access: 'anyone', ok: 200 },
  { service: 'events', method: 'GET', path: '/events', query: 'mine=true', access: 'organizer-role', ok: 200 },
  { service: 'events', method: 'GET', path: '/events/:id', access: 'anyone', ok: 200 },
  { service: 'events', method: 'PATCH', path: '/events/:id', access: 'event-organizer', ok: 200 },
  { service: 'events', method: 'POST', path: '/events/:id/cancel', access: 'event-organizer', ok: 200 },
  { service: 'events', method: 'PUT', path: '/events/:id/banner', access: 'event-organizer', ok: 200 },
  { service: 'events', method: 'DELETE', path: '/events/:id/banner', access: 'event-organizer', ok: 200 },
  { service: 'events', method: 'GET', path: '/events/:id/registrations', access: 'event-organizer', ok: 200 },
  { service: 'events', method: 'POST', path: '/register', access: 'signed-in', ok: 201 },
  { service: 'events', method: 'DELETE', path: '/register/:eventId', access: 'owner', ok: 200 },
  { service: 'events', method: 'GET', path: '/registrations', access: 'self', ok: 200 },
  ...common('events'),

  { service: 'ticketing', method: 'POST', path: '/orders', access: 'signed-in', ok: 201 },
  { service: 'ticketing', method: 'GET', path: '/orders', access: 'self', ok: 200 },
  { service: 'ticketing', method: 'GET', path: '/orders/:id', access: 'owner', ok: 200 },
  { service: 'ticketing', method: 'GET', path: '/tickets', access: 'self', ok: 200 },
  { service: 'ticketing', method: 'POST', path: '/tickets/:id/cancel', access: 'owner', ok: 200 },
  { service: 'ticketing', method: 'GET', path: '/availability/:eventId', access: 'anyone', ok: 200 },
  { service: 'ticketing', method: 'PUT', path: '/waiting-rooms/:eventId', access: 'event-organizer', ok: 200 },
  { service: 'ticketing', method: 'DELETE', path: '/waiting-rooms/:eventId', access: 'event-organizer', ok: 204 },
  { service: 'ticketing', method: 'GET', path: '/waiting-rooms/:eventId', access: 'anyone', ok: 200 },
  { service: 'ticketing', method: 'POST', path: '/waiting-rooms/:eventId/entries', access: 'signed-in', ok: 201 },
  { service: 'ticketing', method: 'POST', path: '/waiting-rooms/:eventId/passes', access: 'signed-in', ok: 201 },
  { service: 'ticketing', method: 'POST', path: '/internal/capacity', access: 'service', ok: 200 },
  ...common('ticketing'),
];

/**
 * Who the matrix test calls as. The attendee owns the order, ticket, registration and notification used;
 * the organizer owns the event; the "other" ones own nothing involved; the admin comes from configuration.
 */
export const ACTORS = ['anonymous', 'attendee', 'otherAttendee', 'organizer', 'otherOrganizer', 'admin'] as const;
export type Actor = (typeof ACTORS)[number];

const ACTOR_TITLES: Record<Actor, string> = {
  anonymous: 'anonymous',
  attendee: 'attendee (owner)',
  otherAttendee: 'other attendee',
  organizer: "organizer (event's)",
  otherOrganizer: 'other organizer',
  admin: 'admin',
};

/** 'allowed' or the status a refused call gets. Object-level refusals are 404: nobody learns what exists. */
export function expectedOutcome(access: Access, actor: Actor): 'allowed' | 401 | 403 | 404 {
  if (access === 'anyone') return 'allowed';
  if (access === 'service' || actor === 'anonymous') return 401;
  switch (access) {
    case 'signed-in':
    case 'self':
      return 'allowed';
    case 'owner':
      return actor === 'attendee' ? 'allowed' : 404;
    case 'event-organizer':
      return actor === 'organizer' || actor === 'admin' ? 'allowed' : 403;
    case 'organizer-role':
      return actor === 'organizer' || actor === 'otherOrganizer' || actor === 'admin' ? 'allowed' : 403;
  }
}

export const endpointName = (r: Pick<EndpointRule, 'method' | 'path' | 'query'>): string => `${r.method} ${r.path}${r.query ? `?${r.query}` : ''}`;

/** The matrix as the Markdown table in docs/security.md (a test keeps the two identical). */
export function authorizationTable(): string {
  const head = ['service', 'endpoint', 'who may call', ...ACTORS.map((a) => ACTOR_TITLES[a])];
  const rows = AUTHORIZATION.map((r) => [
    r.service,
    `\`${endpointName(r)}\``,
    ACCESS_DESCRIPTIONS[r.access],
    ...ACTORS.map((a) => {
      const o = expectedOutcome(r.access, a);
      return o === 'allowed' ? `✔ ${r.ok}` : String(o);
    }),
  ]);
  return [head, head.map(() => '---'), ...rows].map((cells) => `| ${cells.join(' | ')} |`).join('\n');
}
