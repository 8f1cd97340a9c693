import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Context, type Link, type Span, type SpanOptions } from '@opentelemetry/api';
import { ConfigError } from './config.js';
import { outsideRequests } from './request-context.js';

/**
 * OpenTelemetry tracing, exported over OTLP/HTTP (JSON) when configured with the standard variables
 * OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT. Unset, nothing is loaded and every helper
 * here is a pass-through over the no-op API: tracing costs nothing.
 *
 * This module is imported by a service's main.ts before anything else (see scripts/build.mjs): the http and
 * AWS SDK instrumentations patch those modules as they load, so they must be registered first. It imports
 * nothing of the kit's but the config error, so that importing it loads no instrumented module.
 */

const TRACER = 'dems';

/** Requests that are not worth a trace: probes, scrapes, the docs page and the live socket's long-polling. */
const UNTRACED_PATHS = /^\/(healthz|readyz|metrics|docs|openapi\.json|socket\.io)(\/|\?|$)/;

let provider: { forceFlush(): Promise<void>; shutdown(): Promise<void> } | undefined;
/** Marks a context so that nothing started in it is recorded (the SDK's suppressTracing, once loaded). */
let suppress: (ctx: Context) => Context = (ctx) => ctx;

/**
 * Where spans go, from the standard OpenTelemetry variables; undefined when tracing is off (no endpoint,
 * OTEL_SDK_DISABLED=true or OTEL_TRACES_EXPORTER=none). A malformed endpoint is a configuration error.
 */
export function tracingEndpoint(env: Record<string, string | undefined> = process.env): string | undefined {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return undefined;
  if (env.OTEL_TRACES_EXPORTER?.split(',').some((e) => e.trim() === 'none')) return undefined;
  const problems: string[] = [];
  let endpoint: string | undefined;
  for (const name of ['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', 'OTEL_EXPORTER_OTLP_ENDPOINT']) {
    const value = env[name]?.trim();
    if (!value) continue;
    if (!/^https?:\/\/[^/]/.test(value) || !URL.canParse(value)) problems.push(`${name} ("${value}"): must be an http:// or https:// URL of an OTLP/HTTP receiver`);
    else endpoint ??= value;
  }
  if (problems.length) throw new ConfigError(problems);
  return endpoint;
}

/**
 * Starts tracing for `service` (service.name = dems-<service>) when an OTLP endpoint is configured; exits the
 * process with the reason when the configuration is malformed. Returns whether tracing is on.
 */
export async function startTracing(service: string, env: Record<string, string | undefined> = process.env): Promise<boolean> {
  let endpoint: string | undefined;
  try {
    endpoint = tracingEndpoint(env);
  } catch (err) {
    console.error(`[${service}] ${(err as Error).message}`);
    process.exit(78); // EX_CONFIG, as runService does for the service's own settings
  }
  if (!endpoint) return false;
  const [
    { NodeTracerProvider, BatchSpanProcessor },
    { detectResources, envDetector, hostDetector, processDetector, resourceFromAttributes },
    { suppressTracing },
    { registerInstrumentations },
    { OTLPTraceExporter },
    { HttpInstrumentation },
    { UndiciInstrumentation },
    { AwsInstrumentation },
    { FastifyOtelInstrumentation },
  ] = await Promise.all([
    import('@opentelemetry/sdk-trace-node'),
    import('@opentelemetry/resources'),
    import('@opentelemetry/core'),
    import('@opentelemetry/instrumentation'),
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/instrumentation-http'),
    import('@opentelemetry/instrumentation-undici'),
    import('@opentelemetry/instrumentation-aws-sdk'),
    import('@fastify/otel'),
  ]);
  // Traces only, so the trace SDK alone rather than @opentelemetry/sdk-node, which brings every metrics and logs
  // exporter (gRPC, protobuf, Zipkin, Prometheus: ~170 MB of node_modules) that DEMS never loads: metrics are
  // Prometheus' (/metrics) and logs go to stdout. The sampler (OTEL_TRACES_SAMPLER) is read by the provider itself.
  const tracerProvider = new NodeTracerProvider({
    // OTEL_RESOURCE_ATTRIBUTES (e.g. deployment.environment) and the host and process, then the service's own name.
    resource: detectResources({ detectors: [envDetector, hostDetector, processDetector] }).merge(resourceFromAttributes({ 'service.name': `dems-${service}` })),
    // OTLP/HTTP with JSON bodies; the exporter reads the endpoint, headers and timeout from the OTEL_* variables.
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter())],
  });
  // The global provider, AsyncLocalStorage context and W3C trace-context propagation.
  tracerProvider.register();
  registerInstrumentations({
    tracerProvider,
    instrumentations: [
      new HttpInstrumentation({ ignoreIncomingRequestHook: (req) => UNTRACED_PATHS.test(req.url ?? '') }),
      // fetch() (the relay, the gateway's health checks) goes through undici, not http.
      new UndiciInstrumentation({ ignoreRequestHook: (req) => UNTRACED_PATHS.test(req.path) }),
      // One span per DynamoDB call; the HTTP request under it would say nothing more.
      new AwsInstrumentation({ suppressInternalInstrumentation: true }),
      // The official Fastify plugin on every Fastify instance as it is created: a span per request and its handler
      // (a span per hook too would multiply them by ten for little insight).
      new FastifyOtelInstrumentation({ registerOnInitialization: true, instrumentHooks: false, ignorePaths: (route) => UNTRACED_PATHS.test(route.url) }),
    ],
  });
  suppress = suppressTracing;
  provider = tracerProvider;
  return true;
}

