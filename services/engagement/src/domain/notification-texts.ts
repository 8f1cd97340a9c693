import type { z } from 'zod';
import type { NotificationType } from '@dems/contracts';

/** What a notification says; the store adds who, when and the id. */
export interface NotificationText {
  type: z.infer<typeof NotificationType>;
  title: string;
  body: string;
  eventId: string | null;
}

/** "$25.00", "€12.50"; an unknown currency code still reads sensibly instead of throwing. */
export function formatMoney(cents: number, currency: string): string {
  try {
    return new Intl.NumberFormat('en-US', { style: 'currency', currency }).format(cents / 100);
  } catch {
    return `${(cents / 100).toFixed(2)} ${currency}`;
  }
}

/** Human names for the event fields an EventUpdated message lists as changed. */
const FIELD_NAMES: Record<string, string> = {
  title: 'name',
  description: 'description',
  venue: 'venue',
  timezone: 'time zone',
  startsAt: 'start time',
  endsAt: 'end time',
  ticketTypes: 'ticket options',
  registrationLimit: 'registration limit',
  bannerUrl: 'banner image',
  imageUrl: 'banner image',
};

/** "a", "a and b", "a, b and c". */
export function joinList(items: string[]): string {
  const last = items.at(-1) ?? '';
  return items.length > 1 ? `${items.slice(0, -1).join(', ')} and ${last}` : last;
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

export function eventUpdatedText(event: { id: string; title: string }, changes: string[]): NotificationText {
  const names = [...new Set(changes.map((c) => FIELD_NAMES[c] ?? c))];
  const what = names.length === 0 ? 'Some details changed.' : `${capitalize(joinList(names))} changed.`;
  return {
    type: 'event_updated',
    title: `${event.title} has changed`,
    body: `${what} Have a look at the event page for the latest details.`,
    eventId: event.id,
  };
}

export function eventCancelledText(event: { id: string; title: string }): NotificationText {
  return {
    type: 'event_cancelled',
    title: `${event.title} is cancelled`,
    body: `The organizer cancelled ${event.title}. Any tickets you held are cancelled and fully refunded.`,
    eventId: event.id,
  };
}

export function registrationConfirmedText(eventId: string, eventTitle: string): NotificationText {
  return {
    type: 'registration_confirmed',
    title: `You're registered for ${eventTitle}`,
    body: `We'll let you know here if anything about ${eventTitle} changes.`,
    eventId,
  };
}

export function registrationWithdrawnText(eventId: string, eventTitle: string): NotificationText {
  return {
    type: 'registration_withdrawn',
    title: 'Registration withdrawn',
    body: `You're no longer registered for ${eventTitle}. You can register again at any time while there is room.`,
    eventId,
  };
}

export function orderConfirmedText(order: { eventId: string; eventTitle: string; quantity: number }): NotificationText {
  const body = order.quantity === 1 ? `Your ticket for ${order.eventTitle} is confirmed.` : `Your ${order.quantity} tickets for ${order.eventTitle} are confirmed.`;
  return { type: 'order_confirmed', title: 'Order confirmed', body, eventId: order.eventId };
}

export function ticketCancelledText(ticket: { eventId: string; eventTitle: string; refundCents: number; currency: string }): NotificationText {
  const refund = ticket.refundCents > 0 ? `; ${formatMoney(ticket.refundCents, ticket.currency)} will be refunded.` : '.';
  return {
    type: 'ticket_cancelled',
    title: 'Ticket cancelled',
    body: `Your ticket for ${ticket.eventTitle} was cancelled${refund}`,
    eventId: ticket.eventId,
  };
}

export function announcementText(event: { id: string; title: string }, message: string): NotificationText {
  return { type: 'announcement', title: `Message from the organizer of ${event.title}`, body: message, eventId: event.id };
}
