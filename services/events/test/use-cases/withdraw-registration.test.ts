import { describe, expect, it } from 'vitest';
import { registerForEvent } from '../../src/use-cases/register-for-event.js';
import { withdrawRegistration } from '../../src/use-cases/withdraw-registration.js';
import { ADA, onlyMessage, refusal, seedEvent, sent, storePerTest } from './harness.js';

const current = storePerTest();

describe('withdrawRegistration', () => {
  it('removes the registration, frees its place, and tells engagement with RegistrationWithdrawn', async () => {
    const { store } = current;
    const event = await seedEvent(store, { title: 'Poetry Night', registrationLimit: 1 });
    const { registration } = await registerForEvent(store, event.id, ADA);
    const now = new Date();
    await withdrawRegistration(store, event.id, ADA.id, now);
    expect(await store.registrationOf(event.id, ADA.id)).toBeNull();
    expect((await store.getEvent(event.id))?.registrationCount).toBe(0);
    expect(await onlyMessage(store, 'RegistrationWithdrawn')).toMatchObject({
      source: 'events',
      occurredAt: now.toISOString(),
      data: { registrationId: registration.id, eventId: event.id, eventTitle: 'Poetry Night', userId: ADA.id },
    });
    expect((await registerForEvent(store, event.id, { ...ADA, id: 'usr_next' })).created).toBe(true);
  });

  it('refuses someone who is not registered, and sends nothing', async () => {
    const { store } = current;
    const event = await seedEvent(store);
    await registerForEvent(store, event.id, { ...ADA, id: 'usr_someone_else' });
    expect(await refusal(withdrawRegistration(store, event.id, ADA.id))).toMatchObject({
      code: 'REGISTRATION_NOT_FOUND',
      message: 'You are not registered for this event.',
    });
    expect((await store.getEvent(event.id))?.registrationCount).toBe(1);
    expect(await sent(store, 'RegistrationWithdrawn')).toEqual([]);
  });

  it('withdraws once when two requests race: the other is refused, and one message is sent', async () => {
    const { store } = current;
    const event = await seedEvent(store);
    await registerForEvent(store, event.id, ADA);
    const outcomes = await Promise.all(
      [1, 2].map(() =>
        withdrawRegistration(store, event.id, ADA.id).then(
          () => 'withdrawn',
          (e: { code: string }) => e.code,
        ),
      ),
    );
    expect(outcomes.sort()).toEqual(['REGISTRATION_NOT_FOUND', 'withdrawn']);
    expect((await store.getEvent(event.id))?.registrationCount).toBe(0);
    expect(await sent(store, 'RegistrationWithdrawn')).toHaveLength(1);
  });
});
