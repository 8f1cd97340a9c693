import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import cors from '@fastify/cors';
import proxy from '@fastify/http-proxy';
import fastifyStatic from '@fastify/static';
import { BANNER_MAX_BYTES, BANNER_TOO_LARGE_MESSAGE, GATEWAY_ROUTES, SERVICE_NAMES, type ServiceName } from '@dems/contracts';
import { AppError, bannerStoreSettings, createServiceApp, currentTraceparent, openBannerStore, sheddingSettings, Upstreams, type App } from '@dems/kit';
import type { FastifyServerOptions } from 'fastify';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { registerBanners } from './banners.js';
import type { GatewayConfig } from './config.js';
import { ForwardedBody, forwardTo, upstreamClient, type FromOptions } from './forward.js';
import { registerLiveProxy } from './live-proxy.js';
import { trustProxyOption } from './proxy-trust.js';

export interface GatewayDeps {
  config: GatewayConfig;
  logger?: FastifyServerOptions['logger'];
}

/**
 * The one address a browser talks to: /api/* goes to the service that owns the path (route table in
 * packages/contracts), /socket.io to engagement, everything else is the web app. /internal is never forwarded.
 * Each service may run as several replicas: requests are balanced over those that answer (forward.ts).
 */
export async function buildApp({ config, logger }: GatewayDeps): Promise<App> {
  const urls: Record<ServiceName, readonly string[]> = { events: config.EVENTS_URL, ticketing: config.TICKETING_URL, engagement: config.ENGAGEMENT_URL };
  const log = { info: (o: object, m: string) => app.log.info(o, m), warn: (o: object, m: string) => app.log.warn(o, m) };
  const upstreams = Object.fromEntries(SERVICE_NAMES.map((service) => [service, new Upstreams({ service, urls: urls[service], log })])) as Record<ServiceName, Upstreams>;

  const web = resolve(config.WEB_DIST);
  const hasWeb = existsSync(resolve(web, 'index.html'));
  const app = await createServiceApp({
    name: 'gateway',
    description: 'Routes /api/* to the DEMS services and serves the web app.',
    logger,
    trustProxy: trustProxyOption(config.TRUST_PROXY),
    contentSecurityPolicy: webAppCsp(config.BANNER_PUBLIC_URL),
    metricsAccess: config.METRICS_PUBLIC ? 'anyone' : 'private-network',
    // The same limit as the services, applied here before anything is forwarded (see the body parser below).
    bodyLimit: config.BODY_LIMIT_BYTES,
    shedding: sheddingSettings(config),
    // Bodies pass through to the services unparsed; each service validates its own.
    checkJsonDepth: false,
    // Ready when it can serve: it holds nothing and needs nothing. Whether the services answer is theirs to say
    // (their own /readyz), and here at /healthz/upstreams: a gateway taken out of a load balancer for a service
    // being down would take every other service down with it.
    isReady: () => true,
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
  // A banner upload is an image of up to BANNER_MAX_BYTES: that route alone takes more than BODY_LIMIT_BYTES.
  const limitOf = (req: { method?: string; url?: string }) => (isBannerUpload(req) ? Math.max(config.BODY_LIMIT_BYTES, BANNER_MAX_BYTES) : config.BODY_LIMIT_BYTES);
  const tooLarge = (req: { method?: string; url?: string }) =>
    new AppError('PAYLOAD_TOO_LARGE', isBannerUpload(req) ? BANNER_TOO_LARGE_MESSAGE : `The request body is larger than ${config.BODY_LIMIT_BYTES} bytes.`);
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (req, payload, done) => readBody(payload, limitOf(req), done));
  app.addHook('onRequest', async (req, reply) => {
    const declared = declaredLength(req.raw);
    const limit = limitOf(req);
    if (declared <= limit) return;
    if (declared > limit + DISCARD_AT_MOST) reply.header('connection', 'close');
    throw tooLarge(req);
  });
  app.addHook('preValidation', async (req) => {
    if (req.body === TOO_LARGE) throw tooLarge(req);
  });
  // A client that waits for 100 Continue is invited to send only a body the gateway will read; one it would have
  // to discard in bulk is refused before it is sent (Node then closes that connection, as the client expects).
  app.server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
    if (declaredLength(req) <= limitOf(req) + DISCARD_AT_MOST) res.writeContinue();
    app.server.emit('request', req, res);
  });

  const replyOptions = (service: ServiceName): FromOptions => ({
    // The services throttle per client address: they get the one the gateway saw, never one a client wrote.
    rewriteRequestHeaders: (req, headers) => {
      const forwarded: IncomingHttpHeaders = { ...headers, 'x-request-id': req.id, 'x-forwarded-for': req.ip };
      // These describe the client's connection to the gateway, not the gateway's to the service, and undici
      // refuses a request that carries them (Expect: 100-continue was already answered by the gateway).
      for (const name of HOP_BY_HOP) delete forwarded[name];
      // A traced gateway sends its own traceparent upstream (continuing the client's): a copy of the client's
      // would be a second, contradicting one, and the service would start a trace of its own.
      if (currentTraceparent()) for (const name of TRACE_CONTEXT) delete forwarded[name];
      if (req.body instanceof ForwardedBody) forwarded['content-length'] = String(req.body.bytes.length);
      else delete forwarded['content-length']; // a body on GET or HEAD is read and dropped, not forwarded
      return forwarded;
    },
    // The same for answers: a replica closing its connection to the gateway (a stopping one does) is not the
    // client's connection to the gateway.
    rewriteHeaders: (headers) => {
      const answered = { ...headers };
      for (const name of HOP_BY_HOP) delete answered[name];
      return answered;
    },
    // Only asked to check the path; forwardTo picks the replica of each request.
    getUpstream: () => upstreams[service].urls[0]!,
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
      methods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
      allowedHeaders: ['authorization', 'content-type', 'idempotency-key', 'x-request-id'],
      exposedHeaders: ['x-request-id', 'retry-after', 'idempotent-replayed'],
      maxAge: 600,
    });
  }

  for (const route of GATEWAY_ROUTES) {
    await app.register(proxy, {
      upstream: '', // every request picks its replica (forwardTo)
      ...upstreamClient(),
      prefix: `/api${route.prefix}`,
      rewritePrefix: route.prefix,
      proxyPayloads: false,
      replyOptions: replyOptions(route.service),
      handler: forwardTo(upstreams[route.service]),
    } as Parameters<typeof proxy>[1]);
  }
  await registerLiveProxy(app, upstreams.engagement, replyOptions('engagement'));

  // Banners, from the store the events service writes them to (not under /api: browsers load them as images).
  const banners = await openBannerStore(bannerStoreSettings(config));
  registerBanners(app, banners);

  // Which replicas answer, for operators; not part of readiness (see isReady).
  app.get('/healthz/upstreams', { schema: { hide: true } }, async () => Object.fromEntries(SERVICE_NAMES.map((service) => [service, upstreamHealth(upstreams[service])])));
  app.addHook('onClose', async () => {
    for (const service of SERVICE_NAMES) upstreams[service].stop();
    await banners.close();
  });

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

