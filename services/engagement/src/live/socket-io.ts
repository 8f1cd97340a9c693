import type { IncomingMessage } from 'node:http';
import { createAdapter } from '@socket.io/redis-streams-adapter';
import { Server, type Socket } from 'socket.io';
import type { FastifyInstance } from 'fastify';
import {
  LIVE_AUTHENTICATE_EVENT,
  LIVE_NOTIFICATION_EVENT,
  LIVE_PATH,
  LiveAuthenticateBody,
  WAITING_ROOM_EVENT,
  WAITING_ROOM_UNWATCH_EVENT,
  WAITING_ROOM_WATCH_EVENT,
  WaitingRoomWatchBody,
  type LiveAuthenticateResult,
  type WaitingRoomLive,
  type WaitingRoomSettings,
} from '@dems/contracts';
import { metricsOf, type SharedRedis } from '@dems/kit';
import type { SessionVerifier, VerifiedSession } from '../identity/session-tokens.js';
import type { LiveNotifications, SocketTarget } from './live-notifications.js';
import type { LiveWaitingRooms } from './waiting-rooms.js';

export const userRoom = (userId: string): string => `user:${userId}`;
const sessionRoom = (userId: string, sessionId: string): string => `session:${userId}:${sessionId}`;
export const waitingRoomRoom = (eventId: string): string => `waiting-room:${eventId}`;
/** Waiting rooms one socket may watch at once (a page watches one). */
const MAX_WATCHED_ROOMS = 20;
const roomOf = (t: SocketTarget): string => (t.sessionId ? sessionRoom(t.userId, t.sessionId) : userRoom(t.userId));

/** setTimeout fires at once for delays above 2^31-1 ms; no access token lives that long anyway. */
const MAX_TIMER_MS = 2_147_000_000;

/** How long a connection waits to learn how many sockets its user holds on the other replicas before it is let in anyway. */
const COUNT_ELSEWHERE_TIMEOUT_MS = 1000;

/** What a socket carries; the other replicas read it (fetchSockets), so only plain values. */
interface LiveSocketData {
  userId: string;
  sessionId: string;
}

/** Each socket's token-expiry timer; not in socket.data, which must stay serializable. */
const expiries = new WeakMap<Socket, NodeJS.Timeout>();

/** Closes the socket when its token expires; a later renewal (LIVE_AUTHENTICATE_EVENT) moves the deadline. */
function holdUntilExpiry(socket: Socket, session: VerifiedSession): void {
  clearTimeout(expiries.get(socket));
  const expiry = setTimeout(() => socket.disconnect(true), Math.min(Math.max(session.expiresAtMs - Date.now(), 0), MAX_TIMER_MS));
  expiry.unref();
  expiries.set(socket, expiry);
}

/** Puts the socket in the rooms a revocation closes: its user's and its session's. */
async function enter(socket: Socket, session: VerifiedSession): Promise<void> {
  const data = socket.data as LiveSocketData;
  if (data.sessionId && data.sessionId !== session.sessionId) await socket.leave(sessionRoom(data.userId, data.sessionId));
  data.sessionId = session.sessionId;
  await socket.join([userRoom(session.user.id), sessionRoom(session.user.id, session.sessionId)]);
}

const refusal = (err: unknown): LiveAuthenticateResult => ({
  ok: false,
  code: 'UNAUTHENTICATED',
  message: err instanceof Error && 'code' in err ? err.message : 'The access token is not valid. Please sign in again.',
});

/**
 * Browsers may only connect from the page's own origin (the gateway proxies this path), or from an origin
 * listed in config. Non-browser clients send no Origin and are held to the token check alone.
 */
function originAllowed(req: IncomingMessage, allowedOrigins: readonly string[]): boolean {
  const origin = req.headers.origin;
  if (!origin) return true;
  if (allowedOrigins.includes(origin)) return true;
  let host: string;
  try {
    host = new URL(origin).host;
  } catch {
    return false;
  }
  const forwarded = req.headers['x-forwarded-host'];
  const hosts = [req.headers.host, ...(Array.isArray(forwarded) ? forwarded : forwarded ? forwarded.split(',') : [])];
  return hosts.some((h) => h?.trim() === host);
}

/** `promise`, or a rejection after `ms`. */
function within<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms)));
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

