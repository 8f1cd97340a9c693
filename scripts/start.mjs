#!/usr/bin/env node
// `npm start`: install what is missing, build, start the four processes on embedded storage, print the URLs, and
// keep them running: a process that crashes is restarted (scripts/lib/supervisor.mjs); Ctrl-C stops everything.
//   npm start -- --no-demo      skip the demo data on a fresh data directory
//   npm start -- --store dynamodb   run on DynamoDB: DYNAMODB_ENDPOINT if set, else a DynamoDB Local started here
//   npm start -- --replicas 3   three processes of each service behind the gateway, sharing state through Redis
// GATEWAY_PORT, EVENTS_PORT, TICKETING_PORT, ENGAGEMENT_PORT (default 3000–3003), REDIS_PORT and DYNAMODB_LOCAL_PORT
// choose the ports; 0 lets the OS pick free ones (the URLs printed at the end say which).
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ensureReadyOrExit } from './lib/setup.mjs';
import { Supervisor } from './lib/supervisor.mjs';
import { DEFAULT_REDIS_PORT, DEFAULT_REPLICA_PORT_STEP, makePrivateDir, parseReplicas, ROOT, startSystem } from './lib/system.mjs';

// Everything started from here writes into the data directory (the services, DynamoDB Local): for this user only.
process.umask(0o077);

const USAGE = 'Usage: npm start [-- --no-demo] [--store sqlite|dynamodb] [--replicas 1-8]';
const args = process.argv.slice(2);
let store = process.env.STORE ?? 'sqlite';
let replicasArg = '1';
const unknown = [];
for (let i = 0; i < args.length; i++) {
  const a = /** @type {string} */ (args[i]);
  if (a === '--no-demo') continue;
  if (a === '--store' || a.startsWith('--store=')) {
    store = a === '--store' ? (args[++i] ?? '') : a.slice('--store='.length);
    continue;
  }
  if (a === '--replicas' || a.startsWith('--replicas=')) {
    replicasArg = a === '--replicas' ? (args[++i] ?? '') : a.slice('--replicas='.length);
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
let replicas;
try {
  replicas = parseReplicas(replicasArg);
} catch (err) {
  console.error(`✖ ${err.message} ${USAGE}`);
  process.exit(2);
}

/** A whole number from the environment within [min, max], or the default; anything else stops here naming the variable. */
function numberSetting(name, fallback, min, max, what) {
  const value = process.env[name];
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
    console.error(`✖ ${name} ("${value}") must be ${what} between ${min} and ${max}.`);
    process.exit(78);
  }
  return Number(value);
}
const ports = {};
for (const service of ['gateway', 'events', 'ticketing', 'engagement']) {
  const port = numberSetting(`${service.toUpperCase()}_PORT`, undefined, 0, 65535, 'a port number (0: any free one)');
  if (port !== undefined) ports[service] = port;
}
// Replica i of a service listens on its *_PORT + i × REPLICA_PORT_STEP; Redis (when started here) on REDIS_PORT.
const replicaPortStep = numberSetting('REPLICA_PORT_STEP', DEFAULT_REPLICA_PORT_STEP, 1, 10_000, 'a whole number');
const redisPort = numberSetting('REDIS_PORT', DEFAULT_REDIS_PORT, 0, 65535, 'a port number (0: any free one)');

const dataDir = makePrivateDir(resolve(ROOT, process.env.DATA_DIR ?? 'data'));
// Fresh means no data yet in the chosen storage (demo data goes only into an empty system).
const fresh = store === 'dynamodb' ? !process.env.DYNAMODB_ENDPOINT && !existsSync(join(dataDir, 'dynamodb')) : !readdirSync(dataDir).some((f) => f.endsWith('.db'));

ensureReadyOrExit();

/** @typedef {{ endpoint: string, stop: () => Promise<void>, child: import('node:child_process').ChildProcess }} DynamoLocal */
/** @type {DynamoLocal | undefined} */
let dynamoLocal;
/** @type {(() => Promise<DynamoLocal>) | undefined} */
let startDynamoLocal;
/** @type {Record<string, string>} */
const storeEnv = {};
if (store === 'dynamodb') {
  let endpoint = process.env.DYNAMODB_ENDPOINT;
  if (!endpoint) {
    let port = numberSetting('DYNAMODB_LOCAL_PORT', 8000, 0, 65535, 'a port number (0: any free one)');
    console.log(`▸ Starting DynamoDB Local${port ? ` on port ${port}` : ''} (data in ${join(dataDir, 'dynamodb')})…`);
    try {
      const { startDynamoDbLocal } = await import('./lib/dynamodb-local.mjs');
      startDynamoLocal = () => startDynamoDbLocal({ dataDir, port });
      dynamoLocal = await startDynamoLocal();
      // Restarted after a crash, it comes back where the services expect it.
      port = Number(new URL(dynamoLocal.endpoint).port);
      endpoint = dynamoLocal.endpoint;
    } catch (err) {
      console.error(`✖ ${err.message}`);
      process.exit(1);
    }
  }
  // Development convenience: each service creates its missing tables at start (npm run db:create-tables does the same).
  Object.assign(storeEnv, { STORE: 'dynamodb', DYNAMODB_ENDPOINT: endpoint, DYNAMODB_CREATE_TABLES: 'true' });
}

const replicaText = replicas > 1 ? `${replicas} replicas of each service, ` : '';
console.log(
  `▸ Starting services (${replicaText}${store === 'dynamodb' ? `DynamoDB at ${storeEnv.DYNAMODB_ENDPOINT}` : 'SQLite'}; data in ${dataDir}, logs in ${join(dataDir, 'logs')})…`,
);
let system;
try {
  system = await startSystem({ dataDir, ports, env: storeEnv, replicas, replicaPortStep, redisPort });
} catch (err) {
  await dynamoLocal?.stop();
  console.error(`✖ ${err.message}`);
  process.exit(1);
}

// A process that stops unexpectedly is restarted; a crash loop stops everything, with the report.
const supervisor = new Supervisor({ onGiveUp: () => void stop(1) });
for (const [instance, proc] of system.running) supervisor.watch(instance, proc, () => system.start(instance));
// DynamoDB Local keeps its data on disk: a restarted one serves the same tables, and the AWS SDK retries meanwhile.
if (dynamoLocal && startDynamoLocal) {
  const start = startDynamoLocal;
  supervisor.watch('DynamoDB Local', dynamoLocal, async () => {
    const restarted = await start();
    dynamoLocal = restarted;
    if (supervisor.stopped) await restarted.stop();
    return restarted;
  });
}

let stopping = false;
async function stop(code = 0) {
  if (stopping) return;
  stopping = true;
  supervisor.stop();
  console.log('\n▸ Stopping…');
  await system.stopAll();
  // DynamoDB Local last: the services finish their requests against it first.
  await dynamoLocal?.stop();
  console.log('✔ Stopped.');
  process.exit(code);
}
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());

