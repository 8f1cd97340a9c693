import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { io, type Socket } from 'socket.io-client';
import { uniqueTablePrefix } from '@dems/kit/testing';
import { callJson } from '../../scripts/lib/json-call.mjs';
import { ANY_PORTS, startSystem } from '../../scripts/lib/system.mjs';

export type System = Awaited<ReturnType<typeof startSystem>>;

/**
 * Starts the four real processes on a fresh data directory, each on a port the OS picks (read back from the
 * process), so that test files run side by side and beside a developer's `npm start`. `options.env` adds or
 * overrides settings of every process; `replicas` runs several replicas of each service (and a redis-server for
 * them), `extraTicketing` further ticketing processes the others are not told about, as startSystem does; `ports`
 * fixes a service's port where a test must know it before anything starts (a reserved one, never a number).
 */
export async function startTestSystem(options: { env?: Record<string, string>; replicas?: number; extraTicketing?: number; ports?: Partial<typeof ANY_PORTS> } = {}) {
  const { env, ports, ...processes } = options;
  const dataDir = mkdtempSync(join(tmpdir(), 'dems-system-'));
  let system: System;
  try {
    system = await startSystem({
      dataDir,
      ports: { ...ANY_PORTS, ...ports },
      redisPort: 0,
      // Every test client is 127.0.0.1: lift the per-address sign-up throttle (its own tests are in engagement).
      env: { LOG_LEVEL: 'warn', SERVICE_SECRET: 'system-test-secret-0123456789', SIGNUPS_PER_ADDRESS_PER_HOUR: '100000', ...env },
      ...processes,
    });
  } catch (err) {
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
  return {
    system,
    dataDir,
    api: client(`${system.urls.gateway}/api`),
    async stop() {
      await system.stopAll();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** The settings that put every service on DynamoDB Local at `endpoint`, on fresh tables of their own named after `name`. */
export function dynamoDbEnv(endpoint: string, name: string): Record<string, string> {
  return { STORE: 'dynamodb', DYNAMODB_ENDPOINT: endpoint, TABLE_PREFIX: uniqueTablePrefix(name), DYNAMODB_CREATE_TABLES: 'true' };
}

/** Tries of one request that load shedding refuses before the refusal is the answer. */
const SHED_TRIES = 6;

export interface Reply<T = any> {
  status: number;
  body: T;
}

/**
 * A tiny JSON client; every call returns status and body, never throws on 4xx/5xx. Like any well-behaved client
 * it repeats a request that a busy service shed (503 OVERLOADED: nothing was done) after its Retry-After, a few
 * times: a burst on this small machine may trip load shedding, and what these tests check is the outcome.
 */
export function client(base: string) {
  const once = async (method: string, path: string, body?: unknown, token?: string, headers: Record<string, string> = {}) => {
    const res = await callJson(method, `${base}${path}`, body, token, headers);
    return { status: res.status, body: res.body, retryAfter: Number(res.headers.get('retry-after') ?? 1) };
  };
  const call = async (method: string, path: string, body?: unknown, token?: string, headers: Record<string, string> = {}): Promise<Reply> => {
    for (let tries = 1; ; tries++) {
      const { retryAfter, ...reply } = await once(method, path, body, token, headers);
      if (reply.status !== 503 || reply.body?.code !== 'OVERLOADED' || tries === SHED_TRIES) return reply;
      await new Promise((r) => setTimeout(r, Math.min(retryAfter, 3) * 1000 * (1 + Math.random() / 2)));
    }
  };
  return {
    get: (path: string, token?: string) => call('GET', path, undefined, token),
    post: (path: string, body: unknown, token?: string, headers?: Record<string, string>) => call('POST', path, body, token, headers),
    del: (path: string, token?: string) => call('DELETE', path, undefined, token),
    patch: (path: string, body: unknown, token?: string) => call('PATCH', path, body, token),
    /** Signs up and signs in; returns the token and user. */
    async account(role: 'attendee' | 'organizer', name = `${role}-${Math.random().toString(36).slice(2, 8)}`) {
      const email = `${name}@example.com`;
      const password = 'correct horse battery';
      const signUp = await call('POST', '/users', { email, password, name, role });
      if (signUp.status !== 201) throw new Error(`sign-up failed: ${JSON.stringify(signUp)}`);
      const session = await call('POST', '/sessions', { email, password });
      return { token: session.body.token as string, user: session.body.user as { id: string; name: string } };
    },
  };
}

export type Api = ReturnType<typeof client>;

/** Polls until `check` returns a value (not undefined), or fails after `timeoutMs`. */
export async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs = 10_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export function inDays(days: number, hours = 2) {
  const start = new Date(Date.now() + days * 86_400_000);
  return { startsAt: start.toISOString(), endsAt: new Date(start.getTime() + hours * 3_600_000).toISOString() };
}

export async function createEvent(api: Api, token: string, capacity = 100, extra: Record<string, unknown> = {}) {
  const res = await api.post(
    '/events',
    {
      title: 'Jazz Night',
      description: 'Live jazz',
      venue: 'Blue Room',
      timezone: 'Europe/Lisbon',
      ...inDays(7),
      ticketTypes: [{ name: 'General', priceCents: 2500, currency: 'EUR', capacity }],
      ...extra,
    },
    token,
  );
  if (res.status !== 201) throw new Error(`create event failed: ${JSON.stringify(res)}`);
  return res.body as { id: string; title: string; ticketTypes: { id: string }[] };
}

/** Waits until ticketing has received the event (it arrives by message, not by call). */
export async function waitOnSale(api: Api, eventId: string) {
  return eventually(
    async () => {
      const r = await api.get(`/availability/${eventId}`);
      return r.status === 200 ? r.body : undefined;
    },
    10_000,
    `event ${eventId} to reach ticketing`,
  );
}

/** A live Socket.IO connection through the gateway, collecting every notification pushed to it. */
export async function liveNotifications(gatewayUrl: string, token: string) {
  const received: { title: string; body: string; type: string; at: number }[] = [];
  const socket: Socket = io(gatewayUrl, { auth: { token }, transports: ['websocket'], reconnection: false });
  socket.on('notification', (n) => received.push({ ...n, at: Date.now() }));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
  return { socket, received, close: () => socket.close() };
}
