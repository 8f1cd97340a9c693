import { randomUUID } from 'node:crypto';
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
  /** When this key starts signing; until then it is only published, so verifiers have it before any token uses it. */
  activatesAt?: string;
  privateJwk: JWK;
}

interface KeyFile {
  keys: StoredKey[];
}

interface ActiveKey {
  kid: string;
  activatesAt: number;
  privateKey: CryptoKey | KeyObject | Uint8Array;
  publicJwk: JWK;
}

function isPrivateEd25519(jwk: JWK): boolean {
  return jwk.kty === 'OKP' && jwk.crv === 'Ed25519' && typeof jwk.x === 'string' && typeof jwk.d === 'string';
}

function publicPart(jwk: JWK, kid: string): JWK {
  return { kty: jwk.kty, crv: jwk.crv, x: jwk.x, kid, alg: ALG, use: 'sig' };
}

/** How long a rotated-in key is published before it signs: longer than a verifier's unknown-key refresh pause. */
export const DEFAULT_ACTIVATION_DELAY_SECONDS = 60;

/**
 * The keys engagement signs access tokens with. The newest key whose activation time has come signs; every
 * key is published in the JWKS until the tokens it signed have expired (its successor's activation + the
 * access-token lifetime + a minute), so rotating keys signs nobody out.
 */
export class SigningKeys {
  private localSet?: { keys: ActiveKey[]; verify: TokenVerifier };

  private constructor(
    private keys: ActiveKey[],
    private readonly file: string | null,
    private readonly retireAfterMs: number,
  ) {}

