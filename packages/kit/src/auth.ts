import { readFileSync, writeFileSync, renameSync } from 'node:fs';
import { createLocalJWKSet, errors as joseErrors, jwtVerify, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AUTHORIZATION, TokenClaims, type Access, type Role, type ServiceName } from '@dems/contracts';
import { AppError } from './errors.js';
import { PRIVATE_FILE } from './private-files.js';
import { Upstreams } from './upstreams.js';

export const TOKEN_ISSUER = 'dems-engagement';
export const TOKEN_AUDIENCE = 'dems';

export interface AuthUser {
  id: string;
  role: Role;
  email: string;
  name: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    user: AuthUser | null;
  }
}

/** Where engagement publishes the public keys that verify its tokens. */
export const JWKS_PATH = '/.well-known/jwks.json';

export type TokenVerifier = (token: string) => Promise<AuthUser>;

/** How many verified tokens a process remembers; a signed-in person reuses one token for its whole lifetime. */
const VERIFIED_TOKEN_CACHE_SIZE = 10_000;

/**
 * Verifies an access token against a key set; any failure is UNAUTHENTICATED with a sentence a person understands.
 * A token that verified once is remembered until it expires: the Ed25519 check is the largest cost of a request
 * (bench/README.md), and the same token arrives with every request of a session. Only exact token strings that
 * passed verification are kept, so a forged or altered token is never a hit.
 */
export function verifierFor(getKey: JWTVerifyGetKey): TokenVerifier {
  const verified = new Map<string, { user: AuthUser; expiresAtMs: number }>();
  return async (token) => {
    const hit = verified.get(token);
    if (hit && hit.expiresAtMs > Date.now()) return hit.user;
    if (hit) verified.delete(token);
    try {
      const { payload } = await jwtVerify(token, getKey, { issuer: TOKEN_ISSUER, audience: TOKEN_AUDIENCE, algorithms: ['EdDSA'] });
      const claims = TokenClaims.parse(payload);
      const user: AuthUser = { id: claims.sub, role: claims.role, email: claims.email, name: claims.name };
      if (payload.exp !== undefined) {
        if (verified.size >= VERIFIED_TOKEN_CACHE_SIZE) verified.delete(verified.keys().next().value as string);
        verified.set(token, { user, expiresAtMs: payload.exp * 1000 });
      }
      return user;
    } catch (err) {
      if (err instanceof joseErrors.JWTExpired) throw new AppError('UNAUTHENTICATED', 'Your session has expired. Please sign in again.');
      throw new AppError('UNAUTHENTICATED', 'The access token is not valid. Please sign in again.');
    }
  };
}

/**
 * The engagement service's public keys, kept in memory and in a cache file so that a service restarted
 * while engagement is down still verifies tokens (a purchase never waits for engagement).
 * Refreshed in the background, and when a token names a key we do not have; from any engagement replica that
 * answers (every replica serves the same keys).
 */
export class CachedJwks {
  private keys: JSONWebKeySet = { keys: [] };
  private local = createLocalJWKSet(this.keys);
  private lastAttempt = 0;
  private lastFailed = true;
  private timer?: NodeJS.Timeout;
  private readonly engagement: Upstreams;

  constructor(
    private readonly opts: {
      /** Engagement's base URL, or one per replica. */
      engagementUrls: string | readonly string[];
      cacheFile: string;
      refreshMs?: number;
      log?: { info?: (o: object, m: string) => void; warn: (o: object, m: string) => void };
    },
  ) {
    this.engagement = new Upstreams({ service: 'engagement', urls: opts.engagementUrls, log: opts.log });
    try {
      this.use(JSON.parse(readFileSync(opts.cacheFile, 'utf8')) as JSONWebKeySet);
    } catch {
      /* no cache yet */
    }
  }

  start(): void {
    void this.refresh();
    this.timer = setInterval(() => void this.refresh(), this.opts.refreshMs ?? 10 * 60_000);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.engagement.stop();
  }

  private use(jwks: JSONWebKeySet) {
    if (!Array.isArray(jwks.keys)) return;
    this.keys = jwks;
    this.local = createLocalJWKSet(jwks);
  }

