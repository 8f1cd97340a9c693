import { defineConfig } from 'vitest/config';

// The test run Stryker mutates against (stryker.config.mjs): the unit tests of packages and services only —
// no system or browser tests, no service processes — on SQLite only, so no DynamoDB Local is started.
process.env.STORE_ADAPTERS ??= 'sqlite';

export default defineConfig({
  test: {
    include: ['packages/*/test/**/*.test.ts', 'services/*/test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 60_000,
    globalSetup: ['tests/setup/dynamodb-local.ts'],
  },
});
