import type { Message, ServiceName } from '@dems/contracts';

export interface OutboxEntry {
  id: string;
  subscriber: ServiceName;
  message: Message;
  attempts: number;
}

export interface DeadLetter extends OutboxEntry {
  lastError: string;
  createdAt: string;
}

/**
 * Where a service keeps the messages it still owes its subscribers. Rows are written in the same
 * transaction as the state change they announce; the relay only reads and updates them.
 */
export interface OutboxStore {
  /** Leases up to `limit` due entries of one subscriber, oldest first, so another relay skips them meanwhile. */
  claimDue(subscriber: ServiceName, limit: number, now: number, leaseMs: number): Promise<OutboxEntry[]>;
  /** Removes delivered entries. */
  markDelivered(ids: string[]): Promise<void>;
  /** Schedules another try, or with `nextAttemptAt: null` moves the entries to the dead-letter list. */
  markFailed(ids: string[], attempts: number, nextAttemptAt: number | null, error: string): Promise<void>;
  listDeadLetters(limit: number): Promise<DeadLetter[]>;
  /** Puts a dead letter back in the queue with a fresh attempt count; false when there is no such entry. */
  replayDeadLetter(id: string): Promise<boolean>;
  /** Entries still waiting, dead ones not included (for /metrics and tests). */
  pendingCount(): Promise<number>;
}
