/**
 * The closed list of error codes every service may answer with. Each code has one HTTP status and a
 * sentence for docs/errors.md; a test fails when a code is missing there.
 */
export const ERROR_CODES = {
  VALIDATION_FAILED: { status: 400, description: 'The request body, query or path did not match the schema.' },
  MALFORMED_JSON: { status: 400, description: 'The body is not valid JSON.' },
  JSON_TOO_DEEP: { status: 400, description: 'The JSON body nests objects or arrays deeper than the service accepts (32 levels).' },
  IDEMPOTENCY_KEY_REQUIRED: { status: 400, description: 'POST /orders needs an Idempotency-Key header (1–200 visible characters).' },
  UNAUTHENTICATED: { status: 401, description: 'No valid access token was sent, or it has expired.' },
  INVALID_CREDENTIALS: { status: 401, description: 'The email or password is wrong (the answer never says which).' },
  INVALID_REFRESH_TOKEN: { status: 401, description: 'The refresh token is unknown, expired, revoked or was already used; sign in again.' },
  BAD_SIGNATURE: { status: 401, description: 'An internal request was not signed with the service secret, or the signature is stale.' },
  FORBIDDEN: { status: 403, description: 'Signed in, but not allowed to do this (wrong role or not the owner).' },
  QUEUE_TOKEN_INVALID: { status: 403, description: "The waiting-room token is forged, another user's or another event's; join the waiting room for your own." },
  QUEUE_PASS_REQUIRED: {
    status: 403,
    description: 'The sale of this event is queued: join its waiting room (POST /waiting-rooms/:eventId/entries) and send the pass you get there in the queue-pass header.',
  },
  QUEUE_PASS_INVALID: { status: 403, description: "The queue-pass header holds a pass that is forged, expired, another user's or another event's." },
  NOT_FOUND: { status: 404, description: 'No such route.' },
  EVENT_NOT_FOUND: { status: 404, description: 'No event with this id.' },
  TICKET_TYPE_NOT_FOUND: { status: 404, description: 'The event has no ticket type with this id.' },
  ORDER_NOT_FOUND: { status: 404, description: 'No order with this id belongs to the caller.' },
  TICKET_NOT_FOUND: { status: 404, description: 'No ticket with this id belongs to the caller.' },
  REGISTRATION_NOT_FOUND: { status: 404, description: 'The caller is not registered for this event.' },
  WAITING_ROOM_NOT_FOUND: { status: 404, description: 'The event has no waiting room: its sale is not queued.' },
  NOTIFICATION_NOT_FOUND: { status: 404, description: 'No notification with this id belongs to the caller.' },
  DEAD_LETTER_NOT_FOUND: { status: 404, description: 'No dead-lettered message with this id.' },
  EMAIL_TAKEN: { status: 409, description: 'An account with this email already exists.' },
  SOLD_OUT: { status: 409, description: 'Not enough tickets of this type are left for the requested quantity.' },
  EVENT_NOT_ON_SALE: { status: 409, description: 'Ticketing has not received this event yet; try again in a moment.' },
  EVENT_CANCELLED: { status: 409, description: 'The event has been cancelled.' },
  EVENT_ENDED: { status: 409, description: 'The event is already over.' },
  EVENT_FULL: { status: 409, description: 'The event has reached its registration limit.' },
  EDIT_CONFLICT: { status: 409, description: 'The event kept changing while this change was being saved; reload it and try again.' },
  ANNOUNCEMENT_LIMIT_REACHED: { status: 409, description: 'The event has sent as many announcements as one event may (ANNOUNCEMENTS_PER_EVENT).' },
  CAPACITY_BELOW_SOLD: { status: 409, description: 'A ticket type cannot have less capacity than it has already sold.' },
  SALE_NOT_OPEN_YET: { status: 409, description: 'The sale of this event is queued and opens later (the message says when); join its waiting room meanwhile.' },
  NOT_ADMITTED_YET: { status: 409, description: 'Your place in the waiting room is not admitted yet; ask again after the seconds in Retry-After.' },
  QUEUE_PASS_EXPIRED: { status: 409, description: 'This waiting-room token already had its pass and the pass has expired; join the waiting room again.' },
  TICKET_ALREADY_CANCELLED: { status: 409, description: 'The ticket was already cancelled.' },
  IDEMPOTENCY_KEY_REUSED: { status: 422, description: 'The Idempotency-Key was already used for a different request.' },
  PAYLOAD_TOO_LARGE: { status: 413, description: 'The body is larger than the service accepts.' },
  UNSUPPORTED_MEDIA_TYPE: {
    status: 415,
    description: 'The body was sent with a Content-Type this route does not take (application/json, or for a banner image/jpeg, image/png or image/webp).',
  },
  INVALID_IMAGE: {
    status: 422,
    description: 'The banner is not a readable JPEG, PNG or WebP image, judged by its content (not its name or header), or it is damaged, truncated or too large in pixels.',
  },
  CHALLENGE_REQUIRED: { status: 428, description: 'After repeated failed sign-ins, sign-in needs a solved challenge from POST /sessions/challenge (sent as `proof`).' },
  RATE_LIMITED: { status: 429, description: 'Too many requests; wait for the time given in Retry-After.' },
  INTERNAL: { status: 500, description: 'Something went wrong on our side; the requestId helps us find it.' },
  UPSTREAM_UNAVAILABLE: { status: 502, description: 'The gateway could not reach the service behind this path.' },
  TICKETING_UNAVAILABLE: { status: 503, description: 'A capacity change needs ticketing to confirm it against sales, and ticketing did not answer; nothing was changed.' },
  NOT_READY: { status: 503, description: 'The service is running but its store is not usable.' },
  OVERLOADED: { status: 503, description: 'The service is too busy to take this request now; nothing was done. Retry after the seconds in Retry-After.' },
  SHUTTING_DOWN: { status: 503, description: 'This replica is stopping and took nothing from this request; retry (the gateway retries on another replica itself).' },
} as const satisfies Record<string, { status: number; description: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export const errorStatus = (code: ErrorCode): number => ERROR_CODES[code].status;
