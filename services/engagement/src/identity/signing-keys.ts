import { randomUUID } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { calculateJwkThumbprint, createLocalJWKSet, exportJWK, generateKeyPair, importJWK, SignJWT, type CryptoKey, type JSONWebKeySet, type JWK, type KeyObject } from 'jose';
import { ConfigError, TOKEN_AUDIENCE, TOKEN_ISSUER, verifierFor, type AuthUser, type TokenVerifier } from '@dems/kit';

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

/** Whether a parsed JSON value (of any shape, null included) is a private Ed25519 JWK. */
function isPrivateEd25519(value: unknown): value is JWK {
  const jwk = value as JWK | null;
  return jwk?.kty === 'OKP' && jwk.crv === 'Ed25519' && typeof jwk.x === 'string' && typeof jwk.d === 'string';
}

function publicPart(jwk: JWK, kid: string): JWK {
  return { kty: jwk.kty, crv: jwk.crv, x: jwk.x, kid, alg: ALG, use: 'sig' };
}

/**
 * Where the store remembers that this deployment created its key file, so a start that finds the file gone can
 * tell "first start" (create one) from "deleted" (refuse: a new key would sign everyone out, and the other
 * services' cached key sets would disagree with it).
 */
export interface SigningKeyLedger {
  /** The first key's id and creation time, once a key file was created; null before. */
  recordedSigningKey(): Promise<{ kid: string; createdAt: string } | null>;
  recordSigningKey(key: { kid: string; createdAt: string }): Promise<void>;
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
  static async load(opts: {
    file: string;
    envJwk?: string;
    tokenTtlSeconds?: number;
    ledger?: SigningKeyLedger;
    /** JWT_SIGNING_KEY_RESET: the operator chose to replace a lost key file with a new key (signing everyone out). */
    reset?: boolean;
  }): Promise<SigningKeys> {
    const retireAfterMs = ((opts.tokenTtlSeconds ?? 900) + 60) * 1000;
    if (opts.envJwk) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(opts.envJwk);
      } catch {
        throw new Error('JWT_SIGNING_KEY is not valid JSON; it must be a private Ed25519 JWK (or a list of them).');
      }
      const list: unknown[] = Array.isArray(parsed) ? parsed : [parsed];
      if (list.length === 0 || !list.every(isPrivateEd25519)) {
        throw new Error('JWT_SIGNING_KEY must be a private Ed25519 JWK (kty OKP, crv Ed25519, x and d), or a list of them.');
      }
      const stored = await Promise.all(list.map(async (jwk) => ({ kid: jwk.kid ?? (await calculateJwkThumbprint(jwk)), createdAt: new Date(0).toISOString(), privateJwk: jwk })));
      return new SigningKeys(await SigningKeys.activate(stored), null, retireAfterMs);
    }
    let stored: StoredKey[];
    const recorded = await opts.ledger?.recordedSigningKey();
    if (existsSync(opts.file)) {
      stored = SigningKeys.read(opts.file);
      chmodSync(opts.file, 0o600);
      // A key file from before the store kept a record: remember it from now on.
      if (opts.ledger && !recorded) await opts.ledger.recordSigningKey({ kid: stored[0]!.kid, createdAt: stored[0]!.createdAt });
    } else {
      if (recorded && !opts.reset) {
        throw new ConfigError([
          `The signing-key file ${opts.file} is missing, but this engagement store created its key (${recorded.kid}) on ${recorded.createdAt}. ` +
            'A new key would sign everyone out and the other services would reject its tokens until they refetch keys. ' +
            'Restore the file from a backup (or set JWT_SIGNING_KEY to the key), or, to start over with a new key on purpose, start once with JWT_SIGNING_KEY_RESET=true.',
        ]);
      }
      stored = [await SigningKeys.generate()];
      SigningKeys.write(opts.file, stored);
      await opts.ledger?.recordSigningKey({ kid: stored[0]!.kid, createdAt: stored[0]!.createdAt });
    }
    return new SigningKeys(await SigningKeys.activate(stored), opts.file, retireAfterMs);
  }

  /** The keys in `file`; a file that cannot be read as such stops the start with its name and the way out. */
  private static read(file: string): StoredKey[] {
    const damaged = (why: string) =>
      new ConfigError([
        `The signing-key file ${file} is damaged (${why}). Engagement will not replace it: a new key would sign everyone out. ` +
          'Restore the file from a backup, or set JWT_SIGNING_KEY to the private key; only if the key is lost for good, delete the file and start once with JWT_SIGNING_KEY_RESET=true.',
      ]);
    let parsed: KeyFile;
    try {
      parsed = JSON.parse(readFileSync(file, 'utf8')) as KeyFile;
    } catch (err) {
      throw damaged(err instanceof SyntaxError ? 'not valid JSON' : String((err as Error).message));
    }
    if (!Array.isArray(parsed?.keys) || parsed.keys.length === 0 || !parsed.keys.every((k) => typeof k?.kid === 'string' && isPrivateEd25519(k.privateJwk))) {
      throw damaged('it does not hold a list of private Ed25519 keys');
    }
    return parsed.keys;
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
  private signingKey(now: number): ActiveKey {
    const active = this.keys.filter((k) => k.activatesAt <= now);
    // load() never makes a SigningKeys without a key.
    return active[active.length - 1] ?? this.keys[0]!;
  }

  /** Keys whose tokens may still be valid, or that will sign: a key retires once its successor has signed for a token lifetime. */
  private liveKeys(now: number): ActiveKey[] {
    // Keys from JWT_SIGNING_KEY are all published: the operator removes an old one once its tokens expired.
    if (!this.file) return this.keys;
    const currentIndex = this.keys.indexOf(this.signingKey(now));
    // Every key before the current one has a successor.
    return this.keys.filter((k, i) => i >= currentIndex || this.keys[i + 1]!.activatesAt + this.retireAfterMs > now);
  }

  /** The public half of every live key, as served at /.well-known/jwks.json. */
  jwks(now = Date.now()): JSONWebKeySet {
    return { keys: this.liveKeys(now).map((k) => k.publicJwk) };
  }

  /** Verifies tokens against our own keys, locally (no HTTP round trip to ourselves); follows rotations. */
  verifier(): TokenVerifier {
    return (token) => {
      // Stryker disable next-line ConditionalExpression: a verifier rebuilt on every call answers the same; the cache only saves the work.
      if (this.localSet?.keys !== this.keys) {
        this.localSet = { keys: this.keys, verify: verifierFor(createLocalJWKSet({ keys: this.keys.map((k) => k.publicJwk) })) };
      }
      return this.localSet.verify(token);
    };
  }

  /** `sessionId` (the refresh-token family) becomes the `sid` claim: what lets a sign-out close that session's live sockets. */
  async sign(user: AuthUser, ttlSeconds: number, now = new Date(), sessionId?: string): Promise<{ token: string; expiresAt: string; kid: string }> {
    const key = this.signingKey(now.getTime());
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
