import { describe, expect, it } from 'vitest';
import {
  EventSnapshot,
  MESSAGE_TYPES,
  MessageData,
  MessageEnvelope,
  newMessage,
  parseMessage,
  PUBLISHED_BY,
  SERVICE_NAMES,
  subscribersOf,
  SUBSCRIPTIONS,
  Traceparent,
  type MessageType,
} from '@dems/contracts';

const snapshot = {
  id: 'evt_1',
  organizerId: 'usr_1',
  title: 'Jazz Night',
  venue: 'Blue Room',
  timezone: 'Europe/Lisbon',
  startsAt: '2030-01-01T19:00:00.000Z',
  endsAt: '2030-01-01T22:00:00.000Z',
  status: 'published',
  ticketTypes: [{ id: 'tt_1', name: 'General', priceCents: 2500, currency: 'USD', capacity: 100 }],
  version: 1,
} as const;

/** One valid data value for every message type. */
const DATA: { [T in MessageType]: unknown } = {
  EventPublished: { event: snapshot },
  EventUpdated: { event: { ...snapshot, version: 2 }, changes: ['title', 'venue'] },
  EventCancelled: { event: { ...snapshot, status: 'cancelled', version: 3 } },
  UserRegistered: { registrationId: 'reg_1', eventId: 'evt_1', eventTitle: 'Jazz Night', userId: 'usr_2' },
  RegistrationWithdrawn: { registrationId: 'reg_1', eventId: 'evt_1', eventTitle: 'Jazz Night', userId: 'usr_2' },
  OrderPlaced: {
    orderId: 'ord_1',
    userId: 'usr_2',
    eventId: 'evt_1',
    eventTitle: 'Jazz Night',
    ticketTypeId: 'tt_1',
    ticketTypeName: 'General',
    quantity: 2,
    totalCents: 5000,
    currency: 'USD',
  },
  TicketCancelled: {
    ticketId: 'tkt_1',
    orderId: 'ord_1',
    userId: 'usr_2',
    eventId: 'evt_1',
    eventTitle: 'Jazz Night',
    ticketTypeId: 'tt_1',
    refundCents: 2500,
    currency: 'USD',
    reason: 'attendee',
  },
  WaitingRoomChanged: { eventId: 'evt_1', room: { opensAt: '2030-01-01T18:00:00.000Z', admitPerMinute: 600, passMinutes: 10 } },
};

const envelope = (type: MessageType, data: unknown = DATA[type]) => ({
  id: '6f1c1f7e-8a53-4a4b-9c3e-2b7a4d6f0e11',
  type,
  source: 'events',
  occurredAt: '2030-01-01T00:00:00.000Z',
  data,
});

describe('the message catalogue', () => {
  it('has these eight types', () => {
    expect(MESSAGE_TYPES).toEqual([
      'EventPublished',
      'EventUpdated',
      'EventCancelled',
      'UserRegistered',
      'RegistrationWithdrawn',
      'OrderPlaced',
      'TicketCancelled',
      'WaitingRoomChanged',
    ]);
  });

  it('is sent among the services events, ticketing and engagement', () => {
    expect(SERVICE_NAMES).toEqual(['events', 'ticketing', 'engagement']);
  });

  it('routes each type to its subscribers', () => {
    expect(SUBSCRIPTIONS).toEqual({
      EventPublished: ['ticketing', 'engagement'],
      EventUpdated: ['ticketing', 'engagement'],
      EventCancelled: ['ticketing', 'engagement'],
      UserRegistered: ['engagement'],
      RegistrationWithdrawn: ['engagement'],
      OrderPlaced: ['engagement'],
      TicketCancelled: ['engagement'],
      WaitingRoomChanged: ['engagement'],
    });
  });

  it('names the one service that publishes each type', () => {
    expect(PUBLISHED_BY).toEqual({
      EventPublished: 'events',
      EventUpdated: 'events',
      EventCancelled: 'events',
      UserRegistered: 'events',
      RegistrationWithdrawn: 'events',
      OrderPlaced: 'ticketing',
      TicketCancelled: 'ticketing',
      WaitingRoomChanged: 'ticketing',
    });
  });

  it('tells each service whom it can ever owe a message, and nobody else', () => {
    expect(subscribersOf('events')).toEqual(['ticketing', 'engagement']);
    expect(subscribersOf('ticketing')).toEqual(['engagement']);
    expect(subscribersOf('engagement')).toEqual([]);
  });
});

