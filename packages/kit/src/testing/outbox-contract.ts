import { expect, it } from 'vitest';
import { newMessage, type Message } from '@dems/contracts';
import type { BatchItemOutcome } from '../messaging/inbox.js';
import type { OutboxEntry, OutboxStore } from '../messaging/outbox.js';
import { describeEachAdapter, type StoreAdapters } from './adapters.js';

/**
 * A service's messaging on one adapter, as the contract drives it: the outbox the relay reads, and the two
 * writes a store makes around it — committing a change's messages, and applying delivered messages with their
 * inbox records.
 */
export interface OutboxUnderTest {
  outbox: OutboxStore;
  /** Commits messages of the events service as one change does: their outbox entries in one transaction. */
  commit(...messages: Message[]): Promise<void>;
  /**
   * Applies delivered messages in order as a subscriber does: each one's effect (recording its id) in the same
   * transaction as its inbox record. A message `failing` picks fails after its effect is written; it must be
   * undone alone, record included.
   */
  applyBatch(messages: Message[], failing?: (m: Message) => boolean): Promise<BatchItemOutcome[]>;
  /** Whether the effect of this message is recorded. */
  applied(message: Message): Promise<boolean>;
  close(): unknown;
}

const registered = (n: number): Message => newMessage('events', 'UserRegistered', { registrationId: `reg_${n}`, eventId: 'evt_1', eventTitle: 'Jazz Night', userId: `usr_${n}` });
const published = (n: number): Message =>
  newMessage('events', 'EventPublished', {
    event: {
      id: `evt_${n}`,
      title: `Show ${n}`,
      organizerId: 'usr_org',
      venue: 'Hall',
      timezone: 'UTC',
      startsAt: '2030-01-01T20:00:00.000Z',
      endsAt: '2030-01-01T22:00:00.000Z',
      status: 'published',
      ticketTypes: [],
      version: 1,
    },
  });

const ids = (entries: OutboxEntry[]) => entries.map((e) => e.message.id);
/** A moment by which anything committed in a test is due on every adapter, whoever committed it. */
const later = () => Date.now() + 10 * 60_000;

/**
 * The OutboxStore contract (see messaging/outbox.ts), once for every adapter: what the relay relies on — leases,
 * deliveries, per-entry failures and dead letters — and what the inbox relies on: a message's record commits
 * with its effect, so it is applied once.
 */
