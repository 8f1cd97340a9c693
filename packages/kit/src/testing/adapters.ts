import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, inject, it } from 'vitest';
import type { DynamoSettings } from '../dynamodb/client.js';

/**
 * One adapter test matrix for every store suite: a suite is written once against its port and runs on each
 * storage a service can be configured with, each test on fresh data (a new SQLite directory, new DynamoDB tables).
 * `STORE_ADAPTERS=sqlite` (or `dynamodb`, comma-separated) narrows the run.
 */

export type Backing = 'sqlite' | 'dynamodb';

/** Per-test timeouts by backing: DynamoDB Local answers in milliseconds alone but slows down under a loaded run. */
export const ADAPTER_TIMEOUTS: Readonly<Record<Backing, number>> = { sqlite: 20_000, dynamodb: 60_000 };

export function tempDir(prefix = 'dems-test-'): { path: string; cleanup: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}

/**
 * Where the DynamoDB suites run: the DynamoDB Local that tests/setup/dynamodb-local.ts started for this test run,
 * or why there is none (the suites are then skipped and say so).
 */
export function dynamoTestTarget(): { endpoint: string; skip?: undefined } | { endpoint?: undefined; skip: string } {
  const endpoint = inject('dynamodbEndpoint') || process.env.DEMS_TEST_DYNAMODB_ENDPOINT;
  if (endpoint) return { endpoint };
  return { skip: inject('dynamodbSkipReason') || process.env.DEMS_TEST_DYNAMODB_SKIP || 'DynamoDB Local was not started' };
}

/** A table prefix no other suite or test uses, so each gets empty tables on the one shared DynamoDB Local. */
export function uniqueTablePrefix(label: string): string {
  return `t${Date.now().toString(36)}${randomBytes(3).toString('hex')}_${label}_`;
}

/** Whether STORE_ADAPTERS lets a case run: by its own name, or by its backing (which selects its variants too). */
export function adapterWanted(name: string, backing: Backing, env: Record<string, string | undefined> = process.env): boolean {
  const wanted = env.STORE_ADAPTERS?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  return !wanted || wanted.includes(name) || wanted.includes(backing);
}

/** Opens a store on this test's data: a fresh directory for SQLite, fresh tables (settings) for DynamoDB. */
export type OpenStore<L, S, O> = (location: L, options?: O) => S;

export interface AdapterCase<L, S, O> {
  open: OpenStore<L, S, O>;
  /**
   * Runs once per test before the store is opened, with a store of its own closed afterwards (DynamoDB: its
   * tables). A method, so that it may take the adapter's own class: `prepare: (s: DynamoXStore) => s.createTables()`.
   */
  prepare?(store: S): Promise<void>;
}

type Case<L, S, O> = OpenStore<L, S, O> | AdapterCase<L, S, O>;

export interface StoreAdapters<S, O = undefined> {
  sqlite?: Case<string, S, O>;
  dynamodb?: Case<DynamoSettings, S, O>;
  /** More cases under names of their own on one backing (e.g. sharded inventory); `STORE_ADAPTERS=<backing>` runs them too. */
  variants?: Record<string, { sqlite: Case<string, S, O> } | { dynamodb: Case<DynamoSettings, S, O> }>;
}

export interface MatrixOptions<S> {
  /** How a store is closed; by default its own `close()`. Closing twice must be harmless (tests may close first). */
  close?: (store: S) => unknown;
  /** Overrides ADAPTER_TIMEOUTS for this suite. */
  timeouts?: Partial<Record<Backing, number>>;
}

/** What a test of the matrix works with: its store, and more stores on the same data. */
export interface AdapterHarness<S, O = undefined> {
  /** The case: 'sqlite', 'dynamodb' or a variant's name. */
  readonly name: string;
  readonly backing: Backing;
  /** This test's store, opened on first use (without options) on the test's fresh data. */
  readonly store: S;
  /** Another store on the same data, as another process (a replica) would open it; closed after the test. */
  open(options?: O): S;
  /** Closes the store opened last and opens the data again, as a restart would. */
  reopen(options?: O): Promise<S>;
}

/**
 * DynamoDB Local alone, for suites that build their own clients or stores: each test's "store" is its settings,
 * naming fresh tables (a unique prefix) on the run's DynamoDB Local.
 */
export const onDynamoDbLocal: StoreAdapters<DynamoSettings> = { dynamodb: (settings) => settings };

const defaultClose = (store: unknown) => (store as { close?: () => unknown }).close?.();

/**
 * Declares `title (<case>)` once per selected adapter case and runs `body` in each, Kysely style:
 *
 *   describeEachAdapter('EventsStore contract', {
 *     sqlite: (dir) => new SqliteEventsStore({ file: join(dir, 'events.db') }),
 *     dynamodb: { open: (settings) => new DynamoEventsStore({ settings }), prepare: (s) => s.createTables() },
 *   }, (h) => { it('…', async () => { await h.store.createEvent(…) }) });
 *
 * Every test gets fresh data; every store it opened is closed after it and the directory removed. Without DynamoDB
 * Local the DynamoDB cases are reported skipped with the reason, and under CI=true they fail instead.
 */
