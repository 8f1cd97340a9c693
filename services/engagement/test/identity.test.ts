import { existsSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { exportJWK, generateKeyPair } from 'jose';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tempDir } from '@dems/kit/testing';
import { liveOrigins, loadEngagementConfig } from '../src/config.js';
import { dummyPasswordHash, hashPassword, verifyPassword } from '../src/identity/passwords.js';
import { SigningKeys } from '../src/identity/signing-keys.js';
import { SqliteEngagementStore } from '../src/store/sqlite.js';

describe('passwords', () => {
  it('hashes with scrypt, its parameters and a random salt, and verifies', async () => {
    const hash = await hashPassword('correct horse battery');
    expect(hash).toMatch(/^scrypt\$16384\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
    expect(Buffer.from(hash.split('$')[5]!, 'base64')).toHaveLength(64);
    expect(Buffer.from(hash.split('$')[4]!, 'base64')).toHaveLength(16);
    expect(await hashPassword('correct horse battery')).not.toBe(hash);
    expect(await verifyPassword('correct horse battery', hash)).toBe(true);
    expect(await verifyPassword('correct horse batterY', hash)).toBe(false);
  });

  it('never matches a malformed hash, and the dummy hash matches nothing a user types', async () => {
    expect(await verifyPassword('x', 'plain')).toBe(false);
    expect(await verifyPassword('x', 'scrypt$a$b$c$$')).toBe(false);
    expect(await verifyPassword('', await dummyPasswordHash())).toBe(false);
  });
});

describe('signing keys', () => {
  let dir: ReturnType<typeof tempDir>;
  beforeEach(() => {
    dir = tempDir('dems-keys-');
  });
  afterEach(() => dir.cleanup());

  it('creates a key file readable only by its owner, and reuses it', async () => {
    const file = join(dir.path, 'engagement-signing-keys.json');
    const keys = await SigningKeys.load({ file });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const again = await SigningKeys.load({ file });
    expect(again.jwks()).toEqual(keys.jwks());
    const [pub] = keys.jwks().keys;
    expect(pub).toMatchObject({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA', use: 'sig' });
    expect(pub).not.toHaveProperty('d');
  });

  it('signs with a key given in env, and refuses one that is not a private Ed25519 JWK', async () => {
    const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
    const jwk = { ...(await exportJWK(privateKey)), kid: 'from-env' };
    const file = join(dir.path, 'unused.json');
    const keys = await SigningKeys.load({ file, envJwk: JSON.stringify(jwk) });
    expect(keys.jwks().keys.map((k) => k.kid)).toEqual(['from-env']);
    const { token } = await keys.sign({ id: 'usr_1', role: 'admin', email: 'a@example.com', name: 'A' }, 60);
    await expect(keys.verifier()(token)).resolves.toEqual({ id: 'usr_1', role: 'admin', email: 'a@example.com', name: 'A' });
    const { d: _d, ...publicOnly } = jwk;
    await expect(SigningKeys.load({ file, envJwk: JSON.stringify(publicOnly) })).rejects.toThrow(/private Ed25519/);
    await expect(SigningKeys.load({ file, envJwk: '{not json' })).rejects.toThrow(/not valid JSON/);
  });

  it('with a configured key, as every replica has, writes no key file and records no key of its own', async () => {
    const file = join(dir.path, 'engagement-signing-keys.json');
    const recorded: unknown[] = [];
    const ledger = { recordedSigningKey: async () => null, recordSigningKey: async (k: unknown) => void recorded.push(k) };
    const configured = JSON.stringify((await SigningKeys.generate()).privateJwk);
    const replicas = [await SigningKeys.load({ file, envJwk: configured, ledger }), await SigningKeys.load({ file, envJwk: configured, ledger })];
    expect(existsSync(file)).toBe(false);
    expect(recorded).toEqual([]);
    expect(replicas[0]!.jwks()).toEqual(replicas[1]!.jwks());
  });

  it('rotates configured keys in three rolling restarts that sign nobody out', async () => {
    // README: 1. add the new key first in the list (published, the old one still signs); 2. move it last (it
    // signs, the old one is still published); 3. a token lifetime later, drop the old one. During each rolling
    // restart, replicas of two neighbouring steps run side by side: each must accept what the other signs.
    const [old, next] = [await SigningKeys.generate(), await SigningKeys.generate()];
    const file = join(dir.path, 'never-written.json');
    const step = (keys: (typeof old)[]) => SigningKeys.load({ file, envJwk: JSON.stringify(keys.map((k) => k.privateJwk)) });
    const steps = [await step([old]), await step([next, old]), await step([old, next]), await step([next])];
    const user = { id: 'usr_1', role: 'attendee' as const, email: 'a@example.com', name: 'A' };
    for (let i = 0; i + 1 < steps.length; i++) {
      for (const [signer, verifier] of [
        [steps[i]!, steps[i + 1]!],
        [steps[i + 1]!, steps[i]!],
      ] as const) {
        const { token } = await signer.sign(user, 60);
        await expect(verifier.verifier()(token), `step ${i} and ${i + 1}`).resolves.toEqual(user);
      }
    }
    expect((await steps[1]!.sign(user, 60)).kid).toBe(old.kid);
    expect((await steps[2]!.sign(user, 60)).kid).toBe(next.kid);
    expect(existsSync(file)).toBe(false);
  });

  it('refuses a damaged key file instead of silently signing everyone out, naming the file and the way out', async () => {
    const file = join(dir.path, 'engagement-signing-keys.json');
    for (const content of ['{"keys":[]}', '{"keys":[{"kid":"k"}]}', '{"keys": [', '', 'null']) {
      writeFileSync(file, content);
      const refused = SigningKeys.load({ file });
      await expect(refused, content).rejects.toThrow(file);
      await expect(refused, content).rejects.toThrow(/damaged.*Restore the file from a backup, or set JWT_SIGNING_KEY/s);
    }
  });

  it('creates the key on a first start, and refuses to start when that key file is later deleted', async () => {
    const store = new SqliteEngagementStore({ file: join(dir.path, 'engagement.db'), synchronous: 'NORMAL' });
    try {
      const file = join(dir.path, 'engagement-signing-keys.json');
      const first = await SigningKeys.load({ file, ledger: store });
      const [kid] = first.jwks().keys.map((k) => k.kid);
      expect(await store.recordedSigningKey()).toMatchObject({ kid });
      // A restart with the file there just uses it.
      expect((await SigningKeys.load({ file, ledger: store })).jwks()).toEqual(first.jwks());

      rmSync(file);
      const refused = SigningKeys.load({ file, ledger: store });
      await expect(refused).rejects.toThrow(file);
      await expect(refused).rejects.toThrow(/missing.*JWT_SIGNING_KEY_RESET=true/s);
      await expect(SigningKeys.load({ file, ledger: store })).rejects.toThrow(/missing/);

      // The operator's deliberate reset makes a new key, and the record of the first one stays.
      const reset = await SigningKeys.load({ file, ledger: store, reset: true });
      expect(reset.jwks().keys.map((k) => k.kid)).not.toContain(kid);
      expect(await store.recordedSigningKey()).toMatchObject({ kid });
    } finally {
      await store.close();
    }
  });

  it('remembers a key file that predates the record, so its later loss is noticed too', async () => {
    const file = join(dir.path, 'engagement-signing-keys.json');
    await SigningKeys.load({ file });
    const store = new SqliteEngagementStore({ file: join(dir.path, 'engagement.db'), synchronous: 'NORMAL' });
    try {
      expect(await store.recordedSigningKey()).toBeNull();
      await SigningKeys.load({ file, ledger: store });
      rmSync(file);
      await expect(SigningKeys.load({ file, ledger: store })).rejects.toThrow(/missing/);
    } finally {
      await store.close();
    }
  });

  it('rejects an expired token', async () => {
    const keys = await SigningKeys.load({ file: join(dir.path, 'k.json') });
    const { token } = await keys.sign({ id: 'usr_1', role: 'attendee', email: 'a@example.com', name: 'A' }, 60, new Date(Date.now() - 3600_000));
    await expect(keys.verifier()(token)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
  });
});

describe('config', () => {
  const base = { SERVICE_SECRET: 'x'.repeat(16) };
  it('has the documented defaults', () => {
    const c = loadEngagementConfig(base);
    expect(c.ENGAGEMENT_PORT).toBe(3003);
    expect(c.ACCESS_TOKEN_TTL_SECONDS).toBe(900);
  });
  it('wants ADMIN_EMAIL and ADMIN_PASSWORD together', () => {
    expect(() => loadEngagementConfig({ ...base, ADMIN_EMAIL: 'admin@example.com' })).toThrow(/ADMIN_PASSWORD/);
    expect(loadEngagementConfig({ ...base, ADMIN_EMAIL: 'admin@example.com', ADMIN_PASSWORD: 'long enough pw' }).ADMIN_EMAIL).toBe('admin@example.com');
  });
  it('refuses an ADMIN_PASSWORD of only spaces', () => {
    expect(() => loadEngagementConfig({ ...base, ADMIN_EMAIL: 'admin@example.com', ADMIN_PASSWORD: ' '.repeat(12) })).toThrow(/ADMIN_PASSWORD/);
  });
  it('wants JWT_SIGNING_KEY with REDIS_URL: replicas share one key, none makes its own', () => {
    expect(() => loadEngagementConfig({ ...base, REDIS_URL: 'redis://127.0.0.1:6379' })).toThrow(
      'JWT_SIGNING_KEY (not set): several replicas (REDIS_URL is set) must share one signing key: set JWT_SIGNING_KEY (a private Ed25519 JWK; npm start makes one for you)',
    );
    const c = loadEngagementConfig({ ...base, REDIS_URL: 'redis://127.0.0.1:6379', JWT_SIGNING_KEY: '{"kty":"OKP"}' });
    expect(c.REDIS_URL).toBe('redis://127.0.0.1:6379');
    expect(loadEngagementConfig(base).REDIS_URL).toBeUndefined();
    expect(loadEngagementConfig({ ...base, REDIS_URL: '' }).REDIS_URL).toBeUndefined();
  });
  it('refuses a REDIS_URL that is not redis:// or rediss://, without showing it (it may carry a password)', () => {
    const problem = () => loadEngagementConfig({ ...base, REDIS_URL: 'http://:hunter2@cache:6379', JWT_SIGNING_KEY: '{}' });
    expect(problem).toThrow('REDIS_URL (set): must be a redis:// or rediss:// URL naming a host, e.g. redis://127.0.0.1:6379');
    expect(problem).not.toThrow(/hunter2/);
    expect(loadEngagementConfig({ ...base, REDIS_URL: 'rediss://:pw@cache.example:6380/1', JWT_SIGNING_KEY: '{}' }).REDIS_URL).toBe('rediss://:pw@cache.example:6380/1');
  });
  it("lets the gateway's pages and configured origins open the live socket", () => {
    const c = loadEngagementConfig({ ...base, GATEWAY_PORT: '4100', LIVE_ALLOWED_ORIGINS: 'https://app.example.com, https://x.example' });
    expect(liveOrigins(c)).toEqual(['http://localhost:4100', 'http://127.0.0.1:4100', 'https://app.example.com', 'https://x.example']);
  });
});
