import { useEffect, useState } from 'react';
import { act, screen } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { attendeeSession, fakeSocket, json, renderApp } from '@/test/render';
import { useLive } from './live';

afterEach(() => vi.unstubAllGlobals());

describe('live socket: waiting rooms', () => {
  function Watcher({ eventId, seen }: { eventId: string; seen: string[] }) {
    const { watchWaitingRoom } = useLive();
    useEffect(() => watchWaitingRoom(eventId, (u) => seen.push(`${u.eventId}:${u.room ? u.room.admitPerMinute : 'off'}`)), [eventId, watchWaitingRoom, seen]);
    return null;
  }

  it('watches a room once however many components listen, again after a reconnect, and unwatches when the last one leaves', () => {
    vi.stubGlobal(
      'fetch',
      vi.fn(async () => json({ items: [], nextCursor: null, unreadCount: 0 })),
    );
    const live = fakeSocket();
    const seen: string[] = [];
    function TwoWatchers() {
      const [on, setOn] = useState(true);
      return (
        <>
          {on && <Watcher eventId="ev-1" seen={seen} />}
          {on && <Watcher eventId="ev-1" seen={seen} />}
          <button type="button" onClick={() => setOn(false)}>
            Leave
          </button>
        </>
      );
    }
    renderApp(<TwoWatchers />, { session: attendeeSession, socket: live });
    const watches = () => live.socket.emit.mock.calls.filter(([name]) => name === 'waiting-room:watch');
    act(() => live.socket.emitFromServer('connect'));
    expect(watches()).toEqual([['waiting-room:watch', { eventId: 'ev-1' }]]);

    act(() =>
      live.socket.emitFromServer('waiting-room', {
        eventId: 'ev-1',
        room: { opensAt: '2099-01-01T00:00:00.000Z', admitPerMinute: 90, passMinutes: 5 },
        now: '2099-01-01T00:00:00.000Z',
      }),
    );
    act(() => live.socket.emitFromServer('waiting-room', { eventId: 'ev-1', room: 'not a room', now: 'x' }));
    expect(seen).toEqual(['ev-1:90', 'ev-1:90']);

    // A new connection is in no Socket.IO room: it watches again.
    act(() => live.socket.emitFromServer('disconnect', 'transport close'));
    act(() => live.socket.emitFromServer('connect'));
    expect(watches()).toHaveLength(2);

    act(() => screen.getByRole('button', { name: 'Leave' }).click());
    expect(live.socket.emit.mock.calls.filter(([name]) => name === 'waiting-room:unwatch')).toEqual([['waiting-room:unwatch', { eventId: 'ev-1' }]]);
  });
});