let demo = '';
if (fresh && !args.includes('--no-demo')) {
  try {
    const d = await seedDemo(system.urls.gateway, dataDir);
    demo = `\n  Demo organizer:   ${d.email} / ${d.password}   (also in ${join(dataDir, 'demo-credentials.txt')})\n  Demo events:      ${d.events} upcoming events with ticket types\n`;
  } catch (err) {
    console.error(`! Could not create the demo data: ${err.message}`);
  }
} else {
  const saved = (await import('./lib/demo.mjs')).savedDemoCredentials(dataDir);
  if (saved) demo = `\n  Demo organizer:   ${saved}\n`;
}

const u = system.upstreams;
const docs = (urls) => urls.map((x) => `${x}/docs`).join('  ');
const redisLine = system.redis ? `  Shared state       Redis at ${system.redis.url}${system.redis.local ? ' (redis-server started here; nothing is kept on disk)' : ''}\n` : '';
const keyLine =
  replicas > 1
    ? `  Signing key        ${system.signingKeySource === 'JWT_SIGNING_KEY' ? 'from JWT_SIGNING_KEY' : `from ${system.signingKeySource}`}, the same for every engagement replica\n`
    : '';
console.log(`
✔ DEMS is running${replicas > 1 ? ` with ${replicas} replicas of each service` : ''}.

  Web app and API:  ${u.gateway[0]}            (API under ${u.gateway[0]}/api, e.g. ${u.gateway[0]}/api/events)
  Event Registration ${docs(u.events)}
  Ticketing          ${docs(u.ticketing)}
  User Engagement    ${docs(u.engagement)}
${store === 'dynamodb' ? `  Storage            DynamoDB at ${storeEnv.DYNAMODB_ENDPOINT}${dynamoLocal ? ` (DynamoDB Local, data in ${join(dataDir, 'dynamodb')})` : ''}\n` : ''}${redisLine}${keyLine}${demo}
  Press Ctrl-C to stop. A process that crashes is restarted; the others keep serving.
`);

async function seedDemo(...a) {
  return (await import('./lib/demo.mjs')).seedDemo(...a);
}
