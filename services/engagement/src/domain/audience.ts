import type { NotificationText } from './notification-texts.js';

/**
 * The ids under which an order's tickets count toward its buyer's place in the event's audience: one per
 * ticket, derived from the order alone, so applying the same OrderPlaced twice adds the same ids again
 * (nothing) and a cancelled ticket (counted by its own id) takes one away whatever the arrival order.
 */
export function heldTicketIds(orderId: string, quantity: number): string[] {
  return Array.from({ length: quantity }, (_, i) => `${orderId}#${i}`);
}

/** One person's standing with an event, as the store keeps it: what the audience rules below read. */
export interface AudienceMember {
  userId: string;
  /** Registered (RSVP) for the event. */
  registered: boolean;
  /** Holds at least one ticket to it. */
  holdsTickets: boolean;
  /** Had tickets that the event's cancellation took. */
  lostTicketsToCancellation: boolean;
}

/** Who hears an event's news (an update, an announcement): people registered for it or holding a ticket. */
export const followsEvent = (member: AudienceMember): boolean => member.registered || member.holdsTickets;

/**
 * Who hears of an event's cancellation: its followers, and those whose tickets the cancellation took, so a
 * holder is told even when the cancellation of their tickets arrives before that of the event.
 */
export const hearsOfCancellation = (member: AudienceMember): boolean => followsEvent(member) || member.lostTicketsToCancellation;

/** Who is told, and what: each member of an event's audience that `hears` picks is sent `text`. */
export interface Telling {
  hears: (member: AudienceMember) => boolean;
  text: NotificationText;
}
