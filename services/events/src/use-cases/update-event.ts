import type { UpdateEventBody } from '@dems/contracts';
import { AppError, type AuthUser } from '@dems/kit';
import type { EventRecord } from '../domain/banner.js';
import { assertCanManage, capacityChanges, planEventUpdate } from '../domain/event-rules.js';
import type { EventsStore } from '../store/events-store.js';
import type { TicketingInventory } from '../ticketing/inventory.js';
import { eventNotFound } from './event-to-manage.js';

/** How often a PATCH plans again when other changes to the same event keep committing first. */
const MAX_PLANS = 5;

/**
 * PATCH /events/:id: plan the change on the current version (domain rules), have ticketing confirm any
 * capacity change against its sales, then commit the event and its EventUpdated message together — unless
 * another change committed first, in which case plan again on top of it. Ticketing confirms first because
 * the rule "capacity ≥ sold" can only hold where the seats are sold; a refusal leaves everything unchanged.
 */
export async function updateEvent(
  deps: { store: EventsStore; inventory: TicketingInventory },
  id: string,
  patch: UpdateEventBody,
  user: AuthUser,
  now = new Date(),
): Promise<EventRecord> {
  for (let plan = 0; plan < MAX_PLANS; plan++) {
    const current = await deps.store.getEventForUpdate(id);
    if (!current) throw eventNotFound();
    assertCanManage(current.event, user);
    const { event, changes } = planEventUpdate(current.event, patch, now);
    if (changes.length === 0) return current.event;
    const version = current.version + 1;
    const resized = capacityChanges(current.event, event);
    if (resized.length) await deps.inventory.changeCapacity({ eventId: id, version, ticketTypes: resized });
    if (await deps.store.saveEventUpdate({ event, changes, version })) return event;
  }
  throw new AppError('EDIT_CONFLICT', 'This event is being changed by someone else right now. Please reload it and try again.');
}
