import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLocalJWKSet, decodeProtectedHeader } from 'jose';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, verifierFor } from '@dems/kit';
import { tempDir } from '@dems/kit/testing';
import { DEFAULT_ACTIVATION_DELAY_SECONDS, SigningKeys } from '../src/identity/signing-keys.js';
import { SqliteEngagementStore } from '../src/store/sqlite.js';

const user = { id: 'usr_1', role: 'attendee' as const, email: 'a@example.com', name: 'A' };
const kids = (keys: SigningKeys, now?: number) => keys.jwks(now).keys.map((k) => k.kid);

let dir: ReturnType<typeof tempDir>;
let file: string;
beforeEach(() => {
  dir = tempDir('dems-signing-keys-');
  file = join(dir.path, 'engagement-signing-keys.json');
});
afterEach(() => dir.cleanup());

describe('JWT_SIGNING_KEY', () => {
  it('must hold only private Ed25519 keys, at least one', async () => {
    const good = (await SigningKeys.generate()).privateJwk;
    const refused = {
      'another key type': { ...good, kty: 'EC' },
      'another curve': { ...good, crv: 'X25519' },
      'no public part': { ...good, x: undefined },
      'no private part': { ...good, d: undefined },
      'an empty list': [],
      'a list with one bad key': [good, { ...good, crv: 'Ed448' }],
      'a list with a bad key first': [{ ...good, kty: 'RSA' }, good],
      null: null,
      'a list with null': [good, null],
      'a string': 'the key',
    };
    for (const [why, value] of Object.entries(refused)) {
      await expect(SigningKeys.load({ file, envJwk: JSON.stringify(value) }), why).rejects.toThrow(
        'JWT_SIGNING_KEY must be a private Ed25519 JWK (kty OKP, crv Ed25519, x and d), or a list of them.',
      );
    }
  });
});

describe('the signing-key file', () => {
  const damaged = async (why: string) => {
    const refused = SigningKeys.load({ file });
    await expect(refused).rejects.toBeInstanceOf(ConfigError);
    await expect(refused).rejects.toThrow(`The signing-key file ${file} is damaged (${why}).`);
  };

  it('refuses a file that is not JSON, or cannot be read, saying which', async () => {
    writeFileSync(file, '{"keys": [');
    await damaged('not valid JSON');
    rmSync(file);
    mkdirSync(file);
    await expect(SigningKeys.load({ file })).rejects.toThrow(/is damaged \(.*EISDIR/);
  });

  it('refuses a file whose keys are not all private Ed25519 keys with an id', async () => {
    const good = await SigningKeys.generate();
    for (const keys of [[good, { ...good, privateJwk: { ...good.privateJwk, d: undefined } }], [good, null], [{ ...good, kid: 7 }], [{ ...good, privateJwk: null }]]) {
      writeFileSync(file, JSON.stringify({ keys }));
      await damaged('it does not hold a list of private Ed25519 keys');
    }
  });

  it('records a key file older than the record with its key id and date, and names that key when the file goes missing', async () => {
    await SigningKeys.load({ file });
    const [onFile] = (JSON.parse(readFileSync(file, 'utf8')) as { keys: { kid: string; createdAt: string }[] }).keys;
    const store = new SqliteEngagementStore({ file: join(dir.path, 'engagement.db'), synchronous: 'NORMAL' });
    try {
      await SigningKeys.load({ file, ledger: store });
      expect(await store.recordedSigningKey()).toEqual({ kid: onFile!.kid, createdAt: onFile!.createdAt });
      rmSync(file);
      const refused = SigningKeys.load({ file, ledger: store });
      await expect(refused).rejects.toBeInstanceOf(ConfigError);
      await expect(refused).rejects.toThrow(
        `The signing-key file ${file} is missing, but this engagement store created its key (${onFile!.kid}) on ${onFile!.createdAt}. ` +
          'A new key would sign everyone out and the other services would reject its tokens until they refetch keys.',
      );
    } finally {
      await store.close();
    }
  });
});

describe('rotation', () => {
  const TTL = 600;
  const RETIRE_MS = (TTL + 60) * 1000;

  it('activates a new key a minute later by default, at that very millisecond, signing JWTs that name it', async () => {
    const keys = await SigningKeys.load({ file, tokenTtlSeconds: TTL });
    const [oldKid] = kids(keys);
    const now = Date.now();
    const rotated = await keys.rotate({ now: new Date(now) });
    expect(DEFAULT_ACTIVATION_DELAY_SECONDS).toBe(60);
    expect(rotated.activatesAt).toBe(new Date(now + 60_000).toISOString());
    expect(rotated.published).toEqual([oldKid, rotated.kid]);

    expect(decodeProtectedHeader((await keys.sign(user, TTL, new Date(now + 59_999))).token).kid).toBe(oldKid);
    const signed = await keys.sign(user, TTL, new Date(now + 60_000));
    expect(decodeProtectedHeader(signed.token)).toEqual({ alg: 'EdDSA', kid: rotated.kid, typ: 'JWT' });
    expect(signed.kid).toBe(rotated.kid);
  });

  it('retires the old key exactly when its last tokens expire, and the next rotation drops it from the file', async () => {
    const keys = await SigningKeys.load({ file, tokenTtlSeconds: TTL });
    const [oldKid] = kids(keys);
    const now = Date.now();
    const second = await keys.rotate({ now: new Date(now), activateAfterSeconds: 60 });
    const takesOver = now + 60_000;
    expect(kids(keys, takesOver + RETIRE_MS - 1)).toEqual([oldKid, second.kid]);
    expect(kids(keys, takesOver + RETIRE_MS)).toEqual([second.kid]);

    const third = await keys.rotate({ now: new Date(takesOver + RETIRE_MS), activateAfterSeconds: 60 });
    expect(third.published).toEqual([second.kid, third.kid]);
    const onFile = (JSON.parse(readFileSync(file, 'utf8')) as { keys: { kid: string }[] }).keys.map((k) => k.kid);
    expect(onFile).toEqual([second.kid, third.kid]);
    // A verifier of the published keys accepts the second key's tokens, and the rotated keys verify their own.
    const token = (await keys.sign(user, TTL, new Date(takesOver + RETIRE_MS))).token;
    await expect(verifierFor(createLocalJWKSet(keys.jwks(takesOver + RETIRE_MS)))(token)).resolves.toMatchObject({ id: 'usr_1' });
  });
});
