import { act, screen } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { NotificationBell } from '../features/notifications/components/notification-bell';
import { testNotification as note } from '../test/fixtures';
import { attendeeSession, fakeSocket, json, renderApp } from '../test/render';

afterEach(() => vi.unstubAllGlobals());


describe('live socket', () => {
  it('after a reconnect (a replica stopped, the network dropped) refreshes what may have changed unseen', async () => {
    let items = [note('n1')];
    vi.stubGlobal('fetch', vi.fn(async () => json({ items, nextCursor: null, unreadCount: items.length })));
    const live = fakeSocket();
    renderApp(<NotificationBell />, { session: attendeeSession, socket: live });
    act(() => live.socket.emitFromServer('connect'));
    expect(await screen.findByRole('link', { name: 'Notifications, 1 unread' })).toBeInTheDocument();

    // Created while the socket was away: never pushed to this tab.
    act(() => live.socket.emitFromServer('disconnect', 'transport close'));
    items = [note('n2'), ...items];
    act(() => live.socket.emitFromServer('connect'));
    expect(await screen.findByRole('link', { name: 'Notifications, 2 unread' })).toBeInTheDocument();
  });
});
