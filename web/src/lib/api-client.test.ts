import { afterEach, describe, expect, it, vi } from 'vitest';
import { attendeeSession, json } from '@/test/render';
import { installFakeXhr } from '@/test/fake-xhr';
import { ApiError, apiRequest, apiUpload, type UploadProgress } from './api-client';
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
    fakeApi(
      () =>
        new Response(JSON.stringify({ code: 'OVERLOADED', message: 'ticketing is too busy.', requestId: 'r1' }), {
          status: 503,
          headers: { 'content-type': 'application/json', 'retry-after': '2' },
        }),
    );
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

describe('apiUpload (a file as the body, with progress)', () => {
  const png = () => new Blob([new Uint8Array(2048)], { type: 'image/png' });

  it('sends the file with its own type and the access token, reports progress, and answers the JSON', async () => {
    sessionStore.set(attendeeSession);
    const sent = installFakeXhr();
    const progress: UploadProgress[] = [];
    const file = png();
    const answer = apiUpload<{ ok: boolean }>('/events/ev-1/banner', file, { onProgress: (p) => progress.push(p) });
    await vi.waitFor(() => expect(sent).toHaveLength(1));
    const xhr = sent[0]!;
    expect([xhr.method, xhr.url, xhr.body]).toEqual(['PUT', '/api/events/ev-1/banner', file]);
    expect(xhr.headers).toMatchObject({ 'content-type': 'image/png', authorization: 'Bearer test-token', accept: 'application/json' });
    xhr.progress(1024, 2048);
    xhr.respond(200, { ok: true });
    await expect(answer).resolves.toEqual({ ok: true });
    expect(progress).toEqual([
      { loaded: 0, total: 2048 },
      { loaded: 1024, total: 2048 },
    ]);
  });

  it("turns the server's refusal into the same ApiError as apiRequest, Retry-After included", async () => {
    sessionStore.set(attendeeSession);
    const sent = installFakeXhr();
    const answer = apiUpload('/events/ev-1/banner', png()).catch((e: unknown) => e);
    await vi.waitFor(() => expect(sent).toHaveLength(1));
    sent[0]!.respond(422, { code: 'INVALID_IMAGE', message: 'Not an image.', requestId: 'r9' });
    expect(await answer).toMatchObject({ code: 'INVALID_IMAGE', status: 422, requestId: 'r9' });

    const busy = apiUpload('/events/ev-1/banner', png()).catch((e: unknown) => e);
    await vi.waitFor(() => expect(sent).toHaveLength(2));
    sent[1]!.respond(503, '<html>busy</html>', { 'Retry-After': '3' });
    expect(await busy).toMatchObject({ code: 'INTERNAL', status: 503, retryAfterMs: 3000 });
  });

  it('renews the session and sends again once when the token was refused', async () => {
    sessionStore.set(attendeeSession);
    const sent = installFakeXhr();
    fakeApi(() => json(renewed));
    const answer = apiUpload('/events/ev-1/banner', png());
    await vi.waitFor(() => expect(sent).toHaveLength(1));
    sent[0]!.respond(401, { code: 'UNAUTHENTICATED', message: 'Token expired.', requestId: 'r' });
    await vi.waitFor(() => expect(sent).toHaveLength(2));
    expect(sent[1]!.headers.authorization).toBe('Bearer renewed-token');
    sent[1]!.respond(200, { saved: 1 });
    await expect(answer).resolves.toEqual({ saved: 1 });
  });

  it('a lost connection is NETWORK, a cancelled upload an AbortError, and nothing is sent signed out', async () => {
    sessionStore.set(attendeeSession);
    const sent = installFakeXhr();
    const lost = apiUpload('/events/ev-1/banner', png()).catch((e: unknown) => e);
    await vi.waitFor(() => expect(sent).toHaveLength(1));
    sent[0]!.fail();
    expect(await lost).toMatchObject({ code: 'NETWORK', status: 0 });

    const controller = new AbortController();
    const cancelled = apiUpload('/events/ev-1/banner', png(), { signal: controller.signal }).catch((e: unknown) => e);
    await vi.waitFor(() => expect(sent).toHaveLength(2));
    controller.abort();
    expect(sent[1]!.aborted).toBe(true);
    expect(await cancelled).toMatchObject({ name: 'AbortError' });

    sessionStore.set(null);
    expect(await apiUpload('/events/ev-1/banner', png()).catch((e: unknown) => e)).toMatchObject({ code: 'UNAUTHENTICATED' });
    expect(sent).toHaveLength(2);
  });
});

describe('apiRequest and the browser’s HTTP cache', () => {
  it('has every answer confirmed by the server (no-cache), so a read right after a change never gets the copy from before', async () => {
    sessionStore.set(attendeeSession);
    const modes: (RequestCache | undefined)[] = [];
    fakeApi((_path, init) => {
      modes.push(init.cache);
      return json({});
    });
    await apiRequest('/events/ev-1');
    await apiRequest('/tickets', { auth: true, method: 'POST', body: {} });
    expect(modes).toEqual(['no-cache', 'no-cache']);
  });
});
