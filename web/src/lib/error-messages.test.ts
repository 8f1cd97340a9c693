import { describe, expect, it } from 'vitest';
import { ApiError } from './api-client';
import { errorMessage, fieldErrors, supportReference } from './error-messages';

describe('errorMessage: server error codes become plain sentences', () => {
  it('SOLD_OUT says how many are left when the page knows', () => {
    const err = new ApiError('SOLD_OUT', 'Sorry — this ticket type is sold out.', 'req-1', 409);
    expect(errorMessage(err, { remaining: 2 })).toBe('Sorry — only 2 tickets left.');
    expect(errorMessage(err, { remaining: 1 })).toBe('Sorry — only 1 ticket left.');
  });

  it('SOLD_OUT with nothing left uses the server sentence', () => {
    const err = new ApiError('SOLD_OUT', 'Sorry — this ticket type is sold out.', 'req-1', 409);
    expect(errorMessage(err, { remaining: 0 })).toBe('Sorry — this ticket type is sold out.');
  });

  it("keeps the server's message when it is already a sentence", () => {
    const err = new ApiError('EMAIL_TAKEN', 'An account with this email already exists. Sign in instead, or use another email.', 'r', 409);
    expect(errorMessage(err)).toBe('An account with this email already exists. Sign in instead, or use another email.');
  });

  it('replaces messages meant for programs with a sentence for the code', () => {
    expect(errorMessage(new ApiError('UPSTREAM_UNAVAILABLE', 'upstream down', 'r', 502))).toBe('Part of DEMS is not answering right now. Please try again in a moment.');
    expect(errorMessage(new ApiError('NETWORK', '', null, 0))).toBe('We could not reach DEMS. Check your connection and try again.');
    // What a person sees once the polite retries (lib/retry-policy.ts) have run out.
    expect(errorMessage(new ApiError('OVERLOADED', 'ticketing is too busy to take this request now; nothing was done.', 'r', 503))).toBe(
      'DEMS is very busy right now. Please try again in a moment.',
    );
    expect(errorMessage(new ApiError('SHUTTING_DOWN', 'ticketing is stopping and did nothing with this request; send it again.', 'r', 503))).toBe(
      'DEMS is restarting part of itself. Please try again in a moment.',
    );
  });

  it('turns a validation path into a readable hint', () => {
    const err = new ApiError('VALIDATION_FAILED', 'body.ticketTypes.0.capacity: Too small', 'r', 400, [{ path: 'body.ticketTypes.0.capacity', message: 'Too small' }]);
    expect(errorMessage(err)).toBe('Please check ticket types 1 capacity: Too small');
  });
});

describe('fieldErrors: validation answers map onto form fields', () => {
  it('reads details and the "body.field: message" form', () => {
    const fromDetails = new ApiError('VALIDATION_FAILED', 'body.title: too short', 'r', 400, [{ path: 'body.title', message: 'too short' }]);
    expect(fieldErrors(fromDetails)).toEqual({ title: 'Too short' });
    const fromMessage = new ApiError('VALIDATION_FAILED', 'body.endsAt: the event must end after it starts.', 'r', 400);
    expect(fieldErrors(fromMessage)).toEqual({ endsAt: 'The event must end after it starts.' });
  });

  it('is empty for other errors', () => {
    expect(fieldErrors(new ApiError('SOLD_OUT', 'x', 'r', 409))).toEqual({});
    expect(fieldErrors(new Error('x'))).toEqual({});
  });
});

describe('errorMessage: the waiting room speaks the app’s words', () => {
  // Even when the server's message reads as a sentence: it names routes and headers, for API clients.
  const said = (code: string) => errorMessage(new ApiError(code, 'Send the pass in the queue-pass header of POST /orders.', 'r', 403));
  it.each([
    ['QUEUE_PASS_REQUIRED', 'This sale is queued: join the queue on the event page, and you can buy once you are let in.'],
    ['QUEUE_PASS_INVALID', 'Your pass to buy is no longer valid. Please join the queue again.'],
    ['QUEUE_PASS_EXPIRED', 'Your time to buy has run out. Please join the queue again.'],
    ['QUEUE_TOKEN_INVALID', 'We could not check your place in the queue. Please join the queue again.'],
    ['NOT_ADMITTED_YET', 'It is not your turn yet — keep this tab open and we will let you in automatically.'],
    ['SALE_NOT_OPEN_YET', 'This sale has not opened yet. Join the queue and we will let you in when it opens.'],
    ['WAITING_ROOM_NOT_FOUND', 'The sale of this event is no longer queued. Reload the page to buy directly.'],
  ])('%s has its own sentence', (code, sentence) => expect(said(code)).toBe(sentence));
});

describe('supportReference: a reference only where something broke', () => {
  it.each([
    ['INVALID_CREDENTIALS', 401],
    ['EVENT_NOT_FOUND', 404],
    ['SOLD_OUT', 409],
    ['VALIDATION_FAILED', 400],
    ['UNAUTHENTICATED', 401],
  ])('none for the expected refusal %s', (code, status) => expect(supportReference(new ApiError(code, 'Said plainly.', 'req-1', status))).toBeNull());

  it.each([
    ['INTERNAL', 500],
    ['UPSTREAM_UNAVAILABLE', 502],
    ['OVERLOADED', 503],
    // An answer that was not our JSON (a proxy's page) is read as INTERNAL whatever its status.
    ['INTERNAL', 404],
    // A code this app does not know, even with a 4xx status.
    ['SOMETHING_NEW', 409],
  ])('the request id for the unexpected %s (%i)', (code, status) => expect(supportReference(new ApiError(code, 'x', 'req-2', status))).toBe('req-2'));

  it('none without a request id, or for errors that are not answers', () => {
    expect(supportReference(new ApiError('INTERNAL', 'x', null, 500))).toBeNull();
    expect(supportReference(new Error('boom'))).toBeNull();
    // Inherited Object properties are not error codes.
    expect(supportReference(new ApiError('toString', 'x', 'req-3', 400))).toBe('req-3');
  });
});
