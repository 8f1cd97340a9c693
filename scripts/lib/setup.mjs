// Brings a fresh clone to a runnable state: dependencies installed, services built. Each step is
// skipped when its output is newer than its inputs, so a second `npm start` is instant.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './system.mjs';

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

export function run(cmd, args, label) {
  if (label) console.log(`▸ ${label}`);
  const res = spawnSync(cmd, args, { cwd: ROOT, stdio: 'inherit', env: process.env });
  return res.status === 0;
}

function newest(path) {
  if (!existsSync(path)) return 0;
  const s = statSync(path);
  if (!s.isDirectory()) return s.mtimeMs;
  let t = s.mtimeMs;
  for (const entry of readdirSync(path)) {
    if (entry === 'node_modules' || entry === 'dist') continue;
    t = Math.max(t, newest(join(path, entry)));
  }
  return t;
}

export function ensureInstalled() {
  const marker = join(ROOT, 'node_modules', '.package-lock.json');
  const lock = join(ROOT, 'package-lock.json');
  if (existsSync(marker) && newest(marker) >= newest(lock) && newest(marker) >= newest(join(ROOT, 'package.json'))) return;
  const args = process.env.CI && existsSync(lock) ? ['ci', '--no-audit', '--no-fund'] : ['install', '--no-audit', '--no-fund'];
  if (!run(npm, args, 'Installing dependencies (the first time takes a minute or two: better-sqlite3 compiles)…')) {
    throw new Error('npm install failed; see the messages above.');
  }
}

export function ensureBuilt({ force = false } = {}) {
  const services = readdirSync(join(ROOT, 'services'));
  const sources = Math.max(newest(join(ROOT, 'packages')), ...services.map((s) => newest(join(ROOT, 'services', s, 'src'))));
  const outputs = Math.min(...services.map((s) => newest(join(ROOT, 'services', s, 'dist', 'main.js'))));
  if (force || outputs < sources) {
    if (!run(process.execPath, [join(ROOT, 'scripts', 'build.mjs')], 'Building services…')) throw new Error('The build failed; see above.');
  }
  ensureWebBuilt({ force });
}

/** For a command a person runs: installs and builds what is missing, or says why it could not and exits. */
export function ensureReadyOrExit() {
  try {
    ensureInstalled();
    ensureBuilt();
  } catch (err) {
    console.error(`✖ ${err instanceof Error ? err.message : err}`);
    process.exit(1);
  }
}

/** Builds the web app into web/dist when it is missing or older than its sources (or always, with force). */
export function ensureWebBuilt({ force = false } = {}) {
  const web = join(ROOT, 'web');
  if (!existsSync(join(web, 'index.html'))) return;
  const webSources = Math.max(
    newest(join(web, 'src')),
    newest(join(web, 'public')),
    newest(join(web, 'index.html')),
    newest(join(web, 'vite.config.ts')),
    newest(join(ROOT, 'packages', 'contracts', 'src')),
  );
  if (force || newest(join(web, 'dist', 'index.html')) < webSources) {
    const vite = join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js');
    if (!run(process.execPath, [vite, 'build', web, '--logLevel', 'warn'], 'Building the web app…')) throw new Error('The web build failed; see above.');
  }
}
