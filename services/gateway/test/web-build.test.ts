import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from '@dems/kit/testing';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));

describe('the production web build the gateway serves', () => {
  const out = tempDir('dems-web-build-');
  afterAll(() => out.cleanup());

  it('has no source maps and points to none', () => {
    // The same command `npm start` runs (scripts/lib/setup.mjs), into a directory of its own.
    const vite = join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js');
    const build = spawnSync(process.execPath, [vite, 'build', join(ROOT, 'web'), '--outDir', out.path, '--emptyOutDir', '--logLevel', 'error'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    expect(build.status, build.stderr).toBe(0);
    const files = readdirSync(out.path, { recursive: true, encoding: 'utf8' });
    expect(files.filter((f) => f.endsWith('.js')).length).toBeGreaterThan(0);
    expect(files.filter((f) => f.endsWith('.map'))).toEqual([]);
    for (const f of files.filter((f) => /\.(js|css)$/.test(f))) {
      expect(readFileSync(join(out.path, f), 'utf8'), f).not.toContain('sourceMappingURL');
    }
  });
});
