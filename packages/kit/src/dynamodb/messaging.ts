import { DeleteCommand, QueryCommand, UpdateCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import { SERVICE_NAMES, SUBSCRIPTIONS, subscribersOf, type Message, type ServiceName } from '@dems/contracts';
import type { DeadLetter, DeliveryFailure, OutboxEntry, OutboxStats, OutboxStore } from '../messaging/outbox.js';
import { withTraceContext } from '../tracing.js';
import type { Doc, Item, TransactItem } from './client.js';
import { orderedKey, orderedKeyTime } from './keys.js';
import { getItem, queryPages, transactWrite } from './operations.js';
import { ConditionFailed, isConditionalCheckFailed, withRetry } from './retry.js';
import type { TableSpec } from './tables.js';

/**
 * Outbox and inbox of one service on DynamoDB, in one table `<Service>Messages` with no index.
 *
 * Happy path, per (message, subscriber): the entry is Put in the transaction of the change (2 write units),
 * the process that committed it hands it to its relay from memory (no claim, no lease), and the delivered
 * entry is deleted (1 write unit). Entries are spread over OUTBOX_BUCKETS partitions per subscriber, so no key
 * is hot: 10,000 messages/s for one subscriber is 156 entries/s per bucket × 3 write units ≈ 470 WCU/s per
 * partition key, under DynamoDB's 1,000 per key.
 *
 * Unhappy path: what a crashed process never delivered, and what failed and waits for its retry, is found by a
 * sweep — a bounded query of every bucket of a subscriber, at most every OUTBOX_SWEEP_MS or when this process
 * scheduled a retry that is due — and leased with a conditional update, so two sweepers never both hold it.
 */

/** Partitions per subscriber the outbox entries are spread over (random per entry). */
export const OUTBOX_BUCKETS = 64;
/**
 * How often a relay's store looks in DynamoDB for entries left behind when it has no reason to look sooner: a
 * safety net for a replica that crashed and was not restarted. A process that starts sweeps at once and again
 * when the entries of the process it replaces become due (OUTBOX_SWEEP_GRACE_MS), and a retry it scheduled
 * brings its own sweep; so an idle relay costs one bounded read of its buckets a minute.
 */
export const OUTBOX_SWEEP_MS = 60_000;
/**
 * How long an entry belongs to the process that wrote it: a sweep may take it only once its DueAt
 * (creation + this) has passed, so a live writer's hand-off is never raced by another process's sweep.
 */
export const OUTBOX_SWEEP_GRACE_MS = 30_000;
/** How long an inbox record is kept: far longer than any redelivery (a relay gives up after its retries). */
export const INBOX_TTL_SECONDS = 30 * 24 * 3600;
/** How many outbox entries (per subscriber) and dead letters a /metrics scrape reads at most on DynamoDB. */
export const OUTBOX_STATS_CAP = 1000;
/** Entries a sweep reads per bucket page, and pages per bucket: the sweep's read is bounded, whatever the backlog. */
const SWEEP_PAGE = 25;
const SWEEP_PAGES = 4;
/** Entries held in memory per subscriber for the hand-off; beyond that the sweep delivers them after DueAt. */
const HELD_CAP = 10_000;
/** Scheduled retries remembered per subscriber (the earliest); a later one is found by the regular sweep. */
const RETRY_TIMES_CAP = 1000;
const DEAD = 'dead';

/** The one messaging table of a service: outbox entries, inbox records and dead letters, with TTL on ExpiresAt. */
export function messagingTables(prefix: string, service: string): TableSpec {
  const Service = service.charAt(0).toUpperCase() + service.slice(1);
  return { name: `${prefix}${Service}Messages`, pk: { name: 'PK', type: 'S' }, sk: { name: 'SK', type: 'S' }, ttl: 'ExpiresAt' };
}

/** Where an outbox entry lives: its subscriber, bucket and creation-ordered key. */
interface EntryKey {
  subscriber: ServiceName;
  bucket: number;
  seq: string;
}

/** Entry ids are `<subscriber>-<bucket>-<orderedKey>`: a contracts `Id`, and the same id while dead. */
const ENTRY_ID = new RegExp(`^(${SERVICE_NAMES.join('|')})-(\\d{1,2})-([0-9a-f]{21,40})$`);
const entryId = (k: EntryKey) => `${k.subscriber}-${k.bucket}-${k.seq}`;
const seqOf = (id: string) => id.slice(id.lastIndexOf('-') + 1);

function parseEntryId(id: string): EntryKey | null {
  const m = ENTRY_ID.exec(id);
  const bucket = Number(m?.[2]);
  return m && bucket < OUTBOX_BUCKETS ? { subscriber: m[1] as ServiceName, bucket, seq: m[3]! } : null;
}

const outboxPk = (subscriber: ServiceName, bucket: number) => `out#${subscriber}#${bucket}`;
const outboxKey = (k: EntryKey) => ({ PK: outboxPk(k.subscriber, k.bucket), SK: k.seq });
/** Dead letters share one partition (failures only), sorted by subscriber, then creation. */
const deadKey = (k: EntryKey) => ({ PK: DEAD, SK: `${k.subscriber}#${k.seq}#${k.bucket}` });
const inboxKey = (message: Message) => ({ PK: `in#${message.id}`, SK: 'in' });

function keyOfOutboxItem(item: Item): EntryKey {
  const [, subscriber, bucket] = String(item.PK).split('#');
  return { subscriber: subscriber as ServiceName, bucket: Number(bucket), seq: String(item.SK) };
}

function keyOfDeadItem(item: Item): EntryKey {
  const [subscriber, seq, bucket] = String(item.SK).split('#');
  return { subscriber: subscriber as ServiceName, bucket: Number(bucket), seq: seq! };
}

const entryOf = (key: EntryKey, item: Item): OutboxEntry => ({
  id: entryId(key),
  subscriber: key.subscriber,
  message: JSON.parse(String(item.Payload)) as Message,
  attempts: Number(item.Attempts ?? 0),
});

/** An entry this process committed and delivers from memory, until its DueAt hands it over to the sweep. */
interface Held extends OutboxEntry {
  dueAt: number;
  /** While handed out: when the relay's claim ends (in memory only, like a lease); it is offered again after. */
  leaseUntil?: number;
}

export class DynamoDbMessaging implements OutboxStore {
  readonly table: TableSpec;
  /** The subscribers this service can ever owe a message: the only ones it sweeps or counts. */
  private readonly subscribers: ServiceName[];
  private readonly held = new Map<ServiceName, Held[]>();
  /**
   * Held entries the relay has taken and not yet settled: an untried one goes back to memory, unwritten, and
   * one whose in-memory lease ended unsettled is offered again (as a lapsed lease would be).
   */
  private readonly handedOut = new Map<string, Held>();
  private readonly lastSweep = new Map<ServiceName, number>();
  /** Sweep again at once: the last one filled its batch, so more may be due. */
  private readonly sweepAgain = new Set<ServiceName>();
  private readonly retryTimes = new Map<ServiceName, number[]>();

  constructor(
    private readonly doc: Doc,
    prefix: string,
    service: ServiceName,
  ) {
    this.table = messagingTables(prefix, service);
    this.subscribers = subscribersOf(service);
    // A restarted process's predecessor may have left entries that become due one grace period from now.
    for (const subscriber of this.subscribers) this.scheduleRetry(subscriber, Date.now() + OUTBOX_SWEEP_GRACE_MS);
  }

  /**
   * Put items for one outbox entry per subscriber of each message, with the trace context active now; add them
   * to the transaction of the change, and commit it with `commit` so the entries are delivered from memory.
   */
  outboxPuts(...messages: Message[]): TransactItem[] {
    const items: TransactItem[] = [];
    for (const m of messages) {
      const payload = JSON.stringify(withTraceContext(m));
      const seq = orderedKey();
      const createdAt = orderedKeyTime(seq);
      for (const subscriber of SUBSCRIPTIONS[m.type]) {
        const bucket = Math.floor(Math.random() * OUTBOX_BUCKETS);
        items.push({
          Put: {
            TableName: this.table.name,
            // No LeaseUntil: only a sweep's claim writes one (absent reads as "not leased").
            Item: {
              ...outboxKey({ subscriber, bucket, seq }),
              Subscriber: subscriber,
              Payload: payload,
              CreatedAt: m.occurredAt,
              Attempts: 0,
              DueAt: createdAt + OUTBOX_SWEEP_GRACE_MS,
            },
          },
        });
      }
    }
    return items;
  }

  /**
   * Commits one TransactWriteItems (as transactWrite: a false condition throws ConditionFailed) and then hands
   * the outbox entries it carried to this process's relay, which delivers them without a claim write.
   */
  async commit(items: TransactItem[]): Promise<void> {
    await transactWrite(this.doc, items);
    for (const item of items) {
      const put = item.Put;
      if (put?.TableName !== this.table.name || !String(put.Item?.PK).startsWith('out#')) continue;
      const key = keyOfOutboxItem(put.Item!);
      // Only subscribers this service relays to: its relay never asks for the others (subscribersOf).
      if (this.subscribers.includes(key.subscriber)) this.hold({ ...entryOf(key, put.Item!), dueAt: Number(put.Item!.DueAt) });
    }
  }

  private hold(entry: Held, first = false): void {
    const queue = this.held.get(entry.subscriber) ?? [];
    this.held.set(entry.subscriber, queue);
    if (first) queue.unshift(entry);
    else if (queue.length < HELD_CAP) queue.push(entry);
  }

  /** The inbox record of a received message, kept 30 days; its condition fails when the id was seen before. */
  inboxPut(message: Message): TransactItem {
    return {
      Put: {
        TableName: this.table.name,
        Item: { ...inboxKey(message), Type: message.type, ReceivedAt: new Date().toISOString(), ExpiresAt: Math.floor(Date.now() / 1000) + INBOX_TTL_SECONDS },
        ConditionExpression: 'attribute_not_exists(PK)',
      },
    };
  }

  /** Whether the message's id is already in the inbox (a strongly consistent read). */
  async seen(message: Message): Promise<boolean> {
    return (await getItem(this.doc, this.table.name, inboxKey(message))) !== undefined;
  }

  /**
   * Records a message that has no other effect: 'duplicate' when it was seen before. The same conditional
   * Put is what every effect transaction carries.
   */
  async acknowledge(message: Message, effect: TransactItem[] = []): Promise<'applied' | 'duplicate'> {
    try {
      await this.commit([this.inboxPut(message), ...effect]);
      return 'applied';
    } catch (err) {
      if (err instanceof ConditionFailed && err.failedAt(0)) return 'duplicate';
      throw err;
    }
  }

  /**
   * Entries this process committed come first, from memory and without a write; those past their DueAt are
   * left to the sweep (which leases them). Only when memory is empty does it look in DynamoDB, and only
   * when a sweep is due.
   */
  async claimDue(subscriber: ServiceName, limit: number, now: number, leaseMs: number): Promise<OutboxEntry[]> {
    const fromMemory = this.takeHeld(subscriber, limit, now, leaseMs);
    if (fromMemory.length > 0) return fromMemory;
    if (!this.subscribers.includes(subscriber) || !this.sweepDue(subscriber, now)) return [];
    this.lastSweep.set(subscriber, now);
    this.retryTimes.set(
      subscriber,
      (this.retryTimes.get(subscriber) ?? []).filter((t) => t > now),
    );
    const swept = await this.sweep(subscriber, limit, now, leaseMs);
    if (swept.length >= limit) this.sweepAgain.add(subscriber);
    else this.sweepAgain.delete(subscriber);
    return swept;
  }

  private takeHeld(subscriber: ServiceName, limit: number, now: number, leaseMs: number): OutboxEntry[] {
    const lapsed: Held[] = [];
    for (const [id, entry] of this.handedOut) {
      if (entry.leaseUntil! > now) continue;
      this.handedOut.delete(id);
      lapsed.push(entry);
    }
    // Back to the head of memory, oldest first.
    for (const entry of lapsed.sort((a, b) => seqOf(b.id).localeCompare(seqOf(a.id)))) this.hold(entry, true);
    const queue = this.held.get(subscriber) ?? [];
    const taken: Held[] = [];
    while (taken.length < limit && queue.length > 0) {
      const entry = queue.shift()!;
      if (entry.dueAt <= now) continue; // the sweep's now: it leases it before anyone sends it
      taken.push(entry);
      this.handedOut.set(entry.id, { ...entry, leaseUntil: now + leaseMs });
    }
    return taken.map(({ id, subscriber: s, message, attempts }) => ({ id, subscriber: s, message, attempts }));
  }

  private sweepDue(subscriber: ServiceName, now: number): boolean {
    if (this.sweepAgain.has(subscriber)) return true;
    if (now - (this.lastSweep.get(subscriber) ?? -Infinity) >= OUTBOX_SWEEP_MS) return true;
    return (this.retryTimes.get(subscriber) ?? []).some((t) => t <= now);
  }

  /** A bounded read of every bucket (eventually consistent: the lease's condition is what decides), then leases. */
  private async sweep(subscriber: ServiceName, limit: number, now: number, leaseMs: number): Promise<OutboxEntry[]> {
    const notLeased = '(attribute_not_exists(LeaseUntil) OR LeaseUntil <= :now)';
    const perBucket = await Promise.all(
      Array.from({ length: OUTBOX_BUCKETS }, (_, bucket) =>
        this.queryBounded(
          {
            TableName: this.table.name,
            KeyConditionExpression: 'PK = :pk',
            FilterExpression: `DueAt <= :now AND ${notLeased}`,
            ExpressionAttributeValues: { ':pk': outboxPk(subscriber, bucket), ':now': now },
            Limit: SWEEP_PAGE,
          },
          SWEEP_PAGES,
          limit,
        ),
      ),
    );
    const candidates = perBucket
      .flat()
      .sort((a, b) => Number(a.DueAt) - Number(b.DueAt) || String(a.SK).localeCompare(String(b.SK)))
      .slice(0, limit);
    const leased = await Promise.all(
      candidates.map(async (item) => {
        try {
          const res = await withRetry(() =>
            this.doc.send(
              new UpdateCommand({
                TableName: this.table.name,
                Key: { PK: item.PK, SK: item.SK },
                UpdateExpression: 'SET LeaseUntil = :lease',
                // The query may be stale: the entry may be gone, rescheduled or leased by another sweeper.
                ConditionExpression: `attribute_exists(PK) AND DueAt <= :now AND ${notLeased}`,
                ExpressionAttributeValues: { ':lease': now + leaseMs, ':now': now },
                ReturnValues: 'ALL_NEW',
              }),
            ),
          );
          return entryOf(keyOfOutboxItem(item), res.Attributes as Item);
        } catch (err) {
          if (isConditionalCheckFailed(err)) return null;
          throw err;
        }
      }),
    );
    return leased.filter((e): e is OutboxEntry => e !== null);
  }

  /** Up to `pages` pages of a query, stopping early once `enough` items came. */
  private async queryBounded(input: QueryCommandInput, pages: number, enough: number): Promise<Item[]> {
    const items: Item[] = [];
    let read = 0;
    for await (const page of queryPages(this.doc, input)) {
      items.push(...((page.Items ?? []) as Item[]));
      if (++read >= pages || items.length >= enough) break;
    }
    return items;
  }

  /** Deletes delivered entries: one write unit each, the only write of a delivery on the happy path. */
  async markDelivered(ids: string[]): Promise<void> {
    await Promise.all(
      ids.map((id) => {
        this.handedOut.delete(id);
        const key = parseEntryId(id);
        return key && withRetry(() => this.doc.send(new DeleteCommand({ TableName: this.table.name, Key: outboxKey(key) })));
      }),
    );
  }

  async markFailed(failures: DeliveryFailure[]): Promise<void> {
    // An untried entry from memory goes back to the head of memory in its order: nothing was written for it.
    for (const f of [...failures].reverse()) {
      const held = this.handedOut.get(f.id);
      if (held && f.nextAttemptAt === 0) this.hold(held, true);
    }
    await Promise.all(
      failures.map(async (f) => {
        const held = this.handedOut.get(f.id);
        this.handedOut.delete(f.id);
        const key = parseEntryId(f.id);
        if (!key || (held && f.nextAttemptAt === 0)) return;
        if (f.nextAttemptAt === null) return this.bury(key, f);
        this.scheduleRetry(key.subscriber, f.nextAttemptAt);
        try {
          await withRetry(() =>
            this.doc.send(
              new UpdateCommand({
                TableName: this.table.name,
                Key: outboxKey(key),
                UpdateExpression: 'SET Attempts = :a, DueAt = :due, LeaseUntil = :zero, LastError = :e',
                ConditionExpression: 'attribute_exists(PK)',
                ExpressionAttributeValues: { ':a': f.attempts, ':due': f.nextAttemptAt, ':zero': 0, ':e': f.error.slice(0, 500) },
              }),
            ),
          );
        } catch (err) {
          if (!isConditionalCheckFailed(err)) throw err;
        }
      }),
    );
  }

  private scheduleRetry(subscriber: ServiceName, at: number): void {
    const times = [...(this.retryTimes.get(subscriber) ?? []), at].sort((a, b) => a - b);
    this.retryTimes.set(subscriber, times.slice(0, RETRY_TIMES_CAP));
  }

  /** Moves an entry to the dead-letter partition in one transaction (gone from the outbox, or nothing happens). */
  private async bury(key: EntryKey, f: DeliveryFailure): Promise<void> {
    const item = await getItem(this.doc, this.table.name, outboxKey(key));
    if (!item) return;
    try {
      await transactWrite(this.doc, [
        { Delete: { TableName: this.table.name, Key: outboxKey(key), ConditionExpression: 'attribute_exists(PK)' } },
        {
          Put: {
            TableName: this.table.name,
            Item: { ...deadKey(key), Subscriber: key.subscriber, Payload: item.Payload, Attempts: f.attempts, LastError: f.error.slice(0, 500), CreatedAt: item.CreatedAt },
          },
        },
      ]);
    } catch (err) {
      if (!(err instanceof ConditionFailed)) throw err;
    }
  }

  async listDeadLetters(limit: number): Promise<DeadLetter[]> {
    const res = await withRetry(() =>
      this.doc.send(
        new QueryCommand({ TableName: this.table.name, KeyConditionExpression: 'PK = :dead', ExpressionAttributeValues: { ':dead': DEAD }, Limit: limit, ConsistentRead: true }),
      ),
    );
    return ((res.Items ?? []) as Item[]).map((i) => ({
      ...entryOf(keyOfDeadItem(i), i),
      lastError: String(i.LastError ?? ''),
      createdAt: String(i.CreatedAt),
    }));
  }

  /** Moves a dead letter back to its bucket with a fresh count and delivers it from memory at once. */
  async replayDeadLetter(id: string): Promise<boolean> {
    const key = parseEntryId(id);
    const item = key && (await getItem(this.doc, this.table.name, deadKey(key)));
    if (!key || !item) return false;
    const dueAt = Date.now() + OUTBOX_SWEEP_GRACE_MS;
    try {
      await transactWrite(this.doc, [
        { Delete: { TableName: this.table.name, Key: deadKey(key), ConditionExpression: 'attribute_exists(PK)' } },
        {
          Put: { TableName: this.table.name, Item: { ...outboxKey(key), Subscriber: key.subscriber, Payload: item.Payload, CreatedAt: item.CreatedAt, Attempts: 0, DueAt: dueAt } },
        },
      ]);
    } catch (err) {
      if (err instanceof ConditionFailed) return false;
      throw err;
    }
    this.hold({ ...entryOf(key, item), attempts: 0, dueAt });
    return true;
  }

  /** Entries still waiting, over every bucket of every subscriber this service can owe (a full count: tests). */
  async pendingCount(): Promise<number> {
    const counts = await Promise.all(
      this.subscribers.flatMap((subscriber) =>
        Array.from({ length: OUTBOX_BUCKETS }, async (_, bucket) => {
          let total = 0;
          const query = {
            TableName: this.table.name,
            KeyConditionExpression: 'PK = :pk',
            ExpressionAttributeValues: { ':pk': outboxPk(subscriber, bucket) },
            Select: 'COUNT' as const,
            ConsistentRead: true,
          };
          for await (const page of queryPages(this.doc, query)) total += page.Count ?? 0;
          return total;
        }),
      ),
    );
    return counts.reduce((a, b) => a + b, 0);
  }

  /**
   * At most OUTBOX_STATS_CAP entries per subscriber (an even share per bucket) and as many dead letters: a
   * count here costs reading the entries, and a scrape every few seconds must stay cheap in a backlog of
   * millions. A figure at the cap means "at least"; the oldest waiting entry is the oldest of the buckets'
   * heads (each bucket is in creation order).
   */
  async stats(): Promise<OutboxStats[]> {
    const perBucket = Math.ceil(OUTBOX_STATS_CAP / OUTBOX_BUCKETS);
    const read = (input: Omit<QueryCommandInput, 'TableName'>) => withRetry(() => this.doc.send(new QueryCommand({ TableName: this.table.name, ...input })));
    const stats = await Promise.all(
      this.subscribers.map(async (subscriber): Promise<OutboxStats> => {
        const [buckets, dead] = await Promise.all([
          Promise.all(
            Array.from({ length: OUTBOX_BUCKETS }, (_, bucket) =>
              read({ KeyConditionExpression: 'PK = :pk', ExpressionAttributeValues: { ':pk': outboxPk(subscriber, bucket) }, ProjectionExpression: 'CreatedAt', Limit: perBucket }),
            ),
          ),
          read({
            KeyConditionExpression: 'PK = :dead AND begins_with(SK, :s)',
            ExpressionAttributeValues: { ':dead': DEAD, ':s': `${subscriber}#` },
            Select: 'COUNT',
            Limit: OUTBOX_STATS_CAP,
          }),
        ]);
        const heads = buckets.map((b) => Date.parse(String(b.Items?.[0]?.CreatedAt))).filter(Number.isFinite);
        return {
          subscriber,
          pending: Math.min(
            OUTBOX_STATS_CAP,
            buckets.reduce((n, b) => n + (b.Count ?? 0), 0),
          ),
          oldestPendingAt: heads.length ? Math.min(...heads) : null,
          deadLetters: dead.Count ?? 0,
        };
      }),
    );
    return stats.filter((s) => s.pending > 0 || s.deadLetters > 0);
  }
}
