import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { importJWK, SignJWT, type JWK } from 'jose';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TOKEN_AUDIENCE, TOKEN_ISSUER } from '@dems/kit';
import { TEST_SECRET, tempDir } from '@dems/kit/testing';
import { Accounts } from '../src/identity/accounts.js';
import { sessionVerifier } from '../src/identity/session-tokens.js';
import { SigningKeys } from '../src/identity/signing-keys.js';
import { SqliteEngagementStore } from '../src/store/sqlite.js';

const ENDED = { code: 'UNAUTHENTICATED', message: 'This session has ended. Please sign in again.' };

let dir: ReturnType<typeof tempDir>;
let store: SqliteEngagementStore;
let keys: SigningKeys;
beforeEach(async () => {
  dir = tempDir('dems-session-tokens-');
  store = new SqliteEngagementStore({ file: join(dir.path, 'engagement.db'), synchronous: 'NORMAL' });
  keys = await SigningKeys.load({ file: join(dir.path, 'keys.json') });
});
afterEach(async () => {
  await store.close();
  dir.cleanup();
});

/** A token signed with engagement's own key (as an operator's script might make one), with exactly the claims given. */
async function handMade(claims: Record<string, unknown>, exp?: number): Promise<string> {
  const [stored] = (JSON.parse(readFileSync(join(dir.path, 'keys.json'), 'utf8')) as { keys: { kid: string; privateJwk: JWK }[] }).keys;
  const jwt = new SignJWT({ role: 'attendee', email: 'ada@example.com', name: 'Ada', ...claims })
    .setProtectedHeader({ alg: 'EdDSA', kid: stored!.kid })
    .setSubject('usr_ada')
    .setIssuer(TOKEN_ISSUER)
    .setAudience(TOKEN_AUDIENCE)
    .setIssuedAt();
  if (exp !== undefined) jwt.setExpirationTime(exp);
  return jwt.sign(await importJWK({ ...stored!.privateJwk, alg: 'EdDSA' }, 'EdDSA'));
}

describe('live-socket session checks', () => {
  it('accept a signed-in session until it is signed out, with its session id and expiry', async () => {
    const accounts = new Accounts(store, keys, { accessTtlSeconds: 900, refreshTtlSeconds: 3600, secret: TEST_SECRET });
    await accounts.signUp({ email: 'ada@example.com', password: 'correct horse battery', name: 'Ada', role: 'attendee' }, '10.0.0.1');
    const session = await accounts.signIn({ email: 'ada@example.com', password: 'correct horse battery' }, '10.0.0.1');
    const check = sessionVerifier(keys.verifier(), store);
    const verified = await check(session.token);
    expect(verified.user).toMatchObject({ email: 'ada@example.com' });
    expect(verified.sessionId).toMatch(/^rtf_/);
    expect(verified.expiresAtMs).toBe(Date.parse(session.expiresAt));

    await accounts.logout(session.refreshToken);
    await expect(check(session.token)).rejects.toMatchObject(ENDED);
  });

  it('refuse a token without a session id (from before sessions) or without an expiry, even when the signature is good', async () => {
    const check = sessionVerifier(keys.verifier(), store);
    const { token: noSid } = await keys.sign({ id: 'usr_ada', role: 'attendee', email: 'ada@example.com', name: 'Ada' }, 900);
    await expect(check(noSid)).rejects.toMatchObject(ENDED);
    await expect(check(await handMade({}, Math.floor(Date.now() / 1000) + 900))).rejects.toMatchObject(ENDED);

    // A session id of an active session, but no expiry: a socket with it would never have to renew.
    await store.saveRefreshToken({
      hash: 'h',
      userId: 'usr_ada',
      familyId: 'rtf_live',
      createdAt: new Date().toISOString(),
      expiresAt: new Date(Date.now() + 3600_000).toISOString(),
    });
    expect(await store.isSessionActive('usr_ada', 'rtf_live')).toBe(true);
    await expect(check(await handMade({ sid: 'rtf_live' }))).rejects.toMatchObject(ENDED);
    await expect(check(await handMade({ sid: 'rtf_live' }, Math.floor(Date.now() / 1000) + 900))).resolves.toMatchObject({ sessionId: 'rtf_live' });
  });
});
