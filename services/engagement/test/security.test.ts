import { createHash } from 'node:crypto';
import { Writable } from 'node:stream';
import { join } from 'node:path';
import { io as connect, type Socket } from 'socket.io-client';
import { createLocalJWKSet, decodeProtectedHeader } from 'jose';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LIVE_PATH, proofOfWorkBits, proofOfWorkInput } from '@dems/contracts';
import { LOG_REDACT, verifierFor, type App } from '@dems/kit';
import { signedHeaders, TEST_SECRET, tempDir } from '@dems/kit/testing';
import { buildApp } from '../src/app.js';
import { Accounts } from '../src/identity/accounts.js';
import { SigningKeys } from '../src/identity/signing-keys.js';
import { sessionVerifier } from '../src/identity/session-tokens.js';
import { attachSocketIo } from '../src/live/socket-io.js';
import { LiveNotifications } from '../src/live/live-notifications.js';
import { SqliteEngagementStore } from '../src/store/sqlite.js';
import type { AccountLimits } from '../src/identity/accounts.js';

const PASSWORD = 'correct horse battery';

/** Every scrypt run of the code under test (passwords.ts), by its cost parameters: the work, not its duration. */
const scryptRuns = vi.hoisted(() => [] as { N?: number; r?: number; p?: number; keyLength: number; saltLength: number }[]);
vi.mock('node:crypto', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:crypto')>();
  const scrypt = ((...args: Parameters<typeof actual.scrypt>) => {
    const [, salt, keyLength, options] = args;
    const o = typeof options === 'object' ? options : {};
    scryptRuns.push({ N: o.N, r: o.r, p: o.p, keyLength, saltLength: Buffer.byteLength(salt as Buffer) });
    return (actual.scrypt as (...a: unknown[]) => void)(...args);
  }) as typeof actual.scrypt;
  return { ...actual, scrypt, default: { ...actual, scrypt } };
});

async function makeApp(opts: { limits?: Partial<AccountLimits>; logger?: object; tokenTtlSeconds?: number } = {}) {
  const dir = tempDir('dems-engagement-sec-');
  const store = new SqliteEngagementStore({ file: join(dir.path, 'engagement.db'), synchronous: 'NORMAL' });
  const keys = await SigningKeys.load({ file: join(dir.path, 'keys.json'), tokenTtlSeconds: opts.tokenTtlSeconds ?? 900 });
  const live = new LiveNotifications();
  const app = await buildApp({
    store,
    keys,
    live,
    secret: TEST_SECRET,
    tokenTtlSeconds: opts.tokenTtlSeconds ?? 900,
    accountLimits: opts.limits,
    logger: opts.logger,
  });
  return { app, store, keys, live, dir, close: async () => (await app.close(), dir.cleanup()) };
}

type T = Awaited<ReturnType<typeof makeApp>>;
let t: T;
afterEach(async () => t?.close());

let seq = 0;
async function signUp(app: App, email = `user-${seq++}@example.com`, password = PASSWORD, ip = '10.0.0.1') {
  const res = await app.inject({ method: 'POST', url: '/users', payload: { email, password, name: 'Ada', role: 'attendee' }, remoteAddress: ip });
  return { res, email };
}
const login = (app: App, email: string, password = PASSWORD, ip = '10.0.0.1') => app.inject({ method: 'POST', url: '/sessions', payload: { email, password }, remoteAddress: ip });

