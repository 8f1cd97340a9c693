import { ErrorBody } from '@dems/contracts';

/** Every failed request becomes one of these: the server's closed error code, its sentence and the id to quote. */
export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly requestId: string | null,
    readonly status: number,
    readonly details: { path: string; message: string }[] = [],
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export interface RequestOptions {
  method?: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  body?: unknown;
  token?: string | null;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

export const API_BASE = '/api';

/** JSON over fetch with the Bearer token; throws ApiError for any non-2xx answer or a network failure. */
export async function apiRequest<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let res: Response;
  try {
    res = await fetch(`${API_BASE}${path}`, {
      method: options.method ?? 'GET',
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: options.signal,
    });
  } catch (err) {
    if (err instanceof DOMException && err.name === 'AbortError') throw err;
    throw new ApiError('NETWORK', 'We could not reach DEMS. Check your connection and try again.', null, 0);
  }
  const text = await res.text();
  let json: unknown = null;
  if (text) {
    try {
      json = JSON.parse(text);
    } catch {
      json = null;
    }
  }
  if (!res.ok) {
    const parsed = ErrorBody.safeParse(json);
    if (parsed.success) throw new ApiError(parsed.data.code, parsed.data.message, parsed.data.requestId, res.status, parsed.data.details);
    throw new ApiError('INTERNAL', `The server answered ${res.status}.`, res.headers.get('x-request-id'), res.status);
  }
  return json as T;
}
