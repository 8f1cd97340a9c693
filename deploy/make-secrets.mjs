#!/usr/bin/env node
// Makes the two secrets every DEMS deployment needs, once, as files named after the settings they fill:
//   SERVICE_SECRET   32 random bytes, hex: the HMAC key services sign /internal calls with
//   JWT_SIGNING_KEY  a JSON list holding one private Ed25519 JWK: the key engagement signs access tokens with
// A file that exists already is kept, so running this again never signs anyone out or breaks service calls.
//
//   compose: the one-shot `secrets` service runs it into a named volume; the services read the files through
//            SERVICE_SECRET_FILE and JWT_SIGNING_KEY_FILE.
//   Kubernetes: `node deploy/make-secrets.mjs ./dems-secrets` then
//            `kubectl -n dems create secret generic dems-secrets --from-file=./dems-secrets` (keys = file names).
//
// Zero dependencies; the values are never printed. Files are written whole (a temporary file, then a rename) and
// readable by their owner only.
// usage: node deploy/make-secrets.mjs [DIR]   (default: /secrets)
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const SECRETS = {
  SERVICE_SECRET: () => randomBytes(32).toString('hex'),
  // A list, so that rotating is adding a key to it (the last one signs; all are published).
  JWT_SIGNING_KEY: () => JSON.stringify([generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' })]),
};

const dir = resolve(process.argv[2] ?? '/secrets');
try {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  for (const [name, make] of Object.entries(SECRETS)) {
    const file = join(dir, name);
    if (existsSync(file)) {
      console.log(`[secrets] ${name}: kept ${file}`);
      continue;
    }
    const partial = `${file}.tmp`;
    rmSync(partial, { force: true }); // left by a run that was stopped halfway
    writeFileSync(partial, `${make()}\n`, { mode: 0o400 });
    renameSync(partial, file);
    console.log(`[secrets] ${name}: created ${file}`);
  }
} catch (err) {
  console.error(`[secrets] cannot write the secrets into ${dir} (${err.code ?? err.message}): it must be a directory this user (uid ${process.getuid?.()}) may write.`);
  process.exit(1);
}
