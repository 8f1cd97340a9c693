import { ErrorBody, type Session } from '@dems/contracts';
import { sessionStore } from './session-store';

/** Every failed request becomes one of these: the server's closed error code, its sentence and the id to quote. */
export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly requestId: string | null,
    readonly status: number,
    readonly details: { path: string; message: string }[] = [],
    /** How long the server asked us to wait before trying again (Retry-After), when it said. */
    readonly retryAfterMs: number | null = null,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export interface RequestOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  body?: unknown;
  /** Send the signed-in user's access token (renewed first when it is about to expire). */
  auth?: boolean;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

export const API_BASE = '/api';

const unreachable = () => new ApiError('NETWORK', 'We could not reach DEMS. Check your connection and try again.', null, 0);

async function send<T>(path: string, options: RequestOptions, token: string | null): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  if (token) headers.authorization = `Bearer ${token}`;
  let res: Response;
  try {
    res = await fetch(`${API_BASE}${path}`, {
      method: options.method ?? 'GET',
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: options.signal,
      // Public reads carry Cache-Control stale-while-revalidate for CloudFront, and browsers honour it too: without
      // this, a page re-reading an event right after changing it could be answered the copy from before. `no-cache`
      // still uses the copy, but only after the server confirms it (If-None-Match → 304: no body sent).
      cache: 'no-cache',
    });
  } catch (err) {
    if (err instanceof DOMException && err.name === 'AbortError') throw err;
    throw unreachable();
  }
  return readAnswer<T>(res.status, await res.text(), (name) => res.headers.get(name));
}

/** The JSON of a 2xx answer, or the ApiError a failed one describes (fetch and XMLHttpRequest answers alike). */
function readAnswer<T>(status: number, text: string, header: (name: string) => string | null): T {
  let json: unknown = null;
  if (text) {
    try {
      json = JSON.parse(text);
    } catch {
      json = null;
    }
  }
  if (status < 200 || status > 299) {
    const parsed = ErrorBody.safeParse(json);
    const wait = retryAfterMs(header('retry-after'));
    if (parsed.success) throw new ApiError(parsed.data.code, parsed.data.message, parsed.data.requestId, status, parsed.data.details, wait);
    throw new ApiError('INTERNAL', `The server answered ${status}.`, header('x-request-id'), status, [], wait);
  }
  return json as T;
}

/** Retry-After in milliseconds: delay-seconds or an HTTP date; null when absent or unreadable. */
export function retryAfterMs(header: string | null, now = Date.now()): number | null {
  if (!header) return null;
  if (/^\d+$/.test(header.trim())) return Number(header.trim()) * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

/** Renew this long before the access token expires, so a request never leaves with a dying token. */
const RENEW_MARGIN_MS = 30_000;
let renewing: Promise<string | null> | null = null;

/**
 * Trades the refresh token for a new session. Refresh tokens are single-use and reusing one ends the whole
 * session, so renewals are serialised: one at a time in this tab, and across tabs with a Web Lock; a tab that
 * waited re-reads storage and uses what the other tab got instead of spending the old token again.
 */
export function renewSession(): Promise<string | null> {
  const spent = sessionStore.get()?.refreshToken;
  const run = async (): Promise<string | null> => {
    const latest = sessionStore.reload();
    if (!latest) return null;
    if (latest.refreshToken !== spent) return latest.token;
    try {
      const next = await send<Session>('/sessions/refresh', { method: 'POST', body: { refreshToken: latest.refreshToken } }, null);
      sessionStore.set(next);
      return next.token;
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) {
        sessionStore.expire();
        return null;
      }
      throw err;
    }
  };
  if (!renewing) {
    const locked: Promise<string | null> =
      typeof navigator !== 'undefined' && navigator.locks ? navigator.locks.request('dems-session-renewal', run).then((token) => token) : run();
    renewing = locked.finally(() => {
      renewing = null;
    });
  }
  return renewing;
}

/** The current access token, renewed first if it is about to expire; null when signed out. */
export async function accessToken(now = Date.now()): Promise<string | null> {
  const session = sessionStore.get();
  if (!session) return null;
  if (Date.parse(session.expiresAt) - now > RENEW_MARGIN_MS) return session.token;
  return renewSession();
}

const signedOut = () => new ApiError('UNAUTHENTICATED', 'Please sign in to continue.', null, 401);

/**
 * Runs a signed-in request with the current access token. The token may have been revoked or expired in
 * flight (a sleeping laptop): on UNAUTHENTICATED the session is renewed once and the request sent again.
 */
async function withSession<T>(attempt: (token: string) => Promise<T>): Promise<T> {
  const token = await accessToken();
  if (!token) throw signedOut();
  try {
    return await attempt(token);
  } catch (err) {
    if (!(err instanceof ApiError && err.code === 'UNAUTHENTICATED')) throw err;
    const renewed = await renewSession();
    if (!renewed) throw signedOut();
    return attempt(renewed);
  }
}

/** JSON over fetch; throws ApiError for any non-2xx answer or a network failure. */
export async function apiRequest<T>(path: string, options: RequestOptions = {}): Promise<T> {
  if (!options.auth) return send<T>(path, options, null);
  return withSession((token) => send<T>(path, options, token));
}

export interface UploadProgress {
  /** Bytes of the body sent so far. */
  loaded: number;
  total: number;
}

export interface UploadOptions {
  method?: 'PUT' | 'POST';
  /** Called as the body goes out, so a large upload can show how far it is. */
  onProgress?: (progress: UploadProgress) => void;
  signal?: AbortSignal;
}

/**
 * Sends a file as the raw request body with its own Content-Type, signed in, and answers the JSON reply.
 * XMLHttpRequest rather than fetch: only it reports upload progress in browsers. Errors are the same
 * ApiError as apiRequest's; cancelling through `signal` rejects with an AbortError.
 */
export function apiUpload<T>(path: string, body: Blob, options: UploadOptions = {}): Promise<T> {
  return withSession((token) => sendFile<T>(path, body, options, token));
}

function sendFile<T>(path: string, body: Blob, { method = 'PUT', onProgress, signal }: UploadOptions, token: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const aborted = () => new DOMException('The upload was cancelled.', 'AbortError');
    if (signal?.aborted) return reject(aborted());
    const xhr = new XMLHttpRequest();
    const onAbortSignal = () => xhr.abort();
    signal?.addEventListener('abort', onAbortSignal, { once: true });
    const settle = (fn: () => void) => {
      signal?.removeEventListener('abort', onAbortSignal);
      fn();
    };
    xhr.open(method, `${API_BASE}${path}`);
    xhr.setRequestHeader('accept', 'application/json');
    xhr.setRequestHeader('content-type', body.type);
    xhr.setRequestHeader('authorization', `Bearer ${token}`);
    xhr.upload.onprogress = (e) => onProgress?.({ loaded: e.loaded, total: e.lengthComputable ? e.total : body.size });
    xhr.onload = () =>
      settle(() => {
        try {
          resolve(readAnswer<T>(xhr.status, xhr.responseText, (name) => xhr.getResponseHeader(name)));
        } catch (err) {
          reject(err);
        }
      });
    xhr.onerror = () => settle(() => reject(unreachable()));
    xhr.onabort = () => settle(() => reject(aborted()));
    onProgress?.({ loaded: 0, total: body.size });
    xhr.send(body);
  });
}
