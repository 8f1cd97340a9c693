import type { Message, ServiceName } from '@dems/contracts';

export interface OutboxEntry {
  id: string;
  subscriber: ServiceName;
  message: Message;
  attempts: number;
}

/** What the relay decided about one entry it could not deliver. */
export interface DeliveryFailure {
  id: string;
  /** The entry's own count of failures that were its fault, after this try. */
  attempts: number;
  /** When it is due again (0: at once, in its original place); null moves it to the dead-letter list. */
  nextAttemptAt: number | null;
  error: string;
}

export interface DeadLetter extends OutboxEntry {
  lastError: string;
  createdAt: string;
}

/** One subscriber's queue as /metrics shows it. */
export interface OutboxStats {
  subscriber: ServiceName;
  /** Entries waiting for delivery (dead letters not included). */
  pending: number;
  /** When the oldest waiting entry was created (ms since the epoch); null when none waits. */
  oldestPendingAt: number | null;
  deadLetters: number;
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
  /**
   * Ends the lease of each entry with its own attempt count and next try (or dead letter): one entry's
   * failure never changes another's schedule.
   */
  markFailed(failures: DeliveryFailure[]): Promise<void>;
  listDeadLetters(limit: number): Promise<DeadLetter[]>;
  /** Puts a dead letter back in the queue with a fresh attempt count; false when there is no such entry. */
  replayDeadLetter(id: string): Promise<boolean>;
  /** Entries still waiting, dead ones not included (for tests). */
  pendingCount(): Promise<number>;
  /**
   * Per subscriber that has entries: waiting, oldest waiting, dead (for /metrics, at every scrape). Cheap and
   * bounded: an adapter that must read entries to count them may stop at a cap and say so in its documentation.
   */
  stats(): Promise<OutboxStats[]>;
}