/** Sends the spans still buffered (before the process exits); at most `timeoutMs`. A no-op when tracing is off. */
export async function flushTracing(timeoutMs = 2000): Promise<void> {
  if (!provider) return;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([provider.forceFlush().catch(() => undefined), new Promise((r) => (timer = setTimeout(r, timeoutMs)))]);
  clearTimeout(timer);
}

/** Log fields that tie a line to its trace: the ids of the span active now; none when tracing is off. */
export function traceLogFields(): { trace_id?: string; span_id?: string } {
  const span = trace.getSpan(context.active());
  if (!span) return {};
  const { traceId, spanId } = span.spanContext();
  return { trace_id: traceId, span_id: spanId };
}

/** The W3C traceparent of the span active now, if any (none when tracing is off). */
export function currentTraceparent(ctx: Context = context.active()): string | undefined {
  const carrier: { traceparent?: string } = {};
  propagation.inject(ctx, carrier);
  return carrier.traceparent;
}

/**
 * A message as it is written to the outbox: with the trace context of the change that produced it, so that
 * its subscribers continue that trace (one purchase is one trace across services). A message that already
 * carries one keeps it.
 */
export function withTraceContext<M extends { traceparent?: string }>(message: M): M {
  if (message.traceparent) return message;
  const traceparent = currentTraceparent();
  return traceparent ? { ...message, traceparent } : message;
}

/** A function that runs `fn` in the trace context active now, whenever and from wherever it is called. */
export function inCurrentTrace(): <T>(fn: () => T) => T {
  const ctx = context.active();
  return (fn) => context.with(ctx, fn);
}

/** The context a message's traceparent names, on top of `base`; `base` itself when it carries none. */
function messageContext(message: { traceparent?: string }, base: Context): Context {
  return message.traceparent ? propagation.extract(base, { traceparent: message.traceparent }) : base;
}

interface TracedMessage {
  id: string;
  type: string;
  source: string;
  traceparent?: string;
}

/** Runs `fn` in a new span (ended when it settles; an error it throws is recorded on the span). */
async function inSpan<T>(name: string, options: SpanOptions, parent: Context, fn: (span: Span) => Promise<T>): Promise<T> {
  return trace.getTracer(TRACER).startActiveSpan(name, options, parent, async (span) => {
    try {
      return await fn(span);
    } catch (err) {
      span.recordException(err as Error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
      throw err;
    } finally {
      span.end();
    }
  });
}

/**
 * Runs a subscriber's handling of one message in a span whose parent is the context the message was written
 * in (its traceparent), linked to the delivery request that brought it. Without a traceparent the span is a
 * child of the delivery request.
 */
export async function inMessageSpan<T>(message: TracedMessage, fn: () => Promise<T>): Promise<T> {
  const delivery = trace.getSpanContext(context.active());
  const links: Link[] = message.traceparent && delivery ? [{ context: delivery }] : [];
  const attributes = { ...messagingAttributes('process', message.type), 'messaging.message.id': message.id, 'dems.message.source': message.source };
  return inSpan(`process ${message.type}`, { kind: SpanKind.CONSUMER, links, attributes }, messageContext(message, context.active()), async (span) => {
    const result = await fn();
    span.setAttribute('dems.message.result', String(result));
    return result;
  });
}

/**
 * Runs the relay's delivery of a batch to one subscriber in a span that continues the trace of the batch's first
 * message (so a purchase's trace shows its delivery) and links every message's trace.
 */
export async function inDeliverySpan<T>(subscriber: string, messages: TracedMessage[], fn: () => Promise<T>): Promise<T> {
  const links: Link[] = [];
  for (const m of messages) {
    const linked = trace.getSpanContext(messageContext(m, ROOT_CONTEXT));
    if (linked) links.push({ context: linked });
  }
  const parent = messages[0] ? messageContext(messages[0], ROOT_CONTEXT) : ROOT_CONTEXT;
  const attributes = { ...messagingAttributes('send', subscriber), 'messaging.batch.message_count': messages.length };
  return inSpan(`send ${subscriber}`, { kind: SpanKind.PRODUCER, links, attributes }, parent, () => fn());
}

/** OpenTelemetry's messaging attributes: the outbox relay and inbox are DEMS' own messaging system. */
function messagingAttributes(operation: 'send' | 'process', destination: string) {
  return { 'messaging.system': 'dems', 'messaging.operation.type': operation, 'messaging.destination.name': destination };
}

/**
 * Runs background work (the relay's drain, the /metrics reads of the outbox) outside whatever request happened to
 * start it: with neither its request id nor its trace, and with nothing recorded unless it starts a span of its
 * own from an explicit parent (inDeliverySpan does).
 */
export function inBackground<T>(fn: () => T): T {
  return outsideRequests(() => context.with(suppress(ROOT_CONTEXT), fn));
}
