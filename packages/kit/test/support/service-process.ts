import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = fileURLToPath(new URL('../../../..', import.meta.url));

/**
 * Bundles a small service entry (TypeScript importing ./packages/kit/src/…) the way scripts/build.mjs bundles
 * dist/main.js, into a directory next to node_modules so its external imports (fastify, …) resolve the same way.
 */
export async function bundleEntry(source: string): Promise<{ dir: string; entry: string; remove: () => void }> {
  const cache = join(ROOT, 'node_modules', '.cache');
  mkdirSync(cache, { recursive: true });
  const dir = mkdtempSync(join(cache, 'dems-run-service-'));
  const entry = join(dir, 'main.js');
  await build({
    stdin: { contents: source, resolveDir: ROOT, loader: 'ts' },
    outfile: entry,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    logLevel: 'error',
    plugins: [{ name: 'external', setup: (b) => b.onResolve({ filter: /^[^./]/ }, (a) => (a.path.startsWith('@dems/') ? undefined : { path: a.path, external: true })) }],
  });
  return { dir, entry, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A running service process: its output so far, the port it listens on, and how it ended. */
export interface ServiceProcess {
  child: ChildProcess;
  stdout: () => string;
  port: Promise<number>;
  exit: Promise<{ code: number | null; at: number }>;
}

/** Starts `node <entry>` and reads the port from Fastify's "Server listening at" log line (for PORT=0). */
export function startProcess(entry: string, env: Record<string, string>): ServiceProcess {
  const child = spawn(process.execPath, [entry], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const port = new Promise<number>((resolve, reject) => {
    child.stdout!.on('data', (c: Buffer) => {
      out += c;
      const found = /Server listening at http:\/\/127\.0\.0\.1:(\d+)/.exec(out);
      if (found) resolve(Number(found[1]));
    });
    child.once('exit', (code) => reject(new Error(`the process exited (${code}) before listening:\n${out}`)));
  });
  child.stderr!.on('data', (c: Buffer) => (out += c));
  const exit = new Promise<{ code: number | null; at: number }>((resolve) => child.once('exit', (code) => resolve({ code, at: Date.now() })));
  return { child, stdout: () => out, port, exit };
}