/** How many replicas of a service there are and how many are in rotation; their addresses stay private. */
function upstreamHealth(upstreams: Upstreams): { replicas: number; answering: number } {
  const status = upstreams.status();
  return { replicas: status.length, answering: status.filter((s) => s.up).length };
}

/** PUT /api/events/:id/banner, the one route whose body (an image) may be larger than BODY_LIMIT_BYTES. */
const BANNER_UPLOAD = /^\/api\/events\/[^/?]+\/banner(?:\?|$)/;
const isBannerUpload = (req: { method?: string; url?: string }) => req.method === 'PUT' && BANNER_UPLOAD.test(req.url ?? '');

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

const TRACE_CONTEXT = ['traceparent', 'tracestate'];
const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'expect'];

/**
 * The web app's Content-Security-Policy: its own scripts and styles only (no inline script, no eval),
 * images from itself or data: URLs (ticket QR codes), and API calls and the live socket to itself.
 * `'self'` covers same-origin WebSockets in current browsers; ws:/wss: of the page's own host are added
 * for older ones. Bootstrap needs no inline styles (React sets style properties through the CSSOM).
 */
const webAppCsp = (bannerPublicUrl: string) => ({
  defaultSrc: ["'self'"],
  scriptSrc: ["'self'"],
  styleSrc: ["'self'"],
  // Banners come from BANNER_PUBLIC_URL: this site (/banners), or a CDN whose origin is allowed here.
  imgSrc: ["'self'", 'data:', ...(bannerPublicUrl.startsWith('/') ? [] : [new URL(bannerPublicUrl).origin])],
  fontSrc: ["'self'", 'data:'],
  connectSrc: ["'self'", (req: IncomingMessage) => sameHostSockets(req)],
  objectSrc: ["'none'"],
  baseUri: ["'self'"],
  formAction: ["'self'"],
  frameAncestors: ["'none'"],
  scriptSrcAttr: ["'none'"],
});

const HOST = /^[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/;

function sameHostSockets(req: IncomingMessage): string {
  const host = req.headers.host;
  return host && HOST.test(host) ? `ws://${host} wss://${host}` : '';
}

const NO_WEB_APP_PAGE = '<!doctype html><title>DEMS</title><h1>DEMS is running</h1><p>The web app is not built yet. The API is at <a href="/api/events">/api/events</a>.</p>';
