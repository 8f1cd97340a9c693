/**
 * Every query key the app uses, and nowhere else: features share them, so a live notification (or one
 * feature's change) can refresh every view it may have changed without one feature importing another.
 * A key that starts with another one is under it: invalidating `allEvents()` refreshes every events query.
 */
export const queryKeys = {
  /** Every events query: the public lists, the organizer's own list and each event. */
  allEvents: () => ['events'] as const,
  events: (filters: object) => [...queryKeys.allEvents(), 'list', filters] as const,
  event: (id: string) => [...queryKeys.allEvents(), 'one', id] as const,
  myEvents: () => [...queryKeys.allEvents(), 'mine'] as const,
  /** Seats left and sold, of every event. */
  allAvailability: () => ['availability'] as const,
  availability: (eventId: string) => [...queryKeys.allAvailability(), eventId] as const,
  /** Attendee lists, of every event. */
  allEventRegistrations: () => ['event-registrations'] as const,
  eventRegistrations: (eventId: string) => [...queryKeys.allEventRegistrations(), eventId] as const,
  tickets: () => ['tickets'] as const,
  orders: () => ['orders'] as const,
  registrations: () => ['registrations'] as const,
  /** Under registrations(), so refreshing the list refreshes this too. */
  registrationFor: (eventId: string) => [...queryKeys.registrations(), 'event', eventId] as const,
  notifications: () => ['notifications'] as const,
  unreadCount: () => [...queryKeys.notifications(), 'unread'] as const,
  notificationList: () => [...queryKeys.notifications(), 'list'] as const,
  /** A queued sale's room (null when the sale is not queued); kept live by the socket while watched. */
  waitingRoom: (eventId: string) => ['waiting-room', eventId] as const,
};

/** What a new notification can have changed: availability, tickets, registrations, events and the list itself. */
export const LIVE_STALE_KEYS = [
  queryKeys.allAvailability(),
  queryKeys.tickets(),
  queryKeys.orders(),
  queryKeys.registrations(),
  queryKeys.allEvents(),
  queryKeys.notifications(),
  queryKeys.allEventRegistrations(),
];