describe('password rules', () => {
  beforeEach(async () => (t = await makeApp()));

  it('refuses a password shorter than 10 characters or equal to the email, whatever its case', async () => {
    expect((await signUp(t.app, 'short@example.com', 'nine char')).res.statusCode).toBe(400);
    for (const password of ['Longname.Person@Example.com', 'LONGNAME.PERSON@EXAMPLE.COM', 'longname.person']) {
      const { res } = await signUp(t.app, 'longname.person@example.com', password);
      expect(res.statusCode, password).toBe(400);
      expect(res.json()).toMatchObject({ code: 'VALIDATION_FAILED', details: [{ path: 'body.password' }] });
    }
    expect((await signUp(t.app, 'longname.person@example.com', 'a different passphrase')).res.statusCode).toBe(201);
  });

  it('refuses a password of only spaces or other blanks, whatever its length', async () => {
    for (const password of [' '.repeat(10), ' '.repeat(40), '\t\n \t\n \t\n \t\n ']) {
      const { res } = await signUp(t.app, undefined, password);
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({ code: 'VALIDATION_FAILED', details: [{ path: 'body.password', message: 'must contain something besides spaces' }] });
    }
    // Spaces inside a real passphrase are fine.
    expect((await signUp(t.app, undefined, '  correct horse  ')).res.statusCode).toBe(201);
  });

  it('never stores or returns the password', async () => {
    const { res, email } = await signUp(t.app);
    expect(res.body).not.toContain(PASSWORD);
    const creds = await t.store.findCredentials(email);
    expect(creds?.passwordHash).toMatch(/^scrypt\$/);
    expect(creds?.passwordHash).not.toContain(PASSWORD);
  });
});

/** Finds an answer to a sign-in challenge the way the web app does, with Node's SHA-256 instead of Web Crypto. */
function solve(challenge: string, difficulty: number): string {
  for (let n = 0; ; n++) {
    const answer = n.toString(36);
    if (proofOfWorkBits(createHash('sha256').update(proofOfWorkInput(challenge, answer)).digest()) >= difficulty) return answer;
  }
}

const challengeFor = async (app: App, email: string, ip = '10.0.0.1') => {
  const res = await app.inject({ method: 'POST', url: '/sessions/challenge', payload: { email }, remoteAddress: ip });
  expect(res.statusCode).toBe(200);
  return res.json() as { challenge: string; difficulty: number; expiresAt: string };
};

/** Signs in the way the web app does: on 428, fetch a challenge, solve it, send it along. */
async function signInWithProof(app: App, email: string, password = PASSWORD, ip = '10.0.0.1') {
  const first = await login(app, email, password, ip);
  if (first.statusCode !== 428) return first;
  const { challenge, difficulty } = await challengeFor(app, email, ip);
  const proof = { challenge, answer: solve(challenge, difficulty) };
  return app.inject({ method: 'POST', url: '/sessions', payload: { email, password, proof }, remoteAddress: ip });
}

