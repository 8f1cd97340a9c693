import { z } from 'zod';
import { Id, IsoDateTime } from './common.js';
import { EventStatus, TicketType } from './events.js';
import { WaitingRoomSettings } from './waiting-room.js';

/** The part of an event other services keep a copy of. */
export const EventSnapshot = z.object({
  id: Id,
  organizerId: Id,
  title: z.string(),
  venue: z.string(),
  timezone: z.string(),
  startsAt: IsoDateTime,
  endsAt: IsoDateTime,
  status: EventStatus,
  ticketTypes: z.array(TicketType),
  /** Grows with every change; a subscriber keeps the highest version it has seen, whatever the arrival order. */
  version: z.number().int().min(1),
});
export type EventSnapshot = z.infer<typeof EventSnapshot>;

/** Every domain message, by type. Adding one here means adding its subscribers to SUBSCRIPTIONS. */
export const MessageData = {
  EventPublished: z.object({ event: EventSnapshot }),
  /** `changes` names the fields that changed, for the notification text. */
  EventUpdated: z.object({ event: EventSnapshot, changes: z.array(z.string()) }),
  EventCancelled: z.object({ event: EventSnapshot }),
  UserRegistered: z.object({
    registrationId: Id,
    eventId: Id,
    eventTitle: z.string(),
    userId: Id,
  }),
  RegistrationWithdrawn: z.object({
    registrationId: Id,
    eventId: Id,
    eventTitle: z.string(),
    userId: Id,
  }),
  OrderPlaced: z.object({
    orderId: Id,
    userId: Id,
    eventId: Id,
    eventTitle: z.string(),
    ticketTypeId: Id,
    ticketTypeName: z.string(),
    quantity: z.number().int(),
    totalCents: z.number().int(),
    currency: z.string(),
  }),
  /** `reason: 'event_cancelled'` is sent for every ticket of a cancelled event; EventCancelled already told the holder. */
  TicketCancelled: z.object({
    ticketId: Id,
    orderId: Id,
    userId: Id,
    eventId: Id,
    eventTitle: z.string(),
    ticketTypeId: Id,
    refundCents: z.number().int(),
    currency: z.string(),
    reason: z.enum(['attendee', 'event_cancelled']),
  }),
  /** A waiting room was set, changed or deleted (`room: null`): the sale of the event is (no longer) queued. */
  WaitingRoomChanged: z.object({ eventId: Id, room: WaitingRoomSettings.nullable() }),
} as const;

export type MessageType = keyof typeof MessageData;
export const MESSAGE_TYPES = Object.keys(MessageData) as MessageType[];

export const SERVICE_NAMES = ['events', 'ticketing', 'engagement'] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

/** Who receives what: the static subscription table. */
export const SUBSCRIPTIONS: Record<MessageType, readonly ServiceName[]> = {
  EventPublished: ['ticketing', 'engagement'],
  EventUpdated: ['ticketing', 'engagement'],
  EventCancelled: ['ticketing', 'engagement'],
  UserRegistered: ['engagement'],
  RegistrationWithdrawn: ['engagement'],
  OrderPlaced: ['engagement'],
  TicketCancelled: ['engagement'],
  WaitingRoomChanged: ['engagement'],
};

/** Which service writes each message type: its relay drains only the subscribers of those types. */
export const PUBLISHED_BY: Record<MessageType, ServiceName> = {
  EventPublished: 'events',
  EventUpdated: 'events',
  EventCancelled: 'events',
  UserRegistered: 'events',
  RegistrationWithdrawn: 'events',
  OrderPlaced: 'ticketing',
  TicketCancelled: 'ticketing',
  WaitingRoomChanged: 'ticketing',
};

/**
 * The services a service can ever owe a message (in SERVICE_NAMES order): its relay asks about no other
 * subscriber, so a service that publishes nothing never polls at all.
 */
export function subscribersOf(service: ServiceName): ServiceName[] {
  const owed = new Set(MESSAGE_TYPES.filter((type) => PUBLISHED_BY[type] === service).flatMap((type) => SUBSCRIPTIONS[type]));
  return SERVICE_NAMES.filter((s) => owed.has(s));
}

export type Message<T extends MessageType = MessageType> = {
  [K in T]: {
    id: string;
    type: K;
    source: ServiceName;
    occurredAt: string;
    data: z.infer<(typeof MessageData)[K]>;
    /** The trace of the change that produced the message (Traceparent); absent when tracing is off. */
    traceparent?: string;
  };
}[T];

/**
 * A W3C trace context (www.w3.org/TR/trace-context, `traceparent`): version, trace id, parent span id, flags.
 * The outbox stores the one of the change that wrote a message, so that its subscribers continue that trace.
 */
export const Traceparent = z.string().regex(/^[\da-f]{2}-[\da-f]{32}-[\da-f]{16}-[\da-f]{2}$/);

export const MessageEnvelope = z.object({
  id: z.uuid(),
  type: z.enum(MESSAGE_TYPES as [MessageType, ...MessageType[]]),
  source: z.enum(SERVICE_NAMES),
  occurredAt: IsoDateTime,
  data: z.unknown(),
  // Optional, so that messages written before it existed stay valid; a malformed one is dropped, never a reason
  // to refuse (and dead-letter) the message it rides on.
  traceparent: Traceparent.optional().catch(undefined),
});

/** Validates an incoming envelope and its data against the schema of its type. */
export function parseMessage(input: unknown): Message {
  const envelope = MessageEnvelope.parse(input);
  const data = MessageData[envelope.type].parse(envelope.data);
  return { ...envelope, data } as Message;
}

/**
 * A new message, checked against its own schema here, inside the transaction that writes it: a message its
 * subscribers would refuse must never be committed (the change it announces is rolled back with it).
 */
export function newMessage<T extends MessageType>(source: ServiceName, type: T, data: z.infer<(typeof MessageData)[T]>, now = new Date()): Message<T> {
  return parseMessage({ id: crypto.randomUUID(), type, source, occurredAt: now.toISOString(), data }) as Message<T>;
}
