import type { Message } from '@dems/contracts';
import type { ApplyBatch } from '@dems/kit';
import type { LiveWaitingRooms } from '../live/waiting-rooms.js';
import type { MessageChange } from '../store/engagement-store.js';
import { applyMessages, type ApplyMessagesDeps } from '../use-cases/apply-messages.js';
import { eventChanged } from '../use-cases/event-changed.js';
import { orderPlaced } from '../use-cases/order-placed.js';
import { registrationChanged } from '../use-cases/registration-changed.js';
import { ticketCancelled } from '../use-cases/ticket-cancelled.js';
import { waitingRoomChanged } from '../use-cases/waiting-room-changed.js';

export interface MessageHandlerDeps extends ApplyMessagesDeps {
  waitingRooms: Pick<LiveWaitingRooms, 'changed'>;
}

/** The use case of each message engagement subscribes to: the change it makes in the store (null: nothing to store). */
function changeOf(deps: MessageHandlerDeps, m: Message): MessageChange | null {
  switch (m.type) {
    case 'EventPublished':
    case 'EventUpdated':
    case 'EventCancelled':
      return eventChanged(m);
    case 'UserRegistered':
    case 'RegistrationWithdrawn':
      return registrationChanged(m);
    case 'OrderPlaced':
      return orderPlaced(m);
    case 'TicketCancelled':
      return ticketCancelled(m);
    case 'WaitingRoomChanged':
      return waitingRoomChanged(deps.waitingRooms, m);
  }
}

/** The inbox's batch apply: each message to its use case, and the batch's changes committed together (use-cases/apply-messages.ts). */
export function messageBatchHandler(deps: MessageHandlerDeps): ApplyBatch {
  return (messages) =>
    applyMessages(
      deps,
      messages.map((m) => changeOf(deps, m)),
    );
}
