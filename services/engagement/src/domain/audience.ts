/**
 * The ids under which an order's tickets count toward its buyer's place in the event's audience: one per
 * ticket, derived from the order alone, so applying the same OrderPlaced twice adds the same ids again
 * (nothing) and a cancelled ticket (counted by its own id) takes one away whatever the arrival order.
 */
export function heldTicketIds(orderId: string, quantity: number): string[] {
  return Array.from({ length: quantity }, (_, i) => `${orderId}#${i}`);
}
