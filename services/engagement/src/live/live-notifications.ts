import type { CreatedNotification } from '../store/engagement-store.js';

export type NotificationSink = (created: CreatedNotification[]) => void;

/**
 * The hand-off between "a notification was committed" and whatever pushes it to browsers (Socket.IO today).
 * Publishing never throws: the notification is already stored, so a push failure must not fail the request.
 */
export class LiveNotifications {
  private readonly sinks = new Set<NotificationSink>();

  constructor(private readonly log?: { warn: (o: object, m: string) => void }) {}

  subscribe(sink: NotificationSink): () => void {
    this.sinks.add(sink);
    return () => this.sinks.delete(sink);
  }

  publish(created: CreatedNotification[]): void {
    if (created.length === 0) return;
    for (const sink of this.sinks) {
      try {
        sink(created);
      } catch (err) {
        this.log?.warn({ err }, 'live notification push failed');
      }
    }
  }
}
