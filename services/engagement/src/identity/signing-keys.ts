import { chmodSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import {
  calculateJwkThumbprint,
  createLocalJWKSet,
  exportJWK,
  generateKeyPair,
  importJWK,
  SignJWT,
  type CryptoKey,
  type JSONWebKeySet,
  type JWK,
  type KeyObject,
} from 'jose';
import { TOKEN_AUDIENCE, TOKEN_ISSUER, verifierFor, type AuthUser, type TokenVerifier } from '@dems/kit';

const ALG = 'EdDSA';

interface StoredKey {
  kid: string;
  createdAt: string;
  privateJwk: JWK;
}

interface KeyFile {
  keys: StoredKey[];
}

interface ActiveKey {
  kid: string;
  privateKey: CryptoKey | KeyObject | Uint8Array;
  publicJwk: JWK;
}

function isPrivateEd25519(jwk: JWK): boolean {
  return jwk.kty === 'OKP' && jwk.crv === 'Ed25519' && typeof jwk.x === 'string' && typeof jwk.d === 'string';
}

function publicPart(jwk: JWK, kid: string): JWK {
  return { kty: jwk.kty, crv: jwk.crv, x: jwk.x, kid, alg: ALG, use: 'sig' };
}

/**
 * The keys engagement signs access tokens with. The newest key signs; every key listed is published in
 * the JWKS so a later rotation (add a key, keep the old one listed until its tokens expire) needs no code change.
 */
export class SigningKeys {
  private constructor(private readonly keys: ActiveKey[]) {}

  /**
   * From env (a private JWK JSON) when given, else from `file`, created on first start with mode 0600.
   * A key that cannot be read is a start-up error: silently making a new one would sign everyone out.
   */
  static async load(opts: { file: string; envJwk?: string }): Promise<SigningKeys> {
    let stored: StoredKey[];
    if (opts.envJwk) {
      let jwk: JWK;
      try {
        jwk = JSON.parse(opts.envJwk) as JWK;
      } catch {
        throw new Error('JWT_SIGNING_KEY is not valid JSON; it must be a private Ed25519 JWK.');
      }
      if (!isPrivateEd25519(jwk)) throw new Error('JWT_SIGNING_KEY must be a private Ed25519 JWK (kty OKP, crv Ed25519, x and d).');
      const kid = jwk.kid ?? (await calculateJwkThumbprint(jwk));
      stored = [{ kid, createdAt: new Date(0).toISOString(), privateJwk: jwk }];
    } else if (existsSync(opts.file)) {
      const parsed = JSON.parse(readFileSync(opts.file, 'utf8')) as KeyFile;
      if (!Array.isArray(parsed.keys) || parsed.keys.length === 0 || !parsed.keys.every((k) => isPrivateEd25519(k.privateJwk))) {
        throw new Error(`${opts.file} does not hold a list of Ed25519 signing keys.`);
      }
      stored = parsed.keys;
      chmodSync(opts.file, 0o600);
    } else {
      stored = [await SigningKeys.generate()];
      const tmp = `${opts.file}.tmp`;
      writeFileSync(tmp, JSON.stringify({ keys: stored } satisfies KeyFile, null, 2), { mode: 0o600 });
      renameSync(tmp, opts.file);
    }
    const active = await Promise.all(
      stored.map(async (k) => ({
        kid: k.kid,
        privateKey: await importJWK({ ...k.privateJwk, alg: ALG }, ALG),
        publicJwk: publicPart(k.privateJwk, k.kid),
      })),
    );
    return new SigningKeys(active);
  }

  /** A fresh key pair, for first start and for tests. */
  static async generate(): Promise<StoredKey> {
    const { privateKey } = await generateKeyPair(ALG, { crv: 'Ed25519', extractable: true });
    const privateJwk = await exportJWK(privateKey);
    const kid = await calculateJwkThumbprint(privateJwk);
    return { kid, createdAt: new Date().toISOString(), privateJwk: { ...privateJwk, kid } };
  }

  /** The public half of every key, as served at /.well-known/jwks.json. */
  jwks(): JSONWebKeySet {
    return { keys: this.keys.map((k) => k.publicJwk) };
  }

  /** Verifies tokens against our own keys, locally (no HTTP round trip to ourselves). */
  verifier(): TokenVerifier {
    return verifierFor(createLocalJWKSet(this.jwks()));
  }

  async sign(user: AuthUser, ttlSeconds: number, now = new Date()): Promise<{ token: string; expiresAt: string }> {
    const key = this.keys[this.keys.length - 1];
    if (!key) throw new Error('no signing key');
    const iat = Math.floor(now.getTime() / 1000);
    const exp = iat + ttlSeconds;
    const token = await new SignJWT({ role: user.role, email: user.email, name: user.name })
      .setProtectedHeader({ alg: ALG, kid: key.kid, typ: 'JWT' })
      .setSubject(user.id)
      .setIssuer(TOKEN_ISSUER)
      .setAudience(TOKEN_AUDIENCE)
      .setIssuedAt(iat)
      .setExpirationTime(exp)
      .sign(key.privateKey);
    return { token, expiresAt: new Date(exp * 1000).toISOString() };
  }
}
