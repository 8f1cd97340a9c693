import type { Message } from '@dems/contracts';
import { metricsOf } from '../metrics.js';

/**
 * The hops of a message on its way to its effect, each timed from the message's creation (`occurredAt`, set in
 * the publisher's transaction just before it commits):
 * - received: the subscriber's inbox got the delivery request (relay kick, claim, HTTP);
 * - committed: the subscriber's transaction that applied it committed;
 * - pushed: the live push it caused was written to the sockets (engagement only).
 */
export type MessageHop = 'received' | 'committed' | 'pushed';

export type MessageLag = (hop: MessageHop, message: Pick<Message, 'occurredAt'>) => void;

/** Milliseconds matter here: the goal for order → buyer's socket is a p99 of 100 ms. */
const HOP_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1, 2.5, 5, 10, 60];

const LAGS = new WeakMap<object, MessageLag>();

/**
 * `dems_message_lag_seconds{hop}` on the app's registry: one histogram per app, whoever asks for it first (the
 * inbox for received and committed, engagement's live push for pushed). A no-op for an app without metrics.
 */
export function messageLag(app: object): MessageLag {
  const known = LAGS.get(app);
  if (known) return known;
  const metrics = metricsOf(app);
  let lag: MessageLag = () => {};
  if (metrics) {
    const histogram = metrics.histogram('dems_message_lag_seconds', 'Seconds from the creation of a message to each hop: received, committed, pushed.', ['hop'], HOP_BUCKETS);
    // Clocks of two hosts may disagree by a little: a hop never comes before the message was written.
    lag = (hop, message) => histogram.observe({ hop }, Math.max(0, Date.now() - Date.parse(message.occurredAt)) / 1000);
  }
  LAGS.set(app, lag);
  return lag;
}
