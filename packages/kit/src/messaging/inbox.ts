import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z, ZodError } from 'zod';
import { Id, parseMessage, SIGNATURE_HEADER, TIMESTAMP_HEADER, type Message } from '@dems/contracts';
import { AppError } from '../errors.js';
import { inboxMetrics, outboxMetrics } from '../metrics.js';
import { verifySignature } from '../signing.js';
import { inMessageSpan } from '../tracing.js';
import type { OutboxStore } from './outbox.js';
import { messageLag, type MessageLag } from './lag.js';

/** Applies a message and records its id in one transaction; a second delivery of the same id does nothing. */
export type ApplyMessage = (message: Message) => Promise<'applied' | 'duplicate'>;

/** What became of one message of a batch: its result, or the error that undid it alone. */
export type BatchItemOutcome = 'applied' | 'duplicate' | { error: unknown };

/**
 * Applies a delivered batch, answering per message in the same order. A store that can should commit the whole
 * batch in one transaction (inbox records included), each message undone alone when it throws; an error thrown
 * by the call as a whole means nothing of the batch was applied.
 */
export type ApplyBatch = (messages: Message[]) => Promise<BatchItemOutcome[]>;

/**
 * The /internal routes every service has: the message inbox and the operator's dead-letter list.
 * All of them need a request signed with the service secret; the gateway never forwards /internal.
 */
export async function registerInternalRoutes(
  app: FastifyInstance,
  opts: {
    secret: string;
    outbox?: OutboxStore;
    onReplay?: () => void;
    /** More signed routes of this service (engagement: signing-key rotation). */
    extra?: (internal: FastifyInstance) => void;
  } & (
    | { apply: ApplyMessage }
    /** One call, and so one commit, per delivered batch. */
    | { applyBatch: ApplyBatch }
  ),
): Promise<void> {
  const observe = inboxMetrics(app);
  const lag = messageLag(app);
  await app.register(async (internal) => {
    // Only JSON is accepted here, parsed from the raw text: the signature covers the exact bytes sent.
    // (Any other parser would hand the handler a body nobody verified.)
    const verified = new WeakSet<object>();
    internal.removeAllContentTypeParsers();
    internal.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
      const raw = body as string;
      const ok = verifySignature(opts.secret, header(req.headers[TIMESTAMP_HEADER]), header(req.headers[SIGNATURE_HEADER]), raw);
      if (!ok) return done(new AppError('BAD_SIGNATURE', 'Internal requests must be signed with the service secret.'));
      verified.add(req);
      try {
        done(null, raw.length ? JSON.parse(raw) : {});
      } catch {
        done(new AppError('MALFORMED_JSON', 'The body is not valid JSON.'));
      }
    });
    internal.addHook('preHandler', async (req) => {
      if (verified.has(req)) return;
      // Body-less requests (GET, or POST without a body) are signed over the empty string.
      const ok = req.body === undefined && verifySignature(opts.secret, header(req.headers[TIMESTAMP_HEADER]), header(req.headers[SIGNATURE_HEADER]), '');
      if (!ok) throw new AppError('BAD_SIGNATURE', 'Internal requests must be signed with the service secret.');
    });

    internal.post('/internal/messages', { schema: { hide: true } }, async (req, reply) => {
      const parsed = z.object({ messages: z.array(z.unknown()).min(1).max(500) }).safeParse(req.body);
      if (!parsed.success) throw new AppError('VALIDATION_FAILED', 'Expected { messages: [...] }.');
      // Each message is applied on its own: one that is refused or whose handler throws never holds back the
      // messages after it. The answer says, per message, what happened, so the sender can act on each one.
      const results =
        'applyBatch' in opts ? await applyAll(parsed.data.messages, opts.applyBatch, req, observe, lag) : await applyEach(parsed.data.messages, opts.apply, req, observe, lag);
      // `applied` keeps its older meaning, the leading run that went through: a relay that reads only that
      // number marks those delivered and sends the rest again, which the inbox then answers as duplicates.
      const firstBad = results.findIndex((r) => r.result === 'rejected' || r.result === 'failed');
      const applied = firstBad === -1 ? results.length : firstBad;
      if (firstBad === -1) return { applied, results };
      // Non-2xx so that older relays, which count a 2xx as "all delivered", lose nothing.
      if (results.some((r) => r.result === 'failed')) {
        return reply.code(500).send({ code: 'INTERNAL', message: 'A message could not be applied.', requestId: req.id, applied, results });
      }
      return reply.code(400).send({ code: 'VALIDATION_FAILED', message: 'A message did not match its schema.', requestId: req.id, applied, results });
    });

    if (opts.outbox) {
      const outbox = opts.outbox;
      outboxMetrics(app, outbox, app.log);
      internal.get('/internal/dead-letters', { schema: { hide: true } }, async () => ({ items: await outbox.listDeadLetters(500) }));
      internal.post('/internal/dead-letters/:id/replay', { schema: { hide: true } }, async (req) => {
        const id = Id.safeParse((req.params as { id: string }).id);
        if (!id.success) throw new AppError('VALIDATION_FAILED', 'The dead-letter id is not an id.');
        if (!(await outbox.replayDeadLetter(id.data))) throw new AppError('DEAD_LETTER_NOT_FOUND', 'No dead-lettered message with this id.');
        opts.onReplay?.();
        return { ok: true };
      });
    }
    opts.extra?.(internal);
  });
}