describe('sign-in throttling', () => {
  beforeEach(async () => (t = await makeApp({ limits: { loginFailuresPerAccount: 3, loginFailuresPerAddress: 5, signUpsPerAddress: 4, loginChallengeMaxBits: 12 } })));

  it('asks for a challenge after repeated failures, for known and unknown emails alike, and never locks the owner out', async () => {
    const { email } = await signUp(t.app);
    for (const target of [email, 'nobody@example.com']) {
      for (let i = 0; i < 3; i++) expect((await login(t.app, target, 'wrong password!', `10.1.0.${i}`)).statusCode).toBe(401);
      const asked = await login(t.app, target, 'wrong password!', '10.1.0.99');
      expect(asked.statusCode).toBe(428);
      expect(asked.json().code).toBe('CHALLENGE_REQUIRED');
    }
    // Many more guesses, each paying for its challenge, still leave the right password working.
    for (let i = 0; i < 10; i++) expect((await signInWithProof(t.app, email, 'wrong password!', `10.1.1.${i}`)).statusCode).toBe(401);
    expect((await login(t.app, email, PASSWORD, '10.1.0.100')).statusCode).toBe(428);
    const owner = await signInWithProof(t.app, email, PASSWORD, '10.1.0.100');
    expect(owner.statusCode).toBe(200);
    expect(owner.json().user.email).toBe(email);
  });

  it("makes each further guess cost more, up to the cap: the attacker's price grows", async () => {
    const { email } = await signUp(t.app);
    const difficulties: number[] = [];
    for (let i = 0; i < 9; i++) {
      const { difficulty } = await challengeFor(t.app, email, `10.5.0.${i}`);
      difficulties.push(difficulty);
      expect((await signInWithProof(t.app, email, 'wrong password!', `10.5.0.${i}`)).statusCode).toBe(401);
    }
    // 3 free failures, then 8 bits (256 hashes on average) doubling per failure, capped at 12.
    expect(difficulties).toEqual([0, 0, 0, 8, 9, 10, 11, 12, 12]);
  });

  it('refuses a proof that is wrong, reused, for another account, or easier than the failures now ask', async () => {
    const { email } = await signUp(t.app);
    const other = (await signUp(t.app)).email;
    // From addresses of their own, so only the accounts' counters ask for challenges.
    for (let i = 0; i < 3; i++) await login(t.app, email, 'wrong password!', `10.6.0.${i}`);
    for (let i = 0; i < 3; i++) await login(t.app, other, 'wrong password!', `10.6.1.${i}`);
    const send = (target: string, proof: object, password = PASSWORD) =>
      t.app.inject({ method: 'POST', url: '/sessions', payload: { email: target, password, proof }, remoteAddress: '10.6.9.9' });

    const first = await challengeFor(t.app, email);
    let unsolved = '0';
    while (proofOfWorkBits(createHash('sha256').update(proofOfWorkInput(first.challenge, unsolved)).digest()) >= first.difficulty) unsolved += '0';
    expect((await send(email, { challenge: first.challenge, answer: unsolved })).statusCode).toBe(428);
    const proof = { challenge: first.challenge, answer: solve(first.challenge, first.difficulty) };
    expect((await send(other, proof)).statusCode).toBe(428);
    const forged = { challenge: first.challenge.replace(/^\d+\./, '1.'), answer: solve(first.challenge.replace(/^\d+\./, '1.'), 1) };
    expect((await send(email, forged)).statusCode).toBe(428);

    // A guess spends the challenge, and raises the bar above it.
    expect((await send(email, proof, 'wrong password!')).statusCode).toBe(401);
    expect((await send(email, proof)).statusCode).toBe(428);
    const easy = await challengeFor(t.app, other);
    const easyProof = { challenge: easy.challenge, answer: solve(easy.challenge, easy.difficulty) };
    await signInWithProof(t.app, other, 'wrong password!', '10.6.9.9');
    expect((await send(other, easyProof)).statusCode).toBe(428);
    expect((await signInWithProof(t.app, email, PASSWORD, '10.6.9.9')).statusCode).toBe(200);
  });

  it('counts failures per client address without blocking a correct sign-in behind it', async () => {
    const { email } = await signUp(t.app, undefined, PASSWORD, '10.2.9.9');
    for (let i = 0; i < 5; i++) expect((await login(t.app, `victim-${i}@example.com`, 'wrong password!', '10.2.0.1')).statusCode).toBe(401);
    expect((await login(t.app, 'another@example.com', 'wrong password!', '10.2.0.1')).statusCode).toBe(428);
    // Another person behind the same address signs in with their right password (after the check).
    expect((await signInWithProof(t.app, email, PASSWORD, '10.2.0.1')).statusCode).toBe(200);
    // Another address is not affected.
    expect((await login(t.app, 'another@example.com', 'wrong password!', '10.2.0.2')).statusCode).toBe(401);
  });

  it('lets only one of many parallel requests spend a challenge', async () => {
    const { email } = await signUp(t.app);
    for (let i = 0; i < 3; i++) await login(t.app, email, 'wrong password!');
    const { challenge, difficulty } = await challengeFor(t.app, email);
    const proof = { challenge, answer: solve(challenge, difficulty) };
    const answers = await Promise.all(Array.from({ length: 10 }, () => t.app.inject({ method: 'POST', url: '/sessions', payload: { email, password: 'wrong password!', proof } })));
    expect(answers.map((r) => r.statusCode).sort()).toEqual([401, ...Array(9).fill(428)]);
  });

  it('a successful sign-in clears the account counter', async () => {
    const { email } = await signUp(t.app);
    for (let i = 0; i < 2; i++) await login(t.app, email, 'wrong password!', '10.3.0.1');
    expect((await login(t.app, email, PASSWORD, '10.3.0.1')).statusCode).toBe(200);
    for (let i = 0; i < 2; i++) expect((await login(t.app, email, 'wrong password!', '10.3.0.1')).statusCode).toBe(401);
  });

  it('throttles sign-ups per address, so probing which emails exist is slow', async () => {
    const { email } = await signUp(t.app, undefined, PASSWORD, '10.4.0.1');
    const dup = await signUp(t.app, email, PASSWORD, '10.4.0.1');
    expect(dup.res.statusCode).toBe(409);
    expect(dup.res.json().code).toBe('EMAIL_TAKEN');
    await signUp(t.app, undefined, PASSWORD, '10.4.0.1');
    await signUp(t.app, undefined, PASSWORD, '10.4.0.1');
    const limited = await signUp(t.app, undefined, PASSWORD, '10.4.0.1');
    expect(limited.res.statusCode).toBe(429);
    expect(limited.res.headers['retry-after']).toBeDefined();
  });

  it('takes the client address from X-Forwarded-For only when the gateway (loopback) sends it', async () => {
    for (let i = 0; i < 5; i++) {
      await t.app.inject({
        method: 'POST',
        url: '/sessions',
        payload: { email: `x${i}@example.com`, password: 'wrong password!' },
        remoteAddress: '127.0.0.1',
        headers: { 'x-forwarded-for': '198.51.100.1' },
      });
    }
    const viaGateway = await t.app.inject({
      method: 'POST',
      url: '/sessions',
      payload: { email: 'y@example.com', password: 'wrong password!' },
      remoteAddress: '127.0.0.1',
      headers: { 'x-forwarded-for': '198.51.100.1' },
    });
    expect(viaGateway.statusCode).toBe(428);
    // A client outside cannot pick an address by sending the header itself.
    const spoofed = await t.app.inject({
      method: 'POST',
      url: '/sessions',
      payload: { email: 'y@example.com', password: 'wrong password!' },
      remoteAddress: '203.0.113.9',
      headers: { 'x-forwarded-for': '198.51.100.2' },
    });
    expect(spoofed.statusCode).toBe(401);
  });
});

