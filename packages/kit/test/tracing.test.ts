import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { context, propagation, SpanKind, SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import { InMemorySpanExporter, NodeTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-node';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { FastifyOtelInstrumentation } from '@fastify/otel';
import { newMessage, type Message } from '@dems/contracts';
import { ConfigError, createServiceApp, OutboxRelay, registerInternalRoutes, tracingEndpoint, withTraceContext } from '@dems/kit';
import { DynamoDbMessaging } from '@dems/kit/dynamodb';
import { MESSAGING_SCHEMA, migrate, openSqlite, SqliteMessaging } from '@dems/kit/sqlite';
import { TEST_SECRET, tempDir } from '@dems/kit/testing';

/**
 * Tracing in one process, as the services run it: a real tracer provider (spans kept in memory instead of being
 * exported), the official Fastify and fetch instrumentations, a real SQLite outbox, relay and subscriber app.
 */
const exporter = new InMemorySpanExporter();
const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
let instrumentations: { disable(): void }[] = [];
const tracer = () => trace.getTracer('test');

beforeAll(() => {
  provider.register();
  instrumentations = [new FastifyOtelInstrumentation({ registerOnInitialization: true }), new UndiciInstrumentation()];
});
afterAll(async () => {
  for (const i of instrumentations) i.disable();
  await provider.shutdown();
  trace.disable();
  context.disable();
  propagation.disable();
});

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  exporter.reset();
});

const order = (n: number, at = new Date()): Message =>
  newMessage(
    'ticketing',
    'OrderPlaced',
    { orderId: `ord_${n}`, userId: 'usr_1', eventId: 'evt_1', eventTitle: 'Jazz', ticketTypeId: 'tt_1', ticketTypeName: 'General', quantity: 1, totalCents: 100, currency: 'EUR' },
    at,
  );

/** Runs `fn` inside a new active span (a request of the publishing service) and returns the span too. */
async function inSpan<T>(name: string, fn: () => T | Promise<T>): Promise<{ span: Span; result: T }> {
  return tracer().startActiveSpan(name, async (span) => {
    try {
      return { span, result: await fn() };
    } finally {
      span.end();
    }
  });
}

const traceparentOf = (span: Span) => `00-${span.spanContext().traceId}-${span.spanContext().spanId}-01`;
const spans = () => exporter.getFinishedSpans();
const named = (name: string) => spans().filter((s) => s.name === name);
const until = async (check: () => boolean, ms = 5000) => {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
};

function sqliteOutbox() {
  const dir = tempDir();
  const db = openSqlite(join(dir.path, 'outbox.db'));
  migrate(db, [MESSAGING_SCHEMA]);
  cleanups.push(dir.cleanup, () => db.close());
  const store = new SqliteMessaging(db);
  return { store, enqueue: (...m: Message[]) => db.transaction(() => store.enqueue(...m))() };
}

/** A subscriber service: the kit inbox on a real app, listening on a port of its own. */
async function subscriber(apply: (m: Message) => Promise<'applied' | 'duplicate'>) {
  const app = await createServiceApp({ name: 'subscriber', description: 'tracing test', isReady: () => true });
  await registerInternalRoutes(app, { secret: TEST_SECRET, apply });
  cleanups.push(() => app.close());
  return app.listen({ port: 0, host: '127.0.0.1' });
}

function relay(store: SqliteMessaging, engagementUrl: string) {
  const r = new OutboxRelay({
    publisher: 'events',
    store,
    subscriberUrls: { events: 'http://127.0.0.1:9', ticketing: 'http://127.0.0.1:9', engagement: engagementUrl },
    secret: TEST_SECRET,
    log: { info: () => {}, warn: () => {}, error: () => {} },
    maxAttempts: 5,
    sweepMs: 60_000,
  });
  cleanups.push(() => r.stop());
  return r;
}

