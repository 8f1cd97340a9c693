import { ERROR_CODES, type ErrorCode } from '@dems/contracts';

/**
 * The one error type a service throws on purpose; the error handler turns it into `{ code, message, requestId }`.
 * A refusal (4xx) is an answer, not a fault: it carries no stack trace, whose capture cost a sold-out rush more
 * than the rest of its refusal. A 5xx keeps its stack for the log.
 */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly headers: Record<string, string>;
  constructor(code: ErrorCode, message: string, headers: Record<string, string> = {}) {
    const status = ERROR_CODES[code].status;
    const limit = Error.stackTraceLimit;
    if (status < 500) Error.stackTraceLimit = 0;
    super(message);
    Error.stackTraceLimit = limit;
    this.name = 'AppError';
    this.code = code;
    this.status = status;
    this.headers = headers;
  }
}