export interface LiveSocketOptions {
  authenticate: SessionVerifier;
  live: LiveNotifications;
  allowedOrigins?: readonly string[];
  /** LIVE_MAX_CONNECTIONS_PER_USER, counted over every replica when `redis` is given. */
  maxConnectionsPerUser?: number;
  /**
   * REDIS_URL's connection. With it the replicas form one Socket.IO cluster (the Redis streams adapter): a
   * notification emitted to a user's room on one replica reaches the user's sockets on all of them, and so do
   * sign-out closes. Without it, this process alone (one replica).
   */
  redis?: SharedRedis;
  /** The waiting rooms' live settings: sockets watch a room (WAITING_ROOM_WATCH_EVENT) and get each change. */
  waitingRooms?: LiveWaitingRooms;
}

/**
 * Live push over Socket.IO on the app's own HTTP server. Each socket proves who it is with the access
 * token in `auth.token`, joins its user's room, and every notification committed for that user is emitted
 * to the room — so every open tab gets it, on whichever replica. A socket lives no longer than its access token
 * (unless renewed over LIVE_AUTHENTICATE_EVENT) nor than its session: `live.closeSockets` closes a signed-out
 * session's sockets everywhere, and a token of a session signed out earlier cannot open a new one. On close
 * (a graceful stop) the connections are dropped at the transport, and clients reconnect to another replica.
 * Call after buildApp and before listen.
 */