describe('sign-in timing', () => {
  beforeEach(async () => (t = await makeApp()));

  it('takes as long for an unknown email as for a wrong password (both run scrypt)', async () => {
    // The same work, counted: a wall-clock ratio says nothing on a busy machine.
    const { email } = await signUp(t.app);
    const attempt = async (target: string, i: number) => {
      scryptRuns.length = 0;
      const res = await login(t.app, target, 'wrong password!', `10.9.${seq}.${i}`);
      const { requestId: _, ...body } = res.json() as Record<string, unknown>;
      return { status: res.statusCode, body, runs: [...scryptRuns] };
    };
    await attempt('warm-up@example.com', 0); // the dummy hash exists from here on, whoever asked for it first
    const known = await attempt(email, 1);
    const unknown = await attempt('nobody-at-all@example.com', 2);
    expect(known.status).toBe(401);
    expect(known.runs).toEqual([{ N: 16_384, r: 8, p: 1, keyLength: 64, saltLength: 16 }]);
    expect(unknown).toEqual(known);
  });
});

describe('sessions: short access tokens, rotating refresh tokens', () => {
  beforeEach(async () => (t = await makeApp()));

  it('issues access tokens of at most 15 minutes with a refresh token', async () => {
    const { email } = await signUp(t.app);
    const session = (await login(t.app, email)).json();
    expect(Date.parse(session.expiresAt) - Date.now()).toBeLessThanOrEqual(900_000);
    expect(session.refreshToken).toMatch(/^[A-Za-z0-9_-]{40,}$/);
    expect(Date.parse(session.refreshExpiresAt)).toBeGreaterThan(Date.parse(session.expiresAt));
  });

  it('an expired access token is refused', async () => {
    const { email } = await signUp(t.app);
    const user = (await login(t.app, email)).json().user;
    const { token } = await t.keys.sign(user, 60, new Date(Date.now() - 120_000));
    const res = await t.app.inject({ url: '/me', headers: { authorization: `Bearer ${token}` } });
    expect(res.statusCode).toBe(401);
    expect(res.json().code).toBe('UNAUTHENTICATED');
  });

  it('rotates: each refresh token works once and gives a new pair', async () => {
    const { email } = await signUp(t.app);
    const first = (await login(t.app, email)).json();
    const second = await t.app.inject({ method: 'POST', url: '/sessions/refresh', payload: { refreshToken: first.refreshToken } });
    expect(second.statusCode).toBe(200);
    const next = second.json();
    expect(next.refreshToken).not.toBe(first.refreshToken);
    expect(next.user.email).toBe(email);
    expect((await t.app.inject({ url: '/me', headers: { authorization: `Bearer ${next.token}` } })).statusCode).toBe(200);
    const third = await t.app.inject({ method: 'POST', url: '/sessions/refresh', payload: { refreshToken: next.refreshToken } });
    expect(third.statusCode).toBe(200);
  });

  it('reuse of a spent refresh token revokes the whole family (the thief and the victim both sign in again)', async () => {
    const { email } = await signUp(t.app);
    const first = (await login(t.app, email)).json();
    const rotated = (await t.app.inject({ method: 'POST', url: '/sessions/refresh', payload: { refreshToken: first.refreshToken } })).json();
    const replay = await t.app.inject({ method: 'POST', url: '/sessions/refresh', payload: { refreshToken: first.refreshToken } });
    expect(replay.statusCode).toBe(401);
    expect(replay.json().code).toBe('INVALID_REFRESH_TOKEN');
    const descendant = await t.app.inject({ method: 'POST', url: '/sessions/refresh', payload: { refreshToken: rotated.refreshToken } });
    expect(descendant.statusCode).toBe(401);
    // Another sign-in (another family) is unaffected.
    const other = (await login(t.app, email)).json();
    expect((await t.app.inject({ method: 'POST', url: '/sessions/refresh', payload: { refreshToken: other.refreshToken } })).statusCode).toBe(200);
  });

  it('sign-out ends that session only; sign-out everywhere ends them all', async () => {
    const { email } = await signUp(t.app);
    const laptop = (await login(t.app, email)).json();
    const phone = (await login(t.app, email)).json();
    const tablet = (await login(t.app, email)).json();
    expect((await t.app.inject({ method: 'POST', url: '/sessions/logout', payload: { refreshToken: laptop.refreshToken } })).statusCode).toBe(200);
    expect((await t.app.inject({ method: 'POST', url: '/sessions/refresh', payload: { refreshToken: laptop.refreshToken } })).statusCode).toBe(401);
    const phone2 = (await t.app.inject({ method: 'POST', url: '/sessions/refresh', payload: { refreshToken: phone.refreshToken } })).json();

    const everywhere = await t.app.inject({ method: 'POST', url: '/sessions/logout-everywhere', headers: { authorization: `Bearer ${tablet.token}` } });
    expect(everywhere.statusCode).toBe(200);
    expect(everywhere.json()).toEqual({ ok: true, revoked: 2 });
    for (const token of [phone2.refreshToken, tablet.refreshToken]) {
      expect((await t.app.inject({ method: 'POST', url: '/sessions/refresh', payload: { refreshToken: token } })).statusCode).toBe(401);
    }
    // An unknown token signs out "successfully": the answer says nothing about which tokens exist.
    expect((await t.app.inject({ method: 'POST', url: '/sessions/logout', payload: { refreshToken: 'x'.repeat(43) } })).statusCode).toBe(200);
  });

  it('an expired refresh token is refused', async () => {
    const { email } = await signUp(t.app);
    const user = (await login(t.app, email)).json().user;
    const accounts = new Accounts(t.store, t.keys, { accessTtlSeconds: 900, refreshTtlSeconds: 300, secret: TEST_SECRET });
    const session = await accounts.signIn({ email: user.email, password: PASSWORD }, '10.0.0.1');
    await expect(accounts.refresh(session.refreshToken, new Date(Date.now() + 301_000))).rejects.toMatchObject({ code: 'INVALID_REFRESH_TOKEN' });
  });

  it('stores only a hash of each refresh token', async () => {
    const { email } = await signUp(t.app);
    const session = (await login(t.app, email)).json();
    const { existsSync, readFileSync } = await import('node:fs');
    await t.store.close();
    const files = ['engagement.db', 'engagement.db-wal'].map((f) => join(t.dir.path, f)).filter(existsSync);
    const bytes = files.map((f) => readFileSync(f).toString('latin1')).join('');
    expect(bytes).toContain(createHash('sha256').update(session.refreshToken).digest('hex'));
    expect(bytes).not.toContain(session.refreshToken);
  });
});

