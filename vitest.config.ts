import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'node',
          include: ['packages/*/test/**/*.test.ts', 'services/*/test/**/*.test.ts', 'tests/system/**/*.test.ts', 'tests/faults/**/*.test.ts', 'tests/browser/**/*.test.ts', 'tests/deploy/**/*.test.ts', 'deploy/aws/test/**/*.test.ts'],
          testTimeout: 20_000,
          hookTimeout: 120_000,
          pool: 'forks',
          // System and browser tests start real processes on fixed ports; run files one at a time so they never collide.
          fileParallelism: false,
          // DynamoDB Local, started once for the whole run (the DynamoDB store suites and system tests use it).
          globalSetup: ['tests/setup/dynamodb-local.ts'],
        },
      },
      {
        // The web app's own Vite config: its React plugin and its `@/` alias, declared once there.
        extends: './web/vite.config.ts',
        test: {
          name: 'web',
          include: ['web/src/**/*.test.{ts,tsx}'],
          environment: 'jsdom',
          setupFiles: ['web/src/test/setup.ts'],
        },
      },
    ],
  },
});
