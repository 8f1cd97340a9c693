// Reading the DynamoDB capacity log (DYNAMODB_CAPACITY_LOG, written by packages/kit/src/dynamodb/capacity.ts):
// write units per window, per table and index, per partition key. Used by the DynamoDB bench row and by
// tests/system/dynamodb-capacity.test.ts and dynamodb-keys.test.ts.
import { existsSync, readFileSync } from 'node:fs';

/**
 * @typedef {{ table: string, units: number, tableUnits: number, gsi: Record<string, number> }} Consumed
 * @typedef {{ table: string, pk: string, bytes?: number, check?: true, gsi: Record<string, string | null> }} Write
 * @typedef {{ t: number, pid: number, op: string, kind: 'read' | 'write', ms: number, consumed: Consumed[],
 *             writes: Write[], failed?: true, error?: string, modelled?: true }} Line
 */

/**
 * Every complete line of the log, oldest first; `from`/`to` (epoch ms, inclusive) keep the calls sent in between.
 * @param {string} file
 * @param {{ from?: number, to?: number }} [window]
 * @returns {Line[]}
 */
export function readCapacityLog(file, { from = -Infinity, to = Infinity } = {}) {
  if (!existsSync(file)) return [];
  /** @type {Line[]} */
  const lines = [];
  for (const text of readFileSync(file, 'utf8').split('\n')) {
    if (!text) continue;
    try {
      const line = JSON.parse(text);
      if (line.t >= from && line.t <= to) lines.push(line);
    } catch {
      /* a line still being written by another process */
    }
  }
  return lines.sort((a, b) => a.t - b.t);
}

/** Table names without the environment's prefix, so a report reads `Tickets`, not `t1x2_system_Tickets`. */
const bare = (/** @type {string} */ table, /** @type {string} */ prefix) => (prefix && table.startsWith(prefix) ? table.slice(prefix.length) : table);

/**
 * Write units of the write calls (failed ones included, as AWS charges them), in total and per table and index.
 * @param {Line[]} lines
 * @param {string} [prefix] the TABLE_PREFIX to strip from names
 */
export function writeUnits(lines, prefix = '') {
  /** @type {Record<string, { units: number, table: number, gsi: Record<string, number>, calls: number, modelled: number }>} modelled: how many of the calls */
  const tables = {};
  let total = 0;
  for (const line of lines) {
    if (line.kind !== 'write') continue;
    for (const c of line.consumed) {
      const name = bare(c.table, prefix);
      const t = (tables[name] ??= { units: 0, table: 0, gsi: {}, calls: 0, modelled: 0 });
      t.units += c.units;
      t.table += c.tableUnits;
      for (const [index, units] of Object.entries(c.gsi)) t.gsi[index] = (t.gsi[index] ?? 0) + units;
      t.calls += 1;
      if (line.modelled) t.modelled += 1;
      total += c.units;
    }
  }
  return { total, tables };
}

/** How many read calls there were and the read units they consumed. */
export function readCalls(/** @type {Line[]} */ lines) {
  const reads = lines.filter((l) => l.kind === 'read');
  return { calls: reads.length, units: reads.reduce((n, l) => n + l.consumed.reduce((m, c) => m + c.units, 0), 0) };
}

/**
 * Write units per partition key, and how many calls wrote it: `Table:pk` for a table's key, `Table.Index:pk` for
 * an index's. A call's units on a table are shared among the items it wrote there (a Put by its started
 * kilobytes, other writes 1 each); its units on an index among the writes that put an item under that index
 * (`?` when the request does not show the key, e.g. a Delete).
 * @param {Line[]} lines
 * @param {string} [prefix]
 * @returns {Map<string, { units: number, writes: number }>}
 */
export function keyUnits(lines, prefix = '') {
  /** @type {Map<string, { units: number, writes: number }>} */
  const keys = new Map();
  const add = (/** @type {string} */ key, /** @type {number} */ units) => {
    const k = keys.get(key) ?? { units: 0, writes: 0 };
    k.units += units;
    k.writes += 1;
    keys.set(key, k);
  };
  for (const line of lines) {
    if (line.kind !== 'write') continue;
    for (const c of line.consumed) {
      const name = bare(c.table, prefix);
      const writes = line.writes.filter((w) => w.table === c.table);
      const weight = (/** @type {Write} */ w) => (w.bytes === undefined ? 1 : Math.max(1, Math.ceil(w.bytes / 1024)));
      const sum = writes.reduce((n, w) => n + weight(w), 0);
      if (sum === 0) add(`${name}:?`, c.tableUnits);
      for (const w of writes) add(`${name}:${w.pk}`, (c.tableUnits * weight(w)) / sum);
      for (const [index, units] of Object.entries(c.gsi)) {
        const under = writes.filter((w) => index in w.gsi);
        if (under.length === 0) add(`${name}.${index}:?`, units);
        for (const w of under) add(`${name}.${index}:${w.gsi[index] ?? '?'}`, units / under.length);
      }
    }
  }
  return keys;
}

/**
 * A per-table breakdown as printable lines: `Tickets  6 (table 4, ByUser 2)  3 calls`.
 * @param {ReturnType<typeof writeUnits>['tables']} tables
 */
export function breakdown(tables) {
  return Object.entries(tables)
    .sort(([, a], [, b]) => b.units - a.units)
    .map(([name, t]) => {
      const parts = [`table ${round(t.table)}`, ...Object.entries(t.gsi).map(([i, u]) => `${i} ${round(u)}`)];
      return `${name.padEnd(28)} ${String(round(t.units)).padStart(5)}  (${parts.join(', ')})  ${t.calls} call${t.calls === 1 ? '' : 's'}${t.modelled ? ` (${t.modelled} modelled: DynamoDB Local reports less)` : ''}`;
    });
}

const round = (/** @type {number} */ x) => Math.round(x * 100) / 100;

/**
 * The settings that run a DEMS process on DynamoDB with every call logged to `log` (tables created at start,
 * under their own prefix).
 * @param {{ endpoint: string, tablePrefix: string, log: string }} options
 */
export const dynamoCapacityEnv = ({ endpoint, tablePrefix, log }) => ({
  STORE: 'dynamodb',
  DYNAMODB_ENDPOINT: endpoint,
  TABLE_PREFIX: tablePrefix,
  DYNAMODB_CREATE_TABLES: 'true',
  DYNAMODB_CAPACITY_LOG: log,
});

/**
 * Messages waiting in a service's outbox, every subscriber summed, from its /metrics (`dems_outbox_pending`):
 * 0 means everything it published has been delivered and applied.
 * @param {string} serviceUrl e.g. http://127.0.0.1:3002
 */
export async function outboxPending(serviceUrl) {
  const text = await (await fetch(`${serviceUrl}/metrics`)).text();
  return [...text.matchAll(/^dems_outbox_pending\{[^}]*\} (\d+(?:\.\d+)?)$/gm)].reduce((n, m) => n + Number(m[1]), 0);
}