  /**
   * From env (a private JWK JSON, or a JSON list of them: the last one signs) when given, else from `file`,
   * created on first start with mode 0600. A key that cannot be read is a start-up error: silently making
   * a new one would sign everyone out. `tokenTtlSeconds` says how long a superseded key stays published.
   */
  static async load(opts: { file: string; envJwk?: string; tokenTtlSeconds?: number }): Promise<SigningKeys> {
    const retireAfterMs = ((opts.tokenTtlSeconds ?? 900) + 60) * 1000;
    if (opts.envJwk) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(opts.envJwk);
      } catch {
        throw new Error('JWT_SIGNING_KEY is not valid JSON; it must be a private Ed25519 JWK (or a list of them).');
      }
      const list = (Array.isArray(parsed) ? parsed : [parsed]) as JWK[];
      if (list.length === 0 || !list.every((jwk) => typeof jwk === 'object' && jwk !== null && isPrivateEd25519(jwk))) {
        throw new Error('JWT_SIGNING_KEY must be a private Ed25519 JWK (kty OKP, crv Ed25519, x and d), or a list of them.');
      }
      const stored = await Promise.all(
        list.map(async (jwk) => ({ kid: jwk.kid ?? (await calculateJwkThumbprint(jwk)), createdAt: new Date(0).toISOString(), privateJwk: jwk })),
      );
      return new SigningKeys(await SigningKeys.activate(stored), null, retireAfterMs);
    }
    let stored: StoredKey[];
    if (existsSync(opts.file)) {
      const parsed = JSON.parse(readFileSync(opts.file, 'utf8')) as KeyFile;
      if (!Array.isArray(parsed.keys) || parsed.keys.length === 0 || !parsed.keys.every((k) => isPrivateEd25519(k.privateJwk))) {
        throw new Error(`${opts.file} does not hold a list of Ed25519 signing keys.`);
      }
      stored = parsed.keys;
      chmodSync(opts.file, 0o600);
    } else {
      stored = [await SigningKeys.generate()];
      SigningKeys.write(opts.file, stored);
    }
    return new SigningKeys(await SigningKeys.activate(stored), opts.file, retireAfterMs);
  }

  private static activate(stored: StoredKey[]): Promise<ActiveKey[]> {
    return Promise.all(
      stored.map(async (k) => ({
        kid: k.kid,
        activatesAt: Date.parse(k.activatesAt ?? k.createdAt) || 0,
        privateKey: await importJWK({ ...k.privateJwk, alg: ALG }, ALG),
        publicJwk: publicPart(k.privateJwk, k.kid),
      })),
    );
  }

  private static write(file: string, keys: StoredKey[]): void {
    const tmp = `${file}.tmp`;
    writeFileSync(tmp, JSON.stringify({ keys } satisfies KeyFile, null, 2), { mode: 0o600 });
    renameSync(tmp, file);
  }

  /** A fresh key pair, for first start, rotation and tests. */
  static async generate(now = new Date()): Promise<StoredKey> {
    const { privateKey } = await generateKeyPair(ALG, { crv: 'Ed25519', extractable: true });
    const privateJwk = await exportJWK(privateKey);
    const kid = await calculateJwkThumbprint(privateJwk);
    return { kid, createdAt: now.toISOString(), privateJwk: { ...privateJwk, kid } };
  }

  /**
   * Adds a new key that starts signing after `activateAfterSeconds` (published at once), and drops keys
   * whose tokens have all expired. Only for keys kept in the key file; env keys are rotated in the env.
   */
  async rotate(opts: { now?: Date; activateAfterSeconds?: number } = {}): Promise<{ kid: string; activatesAt: string; published: string[] }> {
    if (!this.file) throw new Error('The signing keys come from JWT_SIGNING_KEY: add the new key to that list instead.');
    const now = opts.now ?? new Date();
    const fresh = await SigningKeys.generate(now);
    fresh.activatesAt = new Date(now.getTime() + (opts.activateAfterSeconds ?? DEFAULT_ACTIVATION_DELAY_SECONDS) * 1000).toISOString();
    const onFile = (JSON.parse(readFileSync(this.file, 'utf8')) as KeyFile).keys;
    const live = new Set(this.liveKeys(now.getTime()).map((k) => k.kid));
    const kept = [...onFile.filter((k) => live.has(k.kid)), fresh];
    SigningKeys.write(this.file, kept);
    this.keys = await SigningKeys.activate(kept);
    this.localSet = undefined;
    return { kid: fresh.kid, activatesAt: fresh.activatesAt, published: kept.map((k) => k.kid) };
  }

  /** The key that signs at `now`: the newest one already active (the first one if none is yet). */
  private signingKey(now: number): ActiveKey | undefined {
    const active = this.keys.filter((k) => k.activatesAt <= now);
    return active[active.length - 1] ?? this.keys[0];
  }

  /** Keys whose tokens may still be valid, or that will sign: a key retires once its successor has signed for a token lifetime. */
  private liveKeys(now: number): ActiveKey[] {
    // Keys from JWT_SIGNING_KEY are all published: the operator removes an old one once its tokens expired.
    if (!this.file) return this.keys;
    const current = this.signingKey(now);
    const currentIndex = current ? this.keys.indexOf(current) : 0;
    return this.keys.filter((k, i) => {
      if (i >= currentIndex) return true;
      const successor = this.keys[i + 1];
      return successor !== undefined && successor.activatesAt + this.retireAfterMs > now;
    });
  }

  /** The public half of every live key, as served at /.well-known/jwks.json. */
  jwks(now = Date.now()): JSONWebKeySet {
    return { keys: this.liveKeys(now).map((k) => k.publicJwk) };
  }

  /** Verifies tokens against our own keys, locally (no HTTP round trip to ourselves); follows rotations. */
  verifier(): TokenVerifier {
    return (token) => {
      if (this.localSet?.keys !== this.keys) {
        this.localSet = { keys: this.keys, verify: verifierFor(createLocalJWKSet({ keys: this.keys.map((k) => k.publicJwk) })) };
      }
      return this.localSet.verify(token);
    };
  }

  /** `sessionId` (the refresh-token family) becomes the `sid` claim: what lets a sign-out close that session's live sockets. */
  async sign(user: AuthUser, ttlSeconds: number, now = new Date(), sessionId?: string): Promise<{ token: string; expiresAt: string; kid: string }> {
    const key = this.signingKey(now.getTime());
    if (!key) throw new Error('no signing key');
    const iat = Math.floor(now.getTime() / 1000);
    const exp = iat + ttlSeconds;
    const token = await new SignJWT({ role: user.role, email: user.email, name: user.name, ...(sessionId ? { sid: sessionId } : {}) })
      .setProtectedHeader({ alg: ALG, kid: key.kid, typ: 'JWT' })
      .setSubject(user.id)
      .setIssuer(TOKEN_ISSUER)
      .setAudience(TOKEN_AUDIENCE)
      .setIssuedAt(iat)
      .setExpirationTime(exp)
      .setJti(randomUUID())
      .sign(key.privateKey);
    return { token, expiresAt: new Date(exp * 1000).toISOString(), kid: key.kid };
  }
}
