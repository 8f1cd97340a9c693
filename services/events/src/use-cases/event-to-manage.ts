import { AppError, type AuthUser } from '@dems/kit';
import type { EventRecord } from '../domain/banner.js';
import { assertCanManage } from '../domain/event-rules.js';
import type { EventsStore } from '../store/events-store.js';

export const eventNotFound = () => new AppError('EVENT_NOT_FOUND', 'No event with this id.');
/** A change that planned again as often as it may, and found every time that another change had committed first. */
export const editConflict = () => new AppError('EDIT_CONFLICT', 'This event is being changed by someone else right now. Please reload it and try again.');

/** The event, if it exists (else 404 EVENT_NOT_FOUND) and `user` may change it (its organizer, or an admin). */
export async function eventToManage(store: Pick<EventsStore, 'getEvent'>, id: string, user: AuthUser): Promise<EventRecord> {
  const event = await store.getEvent(id);
  if (!event) throw eventNotFound();
  assertCanManage(event, user);
  return event;
}