export function attachSocketIo(app: FastifyInstance, opts: LiveSocketOptions): Server {
  const maxPerUser = opts.maxConnectionsPerUser ?? 20;
  /** Open sockets per user on this replica (handshakes under way included): one per tab is normal, hundreds is someone exhausting the server. */
  const perUser = new Map<string, number>();
  let closing = false;
  const adapterConnection = opts.redis?.forSocketAdapter();
  const io = new Server(app.server, {
    path: LIVE_PATH,
    serveClient: false,
    // A stopping replica takes no new connection: the client retries, and the gateway sends it to another one.
    allowRequest: (req, callback) => callback(null, !closing && originAllowed(req, opts.allowedOrigins ?? [])),
    // Stream and channels named for DEMS, beside its other keys, should the Redis be shared with anything else.
    ...(adapterConnection ? { adapter: createAdapter(adapterConnection.client, { streamName: 'dems:live', channelPrefix: 'dems:live' }) } : {}),
  });

  /**
   * The user's sockets on the other replicas: one question over the adapter, answered by each replica with at
   * most the cap's worth of sockets. 0 without Redis, or when they cannot all be asked in time — the cap then
   * holds on this replica alone, rather than keep the user out.
   */
  const openElsewhere = async (userId: string): Promise<number> => {
    if (!opts.redis?.isReachable) return 0;
    try {
      const everywhere = await within(io.in(userRoom(userId)).timeout(COUNT_ELSEWHERE_TIMEOUT_MS).fetchSockets(), COUNT_ELSEWHERE_TIMEOUT_MS + 200);
      const here = io.of('/').sockets;
      return everywhere.filter((s) => !here.has(s.id)).length;
    } catch {
      return 0;
    }
  };

  io.use((socket, next) => {
    const token: unknown = socket.handshake.auth?.token;
    const unauthorized = () => next(Object.assign(new Error('unauthorized'), { data: { code: 'UNAUTHENTICATED' } }));
    // The client sees connect_error with this message and data.code, like any other refusal.
    const tooMany = () => next(Object.assign(new Error('too many connections'), { data: { code: 'RATE_LIMITED', max: maxPerUser } }));
    if (typeof token !== 'string' || token.length === 0) return unauthorized();
    opts.authenticate(token).then(async (session) => {
      const { user } = session;
      const open = perUser.get(user.id) ?? 0;
      if (open >= maxPerUser) return tooMany();
      // Counted before asking the other replicas, so parallel handshakes here count each other.
      perUser.set(user.id, open + 1);
      const release = () => {
        clearTimeout(expiries.get(socket));
        const left = (perUser.get(user.id) ?? 1) - 1;
        if (left > 0) perUser.set(user.id, left);
        else perUser.delete(user.id);
      };
      if (open + 1 + (await openElsewhere(user.id)) > maxPerUser) {
        release();
        return tooMany();
      }
      (socket.data as LiveSocketData).userId = user.id;
      holdUntilExpiry(socket, session);
      // Joined before the handshake completes, so a sign-out from now on finds the socket in its rooms.
      enter(socket, session).then(
        () => {
          socket.once('disconnect', release);
          next();
        },
        () => {
          release();
          unauthorized();
        },
      );
    }, unauthorized);
  });

  io.on('connection', (socket) => {
    const data = socket.data as LiveSocketData;
    const token = String(socket.handshake.auth.token);
    // A sign-out that landed between the session check and joining the rooms found nothing to close: look again.
    opts.authenticate(token).catch(() => socket.disconnect(true));

    socket.on(LIVE_AUTHENTICATE_EVENT, (raw: unknown, ack?: (result: LiveAuthenticateResult) => void) => {
      const reply = typeof ack === 'function' ? ack : () => {};
      const body = LiveAuthenticateBody.safeParse(raw);
      if (!body.success) return reply({ ok: false, code: 'VALIDATION_FAILED', message: 'Expected { token: string }.' });
      opts.authenticate(body.data.token).then(
        async (session) => {
          // One socket, one user: a token of someone else is a different connection, not a renewal.
          if (session.user.id !== data.userId) return reply({ ok: false, code: 'FORBIDDEN', message: 'This token belongs to another user.' });
          await enter(socket, session);
          holdUntilExpiry(socket, session);
          reply({ ok: true, expiresAt: new Date(session.expiresAtMs).toISOString() });
        },
        // The socket keeps its current deadline: a bad renewal ends nothing early, and extends nothing.
        (err: unknown) => reply(refusal(err)),
      );
    });

    const rooms = opts.waitingRooms;
    if (rooms) {
      socket.on(WAITING_ROOM_WATCH_EVENT, (raw: unknown) => {
        const body = WaitingRoomWatchBody.safeParse(raw);
        const watched = [...socket.rooms].filter((r) => r.startsWith('waiting-room:')).length;
        if (!body.success || watched >= MAX_WATCHED_ROOMS) return;
        const { eventId } = body.data;
        void socket.join(waitingRoomRoom(eventId));
        // At once what this replica knows (or learns from ticketing); nothing when nobody can tell yet.
        rooms.current(eventId).then(
          (room) => {
            if (room !== undefined) socket.emit(WAITING_ROOM_EVENT, waitingRoomPush(eventId, room));
          },
          () => {},
        );
      });
      socket.on(WAITING_ROOM_UNWATCH_EVENT, (raw: unknown) => {
        const body = WaitingRoomWatchBody.safeParse(raw);
        if (body.success) void socket.leave(waitingRoomRoom(body.data.eventId));
      });
    }
  });
  // To the watchers on every replica (through the adapter), from whichever replica received the change.
  const unwatchRooms = opts.waitingRooms?.subscribe((eventId, room) => io.to(waitingRoomRoom(eventId)).emit(WAITING_ROOM_EVENT, waitingRoomPush(eventId, room)));

  // What this replica holds open (/metrics); summed over the replicas, everyone connected.
  const metrics = metricsOf(app);
  metrics?.gauge('dems_live_sockets', 'Live notification sockets connected to this replica.', () => io.of('/').sockets.size);
  metrics?.gauge('dems_live_users', 'Users with at least one live socket on this replica.', () => perUser.size);

  const unsubscribe = opts.live.subscribe((created) => {
    for (const { userId, notification } of created) io.to(userRoom(userId)).emit(LIVE_NOTIFICATION_EVENT, notification);
  });
  const stopClosing = opts.live.onClose((target) => io.in(roomOf(target)).disconnectSockets(true));

  // Before Fastify closes the HTTP server, which would otherwise wait for the sockets. Each connection is closed
  // at the transport, which clients take as a network drop and reconnect from (through the gateway, to another
  // replica). Not disconnectSockets(): clients take that as final, and over the adapter it would close every
  // replica's sockets. Not io.close(): that would also close the HTTP server, which Fastify closes itself.
  app.addHook('preClose', async () => {
    closing = true;
    unsubscribe();
    unwatchRooms?.();
    stopClosing();
    io.engine.close();
    // Stops reading the Redis stream, then closes its connections.
    await io.of('/').adapter.close();
    await adapterConnection?.close();
  });
  return io;
}

const waitingRoomPush = (eventId: string, room: WaitingRoomSettings | null): WaitingRoomLive => ({ eventId, room, now: new Date().toISOString() });
