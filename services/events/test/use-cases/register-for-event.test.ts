import { describe, expect, it } from 'vitest';
import type { Message, Registration } from '@dems/contracts';
import { SqliteEventsStore } from '../../src/store/sqlite.js';
import { cancelEvent } from '../../src/use-cases/cancel-event.js';
import { registerForEvent } from '../../src/use-cases/register-for-event.js';
import { DAY } from '../helpers.js';
import { ADA, onlyMessage, ORGANIZER, refusal, seedEvent, sent, storePerTest } from './harness.js';

/**
 * Fake: the real store, except that the next `losses` additions find that the same person registered first
 * (from another tab), and `rigged` ones lose every time — the races a registration can lose at commit.
 */
class RaceLosingStore extends SqliteEventsStore {
  losses = 0;
  rigged = false;
  additions = 0;
  override async addRegistration(registration: Registration, messages: readonly Message[]): Promise<boolean> {
    this.additions++;
    if (this.rigged) return false;
    if (this.losses > 0) {
      this.losses--;
      expect(await super.addRegistration({ ...registration, id: 'reg_elsewhere' }, [])).toBe(true);
    }
    return super.addRegistration(registration, messages);
  }
}

const current = storePerTest((file) => new RaceLosingStore({ file, synchronous: 'NORMAL' }));

describe('registerForEvent', () => {
  it('registers a person with their name and email and the event’s title, times, zone and status, and tells engagement', async () => {
    const { store } = current;
    const event = await seedEvent(store, { title: 'Jazz by the River', timezone: 'Asia/Kolkata' });
    const now = new Date();
    const { registration, created } = await registerForEvent(store, event.id, ADA, now);
    expect(created).toBe(true);
    expect(registration).toEqual({
      id: expect.stringMatching(/^reg_/),
      eventId: event.id,
      userId: ADA.id,
      userName: ADA.name,
      userEmail: ADA.email,
      eventTitle: 'Jazz by the River',
      eventStartsAt: event.startsAt,
      eventEndsAt: event.endsAt,
      eventTimezone: event.timezone,
      eventStatus: 'published',
      createdAt: now.toISOString(),
    });
    expect(await store.registrationOf(event.id, ADA.id)).toEqual(registration);
    expect((await store.getEvent(event.id))?.registrationCount).toBe(1);
    expect(await onlyMessage(store, 'UserRegistered')).toMatchObject({
      source: 'events',
      occurredAt: now.toISOString(),
      data: { registrationId: registration.id, eventId: event.id, eventTitle: 'Jazz by the River', userId: ADA.id },
    });
    expect(await sent(store, 'UserRegistered', 'ticketing')).toEqual([]);
  });

  it('answers the registration a person has when they register again, and sends nothing', async () => {
    const { store } = current;
    const event = await seedEvent(store, { registrationLimit: 1 });
    const first = await registerForEvent(store, event.id, ADA);
    // Even though the event is full by now: they are in.
    expect(await registerForEvent(store, event.id, ADA)).toEqual({ registration: first.registration, created: false });
    expect(await sent(store, 'UserRegistered')).toHaveLength(1);
  });

  it('refuses an unknown event, a full one, one that is over, and a cancelled one even to who registered before', async () => {
    const { store } = current;
    expect(await refusal(registerForEvent(store, 'evt_missing', ADA))).toMatchObject({ code: 'EVENT_NOT_FOUND', message: 'No event with this id.' });
    const full = await seedEvent(store, { registrationLimit: 1 });
    await registerForEvent(store, full.id, { ...ADA, id: 'usr_first' });
    expect((await refusal(registerForEvent(store, full.id, ADA))).code).toBe('EVENT_FULL');
    const event = await seedEvent(store);
    expect((await refusal(registerForEvent(store, event.id, ADA, new Date(Date.now() + 30 * DAY)))).code).toBe('EVENT_ENDED');
    await registerForEvent(store, event.id, ADA);
    await cancelEvent(store, event.id, ORGANIZER);
    expect((await refusal(registerForEvent(store, event.id, ADA))).code).toBe('EVENT_CANCELLED');
    expect((await refusal(registerForEvent(store, event.id, { ...ADA, id: 'usr_new' }))).code).toBe('EVENT_CANCELLED');
    expect(await sent(store, 'UserRegistered')).toHaveLength(2);
  });

  it('plans again when the same person registered first elsewhere, and answers that registration', async () => {
    const { store } = current;
    const event = await seedEvent(store);
    store.losses = 1;
    const result = await registerForEvent(store, event.id, ADA);
    expect(result).toMatchObject({ created: false, registration: { id: 'reg_elsewhere', userId: ADA.id } });
    expect(store.additions).toBe(1);
    expect((await store.getEvent(event.id))?.registrationCount).toBe(1);
    expect(await sent(store, 'UserRegistered')).toEqual([]);
  });

  it('gives up after losing 25 races in a row, having registered nobody', async () => {
    const { store } = current;
    const event = await seedEvent(store);
    store.rigged = true;
    await expect(registerForEvent(store, event.id, ADA)).rejects.toThrow(`registration for ${event.id} lost 25 races in a row`);
    expect(store.additions).toBe(25);
    expect(await store.registrationOf(event.id, ADA.id)).toBeNull();
  });

  it('keeps the limit when sign-ups race: the ones that lose plan again and are refused as full', async () => {
    const { store } = current;
    const event = await seedEvent(store, { registrationLimit: 3 });
    const outcomes = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        registerForEvent(store, event.id, { ...ADA, id: `usr_${i}` }).then(
          () => 'created',
          (e: { code: string }) => e.code,
        ),
      ),
    );
    expect(outcomes.filter((o) => o === 'created')).toHaveLength(3);
    expect(outcomes.filter((o) => o !== 'created')).toEqual(Array(5).fill('EVENT_FULL'));
    expect(await sent(store, 'UserRegistered')).toHaveLength(3);
  });
});
