#!/usr/bin/env node
// `npm start`: install what is missing, build, start the four processes on embedded storage, print the URLs.
//   npm start -- --no-demo      skip the demo data on a fresh data directory
//   npm start -- --store dynamodb   run on DynamoDB: DYNAMODB_ENDPOINT if set, else a DynamoDB Local started here
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ensureBuilt, ensureInstalled } from './lib/setup.mjs';
import { makePrivateDir, ROOT, startSystem } from './lib/system.mjs';

// Everything started from here writes into the data directory (the services, DynamoDB Local): for this user only.
process.umask(0o077);

const USAGE = 'Usage: npm start [-- --no-demo] [--store sqlite|dynamodb]';
const args = process.argv.slice(2);
let store = process.env.STORE ?? 'sqlite';
const unknown = [];
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  if (a === '--no-demo') continue;
  if (a === '--store' || a.startsWith('--store=')) {
    store = a === '--store' ? (args[++i] ?? '') : a.slice('--store='.length);
    continue;
  }
  unknown.push(a);
}
if (unknown.length) {
  console.error(`Unknown option ${unknown.join(' ')}. ${USAGE}`);
  process.exit(2);
}
if (!['sqlite', 'dynamodb'].includes(store)) {
  console.error(`✖ --store must be sqlite or dynamodb (got "${store}"). ${USAGE}`);
  process.exit(2);
}

const ports = {};
for (const service of ['gateway', 'events', 'ticketing', 'engagement']) {
  const name = `${service.toUpperCase()}_PORT`;
  const value = process.env[name];
  if (value === undefined) continue;
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > 65535) {
    console.error(`✖ ${name} ("${value}") must be a port number between 1 and 65535.`);
    process.exit(78);
  }
  ports[service] = Number(value);
}

const dataDir = makePrivateDir(resolve(ROOT, process.env.DATA_DIR ?? 'data'));
// Fresh means no data yet in the chosen storage (demo data goes only into an empty system).
const fresh =
  store === 'dynamodb'
    ? !process.env.DYNAMODB_ENDPOINT && !existsSync(join(dataDir, 'dynamodb'))
    : !readdirSync(dataDir).some((f) => f.endsWith('.db'));

try {
  ensureInstalled();
  ensureBuilt();
} catch (err) {
  console.error(`✖ ${err.message}`);
  process.exit(1);
}

/** @type {{ endpoint: string, stop: () => Promise<void>, child: import('node:child_process').ChildProcess } | undefined} */
let dynamoLocal;
const storeEnv = {};
if (store === 'dynamodb') {
  let endpoint = process.env.DYNAMODB_ENDPOINT;
  if (!endpoint) {
    const port = Number(process.env.DYNAMODB_LOCAL_PORT ?? 8000);
    console.log(`▸ Starting DynamoDB Local on port ${port} (data in ${join(dataDir, 'dynamodb')})…`);
    try {
      const { startDynamoDbLocal } = await import('./lib/dynamodb-local.mjs');
      dynamoLocal = await startDynamoDbLocal({ dataDir, port });
      endpoint = dynamoLocal.endpoint;
    } catch (err) {
      console.error(`✖ ${err.message}`);
      process.exit(1);
    }
  }
  // Development convenience: each service creates its missing tables at start (npm run db:create-tables does the same).
  Object.assign(storeEnv, { STORE: 'dynamodb', DYNAMODB_ENDPOINT: endpoint, DYNAMODB_CREATE_TABLES: 'true' });
}

console.log(`▸ Starting services (${store === 'dynamodb' ? `DynamoDB at ${storeEnv.DYNAMODB_ENDPOINT}` : 'SQLite'}; data in ${dataDir}, logs in ${join(dataDir, 'logs')})…`);
let system;
try {
  system = await startSystem({ dataDir, ports, env: storeEnv });
} catch (err) {
  await dynamoLocal?.stop();
  console.error(`✖ ${err.message}`);
  process.exit(1);
}

let stopping = false;
async function stop(code = 0) {
  if (stopping) return;
  stopping = true;
  console.log('\n▸ Stopping…');
  await system.stopAll();
  // DynamoDB Local last: the services finish their requests against it first.
  await dynamoLocal?.stop();
  console.log('✔ Stopped.');
  process.exit(code);
}
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
for (const [instance, proc] of system.running) {
  proc.child.on('exit', (code) => {
    if (stopping) return;
    console.error(`✖ ${instance} stopped unexpectedly (exit code ${code}); see ${proc.logFile}. Stopping everything.`);
    void stop(1);
  });
}
dynamoLocal?.child.on('exit', (code) => {
  if (stopping) return;
  console.error(`✖ DynamoDB Local stopped unexpectedly (exit code ${code}). Stopping everything.`);
  void stop(1);
});

let demo = '';
if (fresh && !args.includes('--no-demo')) {
  try {
    const d = await seedDemo(system.urls.gateway, dataDir);
    demo = `\n  Demo organizer:   ${d.email} / ${d.password}   (also in ${join(dataDir, 'demo-credentials.txt')})\n  Demo events:      ${d.events} upcoming events with ticket types\n`;
  } catch (err) {
    console.error(`! Could not create the demo data: ${err.message}`);
  }
} else if (existsSync(join(dataDir, 'demo-credentials.txt'))) {
  demo = `\n  Demo organizer:   ${readFileSync(join(dataDir, 'demo-credentials.txt'), 'utf8').trim().replace('\n', ' / ').replace(/email: |password: /g, '')}\n`;
}

const u = system.urls;
console.log(`
✔ DEMS is running.

  Web app and API:  ${u.gateway}            (API under ${u.gateway}/api, e.g. ${u.gateway}/api/events)
  Event Registration ${u.events}/docs
  Ticketing          ${u.ticketing}/docs
  User Engagement    ${u.engagement}/docs
${store === 'dynamodb' ? `  Storage            DynamoDB at ${storeEnv.DYNAMODB_ENDPOINT}${dynamoLocal ? ` (DynamoDB Local, data in ${join(dataDir, 'dynamodb')})` : ''}\n` : ''}${demo}
  Press Ctrl-C to stop.
`);

async function seedDemo(...a) {
  return (await import('./lib/demo.mjs')).seedDemo(...a);
}
