// Transactions on a real SQLite file: batchStep (one step of a batch in its own SAVEPOINT, and what happens when a
// step's error ends the whole transaction) and openSqlite's in-memory temporary storage, in a process that has
// no writable temporary directory at all (a read-only /tmp and /var/tmp in a mount namespace of its own).
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { batchStep, openSqlite, type SqliteDb } from '../src/sqlite.js';
import { tempDir } from '../src/testing.js';
import { bundleEntry } from './support/service-process.js';

describe('batchStep', () => {
  let dir: ReturnType<typeof tempDir>;
  let db: SqliteDb;

  beforeEach(() => {
    dir = tempDir('kit-batch-step-');
    db = openSqlite(join(dir.path, 'batch.db'), 'NORMAL');
    db.exec('CREATE TABLE rows (name TEXT PRIMARY KEY, body TEXT NOT NULL)');
  });
  afterEach(() => {
    db.close();
    dir.cleanup();
  });

  const names = () => (db.prepare('SELECT name FROM rows ORDER BY name').all() as { name: string }[]).map((r) => r.name);
  const insert = (name: string, body = '') => db.prepare('INSERT INTO rows (name, body) VALUES (?, ?)').run(name, body);

  it('undoes a step that throws alone and returns its error; the steps around it commit with the batch', () => {
    // Each step writes two rows; the second step's second row is taken, so its first row must go too.
    const step = batchStep(db, (a: string, b: string) => {
      insert(a);
      insert(b);
      return `${a}+${b}`;
    });
    const outcomes = db.transaction(() => [step('a1', 'a2'), step('b1', 'a1'), step('c1', 'c2')]).immediate();
    expect(outcomes[0]).toEqual({ ok: true, value: 'a1+a2' });
    expect(outcomes[1]).toMatchObject({ ok: false, error: { code: 'SQLITE_CONSTRAINT_PRIMARYKEY' } });
    expect(outcomes[2]).toEqual({ ok: true, value: 'c1+c2' });
    expect(names()).toEqual(['a1', 'a2', 'c1', 'c2']);
    expect(db.inTransaction).toBe(false);
  });

  it('fails the whole batch with the real error when that error ended the transaction, and nothing of the batch is written', () => {
    insert('before');
    // The file may not grow: a step that needs a new page gets SQLITE_FULL, on which SQLite rolls back everything.
    db.pragma(`max_page_count = ${db.pragma('page_count', { simple: true }) as number}`);
    const ran: string[] = [];
    const step = batchStep(db, (name: string, bytes: number) => {
      ran.push(name);
      insert(name, 'x'.repeat(bytes));
    });
    const batch = db.transaction(() => [step('small', 10), step('large', 20_000), step('after', 10)]).immediate;
    expect(batch).toThrow(expect.objectContaining({ code: 'SQLITE_FULL', message: 'database or disk is full' }));
    // The step that fitted was written, and undone with the rest; the step after the failure never ran.
    expect(ran).toEqual(['small', 'large']);
    expect(names()).toEqual(['before']);
    expect(db.inTransaction).toBe(false);

    // The connection is fine once there is room again.
    db.pragma('max_page_count = 1073741823');
    expect(db.transaction(() => [step('small', 10), step('large', 20_000)]).immediate()).toEqual([
      { ok: true, value: undefined },
      { ok: true, value: undefined },
    ]);
    expect(names()).toEqual(['before', 'large', 'small']);
  });

  it("fails the whole batch with the step's own error when the step cannot be undone", () => {
    // A step that releases its own savepoint leaves nothing to roll back to: its writes are already the batch's.
    const step = batchStep(db, (name: string) => {
      insert(name);
      if (name === 'rogue') {
        db.exec('RELEASE batch_step');
        throw new Error('the rogue step failed');
      }
    });
    const batch = db.transaction(() => [step('fine'), step('rogue'), step('later')]).immediate;
    expect(batch).toThrow('the rogue step failed');
    expect(names()).toEqual([]);
    expect(db.inTransaction).toBe(false);
  });

  it('refuses to run outside a transaction, where the step would commit on its own', () => {
    const step = batchStep(db, () => insert('alone'));
    expect(() => step()).toThrow('batchStep: call the step inside the transaction of its batch.');
    expect(names()).toEqual([]);
    expect(db.inTransaction).toBe(false);
  });
});