describe('parseMessage', () => {
  it.each(MESSAGE_TYPES)('accepts a %s with its data', (type) => {
    const input = envelope(type);
    expect(parseMessage(input)).toEqual(input);
  });

  it.each(SERVICE_NAMES)('accepts %s as the source', (source) => {
    expect(parseMessage({ ...envelope('UserRegistered'), source }).source).toBe(source);
  });

  it.each([
    ['id', 'not-a-uuid'],
    ['id', undefined],
    ['type', 'Nope'],
    ['source', 'gateway'],
    ['occurredAt', '2030-01-01T01:00:00+01:00'],
    ['occurredAt', '1969-12-31T23:59:59.999Z'],
    ['occurredAt', undefined],
  ])('refuses an envelope with %s = %j', (field, value) => {
    const result = MessageEnvelope.safeParse({ ...envelope('UserRegistered'), [field]: value });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual([field]);
    expect(() => parseMessage({ ...envelope('UserRegistered'), [field]: value })).toThrow();
  });

  it('checks the data against the schema of its own type, not another one', () => {
    expect(() => parseMessage(envelope('UserRegistered', DATA.OrderPlaced))).toThrow();
    expect(() => parseMessage(envelope('OrderPlaced', DATA.UserRegistered))).toThrow();
    expect(() => parseMessage(envelope('EventPublished', DATA.TicketCancelled))).toThrow();
  });

  it('hands back the data as its schema parsed it (unknown data fields are dropped)', () => {
    const parsed = parseMessage(envelope('UserRegistered', { ...(DATA.UserRegistered as object), extra: 1 }));
    expect(parsed.data).toEqual(DATA.UserRegistered);
  });

  it.each([
    ['EventPublished', { event: { ...snapshot, version: 0 } }],
    ['EventPublished', { event: { ...snapshot, version: 1.5 } }],
    ['EventPublished', { event: { ...snapshot, status: 'draft' } }],
    ['EventPublished', { event: { ...snapshot, startsAt: 'soon' } }],
    ['EventPublished', { event: { ...snapshot, endsAt: undefined } }],
    ['EventPublished', { event: { ...snapshot, id: 'a b' } }],
    ['EventPublished', { event: { ...snapshot, organizerId: '' } }],
    ['EventPublished', { event: { ...snapshot, title: 1 } }],
    ['EventPublished', { event: { ...snapshot, venue: undefined } }],
    ['EventPublished', { event: { ...snapshot, timezone: null } }],
    ['EventPublished', { event: { ...snapshot, ticketTypes: [{ id: 'tt_1' }] } }],
    ['EventPublished', {}],
    ['EventUpdated', { event: snapshot }],
    ['EventUpdated', { event: snapshot, changes: [1] }],
    ['EventCancelled', { event: { ...snapshot, version: undefined } }],
    ['UserRegistered', { ...(DATA.UserRegistered as object), registrationId: 'a b' }],
    ['UserRegistered', { ...(DATA.UserRegistered as object), eventTitle: undefined }],
    ['UserRegistered', { ...(DATA.UserRegistered as object), userId: '' }],
    ['UserRegistered', { ...(DATA.UserRegistered as object), eventId: undefined }],
    ['RegistrationWithdrawn', { ...(DATA.RegistrationWithdrawn as object), registrationId: undefined }],
    ['RegistrationWithdrawn', { ...(DATA.RegistrationWithdrawn as object), eventId: 'a b' }],
    ['RegistrationWithdrawn', { ...(DATA.RegistrationWithdrawn as object), eventTitle: 1 }],
    ['RegistrationWithdrawn', { ...(DATA.RegistrationWithdrawn as object), userId: undefined }],
    ['OrderPlaced', { ...(DATA.OrderPlaced as object), orderId: 'a b' }],
    ['OrderPlaced', { ...(DATA.OrderPlaced as object), userId: undefined }],
    ['OrderPlaced', { ...(DATA.OrderPlaced as object), eventId: '' }],
    ['OrderPlaced', { ...(DATA.OrderPlaced as object), eventTitle: undefined }],
    ['OrderPlaced', { ...(DATA.OrderPlaced as object), ticketTypeId: undefined }],
    ['OrderPlaced', { ...(DATA.OrderPlaced as object), ticketTypeName: 1 }],
    ['OrderPlaced', { ...(DATA.OrderPlaced as object), quantity: 1.5 }],
    ['OrderPlaced', { ...(DATA.OrderPlaced as object), totalCents: '5000' }],
    ['OrderPlaced', { ...(DATA.OrderPlaced as object), currency: undefined }],
    ['TicketCancelled', { ...(DATA.TicketCancelled as object), ticketId: 'a b' }],
    ['TicketCancelled', { ...(DATA.TicketCancelled as object), orderId: undefined }],
    ['TicketCancelled', { ...(DATA.TicketCancelled as object), userId: '' }],
    ['TicketCancelled', { ...(DATA.TicketCancelled as object), eventId: undefined }],
    ['TicketCancelled', { ...(DATA.TicketCancelled as object), eventTitle: 2 }],
    ['TicketCancelled', { ...(DATA.TicketCancelled as object), ticketTypeId: undefined }],
    ['TicketCancelled', { ...(DATA.TicketCancelled as object), refundCents: 0.5 }],
    ['TicketCancelled', { ...(DATA.TicketCancelled as object), currency: undefined }],
    ['TicketCancelled', { ...(DATA.TicketCancelled as object), reason: 'refund' }],
    ['WaitingRoomChanged', { eventId: 'evt_1' }],
    ['WaitingRoomChanged', { eventId: 'a b', room: null }],
    ['WaitingRoomChanged', { eventId: 'evt_1', room: { opensAt: 'soon', admitPerMinute: 600, passMinutes: 10 } }],
    ['WaitingRoomChanged', { eventId: 'evt_1', room: { opensAt: '2030-01-01T18:00:00.000Z', admitPerMinute: 0, passMinutes: 10 } }],
    ['WaitingRoomChanged', { eventId: 'evt_1', room: { opensAt: '2030-01-01T18:00:00.000Z', admitPerMinute: 600, passMinutes: 61 } }],
  ] as [MessageType, unknown][])('refuses a %s with data %j', (type, data) => {
    expect(() => parseMessage(envelope(type, data))).toThrow();
  });

  it('accepts a deleted waiting room (room: null)', () => {
    expect(parseMessage(envelope('WaitingRoomChanged', { eventId: 'evt_1', room: null })).data).toEqual({ eventId: 'evt_1', room: null });
  });

  it.each(['attendee', 'event_cancelled'])('accepts a ticket cancelled for the reason %s', (reason) => {
    const data = { ...(DATA.TicketCancelled as object), reason };
    expect(parseMessage(envelope('TicketCancelled', data)).data).toEqual(data);
  });

  it('keeps the EventSnapshot fields other services copy', () => {
    expect(EventSnapshot.parse(snapshot)).toEqual(snapshot);
    expect(MessageData.EventCancelled.parse(DATA.EventCancelled)).toEqual(DATA.EventCancelled);
  });
});

