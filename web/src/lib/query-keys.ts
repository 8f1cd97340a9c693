/**
 * Query keys shared across features, so a live notification can refresh every view it may have changed
 * without one feature importing another.
 */
export const queryKeys = {
  events: (filters: object) => ['events', 'list', filters] as const,
  event: (id: string) => ['events', 'one', id] as const,
  myEvents: () => ['events', 'mine'] as const,
  availability: (eventId: string) => ['availability', eventId] as const,
  eventRegistrations: (eventId: string) => ['event-registrations', eventId] as const,
  tickets: () => ['tickets'] as const,
  orders: () => ['orders'] as const,
  registrations: () => ['registrations'] as const,
  /** Under registrations(), so refreshing the list refreshes this too. */
  registrationFor: (eventId: string) => ['registrations', 'event', eventId] as const,
  notifications: () => ['notifications'] as const,
  /** A queued sale's room (null when the sale is not queued); kept live by the socket while watched. */
  waitingRoom: (eventId: string) => ['waiting-room', eventId] as const,
};

/** What a new notification can have changed: availability, tickets, registrations, events and the list itself. */
export const LIVE_STALE_KEYS = [['availability'], ['tickets'], ['orders'], ['registrations'], ['events'], ['notifications'], ['event-registrations']];
