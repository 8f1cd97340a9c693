import { newMessage } from '@dems/contracts';
import type { AuthUser } from '@dems/kit';
import type { EventRecord } from '../domain/banner.js';
import { assertCanManage, toSnapshot } from '../domain/event-rules.js';
import type { EventsStore } from '../store/events-store.js';
import { editConflict, eventNotFound } from './event-to-manage.js';
import { LOST_RACE, untilCommitted } from './plan-again.js';

/** How often a cancellation plans again when changes to the same event keep committing first. */
const MAX_PLANS = 5;

/**
 * POST /events/:id/cancel: the event's organizer (or an admin) cancels it once. It becomes the next version with
 * its EventCancelled, on which ticketing refunds the tickets and engagement tells everyone concerned; the store
 * closes registration with it. Cancelling a cancelled event changes nothing and sends nothing.
 */
export async function cancelEvent(store: EventsStore, id: string, user: AuthUser, now = new Date()): Promise<EventRecord> {
  return untilCommitted(MAX_PLANS, editConflict, async () => {
    const current = await store.getEventForUpdate(id);
    if (!current) throw eventNotFound();
    assertCanManage(current.event, user);
    if (current.event.status === 'cancelled') return current.event;
    const event: EventRecord = { ...current.event, status: 'cancelled', updatedAt: now.toISOString() };
    const version = current.version + 1;
    const messages = [newMessage('events', 'EventCancelled', { event: toSnapshot(event, version) }, now)];
    return (await store.saveEvent({ event, changes: ['status'], version, messages })) ? event : LOST_RACE;
  });
}