/**
 * A transaction of savepoints whose journals outgrow the 64 KiB SQLite keeps in memory, run by a process with no
 * writable temporary directory: once through openSqlite, once on a connection opened without it (the control,
 * which proves the process really has nowhere to put a temporary file). Prints what each came to as JSON.
 */
const CHILD = `
import Database from 'better-sqlite3';
import { openSqlite } from './packages/kit/src/sqlite.ts';

function savepointsOverJournalSize(db) {
  db.exec('CREATE TABLE rows (id INTEGER PRIMARY KEY, body TEXT NOT NULL)');
  db.prepare("INSERT INTO rows (body) SELECT printf('%.1000c', 'a') FROM (WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 500) SELECT i FROM n)").run();
  const grow = db.transaction(() => db.prepare("UPDATE rows SET body = body || 'b'").run());
  try {
    db.transaction(() => { grow(); grow(); }).immediate();
    return (db.prepare('SELECT MIN(length(body)) AS n FROM rows').get()).n === 1002 ? 'committed' : 'wrong contents';
  } catch (error) {
    return error.code ?? String(error);
  }
}
const [kitFile, plainFile] = process.argv.slice(2);
const plain = new Database(plainFile);
plain.pragma('journal_mode = WAL');
console.log(JSON.stringify({ kit: savepointsOverJournalSize(openSqlite(kitFile, 'NORMAL')), plain: savepointsOverJournalSize(plain) }));
`;

/**
 * Runs a command in a user and mount namespace of its own where /tmp and /var/tmp are read-only (bound onto
 * themselves, so a checkout under /tmp stays readable), its working directory is /tmp, and SQLITE_TMPDIR and TMPDIR
 * point there: every directory SQLite would try for a temporary file is read-only, as in a container with a
 * read-only root. The databases themselves go in $DB_DIR, a writable tmpfs of its own.
 */
const NO_TEMP_DIR = [
  'unshare',
  '--user',
  '--map-root-user',
  '--mount',
  'sh',
  '-c',
  [
    'for d in /tmp /var/tmp; do mount --bind "$d" "$d" && mount -o remount,bind,ro "$d" || exit 1; done',
    'if [ -n "$DB_DIR" ]; then mount -t tmpfs tmpfs "$DB_DIR" || exit 1; fi',
    'cd /tmp && SQLITE_TMPDIR=/tmp TMPDIR=/tmp exec "$@"',
  ].join(' && '),
  'no-temp-dir',
];

const namespaceProblem = (() => {
  const probe = spawnSync(NO_TEMP_DIR[0]!, [...NO_TEMP_DIR.slice(1), 'true'], { encoding: 'utf8' });
  if (probe.error) return `unshare is not installed (${probe.error.message}; apt-get install -y util-linux)`;
  return probe.status === 0 ? undefined : `unshare cannot make a mount namespace here: ${probe.stderr.trim().split('\n').at(-1)}`;
})();
if (namespaceProblem && process.env.CI === 'true') {
  throw new Error(`${namespaceProblem}. Under CI=true the read-only temp directory test is required: it needs user and mount namespaces.`);
}

describe.skipIf(namespaceProblem !== undefined)(`openSqlite with no writable temporary directory${namespaceProblem ? ` — skipped: ${namespaceProblem}` : ''}`, () => {
  let bundle: Awaited<ReturnType<typeof bundleEntry>>;
  beforeAll(async () => {
    // Bundled under node_modules/.cache, outside /tmp: the child reaches its code and its files there.
    bundle = await bundleEntry(CHILD);
  });
  afterAll(() => bundle?.remove());

  it('keeps temporary storage in memory, so savepoints beyond 64 KiB of journal still commit', () => {
    const dbDir = join(bundle.dir, 'db');
    mkdirSync(dbDir);
    const child = spawnSync(NO_TEMP_DIR[0]!, [...NO_TEMP_DIR.slice(1), process.execPath, bundle.entry, join(dbDir, 'kit.db'), join(dbDir, 'plain.db')], {
      encoding: 'utf8',
      timeout: 30_000,
      env: { ...process.env, DB_DIR: dbDir },
    });
    expect(child.stderr).toBe('');
    expect(JSON.parse(child.stdout)).toEqual({ kit: 'committed', plain: 'SQLITE_IOERR_GETTEMPPATH' });
  });
});
