import type { CapacityChangeBody } from '@dems/contracts';
import { refuseCapacityChange } from '../domain/purchase.js';
import type { TicketingStore } from '../store/ticketing-store.js';

/**
 * What happens when an organizer changes capacities (events asks ticketing before it commits the change): in ONE
 * atomic step with the sales, each ticket type is checked against what it has sold (domain/purchase.ts
 * refuseCapacityChange: never below sold, never a type ticketing has not received yet); any refusal refuses the
 * whole change, otherwise every capacity is set, and older event snapshots leave them alone from then on.
 */
export function changeCapacity(store: TicketingStore, change: CapacityChangeBody): Promise<void> {
  return store.changeCapacity(change, refuseCapacityChange);
}
