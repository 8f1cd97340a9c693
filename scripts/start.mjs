#!/usr/bin/env node
// `npm start`: install what is missing, build, start the four processes on embedded storage, print the URLs.
//   npm start -- --no-demo      skip the demo data on a fresh data directory
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ensureBuilt, ensureInstalled } from './lib/setup.mjs';
import { ROOT, startSystem } from './lib/system.mjs';

const args = process.argv.slice(2);
const unknown = args.filter((a) => !['--no-demo'].includes(a));
if (unknown.length) {
  console.error(`Unknown option ${unknown.join(' ')}. Usage: npm start [-- --no-demo]`);
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

const dataDir = resolve(ROOT, process.env.DATA_DIR ?? 'data');
mkdirSync(dataDir, { recursive: true });
const fresh = !readdirSync(dataDir).some((f) => f.endsWith('.db'));

try {
  ensureInstalled();
  ensureBuilt();
} catch (err) {
  console.error(`✖ ${err.message}`);
  process.exit(1);
}

console.log(`▸ Starting services (data in ${dataDir}, logs in ${join(dataDir, 'logs')})…`);
let system;
try {
  system = await startSystem({ dataDir, ports });
} catch (err) {
  console.error(`✖ ${err.message}`);
  process.exit(1);
}

let stopping = false;
async function stop(code = 0) {
  if (stopping) return;
  stopping = true;
  console.log('\n▸ Stopping…');
  await system.stopAll();
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
${demo}
  Press Ctrl-C to stop.
`);

async function seedDemo(...a) {
  return (await import('./lib/demo.mjs')).seedDemo(...a);
}