  async refresh(): Promise<boolean> {
    this.lastAttempt = Date.now();
    this.lastFailed = true;
    try {
      const res = await this.engagement.fetch(JWKS_PATH, { signal: AbortSignal.timeout(2000) });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      const jwks = (await res.json()) as JSONWebKeySet;
      this.use(jwks);
      const tmp = `${this.opts.cacheFile}.tmp`;
      writeFileSync(tmp, JSON.stringify(jwks), { mode: PRIVATE_FILE });
      renameSync(tmp, this.opts.cacheFile);
      this.lastFailed = false;
      return true;
    } catch (err) {
      this.opts.log?.warn({ err: String(err), urls: this.engagement.urls }, 'could not refresh signing keys; using cached ones');
      return false;
    }
  }

  readonly getKey: JWTVerifyGetKey = async (header, token) => {
    try {
      return await this.local(header, token);
    } catch (err) {
      const unknownKey = err instanceof joseErrors.JWKSNoMatchingKey;
      // After a failed fetch (engagement still starting) retry soon; after a good one, at most every 30 s.
      const waitMs = this.lastFailed ? 1000 : 30_000;
      if (unknownKey && Date.now() - this.lastAttempt > waitMs && (await this.refresh())) return this.local(header, token);
      throw err;
    }
  };
}

/**
 * Sets `request.user` from a Bearer token when one is sent, then applies the service's rows of the
 * authorization matrix (contracts) before anything else looks at the request: an anonymous caller of a
 * protected route gets 401, and an attendee calling an organizer route 403, whatever its body or query —
 * nobody learns a route's validation rules without being allowed to call it. Ownership (the event's
 * organizer, the order's buyer) needs the data and stays with the route.
 */
export function registerAuth(app: FastifyInstance, verify: TokenVerifier, service: ServiceName): void {
  const accessOf = accessRules(service);
  app.decorateRequest('user', null);
  app.addHook('onRequest', async (req) => {
    const header = req.headers.authorization;
    if (header) {
      const match = /^Bearer\s+(\S+)$/i.exec(header);
      if (!match?.[1]) throw new AppError('UNAUTHENTICATED', 'Send the access token as "Authorization: Bearer <token>".');
      req.user = await verify(match[1]);
    }
    const access = accessOf(req.method, req.routeOptions.url, req.query);
    if (!access || access === 'anyone' || access === 'service') return;
    const user = requireSignedIn(req);
    if ((access === 'organizer-role' || access === 'event-organizer') && user.role === 'attendee') {
      throw new AppError('FORBIDDEN', 'Only organizer or admin accounts can do this.');
    }
  });
}

/** The access rule of a route of `service`: a row with a `query` (e.g. `mine=true`) wins when the request has it. */
function accessRules(service: ServiceName) {
  const rules = AUTHORIZATION.filter((r) => r.service === service);
  return (method: string, url: string | undefined, query: unknown): Access | undefined => {
    if (!url) return undefined;
    const wanted = method === 'HEAD' ? 'GET' : method;
    const params = (query ?? {}) as Record<string, unknown>;
    const candidates = rules.filter((r) => r.method === wanted && r.path === url);
    const variant = candidates.find(
      (r) =>
        r.query &&
        r.query.split('&').every((kv) => {
          const [k, v] = kv.split('=');
          return params[k!] === v;
        }),
    );
    return (variant ?? candidates.find((r) => !r.query))?.access;
  };
}

/** The signed-in user making the request; UNAUTHENTICATED (401) when nobody is signed in. */
export function requireSignedIn(req: FastifyRequest): AuthUser {
  if (!req.user) throw new AppError('UNAUTHENTICATED', 'Please sign in to do this.');
  return req.user;
}

export function requireRole(req: FastifyRequest, ...roles: Role[]): AuthUser {
  const user = requireSignedIn(req);
  if (!roles.includes(user.role)) throw new AppError('FORBIDDEN', `Only ${roles.join(' or ')} accounts can do this.`);
  return user;
}
