// The signing key `npm start -- --replicas N` gives every engagement replica (scripts/lib/signing-key.mjs), checked
// against engagement's own SigningKeys: the key file it creates is one engagement reads, and tokens signed before
// the switch (one replica, key file) verify after it (N replicas, JWT_SIGNING_KEY) and back.
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeProtectedHeader } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { KEY_FILE, signingKeyForReplicas } from '../../scripts/lib/signing-key.mjs';
import { SigningKeys } from '../../services/engagement/src/identity/signing-keys.js';

const user = { id: 'usr_1', role: 'attendee' as const, email: 'ada@example.com', name: 'Ada' };
const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));
function dataDir() {
  const d = mkdtempSync(join(tmpdir(), 'dems-signing-key-'));
  dirs.push(d);
  return d;
}

describe('the signing key for several engagement replicas', () => {
  it('a new data directory: creates the key file (0600) that engagement itself reads, and passes the same key', async () => {
    const dir = dataDir();
    const key = signingKeyForReplicas(dir);
    expect(key).toMatchObject({ file: join(dir, KEY_FILE), created: true });
    expect(statSync(key.file).mode & 0o777).toBe(0o600);

    const fromFile = await SigningKeys.load({ file: key.file });
    const fromEnv = await SigningKeys.load({ file: join(dir, 'unused.json'), envJwk: key.value });
    // Same key id (engagement's RFC 7638 thumbprint), so tokens of one verify with the other.
    expect(fromEnv.jwks().keys.map((k) => k.kid)).toEqual(fromFile.jwks().keys.map((k) => k.kid));
    const signed = await fromFile.sign(user, 900);
    await expect(fromEnv.verifier()(signed.token)).resolves.toMatchObject({ id: 'usr_1' });
    // A second start reuses the file.
    expect(signingKeyForReplicas(dir)).toEqual({ ...key, created: false });
  });

  it('an existing key file (one replica ran before): its key signs for the replicas, so everyone stays signed in', async () => {
    const dir = dataDir();
    const single = await SigningKeys.load({ file: join(dir, KEY_FILE) });
    const before = await single.sign(user, 900);

    const key = signingKeyForReplicas(dir, { storeHasAccounts: true });
    expect(key.created).toBe(false);
    const replicas = await SigningKeys.load({ file: join(dir, 'unused.json'), envJwk: key.value });
    await expect(replicas.verifier()(before.token)).resolves.toMatchObject({ id: 'usr_1' });
    // And back to one replica: a token the replicas signed verifies there.
    const after = await replicas.sign(user, 900);
    expect(after.kid).toBe(before.kid);
    await expect(single.verifier()(after.token)).resolves.toMatchObject({ id: 'usr_1' });
  });

  it('after a rotation the key that signs now goes last (it signs); older and not-yet-active keys are published', async () => {
    const dir = dataDir();
    const t0 = new Date('2030-01-01T00:00:00Z');
    const keys = await SigningKeys.load({ file: join(dir, KEY_FILE) });
    const original = keys.jwks().keys[0]!.kid!;
    const rotated = await keys.rotate({ now: t0, activateAfterSeconds: 60 });
    const pending = await keys.rotate({ now: new Date(t0.getTime() + 120_000), activateAfterSeconds: 600 });

    const key = signingKeyForReplicas(dir, { now: t0.getTime() + 180_000 });
    const kids = (JSON.parse(key.value) as { kid: string }[]).map((k) => k.kid);
    expect(kids).toEqual([original, pending.kid, rotated.kid]);
    const replicas = await SigningKeys.load({ file: join(dir, 'unused.json'), envJwk: key.value });
    const token = await replicas.sign(user, 900);
    expect(decodeProtectedHeader(token.token).kid).toBe(rotated.kid);
    // Before the first rotation activated, the original key still signed.
    const early = signingKeyForReplicas(dir, { now: t0.getTime() + 30_000 });
    expect((JSON.parse(early.value) as { kid: string }[]).at(-1)!.kid).toBe(original);
  });

  it('no key file although the store has accounts: refuses, naming the ways out; JWT_SIGNING_KEY_RESET=true makes a new key', () => {
    const dir = dataDir();
    expect(() => signingKeyForReplicas(dir, { storeHasAccounts: true })).toThrow(
      /key file .*engagement-signing-keys\.json is missing although this data directory already has accounts\. Restore the file from a backup, or set JWT_SIGNING_KEY .* set JWT_SIGNING_KEY_RESET=true/,
    );
    expect(signingKeyForReplicas(dir, { storeHasAccounts: true, reset: true }).created).toBe(true);
  });

  it('a damaged key file stops the start with its name; it is never replaced', () => {
    const dir = dataDir();
    const file = join(dir, KEY_FILE);
    for (const damaged of ['{not json', '{"keys":[]}', '{"keys":[{"kid":"k","privateJwk":{"kty":"OKP","x":"abc"}}]}']) {
      writeFileSync(file, damaged);
      expect(() => signingKeyForReplicas(dir)).toThrow(`The signing-key file ${file} is damaged`);
      expect(readFileSync(file, 'utf8')).toBe(damaged);
    }
  });
});
