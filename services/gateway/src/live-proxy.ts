import { createHash, randomUUID } from 'node:crypto';
import { ServerResponse, type ClientRequest, type IncomingMessage, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import proxy from '@fastify/http-proxy';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { LIVE_PATH } from '@dems/contracts';
import { failureReason, type App, type Upstreams } from '@dems/kit';
import { forwardTo, MAX_ATTEMPTS, unavailable, upstreamClient, type FromOptions } from './forward.js';

/**
 * The live socket (Socket.IO at LIVE_PATH) through @fastify/http-proxy: a WebSocket is proxied message by message
 * (to ws:// or wss:// upstreams) to any engagement replica in rotation, and long polling as ordinary HTTP.
 *
 * Long polling keeps its session (engine.io's `sid`) in the replica that opened it, so every later request of the
 * session, and its upgrade to a WebSocket, must reach that replica. The gateway remembers nothing to do so: it hands
 * the client the session id tagged with the replica (`<tag>.<sid>`, the tag a hash of the replica's URL), routes by
 * the tag and takes it off on the way in. Every gateway replica with the same ENGAGEMENT_URL list routes a session
 * the same way, and a restarted gateway loses no session.
 */
export async function registerLiveProxy(app: App, engagement: Upstreams, replyOptions: FromOptions): Promise<void> {
  const replicaOfTag = new Map(engagement.urls.map((url) => [tagOf(url), url]));
  /** A tagged session id of one of our replicas: the replica, and the id as it issued it. */
  const session = (url: string): { replica: string; sid: string } | undefined => {
    const tagged = queryOf(url).get('sid') ?? '';
    const dot = tagged.indexOf('.');
    const replica = replicaOfTag.get(tagged.slice(0, dot));
    return dot > 0 && replica ? { replica, sid: tagged.slice(dot + 1) } : undefined;
  };
  const sessionReplica = (req: FastifyRequest): string | undefined => session(req.url)?.replica;
  /** The query sent on: the session id as the replica issued it. */
  const untagged = (_search: string | undefined, reqUrl: string): string => {
    const query = queryOf(reqUrl);
    const own = session(reqUrl);
    if (own) query.set('sid', own.sid);
    return query.toString();
  };
  const opensSession = (req: FastifyRequest) => req.method === 'GET' && !queryOf(req.url).has('sid');

  // The proxy accepts a WebSocket before it connects to the replica, and a Socket.IO client whose socket closes
  // before the session opens waits forever instead of reconnecting. So the replica is chosen before the upgrade:
  // the first that takes a connection, or an HTTP 502 the client does retry.
  const socketReplica = new WeakMap<IncomingMessage, string>();
  const chooseSocketReplica = async (req: FastifyRequest, reply: FastifyReply) => {
    if (!req.headers.upgrade) return;
    const own = sessionReplica(req);
    for (const replica of own ? [own] : engagement.candidates().slice(0, MAX_ATTEMPTS)) {
      const refused = await connectionRefused(replica);
      if (!refused) return void socketReplica.set(req.raw, replica);
      engagement.markDown(replica, refused);
    }
    return unavailable(reply, engagement.service);
  };

  await app.register(proxy, {
    upstream: '',
    ...upstreamClient(),
    prefix: LIVE_PATH,
    rewritePrefix: LIVE_PATH,
    proxyPayloads: false,
    websocket: true,
    replyOptions: {
      ...replyOptions,
      rewriteRequestHeaders: (req, headers) => {
        const forwarded = { ...replyOptions.rewriteRequestHeaders!(req, headers), 'x-forwarded-host': req.headers.host };
        // The answer that opens a session is rewritten (its sid tagged), so it must come uncompressed.
        if (opensSession(req as FastifyRequest)) delete forwarded['accept-encoding'];
        return forwarded;
      },
      // Asked once per HTTP request only to check the path (forwardTo picks the replicas), and once per WebSocket
      // for the replica chosen before the upgrade.
      getUpstream: (req) => socketReplica.get(req.raw as IncomingMessage) ?? engagement.urls[0]!,
    },
    preHandler: chooseSocketReplica,
    handler: forwardTo(engagement, {
      replicas: (req) => {
        const replica = sessionReplica(req);
        return replica ? [replica] : undefined;
      },
      answer: (req, reply, res, replica) => {
        if (opensSession(req) && res.statusCode === 200) void sendTagged(reply, res.stream, tagOf(replica));
        else reply.send(res.stream);
      },
      options: { queryString: untagged },
    }),
    wsClientOptions: {
      queryString: untagged,
      // What the replica checks (the page's origin against the host the browser used) and logs.
      rewriteRequestHeaders: (headers: Record<string, string>, req: FastifyRequest) => {
        const from = req.headers;
        const passed = { origin: from.origin, cookie: from.cookie, 'user-agent': from['user-agent'], 'x-forwarded-host': from.host };
        const defined = Object.entries(passed).filter((e): e is [string, string] => typeof e[1] === 'string');
        return { ...headers, ...Object.fromEntries(defined), 'x-forwarded-for': req.ip, 'x-request-id': req.id };
      },
      // A replica that refuses the connection leaves the rotation, as it does for HTTP: the client reconnects, and
      // its next WebSocket goes elsewhere.
      finishRequest: (request: ClientRequest, socket: { url: string }) => {
        request.once('error', (err) => engagement.markDown(replicaOfSocket(socket.url), failureReason(err)));
        request.end();
      },
    },
  } as Parameters<typeof proxy>[1]);

  // Every other upgrade offer is answered as the ordinary request it also is (the proxy above takes only its own path).
  app.server.on('upgrade', (req: IncomingMessage, socket: Duplex) => {
    const path = req.url?.split('?')[0] ?? '/';
    if (path !== LIVE_PATH && !path.startsWith(`${LIVE_PATH}/`)) serveWithoutUpgrade(app.server, req, socket);
  });
}

/** A replica's tag in session ids: short, URL-safe, the same in every gateway with the same URL. */
export const tagOf = (url: string): string => createHash('sha256').update(url).digest('base64url').slice(0, 8);

/** Why a replica does not take a TCP connection (within a second), or undefined when it does. */
function connectionRefused(url: string): Promise<string | undefined> {
  const { hostname, port, protocol } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname.replace(/^\[|\]$/g, ''), port: Number(port || (protocol === 'https:' ? 443 : 80)), timeout: 1000 });
    socket.once('connect', () => {
      socket.destroy();
      resolve(undefined);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve('no connection within 1 s');
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
}

/** The replica (its http(s) URL) a proxied WebSocket (ws: or wss:) goes to. */
const replicaOfSocket = (wsUrl: string): string => new URL(wsUrl.replace(/^ws/, 'http')).origin;

const queryOf = (url: string) => new URLSearchParams(url.split('?')[1] ?? '');

/** Sends the engine.io open packet (`0{"sid":…}`, the first of the answer) with its session id tagged. */
async function sendTagged(reply: FastifyReply, stream: AsyncIterable<Buffer | string>, tag: string): Promise<void> {
  try {
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(Buffer.from(chunk));
    const text = tagOpenPacket(Buffer.concat(chunks).toString('utf8'), tag);
    reply.removeHeader('content-length');
    reply.send(text);
  } catch (err) {
    reply.send(err);
  }
}

/** engine.io separates the packets of one polling answer with a record separator. */
const SEPARATOR = '\x1e';

export function tagOpenPacket(payload: string, tag: string): string {
  const [first = '', ...rest] = payload.split(SEPARATOR);
  if (!first.startsWith('0{')) return payload;
  try {
    const open = JSON.parse(first.slice(1)) as { sid?: unknown };
    if (typeof open.sid !== 'string') return payload;
    return [`0${JSON.stringify({ ...open, sid: `${tag}.${open.sid}` })}`, ...rest].join(SEPARATOR);
  } catch {
    return payload;
  }
}

/**
 * Node hands every request with `Connection: Upgrade` to the upgrade listener once there is one, so an ordinary
 * request that merely offers an upgrade (`curl --http2` sends `Upgrade: h2c`) would otherwise lose its connection.
 * A server may ignore the offer: one without a body is answered as usual, on a connection then closed (the HTTP
 * parser has let go of it); one with a body cannot be read any more, and is told to send it again without it.
 */
function serveWithoutUpgrade(server: Server, req: IncomingMessage, socket: Duplex): void {
  if ((req.headers['content-length'] && req.headers['content-length'] !== '0') || req.headers['transfer-encoding']) {
    const body = JSON.stringify({
      code: 'VALIDATION_FAILED',
      message: 'This address does not support Upgrade: send the request without it.',
      requestId: randomUUID(),
    });
    socket.end(`HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
    return;
  }
  const res = new ServerResponse(req);
  res.shouldKeepAlive = false;
  res.assignSocket(socket as Socket);
  res.on('finish', () => socket.end());
  req.push(null);
  server.emit('request', req, res);
}
