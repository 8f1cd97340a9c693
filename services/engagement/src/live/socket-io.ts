import type { IncomingMessage } from 'node:http';
import { Server } from 'socket.io';
import type { FastifyInstance } from 'fastify';
import { LIVE_NOTIFICATION_EVENT, LIVE_PATH } from '@dems/contracts';
import type { TokenVerifier } from '@dems/kit';
import type { LiveNotifications } from './live-notifications.js';

export const userRoom = (userId: string): string => `user:${userId}`;

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
 * to the room — so every open tab gets it. Call after buildApp and before listen.
 */
export function attachSocketIo(
  app: FastifyInstance,
  opts: { verify: TokenVerifier; live: LiveNotifications; allowedOrigins?: readonly string[]; maxConnectionsPerUser?: number },
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
    if (typeof token !== 'string' || token.length === 0) return next(new Error('unauthorized'));
    opts.verify(token).then(
      (user) => {
        const open = perUser.get(user.id) ?? 0;
        if (open >= maxPerUser) {
          // The client sees connect_error with this message and data.code, like any other refusal.
          return next(Object.assign(new Error('too many connections'), { data: { code: 'RATE_LIMITED', max: maxPerUser } }));
        }
        perUser.set(user.id, open + 1);
        socket.data.userId = user.id;
        socket.once('disconnect', () => {
          const left = (perUser.get(user.id) ?? 1) - 1;
          if (left > 0) perUser.set(user.id, left);
          else perUser.delete(user.id);
        });
        next();
      },
      () => next(new Error('unauthorized')),
    );
  });

  io.on('connection', (socket) => {
    void socket.join(userRoom(String(socket.data.userId)));
  });

  const unsubscribe = opts.live.subscribe((created) => {
    for (const { userId, notification } of created) io.to(userRoom(userId)).emit(LIVE_NOTIFICATION_EVENT, notification);
  });

  // Sockets are closed before Fastify closes the HTTP server, which would otherwise wait for them.
  app.addHook('preClose', async () => {
    unsubscribe();
    io.disconnectSockets(true);
  });
  app.addHook('onClose', async () => {
    // Not io.close(): that would also close the HTTP server, which Fastify closes itself.
    io.engine.close();
  });
  return io;
}
