import type { Message } from '@dems/contracts';
import { heldTicketIds } from '../domain/audience.js';
import { orderConfirmedText } from '../domain/notification-texts.js';
import type { AudienceMessageChange } from '../store/engagement-store.js';

/** OrderPlaced: the buyer holds the order's tickets (joining the event's audience) and is told the order is confirmed. */
export function orderPlaced(message: Message<'OrderPlaced'>): AudienceMessageChange {
  const { eventId, userId, orderId, quantity } = message.data;
  return { message, audience: { eventId, userId, ticketsHeld: heldTicketIds(orderId, quantity), text: orderConfirmedText(message.data) } };
}
