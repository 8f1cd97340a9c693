import { TransactionCanceledException, type CancellationReason } from '@aws-sdk/client-dynamodb';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const THROTTLING = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
  'TransactionInProgressException',
  'InternalServerError',
  'ServiceUnavailable',
]);
/**
 * Failures on the way to DynamoDB or back. The SDK retried these itself before withRetry became the only retry
 * loop (client.ts); a write whose answer was lost may have been applied, which its condition then tells.
 */
const NETWORK = new Set(['TimeoutError', 'RequestTimeout', 'ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN']);
/** Cancellation reasons that say "try again", not "your condition is false". */
const TRANSIENT_REASONS = new Set(['None', 'TransactionConflict', 'ThrottlingError', 'ProvisionedThroughputExceeded', 'RequestLimitExceeded']);

export function cancellationReasons(err: unknown): CancellationReason[] | null {
  if (err instanceof TransactionCanceledException || (err as Error | undefined)?.name === 'TransactionCanceledException') {
    return (err as TransactionCanceledException).CancellationReasons ?? [];
  }
  return null;
}

/**
 * True for throttling, server errors, lost connections, and a cancelled transaction whose only causes were
 * conflicts with other transactions.
 */
export function isTransient(err: unknown): boolean {
  const reasons = cancellationReasons(err);
  if (reasons) return reasons.length > 0 && reasons.every((r) => TRANSIENT_REASONS.has(r.Code ?? 'None')) && reasons.some((r) => r.Code !== 'None');
  const e = err as { name?: string; code?: string; $metadata?: { httpStatusCode?: number } } | undefined;
  return THROTTLING.has(e?.name ?? '') || NETWORK.has(e?.name ?? '') || NETWORK.has(e?.code ?? '') || (e?.$metadata?.httpStatusCode ?? 0) >= 500;
}

/** Exponential backoff with full jitter (AWS architecture blog): a random wait in [0, min(cap, base·2ⁿ)). */
export function fullJitter(attempt: number, baseMs = 15, capMs = 1000, random = Math.random): number {
  return Math.floor(random() * Math.min(capMs, baseMs * 2 ** attempt));
}

/**
 * Runs `fn` again after transient failures (transaction conflicts, throttling, lost connections) with
 * full-jitter backoff, so contention shows up as latency, never as an error the user sees. Other errors are
 * thrown at once. This is the only retry loop: the SDK client makes one attempt per call (client.ts).
 */
export async function withRetry<T>(fn: () => Promise<T>, opts: { attempts?: number; baseMs?: number; capMs?: number } = {}): Promise<T> {
  const attempts = opts.attempts ?? 12;
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (attempt + 1 >= attempts || !isTransient(err)) throw err;
      await sleep(fullJitter(attempt, opts.baseMs, opts.capMs));
    }
  }
}

/** A transaction refused because a condition was false; `codes[i]` is the reason for TransactItems[i]. */
export class ConditionFailed extends Error {
  constructor(readonly codes: string[]) {
    super(`transaction refused: ${codes.join(', ')}`);
    this.name = 'ConditionFailed';
  }

  /** Whether item `index` of the transaction is one whose condition was false. */
  failedAt(index: number): boolean {
    return this.codes[index] === 'ConditionalCheckFailed';
  }
}

/** Whether a single-item write was refused because its condition was false. */
export const isConditionalCheckFailed = (err: unknown): boolean => (err as Error | undefined)?.name === 'ConditionalCheckFailedException';
