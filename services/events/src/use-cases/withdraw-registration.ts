import { newMessage } from '@dems/contracts';
import { AppError } from '@dems/kit';
import type { EventsStore } from '../store/events-store.js';

const notRegistered = () => new AppError('REGISTRATION_NOT_FOUND', 'You are not registered for this event.');

/**
 * DELETE /register/:eventId: a person withdraws their registration, which frees its place and sends
 * RegistrationWithdrawn (engagement confirms it). Refused when they are not registered, also when a concurrent
 * request withdrew it first: only one of them sends the message.
 */
export async function withdrawRegistration(store: EventsStore, eventId: string, userId: string, now = new Date()): Promise<void> {
  const registration = await store.registrationOf(eventId, userId);
  if (!registration) throw notRegistered();
  const message = newMessage('events', 'RegistrationWithdrawn', { registrationId: registration.id, eventId, eventTitle: registration.eventTitle, userId }, now);
  if (!(await store.removeRegistration(registration, [message]))) throw notRegistered();
}
