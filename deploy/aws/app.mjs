// The command cdk.json runs: bundles the TypeScript app (bin/dems.ts) with esbuild — our own workspace packages
// (@dems/*, TypeScript sources) go into the bundle, npm packages stay external and load from node_modules — then
// runs it. No TypeScript loader needed, on any Node the project supports. The bundle is per process (two synths
// at once do not share a file) and removed afterwards.
import { build } from 'esbuild';
import { rmSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = (path) => fileURLToPath(new URL(path, import.meta.url));
const bundle = here(`./dist/dems-${process.pid}.mjs`);

await build({
  entryPoints: [here('./bin/dems.ts')],
  outfile: bundle,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  logLevel: 'warning',
  plugins: [
    {
      name: 'npm-packages-external',
      setup(b) {
        b.onResolve({ filter: /^[^./]/ }, (args) => (args.path.startsWith('@dems/') ? undefined : { path: args.path, external: true }));
      },
    },
  ],
});
try {
  await import(pathToFileURL(bundle).href);
} finally {
  rmSync(bundle, { force: true });
}