describe('when tracing is on', () => {
  it('is off unless an OTLP endpoint is configured, and off when disabled', () => {
    expect(tracingEndpoint({})).toBeUndefined();
    expect(tracingEndpoint({ OTEL_EXPORTER_OTLP_ENDPOINT: '  ' })).toBeUndefined();
    expect(tracingEndpoint({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toBe('http://collector:4318');
    expect(tracingEndpoint({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://collector/v1/traces' })).toBe('https://collector/v1/traces');
    expect(tracingEndpoint({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://a/v1/traces', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://b:4318' })).toBe('https://a/v1/traces');
    expect(tracingEndpoint({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://b:4318', OTEL_SDK_DISABLED: 'true' })).toBeUndefined();
    expect(tracingEndpoint({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://b:4318', OTEL_SDK_DISABLED: 'false' })).toBe('http://b:4318');
    expect(tracingEndpoint({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://b:4318', OTEL_TRACES_EXPORTER: 'none' })).toBeUndefined();
    expect(tracingEndpoint({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://b:4318', OTEL_TRACES_EXPORTER: 'otlp' })).toBe('http://b:4318');
  });

  it('a malformed endpoint is a configuration error that names the variable', () => {
    expect(() => tracingEndpoint({ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' })).toThrow(ConfigError);
    expect(() => tracingEndpoint({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'grpc://collector' })).toThrow(
      'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ("grpc://collector"): must be an http:// or https:// URL of an OTLP/HTTP receiver',
    );
  });
});

describe('trace context in messages', () => {
  it('the outbox stores the traceparent of the change that wrote the message (SQLite)', async () => {
    const { store, enqueue } = sqliteOutbox();
    const { span } = await inSpan('POST /orders', () => enqueue(order(1)));
    enqueue(order(2)); // no trace active: none stored
    const [traced, untraced] = await store.claimDue('engagement', 10, Date.now(), 60_000);
    expect(traced!.message.traceparent).toBe(traceparentOf(span));
    expect(untraced!.message.traceparent).toBeUndefined();
  });

  it('the outbox stores it on DynamoDB too, in the items of the change transaction', async () => {
    const outbox = new DynamoDbMessaging({} as never, 'T_', 'ticketing');
    const { span, result: items } = await inSpan('POST /orders', () => outbox.outboxPuts(order(1)));
    expect(JSON.parse(String(items[0]!.Put!.Item!.Payload)).traceparent).toBe(traceparentOf(span));
    expect(JSON.parse(String(outbox.outboxPuts(order(2))[0]!.Put!.Item!.Payload)).traceparent).toBeUndefined();
  });

  it('a message keeps the traceparent it already carries', async () => {
    const carried = { ...order(1), traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' };
    const { result } = await inSpan('replay', () => withTraceContext(carried));
    expect(result.traceparent).toBe(carried.traceparent);
  });

  it('one change is one trace: the delivery and the subscriber continue it, whatever request kicked the relay', async () => {
    const applied: string[] = [];
    const url = await subscriber(async (m) => {
      // The subscriber's own work (a store call) is a child of its processing span.
      await inSpan('store write', () => applied.push(m.id));
      return 'applied';
    });
    const { store, enqueue } = sqliteOutbox();
    // Store calls are traced where the store is instrumented (the AWS SDK): this one records its claims so.
    const claim = store.claimDue.bind(store);
    store.claimDue = (...args) => inSpan('outbox claim', () => claim(...args)).then((r) => r.result);
    const { span: change } = await inSpan('POST /orders', () => enqueue(order(1)));
    const r = relay(store, url);
    const { span: unrelated } = await inSpan('GET /unrelated', () => r.start());
    await until(() => applied.length === 1 && named('process OrderPlaced').length === 1 && named('send engagement').length === 1);

    const traceId = change.spanContext().traceId;
    const send = named('send engagement')[0]!;
    expect(send.kind).toBe(SpanKind.PRODUCER);
    expect(send.spanContext().traceId).toBe(traceId);
    expect(send.parentSpanContext?.spanId).toBe(change.spanContext().spanId);
    expect(send.links.map((l) => l.context.spanId)).toEqual([change.spanContext().spanId]);
    expect(send.attributes).toMatchObject({ 'messaging.destination.name': 'engagement', 'messaging.batch.message_count': 1 });

    // The POST itself (fetch), under the send span; the subscriber's request continues it through traceparent.
    const post = spans().find((s) => s.instrumentationScope.name.includes('undici') && s.parentSpanContext?.spanId === send.spanContext().spanId);
    expect(post?.spanContext().traceId).toBe(traceId);
    const request = spans().find((s) => s.name === 'request' && s.parentSpanContext?.spanId === post!.spanContext().spanId);
    expect(request?.attributes['http.route']).toBe('/internal/messages');

    const processed = named('process OrderPlaced')[0]!;
    expect(processed.kind).toBe(SpanKind.CONSUMER);
    expect(processed.spanContext().traceId).toBe(traceId);
    expect(processed.parentSpanContext?.spanId).toBe(change.spanContext().spanId);
    expect(processed.attributes).toMatchObject({ 'messaging.message.id': applied[0], 'dems.message.source': 'ticketing', 'dems.message.result': 'applied' });
    // Linked to the request that delivered it.
    expect(processed.links).toHaveLength(1);
    expect(processed.links[0]!.context.traceId).toBe(traceId);
    expect(spans().some((s) => s.spanContext().spanId === processed.links[0]!.context.spanId && s.name !== 'process OrderPlaced')).toBe(true);
    expect(named('store write')[0]!.parentSpanContext?.spanId).toBe(processed.spanContext().spanId);

    // Nothing of the delivery joined the trace of the request that happened to start the relay.
    expect(
      spans()
        .filter((s) => s.spanContext().traceId === unrelated.spanContext().traceId)
        .map((s) => s.name),
    ).toEqual(['GET /unrelated']);
  });

  it('a batch continues the trace of its first message and links every message; one without a trace is processed in the delivery request', async () => {
    const applied: string[] = [];
    const url = await subscriber(async (m) => (applied.push(m.id), 'applied'));
    const { store, enqueue } = sqliteOutbox();
    const { span: first } = await inSpan('first change', () => enqueue(order(1)));
    const { span: second } = await inSpan('second change', () => enqueue(order(2)));
    enqueue(order(3));
    relay(store, url).start();
    await until(() => applied.length === 3 && named('process OrderPlaced').length === 3 && named('send engagement').length === 1);

    const send = named('send engagement')[0]!;
    expect(send.parentSpanContext?.spanId).toBe(first.spanContext().spanId);
    expect(send.links.map((l) => l.context.spanId)).toEqual([first.spanContext().spanId, second.spanContext().spanId]);
    expect(send.attributes['messaging.batch.message_count']).toBe(3);

    const byMessage = (i: number) => named('process OrderPlaced').find((s) => s.attributes['messaging.message.id'] === applied[i])!;
    expect(byMessage(0).parentSpanContext?.spanId).toBe(first.spanContext().spanId);
    expect(byMessage(1).parentSpanContext?.spanId).toBe(second.spanContext().spanId);
    expect(byMessage(1).spanContext().traceId).toBe(second.spanContext().traceId);
    // No traceparent: part of the delivery's own trace (the first message's), under its request, with no link.
    const third = byMessage(2);
    expect(third.spanContext().traceId).toBe(first.spanContext().traceId);
    expect(third.links).toEqual([]);
    expect(spans().find((s) => s.spanContext().spanId === third.parentSpanContext?.spanId)?.instrumentationScope.name).toBe('@fastify/otel');
  });

  it('a handler that fails marks its processing span as an error, with the exception', async () => {
    let calls = 0;
    const url = await subscriber(async () => {
      calls++;
      throw new Error('handler fails (test fake)');
    });
    const { store, enqueue } = sqliteOutbox();
    await inSpan('POST /orders', () => enqueue(order(1)));
    relay(store, url).start();
    await until(() => calls >= 1 && named('process OrderPlaced').length >= 1);
    const processed = named('process OrderPlaced')[0]!;
    expect(processed.status).toEqual({ code: SpanStatusCode.ERROR, message: 'handler fails (test fake)' });
    expect(processed.events.map((e) => e.name)).toEqual(['exception']);
    expect(processed.events[0]!.attributes?.['exception.message']).toBe('handler fails (test fake)');
  });
});

describe('log lines', () => {
  it('written while handling a traced request carry its request id and the ids of its trace and span', async () => {
    const lines: string[] = [];
    const app = await createServiceApp({
      name: 'logged',
      description: 'log test',
      isReady: () => true,
      logger: { level: 'info', stream: { write: (l: string) => lines.push(l) } },
    });
    app.get('/hello', async (req) => {
      req.log.info('inside the handler');
      return { ok: true };
    });
    cleanups.push(() => app.close());
    const traceId = 'c'.repeat(32);
    const res = await app.inject({ method: 'GET', url: '/hello', headers: { traceparent: `00-${traceId}-${'d'.repeat(16)}-01`, 'x-request-id': 'req-42' } });
    expect(res.headers['x-request-id']).toBe('req-42');
    app.log.info('outside any request');
    const logged = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    const inside = logged.find((l) => l.msg === 'inside the handler');
    expect(inside).toMatchObject({ reqId: 'req-42', trace_id: traceId, span_id: expect.stringMatching(/^[0-9a-f]{16}$/) });
    expect(inside!.span_id).not.toBe('d'.repeat(16)); // the service's own span, child of the caller's
    expect(logged.find((l) => l.msg === 'outside any request')).not.toHaveProperty('trace_id');
  });
});
