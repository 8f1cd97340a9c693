import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { DynamoSettings } from '../src/dynamodb.js';
import { adapterWanted, describeEachAdapter } from '../src/testing.js';

describe('STORE_ADAPTERS', () => {
  it('runs every case when unset, else the cases it names by name or by backing', () => {
    expect(adapterWanted('sqlite', 'sqlite', {})).toBe(true);
    expect(adapterWanted('dynamodb-sharded', 'dynamodb', {})).toBe(true);
    const only = (list: string) => ({ STORE_ADAPTERS: list });
    expect(adapterWanted('sqlite', 'sqlite', only('sqlite'))).toBe(true);
    expect(adapterWanted('dynamodb', 'dynamodb', only('sqlite'))).toBe(false);
    expect(adapterWanted('dynamodb-sharded', 'dynamodb', only('sqlite'))).toBe(false);
    expect(adapterWanted('dynamodb-sharded', 'dynamodb', only(' sqlite , dynamodb '))).toBe(true);
    expect(adapterWanted('dynamodb', 'dynamodb', only('dynamodb-sharded'))).toBe(false);
    expect(adapterWanted('dynamodb-sharded', 'dynamodb', only('dynamodb-sharded'))).toBe(true);
  });
});

/** A stand-in store (test fake) that remembers where it was opened and whether it was closed. */
interface Recorded {
  at: string;
  label?: string;
  closed: boolean;
  close(): void;
}
const opened: Recorded[] = [];
const prepared: string[] = [];
const record = (at: string, label?: string): Recorded => {
  const store = { at, label, closed: false, close: () => void (store.closed = true) };
  opened.push(store);
  return store;
};
const where = (s: DynamoSettings) => `${s.endpoint} ${s.tablePrefix}`;

describeEachAdapter(
  'adapter matrix',
  {
    sqlite: (dir, label?: string) => record(dir, label),
    dynamodb: { open: (settings, label?: string) => record(where(settings), label), prepare: async (s) => void prepared.push(s.at) },
  },
  (h) => {
    it('gives each test fresh data, opened once as its store, and more stores on the same data', () => {
      expect(h.store).toBe(h.store);
      const other = h.open('other');
      expect(other).not.toBe(h.store);
      expect(other).toMatchObject({ at: h.store.at, label: 'other' });
      if (h.backing === 'sqlite') {
        expect(existsSync(h.store.at)).toBe(true);
        writeFileSync(join(h.store.at, 'data'), 'x');
      } else {
        expect(h.store.at).toMatch(/^http:\/\/127\.0\.0\.1:\d+ t[0-9a-z]+_adaptermatrix_$/);
        // Prepared once for the test, on a store of its own that is closed by now.
        expect(prepared.at(-1)).toBe(h.store.at);
        expect(opened.find((s) => s.at === h.store.at)).toMatchObject({ closed: true });
      }
    });

    it('reopens by closing the store opened last', async () => {
      const first = h.store;
      const again = await h.reopen('again');
      expect(first.closed).toBe(true);
      expect(again).toMatchObject({ at: first.at, label: 'again', closed: false });
      // The earlier test's data is not this test's.
      if (h.backing === 'sqlite') expect(existsSync(join(first.at, 'data'))).toBe(false);
      expect(opened.filter((s) => s.at === first.at && s !== first && s !== again).every((s) => s.closed)).toBe(true);
    });
  },
);

describe('after the matrix', () => {
  it('closed every store and removed every directory', () => {
    expect(opened.filter((s) => !s.closed)).toEqual([]);
    const dirs = new Set(opened.filter((s) => !s.at.startsWith('http')).map((s) => s.at));
    const tables = new Set(opened.filter((s) => s.at.startsWith('http')).map((s) => s.at));
    // Each of the two tests had data of its own.
    expect(dirs.size).toBe(2);
    expect([0, 2]).toContain(tables.size);
    expect([...dirs].filter((dir) => existsSync(dir))).toEqual([]);
  });
});
