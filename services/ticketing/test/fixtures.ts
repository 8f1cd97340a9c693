import { newMessage, type EventSnapshot, type TicketType } from '@dems/contracts';

const hour = 3_600_000;

/** An upcoming event as events would publish it; override what a test is about. */
export function eventSnapshot(over: Partial<EventSnapshot> = {}): EventSnapshot {
  const startsAt = new Date(Date.now() + 24 * hour);
  return {
    id: 'evt_jazz',
    organizerId: 'usr_org',
    title: 'Jazz Night',
    venue: 'Blue Room',
    timezone: 'Europe/Berlin',
    startsAt: startsAt.toISOString(),
    endsAt: new Date(startsAt.getTime() + 3 * hour).toISOString(),
    status: 'published',
    ticketTypes: [ticketType(), ticketType({ id: 'tt_vip', name: 'VIP', priceCents: 9900, capacity: 3 })],
    version: 1,
    ...over,
  };
}

export function ticketType(over: Partial<TicketType> = {}): TicketType {
  return { id: 'tt_ga', name: 'General admission', priceCents: 2500, currency: 'USD', capacity: 100, ...over };
}

export const published = (event: EventSnapshot) => newMessage('events', 'EventPublished', { event });
export const updated = (event: EventSnapshot, changes: string[] = ['title']) => newMessage('events', 'EventUpdated', { event, changes });
export const cancelled = (event: EventSnapshot) => newMessage('events', 'EventCancelled', { event: { ...event, status: 'cancelled' } });

/** An event that has already ended (to test EVENT_ENDED). */
export function pastEvent(over: Partial<EventSnapshot> = {}): EventSnapshot {
  return eventSnapshot({
    id: 'evt_past',
    startsAt: new Date(Date.now() - 5 * hour).toISOString(),
    endsAt: new Date(Date.now() - 2 * hour).toISOString(),
    ...over,
  });
}
