import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { Readable } from 'node:stream';
import cors from '@fastify/cors';
import proxy from '@fastify/http-proxy';
import fastifyStatic from '@fastify/static';
import { GATEWAY_ROUTES, LIVE_PATH, type ServiceName } from '@dems/contracts';
import { AppError, createServiceApp, type App } from '@dems/kit';
import type { FastifyRequest, FastifyServerOptions } from 'fastify';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { GatewayConfig } from './config.js';
import { proxyUpgrades } from './live-proxy.js';

export interface GatewayDeps {
  config: GatewayConfig;
  logger?: FastifyServerOptions['logger'];
}

/**
 * The one address a browser talks to: /api/* goes to the service that owns the path (route table in
 * packages/contracts), /socket.io to engagement, everything else is the web app. /internal is never forwarded.
 */
export async function buildApp({ config, logger }: GatewayDeps): Promise<App> {
  const upstreams: Record<ServiceName, string> = {
    events: config.EVENTS_URL,
    ticketing: config.TICKETING_URL,
    engagement: config.ENGAGEMENT_URL,
  };

  const web = resolve(config.WEB_DIST);
  const hasWeb = existsSync(resolve(web, 'index.html'));
  const app = await createServiceApp({
    name: 'gateway',
    description: 'Routes /api/* to the DEMS services and serves the web app.',
    logger,
    trustProxy: config.TRUST_PROXY.length ? config.TRUST_PROXY : false,
    contentSecurityPolicy: WEB_APP_CSP,
    // The same limit as the services, applied here before anything is forwarded (see the body parser below).
    bodyLimit: config.BODY_LIMIT_BYTES,
    // Bodies pass through to the services unparsed; each service validates its own.
    checkJsonDepth: false,
    isReady: async () => {
      const checks = await Promise.all(
        Object.values(upstreams).map((url) =>
          fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2000) }).then((r) => r.ok, () => false),
        ),
      );
      return checks.every(Boolean);
    },
    notFound: (req, reply) => {
      const path = req.url.split('?')[0] ?? '/';
      const wantsPage = req.method === 'GET' && !path.startsWith('/api/') && !/\.[a-z0-9]+$/i.test(path);
      if (wantsPage && hasWeb) return reply.header('cache-control', 'no-cache').sendFile('index.html');
      if (wantsPage && path === '/') return reply.type('text/html').send(NO_WEB_APP_PAGE);
      return reply.code(404).send({ code: 'NOT_FOUND', message: `No route for ${req.method} ${path}.`, requestId: req.id });
    },
  });

  // Every body is read whole, within the limit, before it is forwarded: a body too large is a 413 from here, never
  // a half-streamed upstream request that the service cuts off and the gateway reports as 502. The rest of a body
  // too large is read and dropped, so the client's keep-alive connection stays usable (Fastify's own limit closes it).
  const limit = config.BODY_LIMIT_BYTES;
  const tooLarge = () => new AppError('PAYLOAD_TOO_LARGE', `The request body is larger than ${limit} bytes.`);
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_req, payload, done) => readBody(payload, limit, done));
  app.addHook('onRequest', async (req, reply) => {
    const declared = declaredLength(req.raw);
    if (declared <= limit) return;
    if (declared > limit + DISCARD_AT_MOST) reply.header('connection', 'close');
    throw tooLarge();
  });
  app.addHook('preValidation', async (req) => {
    if (req.body === TOO_LARGE) throw tooLarge();
  });
  // A client that waits for 100 Continue is invited to send only a body the gateway will read; one it would have
  // to discard in bulk is refused before it is sent (Node then closes that connection, as the client expects).
  app.server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
    if (declaredLength(req) <= limit + DISCARD_AT_MOST) res.writeContinue();
    app.server.emit('request', req, res);
  });

  const replyOptions = (service: string) => ({
    // The services throttle per client address: they get the one the gateway saw, never one a client wrote.
    rewriteRequestHeaders: (req: FastifyRequest, headers: IncomingHttpHeaders) => {
      const forwarded: IncomingHttpHeaders = { ...headers, 'x-request-id': req.id, 'x-forwarded-for': req.ip };
      // These describe the client's connection to the gateway, not the gateway's to the service, and undici
      // refuses a request that carries them (Expect: 100-continue was already answered by the gateway).
      for (const name of HOP_BY_HOP) delete forwarded[name];
      if (req.body instanceof ForwardedBody) forwarded['content-length'] = String(req.body.bytes.length);
      else delete forwarded['content-length']; // a body on GET or HEAD is read and dropped, not forwarded
      return forwarded;
    },
    onError: (reply: { code: (n: number) => { send: (b: unknown) => void }; request: { id: string } }, { error }: { error: Error }) => {
      app.log.warn({ service, err: error.message, cause: (error.cause as Error | undefined)?.message }, 'upstream unavailable');
      reply.code(502).send({
        code: 'UPSTREAM_UNAVAILABLE',
        message: `The ${service} service is not answering right now. Please try again in a moment.`,
        requestId: reply.request.id,
      });
    },
  });

  // /internal is never forwarded, however the path is spelled (dot segments, encoded slashes or dots).
  app.addHook('onRequest', async (req, reply) => {
    const raw = req.url.split('?')[0] ?? '/';
    const path = decoded(raw);
    if (/(^|[/\\])\.\.?([/\\]|$)/.test(path) || /[/\\]internal([/\\]|$)/i.test(path)) {
      return reply.code(404).send({ code: 'NOT_FOUND', message: `No route for ${req.method} ${raw}.`, requestId: req.id });
    }
  });

  // Browsers on other origins may call the API only when their origin is configured; no cookies are involved.
  if (config.CORS_ORIGINS.length) {
    await app.register(cors, {
      origin: config.CORS_ORIGINS,
      methods: ['GET', 'POST', 'PATCH', 'DELETE'],
      allowedHeaders: ['authorization', 'content-type', 'idempotency-key', 'x-request-id'],
      exposedHeaders: ['x-request-id', 'retry-after', 'idempotent-replayed'],
      maxAge: 600,
    });
  }

  for (const route of GATEWAY_ROUTES) {
    await app.register(proxy, {
      upstream: upstreams[route.service],
      prefix: `/api${route.prefix}`,
      rewritePrefix: route.prefix,
      proxyPayloads: false,
      replyOptions: replyOptions(route.service),
    } as Parameters<typeof proxy>[1]);
  }

  // Socket.IO: long-polling requests go through the HTTP proxy, WebSocket upgrades through a raw pipe.
  await app.register(proxy, {
    upstream: config.ENGAGEMENT_URL,
    prefix: LIVE_PATH,
    rewritePrefix: LIVE_PATH,
    proxyPayloads: false,
    replyOptions: replyOptions('engagement'),
  } as Parameters<typeof proxy>[1]);
  proxyUpgrades(app.server, LIVE_PATH, config.ENGAGEMENT_URL, (err) => app.log.warn({ err: err.message }, 'live connection proxy error'));

  // Serves the built web app: hashed assets cached for a year, index.html never cached. Files are looked up
  // per request (wildcard), so a rebuild of web/dist is served without restarting the gateway.
  if (hasWeb) {
    await app.register(fastifyStatic, {
      root: web,
      wildcard: true,
      index: 'index.html',
      // The build makes no source maps; one left in web/dist by an older build is not published either.
      allowedPath: (path) => !/\.map$/i.test(decoded(path)),
      cacheControl: false,
      setHeaders: (res, path) => {
        const hashed = /[/\\]assets[/\\]/.test(path);
        res.setHeader('cache-control', hashed ? 'public, max-age=31536000, immutable' : 'no-cache');
      },
    });
  }
  return app;
}

