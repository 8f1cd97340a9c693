import { randomUUID } from 'node:crypto';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type FastifyServerOptions,
  type RawReplyDefaultExpression,
  type RawRequestDefaultExpression,
  type RawServerDefault,
} from 'fastify';
import helmet, { type HelmetOptions } from 'helmet';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { hasZodFastifySchemaValidationErrors, jsonSchemaTransform, serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ERROR_CODES, type ErrorCode } from '@dems/contracts';
import { lifecycleOf, registerAdmission } from './admission.js';
import { DEFAULT_MAX_EVENT_LOOP_DELAY_MS, DEFAULT_MAX_QUEUE_DELAY_MS } from './config.js';
import { AppError } from './errors.js';
import { registerMetrics, type MetricsAccess } from './metrics.js';
import type { SharedState } from './shared-state.js';
import { requestLogFields, trackRequests } from './request-context.js';
import { flushTracing, traceLogFields } from './tracing.js';

/** A service's Fastify instance, typed so that route schemas written in zod type the handlers. */
export type App = FastifyInstance<RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, FastifyBaseLogger, ZodTypeProvider>;

export interface ServiceAppOptions {
  name: string;
  description: string;
  logger?: FastifyServerOptions['logger'];
  bodyLimit?: number;
  /** Whether the store answers; /readyz reports 503 when it does not. */
  isReady: () => boolean | Promise<boolean>;
  /** Replaces the JSON 404 for unknown routes (the gateway falls back to the web app). */
  notFound?: (req: FastifyRequest, reply: FastifyReply) => unknown;
  /**
   * Which peers may set X-Forwarded-For (Fastify `trustProxy`): the gateway. Default `loopback`, where
   * the gateway runs with `npm start`; the client address drives per-address throttles. A function decides per
   * hop (the gateway's hop count behind CloudFront and a load balancer); Fastify ignores a bare number.
   */
  trustProxy?: string | string[] | boolean | ((address: string, hop: number) => boolean);
  /** Replace Fastify's JSON parser with the depth-checking one (default). The gateway passes bodies through unparsed. */
  checkJsonDepth?: boolean;
  /** Content-Security-Policy directives; the default suits a JSON API (nothing may load, nothing may frame it). */
  contentSecurityPolicy?: NonNullable<Exclude<HelmetOptions['contentSecurityPolicy'], boolean>>['directives'];
  /** Who may read /metrics: anyone (default: a service's port is internal) or private-network peers only (the gateway). */
  metricsAccess?: MetricsAccess;
  /** When to shed load with 503 OVERLOADED (sheddingSettings(config)); each measure defaults to 1000 ms, 0 turns it off. */
  shedding?: { maxEventLoopDelayMs?: number; maxQueueDelayMs?: number };
}

/**
 * What every service's `buildApp` takes beside its own parts: the settings its process reads from the config.
 * The first four are `ServiceAppOptions` of the same names, so `createServiceApp({ ...deps, name, … })` passes them on.
 */
export interface ServiceDeps extends Pick<ServiceAppOptions, 'logger' | 'bodyLimit' | 'shedding'> {
  /** Peers trusted to say who the client is (X-Forwarded-For): the gateway. */
  trustProxy?: string | string[] | boolean;
  /** SERVICE_SECRET: signs and checks /internal requests. */
  secret: string;
  /** Where throttles are counted: Redis shared by the replicas (REDIS_URL), or this process (default). */
  shared?: SharedState;
  /** An operator put a dead letter back in the queue: deliver it now (serve.ts: relay.kick()). */
  onReplay?: () => void;
  /** Stops what serve.ts started (relay, key refresh) before the store closes. */
  onClose?: () => Promise<void> | void;
}

/**
 * Log redaction: credentials never reach a log line — tokens, cookies, the service signature, and any
 * password, token or secret field of a logged body or object (one or two levels deep).
 */
const SECRET_FIELDS = ['password', 'token', 'refreshToken', 'secret', 'authorization', 'cookie', 'privateJwk', 'd'];
export const LOG_REDACT = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-dems-signature"]',
  'req.headers["set-cookie"]',
  'res.headers["set-cookie"]',
  ...SECRET_FIELDS.flatMap((f) => [f, `*.${f}`, `*.*.${f}`]),
];

/** JSON deeper than this is refused with 400 JSON_TOO_DEEP before any handler (or schema) sees it. */
export const MAX_JSON_DEPTH = 32;

/** Whether a JSON text nests arrays/objects deeper than `max`; a linear scan that never recurses. */
export function jsonTooDeep(text: string, max = MAX_JSON_DEPTH): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92 /* \\ */) i++;
      else if (c === 34 /* " */) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123 /* { */ || c === 91 /* [ */) {
      if (++depth > max) return true;
    } else if (c === 125 /* } */ || c === 93 /* ] */) depth--;
  }
  return false;
}

