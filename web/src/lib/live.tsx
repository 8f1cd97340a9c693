import { createContext, useCallback, useContext, useEffect, useEffectEvent, useMemo, useRef, useState, type ReactNode } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { io, type Socket } from 'socket.io-client';
import {
  LIVE_AUTHENTICATE_EVENT,
  LIVE_NOTIFICATION_EVENT,
  LIVE_PATH,
  LiveAuthenticateResult,
  Notification,
  WAITING_ROOM_EVENT,
  WAITING_ROOM_UNWATCH_EVENT,
  WAITING_ROOM_WATCH_EVENT,
  WaitingRoomLive,
} from '@dems/contracts';
import { accessToken, renewSession } from './api-client';
import { LIVE_STALE_KEYS } from './query-keys';
import { useSession } from './session';
import { sessionStore } from './session-store';

/** Renew this long before the access token expires: inside the API client's margin, so accessToken() renews. */
const RENEW_BEFORE_EXPIRY_MS = 25_000;
const MAX_RETRY_MS = 30_000;

/** `down` means we were connected (or tried) and lost it; Socket.IO keeps retrying on its own meanwhile. */
export type LiveStatus = 'off' | 'connecting' | 'connected' | 'down';
type Listener = (n: Notification) => void;
type RoomListener = (update: WaitingRoomLive) => void;

interface LiveContextValue {
  status: LiveStatus;
  subscribe: (listener: Listener) => () => void;
  /** Receives a waiting room's settings at once and on every change, while subscribed (signed in only). */
  watchWaitingRoom: (eventId: string, listener: RoomListener) => () => void;
}

