import { newMessage, type Registration } from '@dems/contracts';
import { newId } from '@dems/kit';
import { assertCanRegister } from '../domain/event-rules.js';
import { registrationEventOf, type EventsStore } from '../store/events-store.js';
import { eventNotFound } from './event-to-manage.js';
import { LOST_RACE, untilCommitted } from './plan-again.js';

/** Who registers, as their access token names them. */
export interface Registrant {
  id: string;
  name: string;
  email: string;
}

/**
 * How often a registration plans again. It loses a race only when, between its read and its commit, the event
 * filled up, was cancelled, or the same person registered elsewhere: each lost race is another writer's success.
 */
const MAX_PLANS = 25;

/**
 * POST /register: a person registers (RSVPs) for an event once. Registering again returns the registration they
 * have (created: false); a cancelled, ended or full event refuses. A new registration is stored with its
 * UserRegistered (engagement confirms it to the person) only if, at commit, the event is still open and below its
 * limit: so the limit holds under any number of concurrent sign-ups, from any number of processes.
 */
export async function registerForEvent(store: EventsStore, eventId: string, user: Registrant, now = new Date()): Promise<{ registration: Registration; created: boolean }> {
  const giveUp = () => new Error(`registration for ${eventId} lost ${MAX_PLANS} races in a row`);
  return untilCommitted(MAX_PLANS, giveUp, async () => {
    const [event, existing] = await Promise.all([store.getEvent(eventId), store.registrationOf(eventId, user.id)]);
    if (!event) throw eventNotFound();
    if (existing && event.status !== 'cancelled') return { registration: existing, created: false };
    assertCanRegister(event, now);
    const registration: Registration = {
      id: newId('reg_'),
      eventId,
      userId: user.id,
      userName: user.name,
      userEmail: user.email,
      ...registrationEventOf(event),
      createdAt: now.toISOString(),
    };
    const messages = [newMessage('events', 'UserRegistered', { registrationId: registration.id, eventId, eventTitle: event.title, userId: user.id }, now)];
    return (await store.addRegistration(registration, messages)) ? { registration, created: true } : LOST_RACE;
  });
}
