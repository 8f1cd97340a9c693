import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dynamoTestTarget } from '@dems/kit/testing';
import { DYNAMODB_TEST_TIMEOUT_MS } from '../setup/timeouts.js';
import { createEvent, dynamoDbEnv, eventually, startTestSystem, waitOnSale } from './helpers.js';

/**
 * Tracing and metrics of the real processes (services/<name>/dist/main.js: run `npm run build` first), with
 * OTEL_EXPORTER_OTLP_ENDPOINT pointed at a stand-in for an OpenTelemetry collector: a tiny HTTP server here that
 * keeps what the services export (OTLP/HTTP with JSON bodies).
 */

interface ExportedSpan {
  service: string;
  scope: string;
  name: string;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  kind: number;
  attributes: Record<string, unknown>;
}

type OtlpValue = { stringValue?: string; intValue?: string | number; boolValue?: boolean; doubleValue?: number; arrayValue?: { values?: OtlpValue[] } };
type OtlpAttribute = { key: string; value: OtlpValue };
const valueOf = (v: OtlpValue): unknown => v.stringValue ?? v.intValue ?? v.boolValue ?? v.doubleValue ?? v.arrayValue?.values?.map(valueOf);
const attributesOf = (list: OtlpAttribute[] = []) => Object.fromEntries(list.map((a) => [a.key, valueOf(a.value)]));

