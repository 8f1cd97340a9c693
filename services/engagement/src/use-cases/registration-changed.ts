import type { Message } from '@dems/contracts';
import { registrationConfirmedText, registrationWithdrawnText } from '../domain/notification-texts.js';
import type { AudienceMessageChange } from '../store/engagement-store.js';

/**
 * UserRegistered, RegistrationWithdrawn: the person joins or leaves the event's audience as a registrant (the
 * newest registration message wins, whatever the arrival order) and is told.
 */
export function registrationChanged(message: Message<'UserRegistered' | 'RegistrationWithdrawn'>): AudienceMessageChange {
  const { eventId, eventTitle, userId } = message.data;
  const registered = message.type === 'UserRegistered';
  const text = registered ? registrationConfirmedText(eventId, eventTitle) : registrationWithdrawnText(eventId, eventTitle);
  return { message, audience: { eventId, userId, registered, text } };
}