const ROUTES = new WeakMap<object, { method: string; url: string }[]>();

/** Every route a service app registered (HEAD twins left out): the authorization test checks them all. */
export function registeredRoutes(app: object): { method: string; url: string }[] {
  return ROUTES.get(app) ?? [];
}

const API_CSP = {
  defaultSrc: ["'none'"],
  frameAncestors: ["'none'"],
  baseUri: ["'none'"],
  formAction: ["'none'"],
};

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * The Fastify instance every service starts from: zod validation, one error shape, request ids,
 * health and readiness, and OpenAPI at /openapi.json with an interactive page at /docs.
 */
export async function createServiceApp(opts: ServiceAppOptions): Promise<App> {
  const app = Fastify({
    // Every line written for a request names it (reqId), whichever logger wrote it; and its trace when traced.
    logger: typeof opts.logger === 'object' ? { ...opts.logger, mixin: (_line, _level, logger) => ({ ...requestLogFields(logger), ...traceLogFields() }) } : (opts.logger ?? false),
    bodyLimit: opts.bodyLimit ?? 100_000,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    trustProxy: opts.trustProxy ?? 'loopback',
    // A stopping replica answers in the one error shape (admission.ts), not with Fastify's own 503 body.
    return503OnClosing: false,
    ajv: undefined,
  }).withTypeProvider<ZodTypeProvider>();
  // First of all hooks: everything after runs in the request's context (its id in every log line).
  trackRequests(app);

  const routes: { method: string; url: string }[] = [];
  ROUTES.set(app, routes);
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) if (method !== 'HEAD') routes.push({ method, url: route.url });
  });

  // JSON is parsed by Fastify's own parser (it refuses __proto__ and constructor.prototype keys), after a
  // depth check: deeply nested JSON is a 400 before it can cost a handler or a validator anything.
  // Services take JSON only: Fastify's default text/plain parser would hand a schema a string, answered
  // 400 where 415 UNSUPPORTED_MEDIA_TYPE is the truth.
  if (opts.checkJsonDepth !== false) {
    const parseJson = app.getDefaultJsonParser('error', 'error');
    app.removeContentTypeParser(['application/json', 'text/plain']);
    app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
      if (jsonTooDeep(body as string)) {
        done(new AppError('JSON_TOO_DEEP', `The JSON body nests deeper than ${MAX_JSON_DEPTH} levels.`), undefined);
        return;
      }
      parseJson(req, body as string, done);
    });
  }

  // Security headers on every answer; no X-Powered-By (Fastify sends none and helmet removes any).
  // helmet itself, built once: @fastify/helmet builds the same middleware anew for every request (the CSP directives
  // parsed, a dozen middlewares made) only to run it. Directives that depend on the request (the gateway's) still
  // get each request.
  const securityHeaders = helmet({ contentSecurityPolicy: { useDefaults: false, directives: opts.contentSecurityPolicy ?? API_CSP } });
  app.addHook('onRequest', (req, reply, done) => securityHeaders(req.raw, reply.raw, (err) => done(err as FastifyError | undefined)));
  // After helmet, so that refusals carry the security headers too.
  await registerAdmission(app, {
    name: opts.name,
    maxEventLoopDelayMs: opts.shedding?.maxEventLoopDelayMs ?? DEFAULT_MAX_EVENT_LOOP_DELAY_MS,
    maxQueueDelayMs: opts.shedding?.maxQueueDelayMs ?? DEFAULT_MAX_QUEUE_DELAY_MS,
  });

  // Before the routes: every answer is measured, refusals included.
  registerMetrics(app, opts.metricsAccess ?? 'anyone');
  // Spans still buffered go out before the process ends (nothing to do when tracing is off).
  app.addHook('onClose', () => flushTracing());

  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(listTolerantSerializer(app.log));
  app.addHook('onSend', (req, reply, payload, done) => {
    reply.header('x-request-id', req.id);
    done(null, payload);
  });

  // Sends and returns nothing: a returned reply is awaited as a promise, which costs every refusal a listener
  // on the response stream.
  app.setErrorHandler((err: FastifyError, req, reply) => {
    const { status, body, headers } = toErrorResponse(err, req.id);
    if (status >= 500) req.log.error({ err }, 'request failed');
    reply.code(status).headers(headers).send(body);
  });
  app.setNotFoundHandler(
    opts.notFound ?? ((req, reply) => reply.code(404).send({ code: 'NOT_FOUND', message: `No route for ${req.method} ${req.url.split('?')[0]}.`, requestId: req.id })),
  );

  await app.register(swagger, {
    openapi: {
      info: { title: `DEMS ${opts.name}`, description: opts.description, version: '0.1.0' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
    },
    transform: jsonSchemaTransform,
  });
  // The docs page needs its own scripts and styles: swagger-ui sets a CSP for just its routes.
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    staticCSP: true,
    transformStaticCSP: (csp: string) => csp.replace('upgrade-insecure-requests;', '').trim(),
  });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok', service: opts.name }));
  app.get('/readyz', { schema: { hide: true } }, async (req, reply) => {
    // Not ready from the first moment of a stop, so load balancers stop sending before the replica refuses.
    if (lifecycleOf(app) !== 'serving') return reply.code(503).send({ code: 'SHUTTING_DOWN', message: `${opts.name} is stopping.`, requestId: req.id });
    let ready = false;
    try {
      ready = await opts.isReady();
    } catch (err) {
      req.log.warn({ err }, 'readiness check failed');
    }
    if (!ready) return reply.code(503).send({ code: 'NOT_READY', message: `${opts.name} cannot use its store.`, requestId: req.id });
    return { status: 'ready', service: opts.name };
  });

  return app;
}