describe('signing key rotation', () => {
  beforeEach(async () => (t = await makeApp({ tokenTtlSeconds: 600 })));

  const user = { id: 'usr_1', role: 'attendee' as const, email: 'a@example.com', name: 'A' };

  it('publishes a new key before it signs, keeps the old one until its tokens expire, and signs nobody out', async () => {
    const before = await t.keys.sign(user, 600);
    const oldKid = decodeProtectedHeader(before.token).kid;
    const now = Date.now();
    const rotated = await t.keys.rotate({ now: new Date(now), activateAfterSeconds: 60 });
    expect(t.keys.jwks(now).keys.map((k) => k.kid)).toEqual([oldKid, rotated.kid]);

    // Until activation the old key signs; then the new one.
    expect(decodeProtectedHeader((await t.keys.sign(user, 600, new Date(now + 30_000))).token).kid).toBe(oldKid);
    const after = await t.keys.sign(user, 600, new Date(now + 61_000));
    expect(decodeProtectedHeader(after.token).kid).toBe(rotated.kid);

    // A verifier holding the published set accepts both the old token and the new one.
    const published = verifierFor(createLocalJWKSet(t.keys.jwks(now + 61_000)));
    await expect(published(before.token)).resolves.toMatchObject({ id: 'usr_1' });
    await expect(t.keys.verifier()(before.token)).resolves.toMatchObject({ id: 'usr_1' });

    // The old key stays published for a token lifetime after the new one took over, then retires.
    expect(t.keys.jwks(now + 60_000 + 600_000).keys.map((k) => k.kid)).toContain(oldKid);
    expect(t.keys.jwks(now + 60_000 + 661_000).keys.map((k) => k.kid)).toEqual([rotated.kid]);
  });

  it('survives a restart: the rotated key file is what the next start loads', async () => {
    const rotated = await t.keys.rotate({ activateAfterSeconds: 0 });
    const again = await SigningKeys.load({ file: join(t.dir.path, 'keys.json'), tokenTtlSeconds: 600 });
    const { token } = await again.sign(user, 600);
    expect(decodeProtectedHeader(token).kid).toBe(rotated.kid);
    expect(again.jwks().keys).toHaveLength(2);
  });

  it('rotates through the signed operator route only', async () => {
    expect((await t.app.inject({ method: 'POST', url: '/internal/signing-keys/rotate', payload: {} })).statusCode).toBe(401);
    const payload = JSON.stringify({ activateAfterSeconds: 0 });
    const res = await t.app.inject({ method: 'POST', url: '/internal/signing-keys/rotate', headers: signedHeaders(payload), payload });
    expect(res.statusCode).toBe(200);
    const { kid } = res.json();
    const jwks = (await t.app.inject('/.well-known/jwks.json')).json();
    expect(jwks.keys.map((k: { kid: string }) => k.kid)).toContain(kid);
    expect(jwks.keys.every((k: Record<string, unknown>) => !('d' in k))).toBe(true);
  });

  it('accepts a list of keys from JWT_SIGNING_KEY: the last one signs, all are published', async () => {
    const a = await SigningKeys.generate();
    const b = await SigningKeys.generate();
    const keys = await SigningKeys.load({ file: join(t.dir.path, 'unused.json'), envJwk: JSON.stringify([a.privateJwk, b.privateJwk]) });
    expect(keys.jwks().keys.map((k) => k.kid)).toEqual([a.kid, b.kid]);
    expect(decodeProtectedHeader((await keys.sign(user, 60)).token).kid).toBe(b.kid);
    await expect(keys.rotate()).rejects.toThrow(/JWT_SIGNING_KEY/);
  });
});