export function describeEachAdapter<S, O = undefined>(
  title: string,
  adapters: StoreAdapters<S, O>,
  body: (harness: AdapterHarness<S, O>) => void,
  options: MatrixOptions<S> = {},
): void {
  const cases: { name: string; backing: Backing; spec: Case<string, S, O> | Case<DynamoSettings, S, O> }[] = [];
  if (adapters.sqlite) cases.push({ name: 'sqlite', backing: 'sqlite', spec: adapters.sqlite });
  if (adapters.dynamodb) cases.push({ name: 'dynamodb', backing: 'dynamodb', spec: adapters.dynamodb });
  for (const [name, variant] of Object.entries(adapters.variants ?? {})) {
    cases.push('sqlite' in variant ? { name, backing: 'sqlite', spec: variant.sqlite } : { name, backing: 'dynamodb', spec: variant.dynamodb });
  }
  const label =
    title
      .replace(/[^a-z0-9]+/gi, '')
      .toLowerCase()
      .slice(0, 16) || 'store';
  let reportedSkip = false;

  for (const { name, backing, spec } of cases) {
    if (!adapterWanted(name, backing)) {
      // Declared skipped rather than left out, so a file whose every case is filtered away still reports why.
      reportSkipped(`${title} (${name})`, 'not in STORE_ADAPTERS');
      continue;
    }
    const timeout = options.timeouts?.[backing] ?? ADAPTER_TIMEOUTS[backing];
    let fresh: () => { location: unknown; cleanup?: () => void };
    if (backing === 'sqlite') {
      fresh = () => {
        const dir = tempDir(`dems-${label}-`);
        return { location: dir.path, cleanup: dir.cleanup };
      };
    } else {
      const target = dynamoTestTarget();
      if (target.skip !== undefined) {
        if (!reportedSkip) dynamoUnavailable(title, target.skip);
        reportedSkip = true;
        continue;
      }
      fresh = () => ({ location: { region: 'us-east-1', endpoint: target.endpoint, tablePrefix: uniqueTablePrefix(label) } satisfies DynamoSettings });
    }
    const { open, prepare } = typeof spec === 'function' ? { open: spec, prepare: undefined } : spec;
    const harness = new Harness<S, O>(name, backing, fresh, open as OpenStore<unknown, S, O>, prepare, options.close ?? defaultClose);
    describe(`${title} (${name})`, { timeout }, () => {
      beforeEach(() => harness.begin(), timeout);
      afterEach(() => harness.end(), timeout);
      body(harness);
    });
  }
}

/** DynamoDB Local is not there: say why in the report, or fail under CI, where the DynamoDB cases are required. */
function dynamoUnavailable(title: string, reason: string): void {
  if (process.env.CI === 'true') {
    describe(`${title} (dynamodb)`, () => {
      it('runs on DynamoDB Local, which CI requires', () => {
        throw new Error(`DynamoDB Local is not available: ${reason}`);
      });
    });
    return;
  }
  reportSkipped(`${title} (dynamodb)`, reason);
}

function reportSkipped(suite: string, reason: string): void {
  describe.skip(`${suite} — skipped: ${reason}`, () => {
    it('runs when selected and available', () => {});
  });
}

class Harness<S, O> implements AdapterHarness<S, O> {
  private location: unknown;
  private removeData?: () => void;
  private first?: S;
  private readonly opened: S[] = [];

  constructor(
    readonly name: string,
    readonly backing: Backing,
    private readonly fresh: () => { location: unknown; cleanup?: () => void },
    private readonly openAt: OpenStore<unknown, S, O>,
    private readonly prepare: ((store: S) => Promise<void>) | undefined,
    private readonly close: (store: S) => unknown,
  ) {}

  get store(): S {
    if (this.location === undefined) throw new Error('The store of a test exists only while the test runs (open it in a test or a beforeEach).');
    return (this.first ??= this.open());
  }

  open(options?: O): S {
    if (this.location === undefined) throw new Error('A store opens only while a test runs (in a test or a beforeEach).');
    const store = this.openAt(this.location, options);
    this.opened.push(store);
    return store;
  }

  async reopen(options?: O): Promise<S> {
    const last = this.opened.at(-1);
    if (last !== undefined) await this.close(last);
    return this.open(options);
  }

  async begin(): Promise<void> {
    const { location, cleanup } = this.fresh();
    this.location = location;
    this.removeData = cleanup;
    if (!this.prepare) return;
    const preparer = this.openAt(location);
    try {
      await this.prepare(preparer);
    } finally {
      await this.close(preparer);
    }
  }

  async end(): Promise<void> {
    try {
      for (const store of this.opened.splice(0).reverse()) await this.close(store);
    } finally {
      this.first = undefined;
      this.location = undefined;
      this.removeData?.();
      this.removeData = undefined;
    }
  }
}