const LiveContext = createContext<LiveContextValue>({ status: 'off', subscribe: () => () => {}, watchWaitingRoom: () => () => {} });

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
  const { user, session } = useSession();
  const userId = user?.id ?? null;
  const expiresAt = session?.expiresAt ?? null;
  const queryClient = useQueryClient();
  /**
   * What the current connection last reported, and for whom. Cleared when a connection closes, so a new one (or
   * another user's) reads as connecting until it reports; signed out reads as off.
   */
  const [reported, setReported] = useState<{ userId: string; status: LiveStatus } | null>(null);
  const status: LiveStatus = !userId ? 'off' : reported?.userId === userId ? reported.status : 'connecting';
  const listeners = useRef(new Set<Listener>());
  /** Waiting rooms this tab watches, each with its listeners: asked for again on every (re)connection. */
  const roomListeners = useRef(new Map<string, Set<RoomListener>>());
  const socketRef = useRef<Socket | null>(null);

  useEffect(() => {
    if (!userId) return;
    const setStatus = (next: LiveStatus) => setReported({ userId, status: next });
    const socket = connect();
    socketRef.current = socket;
    let retry: ReturnType<typeof setTimeout> | undefined;
    let refusals = 0;
    /** The access token the server last accepted for this socket. */
    let held: string | null = null;
    let connectedBefore = false;
    const refreshStale = () => {
      for (const key of LIVE_STALE_KEYS) void queryClient.invalidateQueries({ queryKey: key });
    };
    socket.on('connect', () => {
      refusals = 0;
      held = sessionStore.get()?.token ?? null;
      setStatus('connected');
      // Back after a drop (a replica stopping, a network blip): what happened meanwhile was not pushed, so look.
      if (connectedBefore) refreshStale();
      connectedBefore = true;
      // A new connection is in no Socket.IO room yet: watch again, and the server answers each with its settings.
      for (const eventId of roomListeners.current.keys()) socket.emit(WAITING_ROOM_WATCH_EVENT, { eventId });
    });
    socket.on('disconnect', (reason) => {
      setStatus('down');
      // The server closes on purpose when the token expired or the session ended: ask again (the auth
      // callback renews the token first); a session that really ended is refused and handled below.
      if (reason === 'io server disconnect') socket.connect();
    });
    socket.on('connect_error', (err: Error & { data?: { code?: string } }) => {
      setStatus('down');
      // Socket.IO retries network failures itself, but not a handshake the server refused.
      if (socket.active) return;
      const delay = Math.min(MAX_RETRY_MS, 1000 * 2 ** refusals++);
      clearTimeout(retry);
      retry = setTimeout(() => {
        // A refused token may belong to a session signed out elsewhere: renewing tells, and signs this tab out if so.
        const renewed = err.data?.code === 'UNAUTHENTICATED' ? renewSession() : Promise.resolve('keep');
        renewed.then(
          (token) => token && socket.connect(),
          () => socket.connect(),
        );
      }, delay);
    });
    // A renewed access token is handed to the open socket, which the server would otherwise close at the old one's expiry.
    const unsubscribeSession = sessionStore.subscribe(() => {
      const next = sessionStore.get();
      if (!next || next.user.id !== userId || next.token === held || !socket.connected) return;
      held = next.token;
      socket.emit(LIVE_AUTHENTICATE_EVENT, { token: next.token }, (raw: unknown) => {
        const ack = LiveAuthenticateResult.safeParse(raw);
        if (ack.success && ack.data.ok) return;
        // Refused: connect afresh, which renews or finds the session over.
        socket.disconnect();
        socket.connect();
      });
    });
    socket.on(LIVE_NOTIFICATION_EVENT, (raw: unknown) => {
      const parsed = Notification.safeParse(raw);
      if (!parsed.success) return;
      refreshStale();
      for (const listener of listeners.current) listener(parsed.data);
    });
    socket.on(WAITING_ROOM_EVENT, (raw: unknown) => {
      const parsed = WaitingRoomLive.safeParse(raw);
      if (!parsed.success) return;
      for (const listener of roomListeners.current.get(parsed.data.eventId) ?? []) listener(parsed.data);
    });
    return () => {
      setReported(null);
      socketRef.current = null;
      clearTimeout(retry);
      unsubscribeSession();
      socket.removeAllListeners();
      socket.close();
    };
  }, [userId, connect, queryClient]);

  // Renews the access token shortly before it expires even when the tab makes no requests, so the socket stays open.
  useEffect(() => {
    if (!userId || !expiresAt) return;
    const ms = Date.parse(expiresAt) - Date.now() - RENEW_BEFORE_EXPIRY_MS;
    const timer = setTimeout(() => void accessToken().catch(() => {}), Math.min(Math.max(ms, 0), 2_147_000_000));
    return () => clearTimeout(timer);
  }, [userId, expiresAt]);

  // Stable across status changes, so a watching component does not unwatch and watch again at each one.
  const watchWaitingRoom = useCallback((eventId: string, listener: RoomListener) => {
    const rooms = roomListeners.current;
    const existing = rooms.get(eventId);
    const watchers = existing ?? new Set<RoomListener>();
    watchers.add(listener);
    rooms.set(eventId, watchers);
    // Not connected yet: the connect handler watches every room in the map.
    if (!existing && socketRef.current?.connected) socketRef.current.emit(WAITING_ROOM_WATCH_EVENT, { eventId });
    return () => {
      watchers.delete(listener);
      if (watchers.size > 0 || rooms.get(eventId) !== watchers) return;
      rooms.delete(eventId);
      if (socketRef.current?.connected) socketRef.current.emit(WAITING_ROOM_UNWATCH_EVENT, { eventId });
    };
  }, []);

  const value = useMemo<LiveContextValue>(
    () => ({
      status,
      subscribe: (listener) => {
        listeners.current.add(listener);
        return () => listeners.current.delete(listener);
      },
      watchWaitingRoom,
    }),
    [status, watchWaitingRoom],
  );
  return <LiveContext.Provider value={value}>{children}</LiveContext.Provider>;
}

export const useLive = () => useContext(LiveContext);

/** Calls `listener` for every notification pushed while the component is mounted. */
export function useLiveNotifications(listener: Listener): void {
  const { subscribe } = useLive();
  // The latest listener is called, without subscribing again each time the caller renders a new one.
  const onNotification = useEffectEvent(listener);
  useEffect(() => subscribe((n) => onNotification(n)), [subscribe]);
}
