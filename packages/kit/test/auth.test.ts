import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLocalJWKSet, exportJWK, generateKeyPair, SignJWT, type JWTVerifyGetKey } from 'jose';
import { TOKEN_AUDIENCE, TOKEN_ISSUER, verifierFor } from '@dems/kit';

async function keys() {
  const { publicKey, privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
  const jwks = createLocalJWKSet({ keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'EdDSA' }] });
  let lookups = 0;
  // Counts key lookups, i.e. real signature checks, to see which verifications the cache answered.
  const getKey: JWTVerifyGetKey = (header, token) => {
    lookups++;
    return jwks(header, token);
  };
  const sign = (expiresAt: number) =>
    new SignJWT({ role: 'attendee', email: 'a@example.com', name: 'A' })
      .setProtectedHeader({ alg: 'EdDSA', kid: 'k1' })
      .setSubject('usr_a')
      .setIssuer(TOKEN_ISSUER)
      .setAudience(TOKEN_AUDIENCE)
      .setExpirationTime(expiresAt)
      .sign(privateKey);
  return { getKey, sign, lookups: () => lookups };
}

describe('token verification', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("checks a token's signature once and answers repeats from memory until it expires", async () => {
    // `exp` is whole seconds: a clock set half a second away from every boundary (the verifier and jose both
    // read Date), instead of a real token that expires at the next whole second, wherever in the second we are.
    vi.useFakeTimers({ toFake: ['Date'] });
    const expSeconds = 1_900_000_060;
    vi.setSystemTime(expSeconds * 1000 - 60_000 + 500);
    const k = await keys();
    const verify = verifierFor(k.getKey);
    const token = await k.sign(expSeconds);
    expect(await verify(token)).toEqual({ id: 'usr_a', role: 'attendee', email: 'a@example.com', name: 'A' });
    await verify(token);
    vi.setSystemTime(expSeconds * 1000 - 500);
    await verify(token);
    expect(k.lookups()).toBe(1);
    vi.setSystemTime(expSeconds * 1000 + 500);
    await expect(verify(token)).rejects.toMatchObject({ code: 'UNAUTHENTICATED', message: expect.stringContaining('expired') });
  });

  it('never answers an altered token from memory', async () => {
    const k = await keys();
    const verify = verifierFor(k.getKey);
    const token = await k.sign(Math.floor(Date.now() / 1000) + 60);
    await verify(token);
    const [header, payload, signature] = token.split('.');
    const forged = [
      header,
      Buffer.from(JSON.stringify({ sub: 'usr_b', role: 'admin', email: 'b@example.com', name: 'B', iss: TOKEN_ISSUER, aud: TOKEN_AUDIENCE, exp: 9e9 })).toString('base64url'),
      signature,
    ].join('.');
    expect(payload).not.toBe(forged.split('.')[1]);
    await expect(verify(forged)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
  });
});
