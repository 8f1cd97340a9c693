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
export async function startFaultSystem(options: { basePort: number; extraTicketingPorts?: number[]; env?: Record<string, string> }) {
  const mint = await tokenMint();
  const t = await startTestSystem(options.basePort, options.extraTicketingPorts, {
    JWT_SIGNING_KEY: mint.signingKey,
    ORDERS_PER_USER_PER_MINUTE: '100000',
    ...options.env,
  });
  return { ...t, mint };
}

/** One HTTP exchange as a buyer sees it: an answer, or no answer at all (refused, reset, timed out). */
export type Attempt = { url: string; status: number; body: any; replayed: boolean } | { url: string; error: string };

/** POSTs JSON; a connection failure is returned as `error`, never thrown. */
export async function attemptPost(url: string, body: unknown, headers: Record<string, string>, timeoutMs = 15_000): Promise<Attempt> {
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    return { url, status: res.status, body: text ? JSON.parse(text) : null, replayed: res.headers.get('idempotent-replayed') === 'true' };
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code;
    return { url, error: cause ?? (err instanceof Error ? err.name : String(err)) };
  }
}

/** Whether a buyer's client tries again: no answer, or a 5xx (every DEMS 503 means nothing was done). */
export const worthRetrying = (a: Attempt) => 'error' in a || a.status >= 500;

/**
 * A purchase as the web app makes it: one Idempotency-Key for all its tries; after a failure the next try goes
 * to the next base URL in `bases` (another replica), after a short pause. Returns every try, the last one last.
 */
export async function buyWithRetries(options: {
  bases: string[];
  first: number;
  token: string;
  key: string;
  body: { eventId: string; ticketTypeId: string; quantity: number };
  maxTries?: number;
}): Promise<Attempt[]> {
  const tries: Attempt[] = [];
  const maxTries = options.maxTries ?? 8;
  for (let n = 0; n < maxTries; n++) {
    const base = options.bases[(options.first + n) % options.bases.length]!;
    const attempt = await attemptPost(`${base}/orders`, options.body, { authorization: `Bearer ${options.token}`, 'idempotency-key': options.key });
    tries.push(attempt);
    if (!worthRetrying(attempt)) break;
    await sleep(Math.min(1000, 50 * 2 ** n));
  }
  return tries;
}

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
