#!/usr/bin/env node
// `npm run bench`: starts the real services (embedded SQLite, fresh data directory) and two baseline servers,
// runs the scenarios after a warm-up, prints a table and writes bench/results/latest.{md,json,svg}.
//
//   npm run bench                               every scenario, 5 s runs, 100 connections, median of 3
//   npm run bench -- --quick                    under a minute: short runs, a small crowd (the npm test smoke check)
//   npm run bench -- --scenarios hot-sale,durable --duration 10 --connections 200 --runs 5
//   npm run bench -- --scenarios hot-sale --cpu-prof   services write CPU profiles to bench/results/profiles
//   npm run bench -- soak [--duration 600 --replicas 2 …]   memory and open files under 10 minutes of mixed load (lib/soak.mjs)
//   options: --crowd N (flash crowd connections, default 10000) --clients N (fan-out sockets, default 2000)
//            --port-base P (default 4600; uses P…P+15; 0: ports the OS picks; DynamoDB Local always on one the OS picks)
//            --out DIR (default bench/results)
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ensureBuilt } from '../scripts/lib/setup.mjs';
import { ROOT } from '../scripts/lib/system.mjs';
import { startBench } from './lib/dems.mjs';
import { markdown, printTable, svg } from './lib/report.mjs';
import { baselines, SCENARIOS } from './lib/scenarios.mjs';

// Ten thousand sockets need more open files than the usual soft limit of 1,024. Raise it as far as the hard limit
// allows, by re-running this script under `ulimit -n`; every process started from here inherits it.
if (!process.env.DEMS_BENCH_ULIMIT) {
  const res = spawnSync(
    'bash',
    ['-c', 'ulimit -n 65535 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$0" "$@"', process.execPath, ...process.execArgv, ...process.argv.slice(1)],
    { stdio: 'inherit', env: { ...process.env, DEMS_BENCH_ULIMIT: '1' } },
  );
  if (res.error) console.error(`Could not raise the open-files limit (${res.error.message}); run \`ulimit -n 65535\` yourself.`);
  else process.exit(res.status ?? 1);
}

// `npm run bench -- soak …`: the long leak check, with options of its own (bench/lib/soak.mjs).
if (process.argv[2] === 'soak') {
  const { main } = await import('./lib/soak.mjs');
  process.exit(await main(process.argv.slice(3)));
}

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    scenarios: { type: 'string' },
    duration: { type: 'string' },
    connections: { type: 'string' },
    runs: { type: 'string' },
    crowd: { type: 'string' },
    clients: { type: 'string' },
    'port-base': { type: 'string', default: '4600' },
    out: { type: 'string', default: join(ROOT, 'bench', 'results') },
    'no-build': { type: 'boolean', default: false },
    'cpu-prof': { type: 'boolean', default: false },
  },
});

const quick = values.quick;
const o = {
  duration: Number(values.duration ?? (quick ? 0.5 : 5)),
  warmup: quick ? 0.25 : 2,
  connections: Number(values.connections ?? (quick ? 20 : 100)),
  runs: Math.max(1, Number(values.runs ?? 3)),
  /** Runs of the scenarios that restart processes or open thousands of sockets; --quick does those once. */
  heavyRuns: Math.max(1, Number(values.runs ?? (quick ? 1 : 3))),
  crowd: Number(values.crowd ?? (quick ? 300 : 10_000)),
  clients: Number(values.clients ?? (quick ? 40 : 2_000)),
  fanoutConcurrency: quick ? 10 : 50,
};
const chosen = (values.scenarios ?? Object.keys(SCENARIOS).join(','))
  .split(',')
  .map((s) => s.trim())
  .filter(Boolean);
const unknown = chosen.filter((s) => !(s in SCENARIOS));
if (unknown.length) {
  console.error(`Unknown scenario(s): ${unknown.join(', ')}. Choose from: ${Object.keys(SCENARIOS).join(', ')}.`);
  process.exit(2);
}

const openFiles = spawnSync('bash', ['-c', 'ulimit -n'], { encoding: 'utf8' }).stdout.trim();
if (chosen.includes('flash-crowd') && Number(openFiles) < o.crowd + 1000) {
  console.warn(`! The open-files limit is ${openFiles}; a crowd of ${o.crowd} needs about ${o.crowd + 1000}. Raise it (ulimit -n) or pass --crowd.`);
}

if (!values['no-build']) ensureBuilt();
const machine = {
  cpus: cpus().length,
  model: (readFileSync('/proc/cpuinfo', 'utf8').match(/model name\s*:\s*(.*)/)?.[1] ?? cpus()[0]?.model ?? 'unknown CPU').trim(),
  memGb: Math.round(totalmem() / 2 ** 30),
};
const optionText =
  `--scenarios ${chosen.join(',')} --duration ${o.duration} --connections ${o.connections} --runs ${o.runs}` +
  `${chosen.includes('flash-crowd') ? ` --crowd ${o.crowd}` : ''}${chosen.includes('fan-out') ? ` --clients ${o.clients}` : ''}${quick ? ' (--quick)' : ''}`;
console.log(`DEMS bench: ${machine.cpus}× ${machine.model}; open files ${openFiles}; ${optionText}`);

const startedAt = new Date();
const t0 = performance.now();
// --cpu-prof: every service writes a V8 CPU profile when it stops (read them with bench/profile-summary.mjs).
const profileDir = join(values.out, 'profiles');
const bench = await startBench({
  portBase: Number(values['port-base']),
  env: values['cpu-prof']
    ? { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import=${join(ROOT, 'bench', 'lib', 'cpu-profile.mjs')}`.trim(), DEMS_PROFILE_DIR: profileDir }
    : {},
});
const rows = [];
const checks = [];
let failure;
try {
  const step = (name) => console.log(`▸ ${name} (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
  step('baselines');
  const base = await baselines(bench, o);
  rows.push(...base.rows);
  checks.push(...base.checks);
  for (const name of chosen) {
    step(name);
    const result = await SCENARIOS[name](bench, o, base);
    rows.push(...result.rows);
    checks.push(...result.checks);
  }
} catch (err) {
  failure = err;
  checks.push({ scenario: 'harness', check: 'the benchmark ran to the end', ok: false, detail: err instanceof Error ? err.message : String(err) });
} finally {
  await bench.stop();
}

const seconds = (performance.now() - t0) / 1000;
printTable(rows, checks);
mkdirSync(values.out, { recursive: true });
const title = `DEMS bench ${startedAt.toISOString().slice(0, 16)}Z · ${machine.cpus}× ${machine.model}`;
writeFileSync(join(values.out, 'latest.md'), markdown({ rows, checks, machine, options: optionText, startedAt: startedAt.toISOString(), seconds }));
writeFileSync(join(values.out, 'latest.svg'), svg(rows, title));
writeFileSync(join(values.out, 'latest.json'), `${JSON.stringify({ startedAt, seconds, machine, options: { ...o, scenarios: chosen, quick }, rows, checks }, null, 2)}\n`);
console.log(`\nwrote ${join(values.out, 'latest.md')} (+ .svg, .json) in ${seconds.toFixed(0)} s`);
if (failure) console.error(failure);
process.exit(checks.every((c) => c.ok) ? 0 : 1);
