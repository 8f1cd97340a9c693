import type { BatchItemOutcome, MessageLag } from '@dems/kit';
import type { LiveNotifications } from '../live/live-notifications.js';
import type { EngagementStore, MessageChange } from '../store/engagement-store.js';

export interface ApplyMessagesDeps {
  store: EngagementStore;
  live: Pick<LiveNotifications, 'publish'>;
  /** Times the `pushed` hop of each message whose change was pushed. */
  lag?: MessageLag;
}

/**
 * Commits the changes of a delivered batch (null: a message with nothing to store) in one store call — one
 * commit on SQLite — then pushes what each created, only once that commit is done, so a socket never hears of a
 * change that could still roll back. A push that fails loses nothing: the notification is stored and the web
 * app lists it. Answers each message in its place.
 */
export async function applyMessages(deps: ApplyMessagesDeps, changes: (MessageChange | null)[]): Promise<BatchItemOutcome[]> {
  const stored = await deps.store.applyMessages(changes.filter((c): c is MessageChange => c !== null));
  let next = 0;
  return changes.map((change): BatchItemOutcome => {
    if (!change) return 'applied';
    const outcome = stored[next++]!;
    if ('error' in outcome) return { error: outcome.error };
    if (outcome.created.length > 0) {
      deps.live.publish(outcome.created);
      deps.lag?.('pushed', change.message);
    }
    return outcome.result;
  });
}
