import type { ApplyBatch } from '@dems/kit';
import type { TicketingStore } from '../store/ticketing-store.js';
import { applyEventMessages } from '../use-cases/apply-event-changes.js';

/** The inbox's batch apply: a delivered batch in one store call (one commit on SQLite). */
export function messageBatchHandler(store: TicketingStore): ApplyBatch {
  return (messages) => applyEventMessages(store, messages);
}