describe('bootstrap admin', () => {
  beforeEach(async () => (t = await makeApp()));

  it('never promotes an account someone else signed up with the admin email', async () => {
    const { email } = await signUp(t.app, 'boss@example.com');
    const accounts = new Accounts(t.store, t.keys, { accessTtlSeconds: 900, refreshTtlSeconds: 3600, secret: TEST_SECRET });
    expect(await accounts.ensureAdmin(email, 'an admin passphrase')).toBe('taken-by-non-admin');
    expect((await t.store.findCredentials(email))?.user.role).toBe('attendee');
    expect(await accounts.ensureAdmin('root@example.com', 'an admin passphrase')).toBe('created');
    expect(await accounts.ensureAdmin('ROOT@example.com', 'an admin passphrase')).toBe('exists');
  });
});

describe('live connections', () => {
  const sockets: Socket[] = [];
  afterEach(() => sockets.splice(0).forEach((s) => s.close()));

  it('caps Socket.IO connections per user', async () => {
    t = await makeApp();
    const io = attachSocketIo(t.app, { authenticate: sessionVerifier(t.keys.verifier(), t.store), live: t.live, maxConnectionsPerUser: 3 });
    const address = await t.app.listen({ port: 0, host: '127.0.0.1' });
    const { email } = await signUp(t.app);
    const { token } = (await login(t.app, email)).json();
    const open = () =>
      new Promise<{ ok: boolean; error?: Error & { data?: { code?: string } }; socket: Socket }>((resolve) => {
        const socket = connect(address, { path: LIVE_PATH, auth: { token }, transports: ['websocket'], reconnection: false });
        sockets.push(socket);
        socket.once('connect', () => resolve({ ok: true, socket }));
        socket.once('connect_error', (error) => resolve({ ok: false, error, socket }));
      });
    const first = [await open(), await open(), await open()];
    expect(first.every((r) => r.ok)).toBe(true);
    const fourth = await open();
    expect(fourth.ok).toBe(false);
    expect(fourth.error?.data?.code).toBe('RATE_LIMITED');
    // Closing a tab frees its place.
    first[0]!.socket.close();
    // Once the server has seen the tab go (its disconnect handler frees the place), however long that takes.
    for (const end = Date.now() + 5000; io.of('/').sockets.size > 2 && Date.now() < end;) await new Promise((r) => setTimeout(r, 10));
    expect((await open()).ok).toBe(true);
  });
});

