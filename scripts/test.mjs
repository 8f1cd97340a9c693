#!/usr/bin/env node
// `npm test`: install, build, type-check, lint, then run every test (unit, route, store, system).
// Ends with one line `tests: N passed, N failed[, N skipped]` counting every test run; type-check and lint
// failures are counted as failed tests too, so the line never hides a red step.
//   npm test -- <vitest filters>    run only matching test files (install/build/checks still run)
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ensureBuilt, ensureInstalled, run } from './lib/setup.mjs';
import { ROOT } from './lib/system.mjs';

const filters = process.argv.slice(2);
let passed = 0;
let failed = 0;
let skipped = 0;
const failures = [];

function finish() {
  if (failures.length) console.log(`\nFailed: ${failures.join(', ')}`);
  console.log(`tests: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
  process.exit(failed > 0 || passed === 0 ? 1 : 0);
}

try {
  ensureInstalled();
  ensureBuilt({ force: true });
} catch (err) {
  console.error(`✖ ${err.message}`);
  failed++;
  failures.push('setup');
  finish();
}

const bin = (name) => join(ROOT, 'node_modules', '.bin', name);
for (const [label, cmd, args] of [
  ['type-check', bin('tsc'), ['-p', 'tsconfig.json', '--noEmit']],
  ...(existsSync(join(ROOT, 'web', 'tsconfig.json')) ? [['type-check web', bin('tsc'), ['-p', 'web/tsconfig.json', '--noEmit']]] : []),
  // scripts/ and bench/ are JavaScript, checked with their JSDoc types (tsconfig.scripts.json).
  ['type-check scripts', bin('tsc'), ['-p', 'tsconfig.scripts.json', '--noEmit']],
  ['lint', bin('eslint'), ['.', '--max-warnings=0']],
  // Layout is Prettier's (docs/adr/016); `npm run format` fixes what this finds.
  ['format', bin('prettier'), ['--check', '.', '--log-level=warn']],
]) {
  if (!run(cmd, args, `${label}…`)) {
    failed++;
    failures.push(label);
  }
}

const resultsDir = join(ROOT, 'test-results');
rmSync(resultsDir, { recursive: true, force: true });
mkdirSync(resultsDir, { recursive: true });
const jsonFile = join(resultsDir, 'vitest.json');
run(bin('vitest'), ['run', '--reporter=default', '--reporter=json', `--outputFile.json=${jsonFile}`, ...filters], 'tests…');
try {
  const report = JSON.parse(readFileSync(jsonFile, 'utf8'));
  passed += report.numPassedTests;
  failed += report.numFailedTests;
  skipped += report.numPendingTests + (report.numTodoTests ?? 0);
  // A file that fails to load has no tests to count; it still must not pass silently.
  for (const file of report.testResults ?? []) {
    if (file.status === 'failed' && file.assertionResults.length === 0) {
      failed++;
      failures.push(file.name.replace(ROOT, ''));
    }
  }
  if (report.numFailedTests) failures.push(`${report.numFailedTests} test(s), listed above`);
} catch {
  failed++;
  failures.push('vitest (no report was written)');
}
finish();