describe('the trace context a message carries (traceparent)', () => {
  const TRACEPARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

  it('is kept when it is a W3C traceparent', () => {
    const input = { ...envelope('OrderPlaced'), traceparent: TRACEPARENT };
    expect(parseMessage(input)).toEqual(input);
    expect(parseMessage(input).traceparent).toBe(TRACEPARENT);
    expect(Traceparent.parse('ff-ffffffffffffffffffffffffffffffff-ffffffffffffffff-ff')).toBeTruthy();
  });

  it('is optional: a message written before it existed is valid without it', () => {
    const parsed = parseMessage(envelope('OrderPlaced'));
    expect(parsed).toEqual(envelope('OrderPlaced'));
    expect(Object.keys(parsed)).not.toContain('traceparent');
  });

  it.each([
    ['a trace id one digit short', '00-0af7651916cd43dd8448eb211c80319-b7ad6b7169203331-01'],
    ['a trace id one digit long', '00-0af7651916cd43dd8448eb211c80319cc-b7ad6b7169203331-01'],
    ['a parent id one digit short', '00-0af7651916cd43dd8448eb211c80319c-b7ad6b716920333-01'],
    ['a parent id one digit long', '00-0af7651916cd43dd8448eb211c80319c-b7ad6b71692033311-01'],
    ['a one-digit version', '0-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'],
    ['a three-digit version', '000-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'],
    ['one-digit flags', '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-1'],
    ['three-digit flags', '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-011'],
    ['upper-case hex', '00-0AF7651916CD43DD8448EB211C80319C-B7AD6B7169203331-01'],
    ['letters beyond f', '00-0ag7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'],
    ['a non-hex version', 'zz-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'],
    ['non-hex flags', '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-0g'],
    ['a non-hex parent id', '00-0af7651916cd43dd8448eb211c80319c-b7ad6b716920333x-01'],
    ['something before it', 'x00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'],
    ['something after it', '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01x'],
    ['other separators', '00_0af7651916cd43dd8448eb211c80319c_b7ad6b7169203331_01'],
    ['not a string', 42],
  ])('with %s is dropped, and the message still accepted', (_what, traceparent) => {
    expect(Traceparent.safeParse(traceparent).success).toBe(false);
    const parsed = parseMessage({ ...envelope('OrderPlaced'), traceparent });
    expect(parsed.traceparent).toBeUndefined();
    expect(parsed.data).toEqual(DATA.OrderPlaced);
  });
});

describe('newMessage', () => {
  it('stamps a fresh UUID, the source, the type and the time, and checks the data', () => {
    const now = new Date('2030-01-01T12:00:00.000Z');
    const m = newMessage('ticketing', 'OrderPlaced', DATA.OrderPlaced as never, now);
    expect(m).toEqual({
      id: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/),
      type: 'OrderPlaced',
      source: 'ticketing',
      occurredAt: '2030-01-01T12:00:00.000Z',
      data: DATA.OrderPlaced,
    });
    expect(newMessage('ticketing', 'OrderPlaced', DATA.OrderPlaced as never, now).id).not.toBe(m.id);
  });

  it('uses the current time by default', () => {
    const before = Date.now();
    const m = newMessage('events', 'EventPublished', DATA.EventPublished as never);
    expect(Date.parse(m.occurredAt)).toBeGreaterThanOrEqual(before);
    expect(Date.parse(m.occurredAt)).toBeLessThanOrEqual(Date.now());
  });

  it('refuses data its subscribers would refuse', () => {
    expect(() => newMessage('events', 'EventPublished', { event: { ...snapshot, version: 0 } } as never)).toThrow();
  });
});
