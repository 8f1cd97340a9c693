import { eventNews, type EventMessage } from '../domain/event-news.js';
import type { EventMessageChange } from '../store/engagement-store.js';

/**
 * EventPublished, EventUpdated, EventCancelled: the event's snapshot becomes engagement's copy when it is newer
 * (the copy announcements are checked against), and the audience hears of it when it is news — both judged by
 * domain/event-news.ts against the copy the store holds when it commits.
 */
export function eventChanged(message: EventMessage): EventMessageChange {
  const { id, title, organizerId, status, version } = message.data.event;
  return { message, event: { event: { id, title, organizerId, status, version }, decide: (before) => eventNews(message, before) } };
}
