import { newMessage, type UpdateEventBody } from '@dems/contracts';
import type { AuthUser } from '@dems/kit';
import type { EventRecord } from '../domain/banner.js';
import { assertCanManage, capacityChanges, planEventUpdate, toSnapshot } from '../domain/event-rules.js';
import type { EventsStore } from '../store/events-store.js';
import type { TicketingInventory } from '../ticketing/inventory.js';
import { editConflict, eventNotFound } from './event-to-manage.js';
import { LOST_RACE, untilCommitted } from './plan-again.js';

/** How often a PATCH plans again when other changes to the same event keep committing first. */
const MAX_PLANS = 5;

/**
 * PATCH /events/:id: plan the change on the current version (domain rules), have ticketing confirm any
 * capacity change against its sales, then commit the event and its EventUpdated message together — unless
 * another change (or registrations beyond a new limit) committed first, in which case plan again on top of it.
 * Ticketing confirms first because the rule "capacity ≥ sold" can only hold where the seats are sold; a refusal
 * leaves everything unchanged.
 */
export async function updateEvent(
  deps: { store: EventsStore; inventory: TicketingInventory },
  id: string,
  patch: UpdateEventBody,
  user: AuthUser,
  now = new Date(),
): Promise<EventRecord> {
  return untilCommitted(MAX_PLANS, editConflict, async () => {
    const current = await deps.store.getEventForUpdate(id);
    if (!current) throw eventNotFound();
    assertCanManage(current.event, user);
    const { event, changes } = planEventUpdate(current.event, patch, now);
    if (changes.length === 0) return current.event;
    const version = current.version + 1;
    const resized = capacityChanges(current.event, event);
    if (resized.length) await deps.inventory.changeCapacity({ eventId: id, version, ticketTypes: resized });
    const messages = [newMessage('events', 'EventUpdated', { event: toSnapshot(event, version), changes }, now)];
    return (await deps.store.saveEvent({ event, changes, version, messages })) ? event : LOST_RACE;
  });
}
