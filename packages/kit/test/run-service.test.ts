import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { statSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { join } from 'node:path';
import { bundleEntry } from './support/service-process.js';

/** A service process as `npm start` runs one: runService from kit, bundled the way scripts/build.mjs bundles. */
const ENTRY = `
import { writeFileSync } from 'node:fs';
import { createServiceApp, runService } from './packages/kit/src/index.ts';
const name = process.env.SERVICE_NAME;
await runService(name, async () => {
  if (process.env.PROBE_FILE) writeFileSync(process.env.PROBE_FILE, 'written without a mode');
  return {
    app: await createServiceApp({ name, description: 'start-up test', isReady: () => true }),
    port: Number(process.env.PORT),
    host: process.env.HOST,
  };
});
`;

describe('runService when it cannot listen', () => {
  let bundle: Awaited<ReturnType<typeof bundleEntry>>;
  let dir: string;
  let entry: string;
  let busy: Server;
  let busyPort: number;

  beforeAll(async () => {
    bundle = await bundleEntry(ENTRY);
    ({ dir, entry } = bundle);
    busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    busyPort = (busy.address() as AddressInfo).port;
  });
  afterAll(() => {
    busy.close();
    bundle.remove();
  });

  function run(env: Record<string, string>): Promise<{ code: number | null; stderr: string; stdout: string }> {
    return new Promise((resolve) => {
      const child = spawn(process.execPath, [entry], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      let stdout = '';
      child.stderr.on('data', (c: Buffer) => (stderr += c));
      child.stdout.on('data', (c: Buffer) => (stdout += c));
      child.on('exit', (code) => resolve({ code, stderr, stdout }));
    });
  }

  it('a second copy on a busy port says so in one line, names the setting, and exits non-zero without a stack', async () => {
    const { code, stderr, stdout } = await run({ SERVICE_NAME: 'ticketing', PORT: String(busyPort), HOST: '127.0.0.1' });
    expect(code).toBe(1);
    expect(stderr).toBe(`[ticketing] port ${busyPort} is already in use — is DEMS already running? set TICKETING_PORT to use another\n`);
    expect(stdout).toBe('');
  });

  it('a HOST that is not this machine is named, without a stack', async () => {
    const { code, stderr } = await run({ SERVICE_NAME: 'gateway', PORT: '0', HOST: '192.0.2.1' });
    expect(code).toBe(1);
    expect(stderr.trim().split('\n')).toEqual([expect.stringContaining('[gateway] 192.0.2.1 is not an address of this machine — set HOST')]);
  });

  it('a file the service writes without a mode is still readable by its owner only', async () => {
    const probe = join(dir, 'probe.json');
    await run({ SERVICE_NAME: 'events', PORT: String(busyPort), HOST: '127.0.0.1', PROBE_FILE: probe });
    expect(statSync(probe).mode & 0o777).toBe(0o600);
  });

  /** Starts the service with an IPC channel, as scripts/lib/system.mjs does; resolves with its first report. */
  function report(env: Record<string, string>): Promise<{ message: unknown; child: ReturnType<typeof spawn> }> {
    const child = spawn(process.execPath, [entry], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'ignore', 'ipc'] });
    return new Promise((resolve, reject) => {
      child.once('message', (message) => resolve({ message, child }));
      child.once('exit', (code) => reject(new Error(`exited (${code}) without a report`)));
    });
  }

  it('on port 0, tells the process that started it the port the OS gave, and answers there', async () => {
    const { message, child } = await report({ SERVICE_NAME: 'events', PORT: '0', HOST: '127.0.0.1' });
    try {
      expect(message).toEqual({ type: 'listening', port: expect.any(Number) });
      const { port } = message as { port: number };
      expect(port).toBeGreaterThan(0);
      expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('on a busy port, tells the process that started it why it could not listen', async () => {
    const { message } = await report({ SERVICE_NAME: 'ticketing', PORT: String(busyPort), HOST: '127.0.0.1' });
    expect(message).toEqual({ type: 'listen-failed', port: busyPort, code: 'EADDRINUSE' });
  });
});
