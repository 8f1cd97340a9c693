// The key engagement signs access tokens with, when several engagement replicas run. Each replica must sign with
// the same key and publish the same key set, so the key comes from configuration (JWT_SIGNING_KEY), never from a
// key file that each replica would otherwise create for itself. `npm start -- --replicas N` takes it from this
// data directory's key file — the very file one engagement creates, reads and rotates — so switching between one
// and N replicas keeps everyone signed in, and the file's format is engagement's own
// (services/engagement/src/identity/signing-keys.ts). Zero dependencies.
import { createHash, generateKeyPairSync } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Where engagement keeps its keys in DATA_DIR. */
export const KEY_FILE = 'engagement-signing-keys.json';

/**
 * JWT_SIGNING_KEY for every engagement replica: the key file's keys as a JSON list of private JWKs. All of them are
 * published (tokens signed by an older key stay valid); the one that signs now — the newest whose activation time
 * has come — goes last, because the last key of the list signs. A key rotated in but not active yet is published
 * and starts signing at the next start after its activation time.
 *
 * No key file yet: one is created (mode 0600) — unless the engagement store here already has accounts, whose
 * tokens an unknown key would not verify: then this refuses, the way engagement itself does.
 * @param {string} dataDir
 * @param {{ storeHasAccounts?: boolean, reset?: boolean, now?: number }} [options]
 *   `reset` (JWT_SIGNING_KEY_RESET) lets a lost key file be replaced by a new key, signing everyone out.
 * @returns {{ value: string, file: string, created: boolean }}
 */
export function signingKeyForReplicas(dataDir, { storeHasAccounts = false, reset = false, now = Date.now() } = {}) {
  const file = join(dataDir, KEY_FILE);
  let created = false;
  if (!existsSync(file)) {
    if (storeHasAccounts && !reset) {
      throw new Error(
        `Several engagement replicas must share one signing key, and the key file ${file} is missing although this data directory already has accounts. ` +
          'Restore the file from a backup, or set JWT_SIGNING_KEY to the key; to start over with a new key on purpose (signing everyone out), set JWT_SIGNING_KEY_RESET=true.',
      );
    }
    writeKeyFile(file, [newKey(new Date(now))]);
    created = true;
  }
  chmodSync(file, 0o600);
  const keys = readKeyFile(file);
  const active = keys.filter((k) => (Date.parse(k.activatesAt ?? k.createdAt) || 0) <= now);
  const signer = active[active.length - 1] ?? keys[0];
  if (!signer) throw new Error(`${file} holds no signing key`);
  const ordered = [...keys.filter((k) => k !== signer), signer];
  return { value: JSON.stringify(ordered.map((k) => ({ ...k.privateJwk, kid: k.kid }))), file, created };
}

/** A new Ed25519 key in engagement's key-file form; its id is the RFC 7638 thumbprint, as engagement computes it. */
function newKey(now) {
  const jwk = /** @type {{ kty: string, crv: string, x: string, d: string }} */ (generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' }));
  const kid = createHash('sha256')
    .update(JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x }))
    .digest('base64url');
  return { kid, createdAt: now.toISOString(), privateJwk: { ...jwk, kid } };
}

function writeKeyFile(file, keys) {
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, JSON.stringify({ keys }, null, 2), { mode: 0o600 });
  renameSync(tmp, file);
}

/** @returns {{ kid: string, createdAt: string, activatesAt?: string, privateJwk: Record<string, string> }[]} */
function readKeyFile(file) {
  let keys;
  try {
    keys = JSON.parse(readFileSync(file, 'utf8')).keys;
  } catch {
    keys = undefined;
  }
  const usable = Array.isArray(keys) && keys.length > 0 && keys.every((k) => typeof k?.kid === 'string' && k.privateJwk?.kty === 'OKP' && typeof k.privateJwk.d === 'string');
  if (!usable) {
    throw new Error(
      `The signing-key file ${file} is damaged (it does not hold a list of private Ed25519 keys). ` +
        'Restore it from a backup, or set JWT_SIGNING_KEY to the private key; only if the key is lost for good, delete the file and set JWT_SIGNING_KEY_RESET=true once.',
    );
  }
  return keys;
}