/** A URL path as the file server will read it; a malformed escape is left as written. */
function decoded(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

/** A request body read whole by the gateway, replayed to the service as a stream so it is sent as it came. */
class ForwardedBody extends Readable {
  constructor(readonly bytes: Buffer) {
    super();
  }
  override _read(): void {
    this.push(this.bytes);
    this.push(null);
  }
}

/** How much of a body over the limit is read and dropped to keep the connection; past this it is closed instead. */
const DISCARD_AT_MOST = 16 * 1024 * 1024;
const TOO_LARGE = Symbol('body too large');

const declaredLength = (req: IncomingMessage): number => Number(req.headers['content-length'] ?? 0);

/** Reads a body of any type and length up to `limit`; past it, answers TOO_LARGE at once and drops the rest as it arrives. */
function readBody(payload: IncomingMessage, limit: number, done: (err: Error | null, body?: unknown) => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  payload.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size <= limit) chunks.push(chunk);
    else if (size - chunk.length <= limit) {
      chunks.length = 0;
      done(null, TOO_LARGE);
    } else if (size > limit + DISCARD_AT_MOST) payload.socket.destroy();
  });
  payload.on('end', () => {
    if (size <= limit) done(null, new ForwardedBody(Buffer.concat(chunks, size)));
  });
  payload.on('error', (err) => {
    if (size <= limit) done(err);
  });
}

const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'expect'];

/**
 * The web app's Content-Security-Policy: its own scripts and styles only (no inline script, no eval),
 * images from itself or data: URLs (ticket QR codes), and API calls and the live socket to itself.
 * `'self'` covers same-origin WebSockets in current browsers; ws:/wss: of the page's own host are added
 * for older ones. Bootstrap needs no inline styles (React sets style properties through the CSSOM).
 */
const WEB_APP_CSP = {
  defaultSrc: ["'self'"],
  scriptSrc: ["'self'"],
  styleSrc: ["'self'"],
  imgSrc: ["'self'", 'data:'],
  fontSrc: ["'self'", 'data:'],
  connectSrc: ["'self'", (req: IncomingMessage) => sameHostSockets(req)],
  objectSrc: ["'none'"],
  baseUri: ["'self'"],
  formAction: ["'self'"],
  frameAncestors: ["'none'"],
  scriptSrcAttr: ["'none'"],
};

const HOST = /^[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/;

function sameHostSockets(req: IncomingMessage): string {
  const host = req.headers.host;
  return host && HOST.test(host) ? `ws://${host} wss://${host}` : '';
}

const NO_WEB_APP_PAGE =
  '<!doctype html><title>DEMS</title><h1>DEMS is running</h1><p>The web app is not built yet. The API is at <a href="/api/events">/api/events</a>.</p>';
