import type { EventStatus, Message } from '@dems/contracts';
import type { z } from 'zod';
import { followsEvent, hearsOfCancellation, type Telling } from './audience.js';
import { eventCancelledText, eventUpdatedText } from './notification-texts.js';

export type EventMessage = Message<'EventPublished' | 'EventUpdated' | 'EventCancelled'>;

/** The copy of an event engagement holds, as far as judging what is news needs it. */
export interface HeldEvent {
  version: number;
  status: z.infer<typeof EventStatus>;
}

/** What an event message changes here. */
export interface EventNews {
  /** The message's snapshot is newer than the copy held (or there is none): it replaces it. */
  keepCopy: boolean;
  /** Who is told what; null: nobody. */
  tell: Telling | null;
}

/**
 * What an event message changes, judged against the copy held before it, since messages may arrive late or
 * twice: an update is news to the event's followers when it is newer than that copy and the event is not
 * cancelled already; a cancellation is news once (to its followers and those whose tickets it took), even when
 * a later version of the event arrived before it; a publication tells nobody.
 */
export function eventNews(message: EventMessage, before: HeldEvent | null): EventNews {
  const { event } = message.data;
  const keepCopy = before === null || event.version > before.version;
  const alreadyCancelled = before?.status === 'cancelled';
  switch (message.type) {
    case 'EventPublished':
      return { keepCopy, tell: null };
    case 'EventUpdated':
      return { keepCopy, tell: keepCopy && !alreadyCancelled ? { hears: followsEvent, text: eventUpdatedText(event, message.data.changes) } : null };
    case 'EventCancelled':
      return { keepCopy, tell: alreadyCancelled ? null : { hears: hearsOfCancellation, text: eventCancelledText(event) } };
  }
}
