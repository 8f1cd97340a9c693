// Bundles each service into services/<name>/dist/main.js. Our own packages (@dems/*) are bundled in;
// npm dependencies stay external and load from node_modules, as they do in the container images.
import { build } from 'esbuild';
import { readdirSync, existsSync } from 'node:fs';
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

const started = Date.now();
await Promise.all(
  services.map((name) =>
    build({
      entryPoints: [join(root, 'services', name, 'src', 'main.ts')],
      outfile: join(root, 'services', name, 'dist', 'main.js'),
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      sourcemap: true,
      logLevel: 'warning',
      plugins: [externalDependencies],
    }),
  ),
);
console.log(`built ${services.join(', ')} in ${Date.now() - started} ms`);