/**
 * The inbox's answer for one message: `rejected` is permanent (the message does not match its schema, so
 * sending it again cannot help); `failed` means its handler threw, which may pass.
 */
export type InboxResult = { id: string; result: 'applied' | 'duplicate' } | { id: string; result: 'rejected' | 'failed'; error: string };

type Observe = ReturnType<typeof inboxMetrics>;

/** The message, or the inbox's `rejected` answer when it does not match its schema. */
function parseOne(raw: unknown, req: FastifyRequest, observe: Observe): Message | InboxResult {
  try {
    return parseMessage(raw);
  } catch (err) {
    req.log.warn({ err }, 'rejected malformed message');
    observe('rejected');
    const rawId = (raw as { id?: unknown } | null)?.id;
    const issues = err instanceof ZodError ? err.issues.map((i) => `${i.path.join('.') || '(message)'}: ${i.message}`).join('; ') : '';
    return { id: typeof rawId === 'string' ? rawId : '', result: 'rejected', error: `Does not match its schema. ${issues}`.trim().slice(0, 300) };
  }
}

const isResult = (x: Message | InboxResult): x is InboxResult => 'result' in x;

/** The answer for a message whose handler threw: the cause stays in this service's log, not in the answer. */
function failed(message: Message, err: unknown, req: FastifyRequest, observe: Observe): InboxResult {
  observe('failed', message);
  req.log.error({ err, messageId: message.id, type: message.type }, 'message handler failed');
  return { id: message.id, result: 'failed', error: `The handler failed; see the log of request ${req.id}.` };
}

function succeeded(message: Message, result: 'applied' | 'duplicate', observe: Observe, lag: MessageLag): InboxResult {
  observe(result, message);
  if (result === 'applied') lag('committed', message);
  return { id: message.id, result };
}

/** One message at a time, each in its own transaction (a store without batch apply). */
async function applyEach(raws: unknown[], apply: ApplyMessage, req: FastifyRequest, observe: Observe, lag: MessageLag): Promise<InboxResult[]> {
  const results: InboxResult[] = [];
  for (const raw of raws) {
    const message = parseOne(raw, req, observe);
    if (isResult(message)) {
      results.push(message);
      continue;
    }
    lag('received', message);
    try {
      // Traced as part of the change that wrote the message (its traceparent), whichever request delivered it.
      results.push(succeeded(message, await inMessageSpan(message, () => apply(message)), observe, lag));
    } catch (err) {
      results.push(failed(message, err, req, observe));
    }
  }
  return results;
}

/** The valid messages of the batch in one call of the store's batch apply; the invalid ones answered `rejected`. */
async function applyAll(raws: unknown[], applyBatch: ApplyBatch, req: FastifyRequest, observe: Observe, lag: MessageLag): Promise<InboxResult[]> {
  const parsed = raws.map((raw) => parseOne(raw, req, observe));
  const messages = parsed.filter((p): p is Message => !isResult(p));
  messages.forEach((m) => lag('received', m));
  let outcomes: BatchItemOutcome[] | undefined;
  let batchError: unknown;
  if (messages.length) {
    try {
      // Traced as part of the change that wrote the batch's first message; the others' traces are linked by the relay.
      outcomes = await inMessageSpan(messages[0]!, () => applyBatch(messages));
      if (outcomes.length !== messages.length) throw new Error(`The batch apply answered ${outcomes.length} outcomes for ${messages.length} messages.`);
    } catch (err) {
      batchError = err;
      outcomes = undefined;
    }
  }
  let next = 0;
  return parsed.map((p) => {
    if (isResult(p)) return p;
    const outcome = outcomes?.[next++];
    if (outcome === undefined) return failed(p, batchError, req, observe);
    if (typeof outcome === 'object') return failed(p, outcome.error, req, observe);
    return succeeded(p, outcome, observe, lag);
  });
}

const header = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);
