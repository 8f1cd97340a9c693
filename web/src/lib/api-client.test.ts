import { afterEach, describe, expect, it, vi } from 'vitest';
import { attendeeSession, json } from '../test/render';
import { ApiError, apiRequest } from './api-client';
import { sessionStore } from './session-store';

const renewed = { ...attendeeSession, token: 'renewed-token', refreshToken: 'renewed-refresh-token-0123456789', expiresAt: new Date(Date.now() + 900_000).toISOString() };

/** A fake API (the engagement service's refresh rules are tested there): records what each call carried. */
function fakeApi(handler: (path: string, init: RequestInit) => Response) {
  const calls: { path: string; auth: string | null; body: unknown }[] = [];
  vi.stubGlobal(
    'fetch',
    vi.fn(async (url: string | URL | Request, init: RequestInit = {}) => {
      const path = String(url);
      calls.push({ path, auth: new Headers(init.headers).get('authorization'), body: init.body ? JSON.parse(String(init.body)) : undefined });
      return handler(path, init);
    }),
  );
  return calls;
}

afterEach(() => {
  vi.unstubAllGlobals();
  sessionStore.set(null);
});

describe('apiRequest with the signed-in session', () => {
  it('renews an access token about to expire before sending, once for concurrent requests', async () => {
    sessionStore.set({ ...attendeeSession, expiresAt: new Date(Date.now() + 5_000).toISOString() });
    const calls = fakeApi((path) => (path === '/api/sessions/refresh' ? json(renewed) : json({ items: [] })));
    await Promise.all([apiRequest('/tickets', { auth: true }), apiRequest('/orders', { auth: true })]);
    expect(calls.filter((c) => c.path === '/api/sessions/refresh')).toEqual([{ path: '/api/sessions/refresh', auth: null, body: { refreshToken: attendeeSession.refreshToken } }]);
    expect(calls.filter((c) => c.path !== '/api/sessions/refresh').map((c) => c.auth)).toEqual(['Bearer renewed-token', 'Bearer renewed-token']);
    expect(JSON.parse(localStorage.getItem('dems.session')!).refreshToken).toBe(renewed.refreshToken);
  });

  it('renews and retries once when the server says the token is no longer valid', async () => {
    sessionStore.set(attendeeSession);
    let first = true;
    const calls = fakeApi((path) => {
      if (path === '/api/sessions/refresh') return json(renewed);
      if (first) {
        first = false;
        return json({ code: 'UNAUTHENTICATED', message: 'Token expired.', requestId: 'r' }, 401);
      }
      return json({ items: ['ok'] });
    });
    await expect(apiRequest('/tickets', { auth: true })).resolves.toEqual({ items: ['ok'] });
    expect(calls.map((c) => [c.path, c.auth])).toEqual([
      ['/api/tickets', 'Bearer test-token'],
      ['/api/sessions/refresh', null],
      ['/api/tickets', 'Bearer renewed-token'],
    ]);
  });

  it('signs out when the refresh token is refused', async () => {
    sessionStore.set({ ...attendeeSession, expiresAt: new Date(Date.now() - 1000).toISOString() });
    fakeApi(() => json({ code: 'INVALID_REFRESH_TOKEN', message: 'Sign in again.', requestId: 'r' }, 401));
    const err = await apiRequest('/tickets', { auth: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).code).toBe('UNAUTHENTICATED');
    expect(sessionStore.get()).toBeNull();
    expect(localStorage.getItem('dems.session')).toBeNull();
  });
});

describe('apiRequest error answers', () => {
  it('carry the wait the server asked for (Retry-After) with the code', async () => {
    fakeApi(() => new Response(JSON.stringify({ code: 'OVERLOADED', message: 'ticketing is too busy.', requestId: 'r1' }), { status: 503, headers: { 'content-type': 'application/json', 'retry-after': '2' } }));
    const err = await apiRequest('/events').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'OVERLOADED', status: 503, retryAfterMs: 2000, requestId: 'r1' });
  });

  it('also when the body is not ours (a proxy page), and null when the server did not say', async () => {
    fakeApi(() => new Response('<html>busy</html>', { status: 503, headers: { 'retry-after': '1' } }));
    expect(await apiRequest('/events').catch((e: unknown) => e)).toMatchObject({ code: 'INTERNAL', status: 503, retryAfterMs: 1000 });
    fakeApi(() => json({ code: 'EVENT_NOT_FOUND', message: 'No such event.', requestId: 'r' }, 404));
    expect(await apiRequest('/events/x').catch((e: unknown) => e)).toMatchObject({ code: 'EVENT_NOT_FOUND', retryAfterMs: null });
  });
});
