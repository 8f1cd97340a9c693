import { act, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { testNotification } from '@/test/fixtures';
import { attendeeSession, fakeSocket, json, renderApp } from '@/test/render';
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

  it('the bell, after a reconnect (a replica stopped, the network dropped) refreshes what may have changed unseen', async () => {
    const server = fakeNotificationsServer([note('n1')]);
    const live = fakeSocket();
    renderApp(<NotificationBell />, { session: attendeeSession, socket: live });
    act(() => live.socket.emitFromServer('connect'));
    expect(await screen.findByRole('link', { name: 'Notifications, 1 unread' })).toBeInTheDocument();

    // Created while the socket was away: never pushed to this tab.
    act(() => live.socket.emitFromServer('disconnect', 'transport close'));
    server.push(note('n2'));
    act(() => live.socket.emitFromServer('connect'));
    expect(await screen.findByRole('link', { name: 'Notifications, 2 unread' })).toBeInTheDocument();
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
