// @ts-check
/**
 * Mutation testing (`npm run test:mutation`): do the unit tests notice when the logic is wrong? Code is chosen by
 * its role — contracts, domain rules, use cases, message handlers, messaging, identity — never adapters or routes
 * (their tests are the store contract suites and system tests, which need real stores and processes).
 * Incremental: the committed report lets a run re-test only the mutants a change touches.
 * @type {import('@stryker-mutator/api/core').PartialStrykerOptions}
 */
export default {
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.mutation.config.ts' },
  plugins: ['@stryker-mutator/vitest-runner'],
  // The contracts have their own run (stryker.contracts.config.mjs).
  mutate: [
    'packages/kit/src/messaging/**/*.ts',
    'services/*/src/domain/**/*.ts',
    'services/*/src/use-cases/**/*.ts',
    'services/*/src/messages/**/*.ts',
    'services/engagement/src/identity/**/*.ts',
  ],
  coverageAnalysis: 'perTest',
  // A static mutant (a module-level value) can only be tested by re-running every test, ~30 s each here. The
  // contracts, where almost all of them live, have their own run where that costs a second.
  ignoreStatic: true,
  concurrency: 2,
  timeoutMS: 10_000,
  thresholds: { high: 90, low: 85, break: 85 },
  incremental: true,
  incrementalFile: 'reports/stryker-incremental.json',
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/index.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  clearTextReporter: { allowColor: false, logTests: false, reportScoreTable: true },
  ignorePatterns: ['data', 'test-results', 'web/dist', 'reports', 'bench/results', '**/dist'],
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
};
