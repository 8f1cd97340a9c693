import { act, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { onlineManager, useMutation } from '@tanstack/react-query';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ErrorAlert } from '@/components/error-alert';
import { apiRequest } from '@/lib/api-client';
import { sessionStore } from '@/lib/session-store';
import { attendeeSession, fakeSocket, json, renderApp } from '@/test/render';
import { ConnectionBanner } from './connection-banner';

/** The bell's reads, answered empty: the live connection is under test here, not notifications. */
const stubNotifications = () =>
  vi.stubGlobal(
    'fetch',
    vi.fn(async () => json({ items: [], nextCursor: null, unreadCount: 0 })),
  );

afterEach(() => {
  act(() => onlineManager.setOnline(true));
  vi.unstubAllGlobals();
});

describe('connection banner', () => {
  it('shows a banner while the live connection is down, and hides it once reconnected', async () => {
    stubNotifications();
    const live = fakeSocket();
    renderApp(<ConnectionBanner />, { session: attendeeSession, socket: live });
    act(() => live.socket.emitFromServer('connect'));
    expect(screen.queryByTestId('connection-banner')).toBeNull();
    act(() => live.socket.emitFromServer('disconnect', 'transport close'));
    expect(screen.getByTestId('connection-banner')).toHaveTextContent('reconnecting');
    // Requests still go through; only what is pushed live is late, and the banner says only that.
    expect(screen.getByTestId('connection-banner')).toHaveTextContent('seats left and notifications may be out of date');
    act(() => live.socket.emitFromServer('connect'));
    expect(screen.queryByTestId('connection-banner')).toBeNull();
  });
});

/** A change a person makes, as Register or Buy is: a button, and the error beside it when it fails. */
function Register() {
  const register = useMutation({ mutationFn: () => apiRequest('/registrations', { method: 'POST', body: {} }) });
  return (
    <>
      <button type="button" onClick={() => register.mutate()}>
        {register.isPending ? 'Registering…' : 'Register'}
      </button>
      <ErrorAlert error={register.error} />
    </>
  );
}

describe('offline', () => {
  it('the banner says what still works and what does not, to signed-out visitors too, and leaves when back online', () => {
    renderApp(<ConnectionBanner />);
    expect(screen.queryByTestId('connection-banner')).toBeNull();
    act(() => onlineManager.setOnline(false));
    const banner = screen.getByTestId('connection-banner');
    expect(banner).toHaveTextContent('You are offline.');
    expect(banner).toHaveTextContent('What is already on screen stays readable, but new pages cannot load and buying, registering or saving cannot be sent.');
    expect(banner).not.toHaveTextContent('Everything you do still works');
    act(() => onlineManager.setOnline(true));
    expect(screen.queryByTestId('connection-banner')).toBeNull();
  });

  it('a change is tried at once and fails saying so, rather than waiting unseen to be sent later', async () => {
    // The browser's fetch rejects at once while offline; this fake does the same.
    vi.stubGlobal(
      'fetch',
      vi.fn(async () => {
        throw new TypeError('Failed to fetch');
      }),
    );
    act(() => onlineManager.setOnline(false));
    renderApp(<Register />);
    await userEvent.setup().click(screen.getByRole('button', { name: 'Register' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('We could not reach DEMS. Check your connection and try again.');
    expect(screen.getByRole('button', { name: 'Register' })).toBeInTheDocument();
  });
});

describe('live connection and the session', () => {
  it('hands a renewed access token to the open socket, and connects afresh when the server refuses it', async () => {
    stubNotifications();
    const live = fakeSocket();
    renderApp(<ConnectionBanner />, { session: attendeeSession, socket: live });
    act(() => live.socket.emitFromServer('connect'));

    act(() => sessionStore.set({ ...attendeeSession, token: 'renewed-token', expiresAt: new Date(Date.now() + 900_000).toISOString() }));
    expect(live.socket.emit).toHaveBeenCalledWith('authenticate', { token: 'renewed-token' }, expect.any(Function));
    const ack = live.socket.emit.mock.calls[0]![2] as (result: unknown) => void;
    ack({ ok: false, code: 'UNAUTHENTICATED', message: 'This session has ended. Please sign in again.' });
    expect(live.socket.disconnect).toHaveBeenCalled();
    expect(live.socket.connect).toHaveBeenCalled();
  });

  it('after a refused handshake renews the session and connects again', async () => {
    const refreshed = { ...attendeeSession, token: 'after-refusal', refreshToken: 'next-refresh-token-0123456789' };
    vi.stubGlobal(
      'fetch',
      vi.fn(async (url: string | URL | Request) => (String(url) === '/api/sessions/refresh' ? json(refreshed) : json({ items: [], nextCursor: null, unreadCount: 0 }))),
    );
    const live = fakeSocket();
    renderApp(<ConnectionBanner />, { session: attendeeSession, socket: live });
    act(() => live.socket.emitFromServer('connect_error', Object.assign(new Error('unauthorized'), { data: { code: 'UNAUTHENTICATED' } })));
    await waitFor(() => expect(live.socket.connect).toHaveBeenCalled(), { timeout: 3000 });
    expect(sessionStore.get()?.token).toBe('after-refusal');
  });

  it('signs the tab out when the refused socket belonged to a session that was signed out elsewhere', async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn(async (url: string | URL | Request) =>
        String(url) === '/api/sessions/refresh'
          ? json({ code: 'INVALID_REFRESH_TOKEN', message: 'This session has ended. Please sign in again.', requestId: 'r' }, 401)
          : json({ items: [], nextCursor: null, unreadCount: 0 }),
      ),
    );
    const live = fakeSocket();
    renderApp(<ConnectionBanner />, { session: attendeeSession, socket: live });
    act(() => live.socket.emitFromServer('connect_error', Object.assign(new Error('unauthorized'), { data: { code: 'UNAUTHENTICATED' } })));
    await waitFor(() => expect(sessionStore.get()).toBeNull(), { timeout: 3000 });
    expect(live.socket.close).toHaveBeenCalled();
    expect(live.socket.connect).not.toHaveBeenCalled();
  });
});
