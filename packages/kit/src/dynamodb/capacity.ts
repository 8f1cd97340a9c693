import { appendFileSync } from 'node:fs';
import { DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';

/**
 * A diagnostic: with DYNAMODB_CAPACITY_LOG=<file> every DynamoDB call of the process asks for its consumed
 * capacity (ReturnConsumedCapacity=INDEXES) and appends one JSON line to the file saying what it cost and which
 * partition keys (of the table and of each index) it wrote. The capacity and key-distribution tests and the
 * bench read these lines (bench/lib/capacity-log.mjs); nothing in the request path depends on them.
 *
 * One line:
 *   { t, pid, op, kind, ms, consumed: [{ table, units, tableUnits, gsi: { Index: units } }],
 *     writes: [{ table, pk, bytes?, check?, gsi: { Index: pk value | null } }], failed?, error?, modelled? }
 * `t` is when the call was sent (epoch ms). A GSI value `null` means the write touched the index at a key the
 * request does not show (an Update that does not SET the index key, a Delete).
 */

export interface ConsumedEntry {
  table: string;
  /** Everything the call cost on this table and its indexes. */
  units: number;
  tableUnits: number;
  gsi: Record<string, number>;
}

export interface WriteEntry {
  table: string;
  /** The item's partition key value, as a string. */
  pk: string;
  /** Approximate DynamoDB size of a Put's item (attribute names + values). */
  bytes?: number;
  /** A ConditionCheck of a transaction: it costs write units on its partition but changes nothing. */
  check?: true;
  /** Index name → the index partition key value this write puts the item under (null: not visible in the request). */
  gsi: Record<string, string | null>;
}

export interface CapacityLine {
  t: number;
  pid: number;
  op: string;
  kind: 'read' | 'write';
  ms: number;
  consumed: ConsumedEntry[];
  writes: WriteEntry[];
  failed?: true;
  error?: string;
  modelled?: true;
}

const WRITE_OPS = new Set(['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem', 'TransactWriteItems']);
const READ_OPS = new Set(['GetItem', 'BatchGetItem', 'Query', 'Scan', 'TransactGetItems']);

type Attrs = Record<string, unknown>;
interface TableKeys {
  hash: string;
  /** Index name → its partition key attribute, and whether it copies more than the keys. */
  indexes: Record<string, { attr: string; keysOnly: boolean }>;
}

/**
 * Adds the capacity middleware to `client` when `env.DYNAMODB_CAPACITY_LOG` names a file; does nothing otherwise.
 * Document clients made from `client` share its middleware stack, so call it once per DynamoDBClient.
 */
export function instrumentCapacity(client: DynamoDBClient, env: Record<string, string | undefined> = process.env): void {
  const file = env.DYNAMODB_CAPACITY_LOG;
  if (!file) return;
  const tables = new Map<string, Promise<TableKeys | null>>();
  /** Our own DescribeTable calls: not logged (they are the instrument's cost, not the application's). */
  const own = new WeakSet<object>();

  const keysOf = (table: string): Promise<TableKeys | null> => {
    let known = tables.get(table);
    if (!known) {
      const input = { TableName: table };
      own.add(input);
      known = client.send(new DescribeTableCommand(input)).then(
        ({ Table }) => ({
          hash: Table?.KeySchema?.find((k) => k.KeyType === 'HASH')?.AttributeName ?? '',
          indexes: Object.fromEntries(
            (Table?.GlobalSecondaryIndexes ?? []).map((i) => [
              i.IndexName ?? '',
              { attr: i.KeySchema?.find((k) => k.KeyType === 'HASH')?.AttributeName ?? '', keysOnly: i.Projection?.ProjectionType === 'KEYS_ONLY' },
            ]),
          ),
        }),
        () => {
          tables.delete(table); // try again on the next call
          return null;
        },
      );
      tables.set(table, known);
    }
    return known;
  };

  const append = (line: CapacityLine) => {
    try {
      appendFileSync(file, `${JSON.stringify(line)}\n`);
    } catch {
      /* a diagnostic must never break a request */
    }
  };

  client.middlewareStack.add(
    (next, context) => async (args) => {
      const op = String(context.commandName ?? '').replace(/Command$/, '');
      const input = args.input as Attrs;
      const kind = WRITE_OPS.has(op) ? 'write' : READ_OPS.has(op) ? 'read' : null;
      if (!kind || own.has(input)) return next(args);
      const t = Date.now();
      let output: Attrs | undefined;
      let error: unknown;
      try {
        const result = await next({ ...args, input: { ...input, ReturnConsumedCapacity: 'INDEXES' } });
        output = result.output as unknown as Attrs;
        return result;
      } catch (err) {
        error = err;
        throw err;
      } finally {
        // Off the request path: the key schemas may need one DescribeTable per table the first time.
        void describeCall({ op, kind, t, ms: Date.now() - t, input, output, error }, keysOf).then(append, () => {});
      }
    },
    { step: 'initialize', name: 'demsCapacityLog', priority: 'low' },
  );
}

interface Call {
  op: string;
  kind: 'read' | 'write';
  t: number;
  ms: number;
  input: Attrs;
  output: Attrs | undefined;
  error: unknown;
}

/** The log line of one call. */
async function describeCall(call: Call, keysOf: (table: string) => Promise<TableKeys | null>): Promise<CapacityLine> {
  const items = writeItems(call.op, call.input);
  const writes: WriteEntry[] = [];
  const schemas = new Map<string, TableKeys | null>();
  for (const w of items) {
    const keys = schemas.get(w.table) ?? (await keysOf(w.table));
    schemas.set(w.table, keys);
    const source = w.item ?? w.key ?? {};
    const entry: WriteEntry = { table: w.table, pk: keys ? keyString(source[keys.hash]) : '?', gsi: {} };
    if (w.item) entry.bytes = itemBytes(w.item);
    if (w.check) entry.check = true;
    for (const [index, { attr }] of Object.entries(keys?.indexes ?? {})) {
      const value = w.item ? w.item[attr] : w.set?.[attr];
      if (value !== undefined) entry.gsi[index] = keyString(value);
      else if (w.touched?.includes(attr)) entry.gsi[index] = null;
    }
    writes.push(entry);
  }
  const line: CapacityLine = { t: call.t, pid: process.pid, op: call.op, kind: call.kind, ms: call.ms, consumed: consumedOf(call.output?.ConsumedCapacity), writes };
  if (call.error !== undefined) {
    line.failed = true;
    line.error = (call.error as Error | undefined)?.name ?? 'Error';
  }
  if (call.kind !== 'write' || !items.length) return line;
  const model = modelled(call.op, writes, schemas, call.error);
  if (model) {
    const merged = atLeast(line.consumed, model);
    if (JSON.stringify(merged) !== JSON.stringify(line.consumed)) line.modelled = true;
    line.consumed = merged;
  }
  return line;
}

/**
 * What AWS charges where DynamoDB Local reports less (null: trust the report).
 * - A successful transaction: AWS charges 2 WCU per started KB of every item (Put: its size; Update, Delete,
 *   ConditionCheck: 2, as this code base's items are ≤ 1 KB) and 2 for each index the item is put under
 *   (per started KB of the item when the index copies more than keys). DynamoDB Local reports a transaction's
 *   units per table, not per item (four small Puts on one table: 2), so the log keeps the larger of the two.
 * - A cancelled transaction (a false condition, a conflict) still costs its items as above, without index writes
 *   since nothing changed; DynamoDB Local reports nothing.
 * - A single conditional write whose condition is false costs 1 WCU (AWS charges the existing item's size, at
 *   least 1; ours are ≤ 1 KB); DynamoDB Local reports nothing.
 * - Single successful writes are reported correctly by DynamoDB Local; other failures (validation, throttling,
 *   a network error) cost nothing.
 */
function modelled(op: string, writes: WriteEntry[], schemas: Map<string, TableKeys | null>, error: unknown): ConsumedEntry[] | null {
  const name = (error as Error | undefined)?.name;
  const kb = (bytes: number | undefined) => Math.max(1, Math.ceil((bytes ?? 0) / 1024));
  if (op !== 'TransactWriteItems') {
    if (name !== 'ConditionalCheckFailedException') return null;
    return writes.map((w) => ({ table: w.table, units: 1, tableUnits: 1, gsi: {} }));
  }
  if (error !== undefined && name !== 'TransactionCanceledException') return null;
  const perTable = new Map<string, ConsumedEntry>();
  for (const w of writes) {
    const entry = perTable.get(w.table) ?? { table: w.table, units: 0, tableUnits: 0, gsi: {} };
    perTable.set(w.table, entry);
    entry.tableUnits += 2 * kb(w.bytes);
    if (error !== undefined) continue;
    for (const [index, value] of Object.entries(w.gsi)) {
      if (value === null) continue;
      const keysOnly = schemas.get(w.table)?.indexes[index]?.keysOnly ?? false;
      entry.gsi[index] = (entry.gsi[index] ?? 0) + 2 * (keysOnly ? 1 : kb(w.bytes));
    }
  }
  for (const entry of perTable.values()) entry.units = entry.tableUnits + Object.values(entry.gsi).reduce((a, b) => a + b, 0);
  return [...perTable.values()];
}

/** Per table and index, the larger of the reported and the modelled units. */
function atLeast(reported: ConsumedEntry[], model: ConsumedEntry[]): ConsumedEntry[] {
  const out = new Map(reported.map((c) => [c.table, { ...c, gsi: { ...c.gsi } }]));
  for (const m of model) {
    const c = out.get(m.table) ?? { table: m.table, units: 0, tableUnits: 0, gsi: {} };
    c.tableUnits = Math.max(c.tableUnits, m.tableUnits);
    for (const [index, units] of Object.entries(m.gsi)) c.gsi[index] = Math.max(c.gsi[index] ?? 0, units);
    c.units = c.tableUnits + Object.values(c.gsi).reduce((a, b) => a + b, 0);
    out.set(m.table, c);
  }
  return [...out.values()];
}

function consumedOf(value: unknown): ConsumedEntry[] {
  const list = (Array.isArray(value) ? value : value ? [value] : []) as Attrs[];
  return list.map((c) => {
    const gsi: Record<string, number> = {};
    for (const [name, v] of Object.entries((c.GlobalSecondaryIndexes ?? {}) as Record<string, { CapacityUnits?: number }>)) gsi[name] = v.CapacityUnits ?? 0;
    return { table: String(c.TableName), units: Number(c.CapacityUnits ?? 0), tableUnits: Number((c.Table as Attrs | undefined)?.CapacityUnits ?? 0), gsi };
  });
}

interface WriteItem {
  table: string;
  item?: Attrs;
  key?: Attrs;
  /** Attributes an Update SETs to a plain value (`SET #A = :v`): their new values. */
  set?: Attrs;
  /** Every attribute an Update SETs (to anything) or REMOVEs. */
  touched?: string[];
  check?: boolean;
}

function writeItems(op: string, input: Attrs): WriteItem[] {
  const one = (kind: string, body: Attrs): WriteItem => {
    const table = String(body.TableName);
    if (kind === 'Put') return { table, item: plain(body.Item as Attrs) };
    const key = plain(body.Key as Attrs);
    if (kind === 'Update') return { table, key, ...updatedAttributes(body) };
    return kind === 'ConditionCheck' ? { table, key, check: true } : { table, key };
  };
  switch (op) {
    case 'PutItem':
      return [one('Put', input)];
    case 'UpdateItem':
      return [one('Update', input)];
    case 'DeleteItem':
      return [one('Delete', input)];
    case 'TransactWriteItems':
      return ((input.TransactItems ?? []) as Attrs[]).flatMap((entry) =>
        Object.entries(entry)
          .filter(([, body]) => body)
          .map(([kind, body]) => one(kind, body as Attrs)),
      );
    case 'BatchWriteItem':
      return Object.entries((input.RequestItems ?? {}) as Record<string, Attrs[]>).flatMap(([TableName, requests]) =>
        requests.map((r) => (r.PutRequest ? one('Put', { TableName, ...(r.PutRequest as Attrs) }) : one('Delete', { TableName, ...(r.DeleteRequest as Attrs) }))),
      );
    default:
      return [];
  }
}

/** `SET #A = :v, B = if_not_exists(B, :w) REMOVE #C`: the attributes set to plain values, and every one touched. */
function updatedAttributes(body: Attrs): { set: Attrs; touched: string[] } {
  const names = (body.ExpressionAttributeNames ?? {}) as Record<string, string>;
  const values = plain((body.ExpressionAttributeValues ?? {}) as Attrs);
  // The top-level attribute of a path such as #a.#b or #l[0], with its name resolved.
  const attribute = (path: string) => {
    const head = path.trim().split(/[.[]/)[0] ?? '';
    return head.startsWith('#') ? (names[head] ?? head) : head;
  };
  const clauses = splitClauses(String(body.UpdateExpression ?? ''));
  const set: Attrs = {};
  const touched: string[] = [];
  for (const assignment of topLevel(clauses.SET ?? '')) {
    const [lhs = '', rhs = ''] = assignment.split('=').map((s) => s.trim());
    touched.push(attribute(lhs));
    if (/^:[A-Za-z0-9_]+$/.test(rhs)) set[attribute(lhs)] = values[rhs];
  }
  for (const path of topLevel(clauses.REMOVE ?? '')) touched.push(attribute(path));
  return { set, touched: touched.filter(Boolean) };
}

/** The clauses of an update expression by keyword. */
function splitClauses(expression: string): Record<string, string> {
  const out: Record<string, string> = {};
  // Keywords are reserved words, so an attribute can only be called SET etc. through a #name or :value.
  const parts = expression.split(/(?<![#:\w])(SET|REMOVE|ADD|DELETE)(?=\s)/i);
  for (let i = 1; i < parts.length; i += 2) out[parts[i]!.toUpperCase()] = (parts[i + 1] ?? '').trim();
  return out;
}

/** A clause's comma-separated actions, leaving commas inside function calls alone. */
function topLevel(clause: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of clause) {
    if (ch === ',' && depth === 0) {
      out.push(current);
      current = '';
      continue;
    }
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    current += ch;
  }
  if (current.trim()) out.push(current);
  return out.map((s) => s.trim()).filter(Boolean);
}

/** Input from a low-level command is in AttributeValue form ({ S: 'x' }); a document command's is plain. */
function plain(attrs: Attrs | undefined): Attrs {
  const out: Attrs = {};
  for (const [k, v] of Object.entries(attrs ?? {})) out[k] = unwrap(v);
  return out;
}

function unwrap(v: unknown): unknown {
  if (v && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Uint8Array)) {
    const entries = Object.entries(v as Attrs);
    if (entries.length === 1 && ['S', 'N', 'B', 'BOOL', 'NULL'].includes(entries[0]![0])) return entries[0]![1];
  }
  return v;
}

const keyString = (v: unknown): string => (v === undefined ? '?' : typeof v === 'string' ? v : JSON.stringify(v));

/**
 * DynamoDB's item size: attribute names plus values (strings and binaries by bytes, numbers ~1 byte per two
 * digits + 1, lists and maps 3 bytes + 1 per element). Close enough to tell 0.9 KB from 1.1 KB.
 */
export function itemBytes(item: Attrs): number {
  let n = 0;
  for (const [name, value] of Object.entries(item)) n += Buffer.byteLength(name) + valueBytes(value);
  return n;
}

function valueBytes(v: unknown): number {
  if (v === null || v === undefined || typeof v === 'boolean') return 1;
  if (typeof v === 'string') return Buffer.byteLength(v);
  if (typeof v === 'number' || typeof v === 'bigint') return Math.ceil(String(v).replace(/^-|\./g, '').length / 2) + 1;
  if (v instanceof Uint8Array) return v.byteLength;
  if (v instanceof Set) return [...v].reduce((s: number, x) => s + valueBytes(x), 0);
  if (Array.isArray(v)) return 3 + v.reduce((s: number, x) => s + 1 + valueBytes(x), 0);
  if (typeof v === 'object') return 3 + Object.entries(v as Attrs).reduce((s, [k, x]) => s + 1 + Buffer.byteLength(k) + valueBytes(x), 0);
  return 0;
}
