import type { IncomingMessage } from 'node:http';
import { Server, type Socket } from 'socket.io';
import type { FastifyInstance } from 'fastify';
import { LIVE_AUTHENTICATE_EVENT, LIVE_NOTIFICATION_EVENT, LIVE_PATH, LiveAuthenticateBody, type LiveAuthenticateResult } from '@dems/contracts';
import { metricsOf } from '@dems/kit';
import type { SessionVerifier, VerifiedSession } from '../identity/session-tokens.js';
import type { LiveNotifications, SocketTarget } from './live-notifications.js';

export const userRoom = (userId: string): string => `user:${userId}`;
const sessionRoom = (userId: string, sessionId: string): string => `session:${userId}:${sessionId}`;
const roomOf = (t: SocketTarget): string => (t.sessionId ? sessionRoom(t.userId, t.sessionId) : userRoom(t.userId));

/** setTimeout fires at once for delays above 2^31-1 ms; no access token lives that long anyway. */
const MAX_TIMER_MS = 2_147_000_000;

interface LiveSocketData {
  userId: string;
  sessionId: string;
  expiry?: NodeJS.Timeout;
}

/** Closes the socket when its token expires; a later renewal (LIVE_AUTHENTICATE_EVENT) moves the deadline. */
function holdUntilExpiry(socket: Socket, session: VerifiedSession): void {
  const data = socket.data as LiveSocketData;
  clearTimeout(data.expiry);
  data.expiry = setTimeout(() => socket.disconnect(true), Math.min(Math.max(session.expiresAtMs - Date.now(), 0), MAX_TIMER_MS));
  data.expiry.unref();
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

/**
 * Live push over Socket.IO on the app's own HTTP server. Each socket proves who it is with the access
 * token in `auth.token`, joins its user's room, and every notification committed for that user is emitted
 * to the room — so every open tab gets it. A socket lives no longer than its access token (unless renewed
 * over LIVE_AUTHENTICATE_EVENT) nor than its session: `live.closeSockets` closes a signed-out session's
 * sockets, and a token of a session signed out earlier cannot open a new one. Call after buildApp and before listen.
 */
export function attachSocketIo(
  app: FastifyInstance,
  opts: { authenticate: SessionVerifier; live: LiveNotifications; allowedOrigins?: readonly string[]; maxConnectionsPerUser?: number },
): Server {
  const maxPerUser = opts.maxConnectionsPerUser ?? 20;
  /** Open sockets per user: one per tab is normal, hundreds is someone exhausting the server. */
  const perUser = new Map<string, number>();
  const io = new Server(app.server, {
    path: LIVE_PATH,
    serveClient: false,
    allowRequest: (req, callback) => callback(null, originAllowed(req, opts.allowedOrigins ?? [])),
  });

  io.use((socket, next) => {
    const token: unknown = socket.handshake.auth?.token;
    const unauthorized = () => next(Object.assign(new Error('unauthorized'), { data: { code: 'UNAUTHENTICATED' } }));
    if (typeof token !== 'string' || token.length === 0) return unauthorized();
    opts.authenticate(token).then((session) => {
      const { user } = session;
      const open = perUser.get(user.id) ?? 0;
      if (open >= maxPerUser) {
        // The client sees connect_error with this message and data.code, like any other refusal.
        return next(Object.assign(new Error('too many connections'), { data: { code: 'RATE_LIMITED', max: maxPerUser } }));
      }
      perUser.set(user.id, open + 1);
      const release = () => {
        clearTimeout((socket.data as LiveSocketData).expiry);
        const left = (perUser.get(user.id) ?? 1) - 1;
        if (left > 0) perUser.set(user.id, left);
        else perUser.delete(user.id);
      };
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
  });

  // What this replica holds open (/metrics); summed over the replicas, everyone connected.
  const metrics = metricsOf(app);
  metrics?.gauge('dems_live_sockets', 'Live notification sockets connected to this replica.', () => io.of('/').sockets.size);
  metrics?.gauge('dems_live_users', 'Users with at least one live socket on this replica.', () => perUser.size);

  const unsubscribe = opts.live.subscribe((created) => {
    for (const { userId, notification } of created) io.to(userRoom(userId)).emit(LIVE_NOTIFICATION_EVENT, notification);
  });
  const stopClosing = opts.live.onClose((target) => io.in(roomOf(target)).disconnectSockets(true));

  // Sockets are closed before Fastify closes the HTTP server, which would otherwise wait for them.
  app.addHook('preClose', async () => {
    unsubscribe();
    stopClosing();
    io.disconnectSockets(true);
  });
  app.addHook('onClose', async () => {
    // Not io.close(): that would also close the HTTP server, which Fastify closes itself.
    io.engine.close();
  });
  return io;
}
