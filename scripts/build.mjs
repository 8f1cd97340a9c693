// Bundles each service into services/<name>/dist/main.js. Our own packages (@dems/*) are bundled in;
// npm dependencies stay external and load from node_modules, as they do in the container images.
// Code splitting keeps each dynamic import() a separate file, and with it the imports of what it loads: main.ts
// starts tracing and only then imports the service (serve.ts), so the instrumented modules (http, the AWS SDK)
// load after their instrumentation is registered. One bundle would hoist every import above that first line.
import { build } from 'esbuild';
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

const root = fileURLToPath(new URL('..', import.meta.url));
const services = readdirSync(join(root, 'services')).filter((s) => existsSync(join(root, 'services', s, 'src', 'main.ts')));

const externalDependencies = {
  name: 'external-dependencies',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) => (args.path.startsWith('@dems/') ? undefined : { path: args.path, external: true }));
  },
};

/**
 * Chunk names carry a content hash, so every build adds files. Those of earlier builds go once they are a day old,
 * not at once: a process started from the previous build may still be about to import its own.
 */
function removeStaleChunks(dir) {
  if (!existsSync(dir)) return;
  const dayAgo = Date.now() - 24 * 3600_000;
  for (const file of readdirSync(dir)) {
    const path = join(dir, file);
    if (statSync(path).mtimeMs < dayAgo) rmSync(path, { force: true });
  }
}

const started = Date.now();
await Promise.all(
  services.map((name) => {
    removeStaleChunks(join(root, 'services', name, 'dist', 'chunks'));
    return build({
      entryPoints: [join(root, 'services', name, 'src', 'main.ts')],
      outdir: join(root, 'services', name, 'dist'),
      entryNames: '[name]',
      chunkNames: 'chunks/[name]-[hash]',
      splitting: true,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      sourcemap: true,
      logLevel: 'warning',
      plugins: [externalDependencies],
    });
  }),
);
console.log(`built ${services.join(', ')} in ${Date.now() - started} ms`);
