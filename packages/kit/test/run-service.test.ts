import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));

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
  // Next to node_modules, so the bundle's external imports (fastify, …) resolve as they do for dist/main.js.
  const cache = join(ROOT, 'node_modules', '.cache');
  let dir: string;
  let entry: string;
  let busy: Server;
  let busyPort: number;

  beforeAll(async () => {
    mkdirSync(cache, { recursive: true });
    dir = mkdtempSync(join(cache, 'dems-run-service-'));
    entry = join(dir, 'main.js');
    await build({
      stdin: { contents: ENTRY, resolveDir: ROOT, loader: 'ts' },
      outfile: entry,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      logLevel: 'error',
      plugins: [{ name: 'external', setup: (b) => b.onResolve({ filter: /^[^./]/ }, (a) => (a.path.startsWith('@dems/') ? undefined : { path: a.path, external: true })) }],
    });
    busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    busyPort = (busy.address() as AddressInfo).port;
  });
  afterAll(() => {
    busy.close();
    rmSync(dir, { recursive: true, force: true });
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
});
