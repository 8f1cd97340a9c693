import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Test files run side by side: every process a test starts listens on a port the OS picks, so none collide.
    // A system test runs four or more processes of its own, so two files at a time (one per core of CI's machine);
    // `--maxWorkers` overrides it on a larger machine.
    maxWorkers: 2,
    projects: [
      {
        test: {
          name: 'node',
          include: [
            'packages/*/test/**/*.test.ts',
            'services/*/test/**/*.test.ts',
            'tests/system/**/*.test.ts',
            'tests/faults/**/*.test.ts',
            'tests/browser/**/*.test.ts',
            'tests/deploy/**/*.test.ts',
            'deploy/aws/test/**/*.test.ts',
          ],
          // Modest, so that a hung test fails soon; what is slow by nature (real processes, DynamoDB Local) sets its
          // own timeout where it is (tests/setup/timeouts.ts).
          testTimeout: 20_000,
          hookTimeout: 60_000,
          pool: 'forks',
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
