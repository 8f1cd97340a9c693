import { act, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { sessionStore } from '../../../lib/session-store';
import { testNotification } from '../../../test/fixtures';
import { attendeeSession, fakeSocket, json, renderApp } from '../../../test/render';
import { ConnectionBanner } from '../../../app/layout/connection-banner';
import { LiveToasts } from './live-toasts';
import { NotificationBell } from './notification-bell';
import { NotificationsPage } from './notifications-page';

const note = testNotification;

/** A fake notifications API (the server is not under test here): a list whose unread count the test controls. */
function fakeNotificationsServer(initial: ReturnType<typeof note>[]) {
  let items = initial;
  const fakeFetch = vi.fn(async (url: string | URL | Request, init?: RequestInit) => {
    const path = String(url);
    if (path.startsWith('/api/notifications?')) return json({ items, nextCursor: null, unreadCount: items.filter((n) => !n.readAt).length });
    if (path === '/api/notifications/read-all' && init?.method === 'POST') {
      items = items.map((n) => ({ ...n, readAt: n.readAt ?? new Date().toISOString() }));
      return json({ updated: 1 });
    }
    const one = /^\/api\/notifications\/([\w-]+)\/read$/.exec(path);
    if (one && init?.method === 'POST') {
      items = items.map((n) => (n.id === one[1] ? { ...n, readAt: new Date().toISOString() } : n));
      return json(items.find((n) => n.id === one[1]));
    }
    return json({ code: 'NOT_FOUND', message: 'No route.', requestId: 'r' }, 404);
  });
  vi.stubGlobal('fetch', fakeFetch);
  return { push: (n: ReturnType<typeof note>) => (items = [n, ...items]) };
}

afterEach(() => vi.unstubAllGlobals());

describe('notifications', () => {
  it('the bell shows the unread count, and a pushed notification raises a toast and refreshes the count', async () => {
    const server = fakeNotificationsServer([note('n1'), note('n2', '2025-01-01T00:00:00.000Z')]);
    const live = fakeSocket();
    renderApp(
      <>
        <NotificationBell />
        <LiveToasts />
      </>,
      { session: attendeeSession, socket: live },
    );
    expect(await screen.findByRole('link', { name: 'Notifications, 1 unread' })).toBeInTheDocument();

    const pushed = { ...note('n3'), title: 'Jazz Night is cancelled', body: 'The organizer cancelled Jazz Night.', type: 'event_cancelled' as const };
    server.push(pushed);
    act(() => live.socket.emitFromServer('notification', pushed));
    const toast = await screen.findByTestId('toast');
    expect(toast).toHaveTextContent('Jazz Night is cancelled');
    expect(toast).toHaveTextContent('The organizer cancelled Jazz Night.');
    expect(await screen.findByRole('link', { name: 'Notifications, 2 unread' })).toBeInTheDocument();
  });

  it('shows a banner while the live connection is down, and hides it once reconnected', async () => {
    fakeNotificationsServer([]);
    const live = fakeSocket();
    renderApp(<ConnectionBanner />, { session: attendeeSession, socket: live });
    act(() => live.socket.emitFromServer('connect'));
    expect(screen.queryByTestId('connection-banner')).toBeNull();
    act(() => live.socket.emitFromServer('disconnect', 'transport close'));
    expect(screen.getByTestId('connection-banner')).toHaveTextContent('reconnecting');
    act(() => live.socket.emitFromServer('connect'));
    expect(screen.queryByTestId('connection-banner')).toBeNull();
  });

  it('marks one and then all notifications read', async () => {
    fakeNotificationsServer([note('n1'), { ...note('n2'), title: 'Message from the organizer' }]);
    renderApp(<NotificationsPage />, { session: attendeeSession });
    const user = userEvent.setup();
    expect(await screen.findByText('2 unread')).toBeInTheDocument();
    await user.click(screen.getByRole('button', { name: /Mark as read\s?: Order confirmed/ }));
    expect(await screen.findByText('1 unread')).toBeInTheDocument();
    await user.click(screen.getByRole('button', { name: 'Mark all as read' }));
    expect(await screen.findByText('You’re all caught up.')).toBeInTheDocument();
    await waitFor(() => expect(screen.queryAllByRole('button', { name: /^Mark as read/ })).toHaveLength(0));
  });

  it('shows a count of 100 (the most the server counts) as 99+, in the bell and on the page', async () => {
    fakeNotificationsServer(Array.from({ length: 100 }, (_, i) => note(`n${i}`)));
    renderApp(
      <>
        <NotificationBell />
        <NotificationsPage />
      </>,
      { session: attendeeSession },
    );
    expect(await screen.findByRole('link', { name: 'Notifications, 99+ unread' })).toBeInTheDocument();
    expect(screen.getByTestId('unread-count')).toHaveTextContent('99+');
    expect(await screen.findByText('99+ unread')).toBeInTheDocument();
  });
});

describe('live connection and the session', () => {
  it('hands a renewed access token to the open socket, and connects afresh when the server refuses it', async () => {
    fakeNotificationsServer([]);
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
