// @ts-check
import base from './stryker.config.mjs';

/**
 * The contracts (zod schemas, messages, error codes, the authorization matrix) checked by their own tests.
 * Most of their mutants are static (module-level schemas), which the main run leaves out for time; here each
 * costs the contracts tests only, about a second. Part of `npm run test:mutation`.
 * @type {import('@stryker-mutator/api/core').PartialStrykerOptions}
 */
export default {
  ...base,
  vitest: { configFile: 'vitest.mutation.contracts.config.ts' },
  mutate: ['packages/contracts/src/**/*.ts'],
  ignoreStatic: false,
  incrementalFile: 'reports/stryker-contracts-incremental.json',
  htmlReporter: { fileName: 'reports/mutation/contracts.html' },
  jsonReporter: { fileName: 'reports/mutation/contracts.json' },
  tempDirName: '.stryker-tmp-contracts',
};
