// What the fault tests share: the real system started on a fresh data directory with a signing key the test
// holds (so a thousand buyers cost a thousand signatures, not two thousand scrypt runs), and a buyer's client
// that retries the way the web app does: the same Idempotency-Key, only after a 5xx or a connection failure.
import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { TOKEN_AUDIENCE, TOKEN_ISSUER } from '@dems/kit';
import { startTestSystem } from '../system/helpers.js';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Engagement's signing key, held by the test too. Engagement is given it as JWT_SIGNING_KEY (an ordinary
 * setting); the test signs its buyers' tokens with it, and every service verifies them exactly as in production.
 */
export async function tokenMint() {
  const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
  const signingKey = JSON.stringify({ ...(await exportJWK(privateKey)), kid: 'fault-tests' });
  return {
    signingKey,
    /** A user id and a token engagement itself would have issued for it. */
    async user(role: 'attendee' | 'organizer' = 'attendee') {
      const id = `usr_fault_${randomUUID().replaceAll('-', '')}`;
      const token = await new SignJWT({ role, email: `${id}@faults.example`, name: `Fault ${role}` })
        .setProtectedHeader({ alg: 'EdDSA', kid: 'fault-tests', typ: 'JWT' })
        .setSubject(id)
        .setIssuer(TOKEN_ISSUER)
        .setAudience(TOKEN_AUDIENCE)
        .setIssuedAt()
        .setExpirationTime('1h')
        .sign(privateKey);
      return { id, token };
    },
  };
}

/**
 * The four real processes (plus extra ticketing processes on one shared store) on a fresh data directory, with
 * the test's signing key. The per-user purchase limit is lifted: many purchases from few test users are the
 * load here, not abuse, and that limit has its own tests.
 */
export async function startFaultSystem(options: Parameters<typeof startTestSystem>[0] = {}) {
  const { env, ...processes } = options;
  const mint = await tokenMint();
  const t = await startTestSystem({
    env: { JWT_SIGNING_KEY: mint.signingKey, ORDERS_PER_USER_PER_MINUTE: '100000', ...env },
    ...processes,
  });
  return { ...t, mint };
}

/** One HTTP exchange as a client sees it: an answer, or no answer at all (refused, reset, timed out). */
export type Attempt = { url: string; status: number; body: any; replayed: boolean; retryAfterMs: number | null } | { url: string; error: string };

/** Sends one request (JSON body if given); a connection failure is returned as `error`, never thrown. */
export async function attempt(method: string, url: string, options: { body?: unknown; headers?: Record<string, string>; timeoutMs?: number } = {}): Promise<Attempt> {
  try {
    const res = await fetch(url, {
      method,
      headers: { ...(options.body === undefined ? {} : { 'content-type': 'application/json' }), ...options.headers },
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: AbortSignal.timeout(options.timeoutMs ?? 15_000),
    });
    const text = await res.text();
    const retryAfter = res.headers.get('retry-after');
    return {
      url,
      status: res.status,
      body: text ? JSON.parse(text) : null,
      replayed: res.headers.get('idempotent-replayed') === 'true',
      retryAfterMs: retryAfter === null ? null : Number(retryAfter) * 1000,
    };
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code;
    return { url, error: cause ?? (err instanceof Error ? err.name : String(err)) };
  }
}

/**
 * Tries `once(n)` for n = 0, 1, … until `retry` says the answer is final or `maxTries` are spent, pausing
 * `delayMs(n, answer)` between tries. Returns every try, the last one last.
 */
export async function withRetries(
  once: (n: number) => Promise<Attempt>,
  policy: { maxTries: number; retry: (a: Attempt) => boolean; delayMs: (n: number, a: Attempt) => number },
): Promise<Attempt[]> {
  const tries: Attempt[] = [];
  for (let n = 0; n < policy.maxTries; n++) {
    const a = await once(n);
    tries.push(a);
    if (!policy.retry(a)) break;
    if (n + 1 < policy.maxTries) await sleep(policy.delayMs(n, a));
  }
  return tries;
}

/**
 * A purchase retried straight at the replicas (no gateway): one Idempotency-Key for all its tries; after no
 * answer or any 5xx the next try goes to the next base URL in `bases`, after a short pause.
 */
export function buyWithRetries(options: {
  bases: string[];
  first: number;
  token: string;
  key: string;
  body: { eventId: string; ticketTypeId: string; quantity: number };
}): Promise<Attempt[]> {
  const headers = { authorization: `Bearer ${options.token}`, 'idempotency-key': options.key };
  return withRetries((n) => attempt('POST', `${options.bases[(options.first + n) % options.bases.length]}/orders`, { body: options.body, headers }), {
    maxTries: 8,
    retry: (a) => 'error' in a || a.status >= 500,
    delayMs: (n) => Math.min(1000, 50 * 2 ** n),
  });
}

/**
 * The web app's policy for requests safe to repeat (reads, and purchases with their Idempotency-Key; see
 * web/src/lib/retry-policy.ts): only a 503 ("nothing was done") or no answer at all is tried again, up to four
 * times, after what Retry-After asks or 1 s doubling, capped at 10 s. Any other answer is what the person sees.
 */
export const WEB_APP_RETRIES = {
  maxTries: 5,
  retry: (a: Attempt) => 'error' in a || a.status === 503,
  delayMs: (n: number, a: Attempt) => Math.min(10_000, ('retryAfterMs' in a ? a.retryAfterMs : null) ?? 1000 * 2 ** n),
};

/** Runs `fn` over `items` with at most `limit` in flight; results in the order of `items`. */
export async function pool<T, R>(items: T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
