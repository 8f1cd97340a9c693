import { ERROR_CODES, type ErrorCode } from '@dems/contracts';

/** The one error type a service throws on purpose; the error handler turns it into `{ code, message, requestId }`. */
export class AppError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'AppError';
    this.status = ERROR_CODES[code].status;
  }
}
