import type { CreatedNotification } from '../store/engagement-store.js';

export type NotificationSink = (created: CreatedNotification[]) => void;

/** Whose live sockets to close: one session (sign-out) or every session of the user (sign-out everywhere). */
export interface SocketTarget {
  userId: string;
  /** The refresh-token family (the access token's `sid`); absent means all of the user's sockets. */
  sessionId?: string;
}

export type CloseSink = (target: SocketTarget) => void;

/**
 * The hand-off between the identity and notification rules and whatever holds browsers' sockets (Socket.IO
 * today): "a notification was committed" one way, "these sessions ended" the other. In-process: the replica that
 * committed the change hands it over here, and Socket.IO's Redis adapter (socket-io.ts) carries it to the sockets
 * on every replica. Neither call throws: the state change is already stored, so a push failure must not fail
 * the request.
 */
export class LiveNotifications {
  private readonly sinks = new Set<NotificationSink>();
  private readonly closers = new Set<CloseSink>();

  constructor(private readonly log?: { warn: (o: object, m: string) => void }) {}

  subscribe(sink: NotificationSink): () => void {
    this.sinks.add(sink);
    return () => this.sinks.delete(sink);
  }

  /** Registers what closes sockets (socket-io.ts). */
  onClose(closer: CloseSink): () => void {
    this.closers.add(closer);
    return () => this.closers.delete(closer);
  }

  publish(created: CreatedNotification[]): void {
    if (created.length === 0) return;
    this.each(this.sinks, created, 'live notification push failed');
  }

  /** Closes the live sockets of a session, or of all the user's sessions, that was just revoked. */
  closeSockets(target: SocketTarget): void {
    this.each(this.closers, target, 'closing live sockets failed');
  }

  private each<T>(targets: Set<(arg: T) => void>, arg: T, failure: string): void {
    for (const target of targets) {
      try {
        target(arg);
      } catch (err) {
        this.log?.warn({ err }, failure);
      }
    }
  }
}