/**
 * Responses are checked against their schema, as fastify-type-provider-zod does, with one difference: a list
 * (`{ items: [...] }`) with a stored row its schema refuses is answered without that row, which is logged.
 * One bad row (written by an older version, or by hand) must never turn a list into a 500 for everyone.
 */
function listTolerantSerializer(log: FastifyBaseLogger): Parameters<FastifyInstance['setSerializerCompiler']>[0] {
  return (route) => {
    const serialize = serializerCompiler(route as Parameters<typeof serializerCompiler>[0]);
    const schema = route.schema as unknown;
    const itemSchema = schema instanceof z.ZodObject && schema.shape.items instanceof z.ZodArray ? (schema.shape.items.element as z.ZodType) : null;
    return (data: unknown) => {
      try {
        return serialize(data);
      } catch (err) {
        const items = (data as { items?: unknown } | null)?.items;
        if (!itemSchema || !Array.isArray(items)) throw err;
        const kept = items.filter((item) => itemSchema.safeParse(item).success);
        if (kept.length === items.length) throw err;
        const skipped = items.filter((item) => !kept.includes(item)).map((item) => (item as { id?: unknown })?.id ?? null);
        log.error({ route: `${route.method} ${route.url}`, skipped }, 'answered a list without stored rows that do not match its schema');
        return serialize({ ...(data as object), items: kept });
      }
    };
  };
}

function errorBody(code: ErrorCode, message: string, requestId: string, details?: { path: string; message: string }[]) {
  return details ? { code, message, requestId, details } : { code, message, requestId };
}

/** The one mapper from anything thrown to `{ code, message, requestId }`; a 5xx never shows internals. */
export function toErrorResponse(err: FastifyError, requestId: string) {
  if (err instanceof AppError) {
    return { status: err.status, headers: err.headers, body: errorBody(err.code, err.message, requestId) };
  }
  if (hasZodFastifySchemaValidationErrors(err)) {
    const where = err.validationContext ?? 'request';
    const details = err.validation.map((v) => ({
      path: [where, ...v.instancePath.split('/').filter(Boolean)].join('.'),
      message: v.message ?? 'is invalid',
    }));
    const first = details[0];
    const message = first ? `${first.path}: ${first.message}` : `The ${where} is invalid.`;
    return { status: 400, headers: {}, body: errorBody('VALIDATION_FAILED', message, requestId, details) };
  }
  const status = err.statusCode ?? 500;
  const byFastifyCode: Record<string, [ErrorCode, string]> = {
    FST_ERR_CTP_BODY_TOO_LARGE: ['PAYLOAD_TOO_LARGE', 'The request body is too large.'],
    FST_ERR_CTP_INVALID_MEDIA_TYPE: ['UNSUPPORTED_MEDIA_TYPE', 'Send the body as application/json.'],
    FST_ERR_CTP_EMPTY_JSON_BODY: ['MALFORMED_JSON', 'The body is empty but the content type says JSON.'],
    FST_ERR_CTP_INVALID_JSON_BODY: ['MALFORMED_JSON', 'The body is not valid JSON.'],
  };
  const known = err.code ? byFastifyCode[err.code] : undefined;
  if (known) return { status: ERROR_CODES[known[0]].status, headers: {}, body: errorBody(known[0], known[1], requestId) };
  if (status === 400 && err instanceof SyntaxError) {
    return { status: 400, headers: {}, body: errorBody('MALFORMED_JSON', 'The body is not valid JSON.', requestId) };
  }
  if (status >= 400 && status < 500) {
    const code: ErrorCode =
      status === 404 ? 'NOT_FOUND' : status === 413 ? 'PAYLOAD_TOO_LARGE' : status === 415 ? 'UNSUPPORTED_MEDIA_TYPE' : status === 429 ? 'RATE_LIMITED' : 'VALIDATION_FAILED';
    return { status, headers: {}, body: errorBody(code, err.message, requestId) };
  }
  return {
    status: 500,
    headers: {},
    body: errorBody('INTERNAL', 'Something went wrong on our side. Please try again; if it keeps happening, quote the requestId.', requestId),
  };
}
