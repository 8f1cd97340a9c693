import { ERROR_CODES } from '@dems/contracts';
import { ApiError } from './api-client';

/** What the page knew when the request failed, so the sentence can be specific ("only 2 left"). */
export interface ErrorContext {
  remaining?: number;
}

const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

/** Plain sentences for codes whose server message is for programs or needs the page's context. */
const SENTENCES: Record<string, (ctx: ErrorContext) => string> = {
  SOLD_OUT: ({ remaining }) => (remaining === undefined || remaining <= 0 ? 'Sorry — these tickets are sold out.' : `Sorry — only ${plural(remaining, 'ticket', 'tickets')} left.`),
  NETWORK: () => 'We could not reach DEMS. Check your connection and try again.',
  UNAUTHENTICATED: () => 'Your session has ended. Please sign in again.',
  INVALID_REFRESH_TOKEN: () => 'Your session has ended. Please sign in again.',
  INVALID_CREDENTIALS: () => 'That email and password do not match an account.',
  FORBIDDEN: () => 'You are not allowed to do that.',
  EVENT_NOT_ON_SALE: () => 'Tickets for this event go on sale in a moment. Please try again shortly.',
  EVENT_CANCELLED: () => 'This event has been cancelled.',
  EVENT_ENDED: () => 'This event is already over.',
  EVENT_FULL: () => 'Sorry — this event is full.',
  RATE_LIMITED: () => 'You are going a little fast. Please wait a moment and try again.',
  CHALLENGE_REQUIRED: () => 'We could not finish the security check. Please try again.',
  UPSTREAM_UNAVAILABLE: () => 'Part of DEMS is not answering right now. Please try again in a moment.',
  NOT_READY: () => 'DEMS is starting up. Please try again in a moment.',
  OVERLOADED: () => 'DEMS is very busy right now. Please try again in a moment.',
  SHUTTING_DOWN: () => 'DEMS is restarting part of itself. Please try again in a moment.',
  INTERNAL: () => 'Something went wrong on our side. Please try again.',
  IDEMPOTENCY_KEY_REUSED: () => 'That purchase changed while it was being sent. Please press Buy again.',
  EVENT_NOT_FOUND: () => 'We could not find that event.',
  TICKET_ALREADY_CANCELLED: () => 'This ticket was already cancelled.',
};

/**
 * The waiting room's codes: the server's sentences speak of routes, headers and ISO times (they are written for
 * API clients), so these are said in the app's words even when the server's message reads as a sentence.
 */
const QUEUE_SENTENCES: Record<string, string> = {
  WAITING_ROOM_NOT_FOUND: 'The sale of this event is no longer queued. Reload the page to buy directly.',
  QUEUE_PASS_REQUIRED: 'This sale is queued: join the queue on the event page, and you can buy once you are let in.',
  QUEUE_PASS_INVALID: 'Your pass to buy is no longer valid. Please join the queue again.',
  QUEUE_PASS_EXPIRED: 'Your time to buy has run out. Please join the queue again.',
  QUEUE_TOKEN_INVALID: 'We could not check your place in the queue. Please join the queue again.',
  NOT_ADMITTED_YET: 'It is not your turn yet — keep this tab open and we will let you in automatically.',
  SALE_NOT_OPEN_YET: 'This sale has not opened yet. Join the queue and we will let you in when it opens.',
};

/** A server message is shown as is when it reads as a sentence; "body.x: …" and bare phrases are not. */
export function isSentence(message: string): boolean {
  return /^[A-Z][^]*[.!?]$/.test(message.trim()) && !/^[a-z]+\.[\w.]+:/.test(message);
}

/** Turns anything thrown by a request into one plain sentence for people. */
export function errorMessage(error: unknown, ctx: ErrorContext = {}): string {
  if (error instanceof ApiError) {
    const sentence = SENTENCES[error.code];
    // The page knows how many are left; the server's SOLD_OUT sentence cannot say it.
    if (error.code === 'SOLD_OUT' && ctx.remaining !== undefined && ctx.remaining > 0) return SENTENCES.SOLD_OUT!(ctx);
    const queue = QUEUE_SENTENCES[error.code];
    if (queue) return queue;
    if (isSentence(error.message)) return error.message;
    if (sentence) return sentence(ctx);
    const field = fieldErrors(error);
    const first = Object.entries(field)[0];
    if (first) return `Please check ${humanField(first[0])}: ${first[1]}`;
    return 'Something went wrong. Please try again.';
  }
  if (error instanceof Error && error.message) return error.message;
  return 'Something went wrong. Please try again.';
}

/**
 * The request id to quote to support, for failures nobody expected: the server broke (5xx) or answered a code
 * this app does not know. An expected refusal (a wrong password, an unknown event, sold out, a field to fix) is
 * fully explained by its sentence, and a reference beside it would only suggest that something broke.
 */
export function supportReference(error: unknown): string | null {
  if (!(error instanceof ApiError) || !error.requestId) return null;
  const known = Object.hasOwn(ERROR_CODES, error.code) && error.code !== 'INTERNAL';
  return error.status >= 500 || !known ? error.requestId : null;
}

/** Field-level messages of a VALIDATION_FAILED answer, keyed by path without the "body." prefix. */
export function fieldErrors(error: unknown): Record<string, string> {
  if (!(error instanceof ApiError) || error.code !== 'VALIDATION_FAILED') return {};
  const out: Record<string, string> = {};
  for (const d of error.details) out[d.path.replace(/^(body|query|params)\./, '')] ??= capitalize(d.message);
  const inMessage = /^(?:body|query|params)\.([\w.]+): (.+)$/.exec(error.message);
  if (inMessage?.[1] && inMessage[2]) out[inMessage[1]] ??= capitalize(inMessage[2]);
  return out;
}

const capitalize = (s: string) => (s ? s[0]!.toUpperCase() + s.slice(1) : s);
const humanField = (path: string) =>
  path
    .split('.')
    .map((seg) => (/^\d+$/.test(seg) ? String(Number(seg) + 1) : seg.replace(/([A-Z])/g, ' $1').toLowerCase()))
    .join(' ');
