#!/usr/bin/env node
// `npm run db:create-tables`: creates the DynamoDB tables and indexes that do not exist yet, for every
// service, in the account/endpoint the environment points at (AWS_REGION, DYNAMODB_ENDPOINT, TABLE_PREFIX,
// credentials from the standard AWS chain). Idempotent. Production tables come from infrastructure code.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ensureReadyOrExit } from './lib/setup.mjs';
import { ROOT } from './lib/system.mjs';

ensureReadyOrExit();

const where = process.env.DYNAMODB_ENDPOINT ?? `AWS region ${process.env.AWS_REGION ?? 'us-east-1'}`;
console.log(`▸ Creating missing DynamoDB tables in ${where}${process.env.TABLE_PREFIX ? ` with prefix "${process.env.TABLE_PREFIX}"` : ''}…`);
let failed = false;
for (const service of ['events', 'ticketing', 'engagement']) {
  const res = spawnSync(process.execPath, [join(ROOT, 'services', service, 'dist', 'main.js'), '--create-tables'], {
    cwd: ROOT,
    stdio: 'inherit',
    // The secret is required by the services' configuration but unused here.
    env: { SERVICE_SECRET: 'table-bootstrap-needs-no-secret', ...process.env },
  });
  if (res.status !== 0) failed = true;
}
if (failed) {
  console.error('✖ Some tables could not be created; see above.');
  process.exit(1);
}
console.log('✔ DynamoDB tables are ready.');
