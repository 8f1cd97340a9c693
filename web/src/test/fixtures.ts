import type { Event, Notification } from '@dems/contracts';

/** A published event as the events service answers it; override what a test is about. */
export function testEvent(over: Partial<Event> = {}): Event {
  return {
    id: 'ev-1',
    organizerId: 'org-1',
    title: 'Jazz Night',
    description: '',
    venue: 'Blue Room',
    timezone: 'Europe/Lisbon',
    startsAt: '2099-07-14T19:30:00.000Z',
    endsAt: '2099-07-14T22:30:00.000Z',
    status: 'published',
    registrationLimit: null,
    registrationCount: 0,
    ticketTypes: [],
    bannerUrl: null,
    bannerSizes: [],
    createdAt: '2025-01-01T00:00:00.000Z',
    updatedAt: '2025-01-01T00:00:00.000Z',
    ...over,
  };
}

/** An order confirmation as the notifications API lists it, unread unless `readAt` is given. */
export function testNotification(id: string, readAt: string | null = null): Notification {
  return {
    id,
    type: 'order_confirmed',
    title: 'Order confirmed',
    body: 'Your 2 tickets for Jazz Night are confirmed.',
    eventId: 'ev-1',
    createdAt: new Date().toISOString(),
    readAt,
  };
}
