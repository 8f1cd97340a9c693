import { createContext, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { io, type Socket } from 'socket.io-client';
import { LIVE_NOTIFICATION_EVENT, LIVE_PATH, Notification } from '@dems/contracts';
import { accessToken } from './api-client';
import { LIVE_STALE_KEYS } from './query-keys';
import { useSession } from './session';

/** `down` means we were connected (or tried) and lost it; Socket.IO keeps retrying on its own meanwhile. */
export type LiveStatus = 'off' | 'connecting' | 'connected' | 'down';
type Listener = (n: Notification) => void;

interface LiveContextValue {
  status: LiveStatus;
  subscribe: (listener: Listener) => () => void;
}

const LiveContext = createContext<LiveContextValue>({ status: 'off', subscribe: () => () => {} });

export type SocketFactory = () => Socket;

const defaultFactory: SocketFactory = () =>
  io({
    path: LIVE_PATH,
    // Asked at every (re)connection, so a reconnect after a while uses a renewed access token.
    auth: (cb) => {
      accessToken().then(
        (token) => cb({ token: token ?? '' }),
        () => cb({ token: '' }),
      );
    },
    transports: ['websocket', 'polling'],
    reconnectionDelay: 500,
    reconnectionDelayMax: 5000,
  });

/**
 * One Socket.IO connection per signed-in tab. Each pushed notification is handed to subscribers (the toast)
 * and marks stale every query it may have changed, so "N left", tickets and the bell refresh by themselves.
 */
export function LiveProvider({ children, connect = defaultFactory }: { children: ReactNode; connect?: SocketFactory }) {
  const { user } = useSession();
  const userId = user?.id ?? null;
  const queryClient = useQueryClient();
  const [status, setStatus] = useState<LiveStatus>('off');
  const listeners = useRef(new Set<Listener>());

  useEffect(() => {
    if (!userId) {
      setStatus('off');
      return;
    }
    setStatus('connecting');
    const socket = connect();
    socket.on('connect', () => setStatus('connected'));
    socket.on('disconnect', (reason) => {
      setStatus('down');
      // The server only closes on purpose when it refuses us; ask it again rather than stay silent.
      if (reason === 'io server disconnect') socket.connect();
    });
    // A refused handshake (e.g. a token that expired while offline) is retried by Socket.IO like any other
    // failure, and the auth callback renews the token first; meanwhile the banner says we are reconnecting.
    socket.on('connect_error', () => setStatus('down'));
    socket.on(LIVE_NOTIFICATION_EVENT, (raw: unknown) => {
      const parsed = Notification.safeParse(raw);
      if (!parsed.success) return;
      for (const key of LIVE_STALE_KEYS) void queryClient.invalidateQueries({ queryKey: key });
      for (const listener of listeners.current) listener(parsed.data);
    });
    return () => {
      socket.removeAllListeners();
      socket.close();
    };
  }, [userId, connect, queryClient]);

  const value = useMemo<LiveContextValue>(
    () => ({
      status,
      subscribe: (listener) => {
        listeners.current.add(listener);
        return () => listeners.current.delete(listener);
      },
    }),
    [status],
  );
  return <LiveContext.Provider value={value}>{children}</LiveContext.Provider>;
}

export const useLive = () => useContext(LiveContext);

/** Calls `listener` for every notification pushed while the component is mounted. */
export function useLiveNotifications(listener: Listener): void {
  const { subscribe } = useLive();
  const latest = useRef(listener);
  latest.current = listener;
  useEffect(() => subscribe((n) => latest.current(n)), [subscribe]);
}
