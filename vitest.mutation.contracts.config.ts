import { defineConfig } from 'vitest/config';

// The contracts' own tests, for stryker.contracts.config.mjs: schemas are module-level values, so each of their
// mutants re-runs every test it could affect — here that is these fast tests, not the whole unit suite.
export default defineConfig({
  test: { include: ['packages/contracts/test/**/*.test.ts'] },
});