/** The collector stand-in: OTLP/HTTP JSON on POST /v1/traces. */
async function collector(): Promise<{ url: string; spans: ExportedSpan[]; contentTypes: Set<string>; close: () => Promise<void> }> {
  const spans: ExportedSpan[] = [];
  const contentTypes = new Set<string>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      contentTypes.add(`${req.method} ${req.url} ${req.headers['content-type']}`);
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
        resourceSpans?: {
          resource: { attributes: OtlpAttribute[] };
          scopeSpans: { scope: { name: string }; spans: (Omit<ExportedSpan, 'service' | 'scope' | 'attributes'> & { attributes?: OtlpAttribute[] })[] }[];
        }[];
      };
      for (const rs of body.resourceSpans ?? []) {
        const service = String(attributesOf(rs.resource.attributes)['service.name']);
        for (const ss of rs.scopeSpans) {
          for (const s of ss.spans) spans.push({ ...s, service, scope: ss.scope.name, parentSpanId: s.parentSpanId || undefined, attributes: attributesOf(s.attributes) });
        }
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    spans,
    contentTypes,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** A client-chosen trace id, so that the purchase's trace is easy to find among everything exported. */
const traceIdFor = (label: string) => Buffer.from(label.padEnd(16, '.')).toString('hex').slice(0, 32);

async function purchaseTrace(env: Record<string, string>, label: string) {
  const otlp = await collector();
  const t = await startTestSystem({
    env: { OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url, OTEL_BSP_SCHEDULE_DELAY: '100', ORDERS_PER_USER_PER_MINUTE: '1000', ...env },
  });
  try {
    const organizer = await t.api.account('organizer');
    const attendee = await t.api.account('attendee');
    const event = await createEvent(t.api, organizer.token, 10);
    await waitOnSale(t.api, event.id);
    const traceId = traceIdFor(label);
    const order = await t.api.post('/orders', { eventId: event.id, ticketTypeId: event.ticketTypes[0]!.id, quantity: 1 }, attendee.token, {
      'idempotency-key': `${label}-1`,
      traceparent: `00-${traceId}-00f067aa0ba902b7-01`,
    });
    expect(order.status).toBe(201);
    const inTrace = () => otlp.spans.filter((s) => s.traceId === traceId);
    await eventually(async () => (inTrace().some((s) => s.name === 'process OrderPlaced') ? true : undefined), 15_000, 'the purchase processed by engagement, exported');
    const metrics = {
      ticketing: await (await fetch(`${t.system.urls.ticketing}/metrics`)).text(),
      engagement: await (await fetch(`${t.system.urls.engagement}/metrics`)).text(),
      gateway: await (await fetch(`${t.system.urls.gateway}/metrics`)).text(),
    };
    return { spans: inTrace(), all: otlp.spans, contentTypes: otlp.contentTypes, metrics, traceId, stop: async () => (await t.stop(), await otlp.close()) };
  } catch (err) {
    // What did arrive, to see where the trace broke.
    console.error(otlp.spans.map((s) => `${s.service} ${s.scope} ${s.name} ${s.traceId} ${s.parentSpanId ?? '-'}`).join('\n'));
    await t.stop();
    await otlp.close();
    throw err;
  }
}

describe('one purchase is one trace across the real processes (SQLite)', () => {
  let run: Awaited<ReturnType<typeof purchaseTrace>>;
  beforeAll(async () => {
    run = await purchaseTrace({}, 'sqlite-purchase');
  }, 90_000);
  afterAll(async () => run?.stop());

  it('is exported over OTLP/HTTP as JSON, each service under its own name', () => {
    expect([...run.contentTypes]).toEqual(['POST /v1/traces application/json']);
    expect(new Set(run.all.map((s) => s.service))).toEqual(new Set(['dems-gateway', 'dems-events', 'dems-ticketing', 'dems-engagement']));
  });

  it('joins the gateway, ticketing and engagement, down to the message delivery and its processing', () => {
    const { spans } = run;
    const byService = (service: string) => spans.filter((s) => s.service === service);
    expect(byService('dems-gateway').length).toBeGreaterThan(0);
    // Ticketing's request span (Fastify), with the route pattern.
    const orderRequest = byService('dems-ticketing').find((s) => s.scope === '@fastify/otel' && s.name === 'request' && s.attributes['http.route'] === '/orders');
    expect(orderRequest).toBeDefined();
    // The relay's delivery continues the purchase (the outbox stored its traceparent), and engagement processes the
    // message in a span of the same trace, whose parent is the span that wrote it in ticketing.
    const send = byService('dems-ticketing').find((s) => s.name === 'send engagement');
    expect(send?.kind).toBe(4); // PRODUCER
    const processed = byService('dems-engagement').find((s) => s.name === 'process OrderPlaced');
    expect(processed?.kind).toBe(5); // CONSUMER
    expect(processed?.attributes).toMatchObject({ 'dems.message.source': 'ticketing', 'dems.message.result': 'applied' });
    const parent = spans.find((s) => s.spanId === processed!.parentSpanId);
    expect(parent?.service).toBe('dems-ticketing');
    expect(send!.parentSpanId).toBe(processed!.parentSpanId);
    // The delivery's HTTP request reached engagement in the same trace.
    expect(byService('dems-engagement').some((s) => s.attributes['http.route'] === '/internal/messages')).toBe(true);
  });

  it('each process counts what it did on /metrics', () => {
    expect(run.metrics.ticketing).toMatch(/^dems_purchases_total\{outcome="created"\} 1$/m);
    expect(run.metrics.ticketing).toMatch(/^http_request_duration_seconds_count\{method="POST",route="\/orders",status_code="201"\} 1$/m);
    expect(run.metrics.ticketing).toMatch(/^dems_outbox_pending\{subscriber="engagement"\} 0$/m);
    expect(run.metrics.engagement).toMatch(/^dems_inbox_lag_seconds_count\{type="OrderPlaced"\} 1$/m);
    expect(run.metrics.engagement).toMatch(/^dems_inbox_messages_total\{type="OrderPlaced",result="applied"\} 1$/m);
    expect(run.metrics.engagement).toMatch(/^dems_live_sockets 0$/m);
    expect(run.metrics.gateway).toMatch(/^http_request_duration_seconds_count\{method="POST",route="\/api\/orders",status_code="201"\} 1$/m);
  });
});

const dynamo = dynamoTestTarget();

describe.skipIf(!dynamo.endpoint)('with STORE=dynamodb the trace shows each DynamoDB call (AWS SDK instrumentation in ESM bundles)', { timeout: DYNAMODB_TEST_TIMEOUT_MS }, () => {
  let run: Awaited<ReturnType<typeof purchaseTrace>>;
  beforeAll(async () => {
    run = await purchaseTrace(dynamoDbEnv(dynamo.endpoint!, 'tracing'), 'dynamodb-purchase');
  }, 120_000);
  afterAll(async () => run?.stop());

  it('the purchase writes its transaction in ticketing and engagement writes the notification, in the same trace', () => {
    const aws = run.spans.filter((s) => s.scope.includes('aws-sdk'));
    const calls = (service: string) => aws.filter((s) => s.service === service).map((s) => s.attributes['rpc.method']);
    expect(calls('dems-ticketing')).toContain('TransactWriteItems');
    expect(calls('dems-engagement').length).toBeGreaterThan(0);
    for (const span of aws) expect(span.attributes['rpc.service']).toBe('DynamoDB');
    expect(run.spans.some((s) => s.service === 'dems-engagement' && s.name === 'process OrderPlaced')).toBe(true);
  });

  it('the outbox is traced only where a change writes it: the relay’s sweep and the /metrics scrapes are not', () => {
    const outboxCalls = run.all
      .filter((s) => s.scope.includes('aws-sdk') && String(s.attributes['aws.dynamodb.table_names']).includes('Messages'))
      .map((s) => String(s.attributes['rpc.method']));
    // The messages table (outbox, inbox) is named by the tables' creation at start-up and by a subscriber's inbox
    // check while it processes a message, in that message's trace (a transaction, such as the purchase that wrote an
    // entry, names none): none of the relay's sweeps, leases and deletions, nor of the scrapes' queries.
    const bootstrap = ['DescribeTable', 'CreateTable', 'UpdateTable', 'DescribeTimeToLive', 'UpdateTimeToLive'];
    expect(outboxCalls).toContain('DescribeTable');
    expect(outboxCalls.filter((m) => !bootstrap.includes(m) && m !== 'GetItem')).toEqual([]);
  });
});