describe('logs', () => {
  it('never contain passwords, tokens, refresh tokens or the service secret', async () => {
    let output = '';
    const stream = new Writable({
      write(chunk, _enc, done) {
        output += chunk.toString();
        done();
      },
    });
    t = await makeApp({ logger: { level: 'trace', redact: LOG_REDACT, stream } });
    const { email } = await signUp(t.app);
    const session = (await login(t.app, email)).json();
    await t.app.inject({ url: '/me', headers: { authorization: `Bearer ${session.token}`, cookie: 'sid=cookie-secret-value' } });
    await t.app.inject({ method: 'POST', url: '/sessions/refresh', payload: { refreshToken: session.refreshToken } });
    const payload = JSON.stringify({ messages: [] });
    await t.app.inject({ method: 'POST', url: '/internal/messages', headers: signedHeaders(payload), payload });
    // Whatever a handler might log about a request: its headers and body with their secrets.
    t.app.log.info({ req: { headers: { authorization: `Bearer ${session.token}` } }, body: { email, password: PASSWORD, refreshToken: session.refreshToken } }, 'request details');
    t.app.log.info({ password: PASSWORD, token: session.token, secret: TEST_SECRET }, 'flat fields');
    t.app.log.error({ err: new Error('boom'), user: { password: PASSWORD } }, 'nested');
    expect(output.length).toBeGreaterThan(500);
    for (const secret of [PASSWORD, session.token, session.refreshToken, TEST_SECRET, 'cookie-secret-value']) expect(output).not.toContain(secret);
    expect(output).toContain('[Redacted]');
  });
});
