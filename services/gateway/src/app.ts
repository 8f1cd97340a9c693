import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import proxy from '@fastify/http-proxy';
import fastifyStatic from '@fastify/static';
import { GATEWAY_ROUTES, LIVE_PATH, type ServiceName } from '@dems/contracts';
import { createServiceApp, type App } from '@dems/kit';
import type { FastifyServerOptions } from 'fastify';
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

  const unavailable = (service: string) => ({
    onError: (reply: { code: (n: number) => { send: (b: unknown) => void }; request: { id: string } }, { error }: { error: Error }) => {
      app.log.warn({ service, err: error.message }, 'upstream unavailable');
      reply.code(502).send({
        code: 'UPSTREAM_UNAVAILABLE',
        message: `The ${service} service is not answering right now. Please try again in a moment.`,
        requestId: reply.request.id,
      });
    },
  });

  for (const route of GATEWAY_ROUTES) {
    await app.register(proxy, {
      upstream: upstreams[route.service],
      prefix: `/api${route.prefix}`,
      rewritePrefix: route.prefix,
      replyOptions: {
        ...unavailable(route.service),
        rewriteRequestHeaders: (req, headers) => ({ ...headers, 'x-request-id': req.id }),
      },
    } as Parameters<typeof proxy>[1]);
  }

  // Socket.IO: long-polling requests go through the HTTP proxy, WebSocket upgrades through a raw pipe.
  await app.register(proxy, {
    upstream: config.ENGAGEMENT_URL,
    prefix: LIVE_PATH,
    rewritePrefix: LIVE_PATH,
    replyOptions: unavailable('engagement'),
  } as Parameters<typeof proxy>[1]);
  proxyUpgrades(app.server, LIVE_PATH, config.ENGAGEMENT_URL, (err) => app.log.warn({ err: err.message }, 'live connection proxy error'));

  // Serves the built web app: hashed assets cached for a year, index.html never cached.
  if (hasWeb) {
    await app.register(fastifyStatic, {
      root: web,
      wildcard: false,
      index: false,
      cacheControl: false,
      setHeaders: (res, path) => {
        const hashed = /[/\\]assets[/\\]/.test(path);
        res.setHeader('cache-control', hashed ? 'public, max-age=31536000, immutable' : 'no-cache');
      },
    });
  }
  return app;
}

const NO_WEB_APP_PAGE =
  '<!doctype html><title>DEMS</title><h1>DEMS is running</h1><p>The web app is not built yet. The API is at <a href="/api/events">/api/events</a>.</p>';