export function describeOutboxStoreContract(adapters: StoreAdapters<OutboxUnderTest>): void {
  describeEachAdapter(
    'OutboxStore contract',
    adapters,
    (h) => {
      it('claims one entry per subscriber of each message, in commit order, untried, up to the limit', async () => {
        const { outbox, commit } = h.store;
        const [a, b, c] = [registered(1), published(2), registered(3)];
        await commit(a, b);
        await commit(c);
        const now = Date.now();
        const first = await outbox.claimDue('engagement', 2, now, 60_000);
        expect(first.map((e) => [e.subscriber, e.message.id, e.attempts])).toEqual([
          ['engagement', a.id, 0],
          ['engagement', b.id, 0],
        ]);
        expect(first[0]!.message).toMatchObject({ type: 'UserRegistered', data: a.data });
        expect(ids(await outbox.claimDue('engagement', 2, now, 60_000))).toEqual([c.id]);
        expect(ids(await outbox.claimDue('ticketing', 10, now, 60_000))).toEqual([b.id]);
        expect(await outbox.claimDue('events', 10, now, 60_000)).toEqual([]);
        expect(await outbox.pendingCount()).toBe(4);
      });

      it('does not hand out a claimed entry again until its lease lapses, then oldest first', async () => {
        const { outbox, commit } = h.store;
        const [a, b] = [registered(1), registered(2)];
        await commit(a);
        const now = Date.now();
        const [entry] = await outbox.claimDue('engagement', 10, now, 1000);
        expect(entry?.message.id).toBe(a.id);
        await commit(b);
        expect(ids(await outbox.claimDue('engagement', 10, now + 999, 1000))).toEqual([b.id]);
        const again = await outbox.claimDue('engagement', 10, now + 1000, 1000);
        expect(again.map((e) => [e.id, e.message.id, e.attempts])).toEqual([[entry!.id, a.id, 0]]);
        expect(ids(await outbox.claimDue('engagement', 10, now + 2000, 1000))).toEqual([a.id, b.id]);
      });

      it('removes a delivered entry for good, and only that one', async () => {
        const { outbox, commit } = h.store;
        const [a, b] = [registered(1), registered(2)];
        await commit(a, b);
        const [ea] = await outbox.claimDue('engagement', 10, Date.now(), 60_000);
        await outbox.markDelivered([ea!.id]);
        expect(await outbox.pendingCount()).toBe(1);
        expect(ids(await outbox.claimDue('engagement', 10, later(), 60_000))).toEqual([b.id]);
        expect(await outbox.listDeadLetters(10)).toEqual([]);
      });

      it('markFailed gives each entry its own attempts, schedule or dead letter', async () => {
        const { outbox, commit } = h.store;
        const [a, b, c, d] = [registered(1), registered(2), registered(3), registered(4)];
        await commit(a, b, c, d);
        const now = Date.now();
        const claimed = await outbox.claimDue('engagement', 10, now, 60_000);
        expect(claimed.map((e) => [e.message.id, e.attempts])).toEqual([a, b, c, d].map((m) => [m.id, 0]));
        const [ea, eb, ec, ed] = claimed as [OutboxEntry, OutboxEntry, OutboxEntry, OutboxEntry];
        await outbox.markDelivered([ed.id]);
        await outbox.markFailed([
          { id: ea.id, attempts: 3, nextAttemptAt: now + 5000, error: 'handler failed' },
          { id: eb.id, attempts: 1, nextAttemptAt: null, error: 'refused' },
          { id: ec.id, attempts: 0, nextAttemptAt: 0, error: 'not tried' },
        ]);
        // c is due at once, untouched; a waits for its own time with its own count; b is a dead letter alone.
        const untried = await outbox.claimDue('engagement', 10, now, 60_000);
        expect(untried.map((e) => [e.id, e.message.id, e.attempts])).toEqual([[ec.id, c.id, 0]]);
        await outbox.markDelivered([ec.id]);
        expect(await outbox.claimDue('engagement', 10, now + 4999, 60_000)).toEqual([]);
        expect((await outbox.claimDue('engagement', 10, now + 5000, 60_000)).map((e) => [e.id, e.message.id, e.attempts])).toEqual([[ea.id, a.id, 3]]);
        expect(await outbox.listDeadLetters(10)).toMatchObject([{ id: eb.id, attempts: 1, lastError: 'refused', message: { id: b.id } }]);
        expect(await outbox.pendingCount()).toBe(1);
      });

      it('keeps a dead letter out of the queue until it is replayed, once, with a fresh count under the same id', async () => {
        const { outbox, commit } = h.store;
        const m = registered(1);
        await commit(m);
        const [entry] = await outbox.claimDue('engagement', 10, Date.now(), 60_000);
        await outbox.markFailed([{ id: entry!.id, attempts: 5, nextAttemptAt: null, error: 'x'.repeat(600) }]);
        expect(await outbox.pendingCount()).toBe(0);
        expect(await outbox.claimDue('engagement', 10, later(), 60_000)).toEqual([]);
        const [dead, ...more] = await outbox.listDeadLetters(10);
        expect(more).toEqual([]);
        expect(dead).toMatchObject({ id: entry!.id, subscriber: 'engagement', attempts: 5, message: { id: m.id }, createdAt: m.occurredAt });
        // Kept short: an error text is for the operator, not a place to store a whole answer.
        expect(dead!.lastError).toBe('x'.repeat(500));

        expect(await outbox.replayDeadLetter(entry!.id)).toBe(true);
        expect(await outbox.replayDeadLetter(entry!.id)).toBe(false);
        expect(await outbox.listDeadLetters(10)).toEqual([]);
        expect(await outbox.pendingCount()).toBe(1);
        const replayed = await outbox.claimDue('engagement', 10, Date.now(), 60_000);
        expect(replayed.map((e) => [e.id, e.message.id, e.attempts])).toEqual([[entry!.id, m.id, 0]]);
      });

      it('counts per subscriber what waits, since when, and what is dead', async () => {
        const { outbox, commit } = h.store;
        expect(await outbox.stats()).toEqual([]);
        const old = { ...published(1), occurredAt: new Date(Date.now() - 120_000).toISOString() };
        await commit(old);
        await commit(registered(2));
        const bySubscriber = async () => [...(await outbox.stats())].sort((x, y) => x.subscriber.localeCompare(y.subscriber));
        expect(await bySubscriber()).toEqual([
          { subscriber: 'engagement', pending: 2, oldestPendingAt: Date.parse(old.occurredAt), deadLetters: 0 },
          { subscriber: 'ticketing', pending: 1, oldestPendingAt: Date.parse(old.occurredAt), deadLetters: 0 },
        ]);
        const [entry] = await outbox.claimDue('ticketing', 10, Date.now(), 60_000);
        await outbox.markFailed([{ id: entry!.id, attempts: 1, nextAttemptAt: null, error: 'refused' }]);
        expect(await bySubscriber()).toEqual([
          { subscriber: 'engagement', pending: 2, oldestPendingAt: Date.parse(old.occurredAt), deadLetters: 0 },
          { subscriber: 'ticketing', pending: 0, oldestPendingAt: null, deadLetters: 1 },
        ]);
      });

      it('ignores ids it never gave out', async () => {
        const { outbox, commit } = h.store;
        const m = registered(1);
        await commit(m);
        await outbox.markDelivered(['not-an-entry', '999999']);
        await outbox.markFailed([{ id: 'not-an-entry', attempts: 1, nextAttemptAt: null, error: 'x' }]);
        expect(await outbox.replayDeadLetter('nope')).toBe(false);
        expect(await outbox.listDeadLetters(10)).toEqual([]);
        expect(await outbox.pendingCount()).toBe(1);
        expect(ids(await outbox.claimDue('engagement', 10, Date.now(), 60_000))).toEqual([m.id]);
      });

      it('keeps what a store wrote after it is gone: another store on the data claims it once it is due', async () => {
        const m = registered(1);
        await h.store.commit(m);
        const next = await h.reopen(); // …the writer stopped before delivering it
        const [entry, ...more] = await next.outbox.claimDue('engagement', 10, later(), 60_000);
        expect(more).toEqual([]);
        expect(entry).toMatchObject({ subscriber: 'engagement', attempts: 0, message: { id: m.id } });
      });

      it('two stores on the same data claiming at once never both get an entry', async () => {
        const messages = Array.from({ length: 20 }, (_, i) => registered(i));
        await h.store.commit(...messages);
        const other = h.open();
        const at = later();
        const [mine, theirs] = await Promise.all([h.store.outbox.claimDue('engagement', 100, at, 60_000), other.outbox.claimDue('engagement', 100, at, 60_000)]);
        expect([...ids(mine), ...ids(theirs)].sort()).toEqual(messages.map((m) => m.id).sort());
        expect(await h.store.outbox.claimDue('engagement', 100, at, 60_000)).toEqual([]);
        expect(await other.outbox.claimDue('engagement', 100, at, 60_000)).toEqual([]);
      });

      it('inbox: applies a message once, however often and by whichever store it is delivered', async () => {
        const m = registered(1);
        expect(await h.store.applyBatch([m])).toEqual(['applied']);
        expect(await h.store.applied(m)).toBe(true);
        expect(await h.store.applyBatch([m])).toEqual(['duplicate']);
        expect(await h.open().applyBatch([m])).toEqual(['duplicate']);
      });

      it('inbox: a message whose effect fails is undone alone, its record too, so its redelivery applies it', async () => {
        const [a, b, c] = [registered(1), registered(2), registered(3)];
        const outcomes = await h.store.applyBatch([a, b, c], (m) => m.id === b.id);
        expect(outcomes[0]).toBe('applied');
        expect(outcomes[1]).toEqual({ error: expect.any(Error) });
        expect(outcomes[2]).toBe('applied');
        expect(await Promise.all([a, b, c].map((m) => h.store.applied(m)))).toEqual([true, false, true]);
        expect(await h.store.applyBatch([a, b, c])).toEqual(['duplicate', 'applied', 'duplicate']);
        expect(await h.store.applied(b)).toBe(true);
      });
    },
    { close: (s) => s.close() },
  );
}
