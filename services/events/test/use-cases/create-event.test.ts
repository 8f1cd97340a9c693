import { describe, expect, it } from 'vitest';
import { CreateEventBody } from '@dems/contracts';
import { SharedState } from '@dems/kit';
import { createEvent, storeNewEvent } from '../../src/use-cases/create-event.js';
import { eventBody, inDays, pendingMessages } from '../helpers.js';
import { ADMIN, onlyMessage, ORGANIZER, refusal, sent, storePerTest } from './harness.js';

// POST /events as a use case: what is stored, what is announced, and who is limited to how many a day.

const current = storePerTest();
const oncePerDay = () => new SharedState().throttle({ name: 'test:publishing', limit: 1, windowMs: 24 * 3_600_000 });
const body = (overrides: Parameters<typeof eventBody>[0] = {}) => CreateEventBody.parse(eventBody(overrides));

describe('createEvent', () => {
  it('stores the event as version 1 and announces it with EventPublished to ticketing and engagement', async () => {
    const { store } = current;
    const now = new Date();
    const event = await createEvent({ store, publishing: oncePerDay() }, body({ title: 'Opening Night' }), ORGANIZER, now);
    expect(event).toMatchObject({ title: 'Opening Night', organizerId: ORGANIZER.id, status: 'published', createdAt: now.toISOString() });
    expect(await store.getEventForUpdate(event.id)).toEqual({ event, version: 1 });
    for (const subscriber of ['ticketing', 'engagement'] as const) {
      expect(await onlyMessage(store, 'EventPublished', subscriber)).toMatchObject({
        source: 'events',
        occurredAt: now.toISOString(),
        data: { event: { id: event.id, title: 'Opening Night', status: 'published', ticketTypes: event.ticketTypes, version: 1 } },
      });
    }
  });

  it('limits an organizer to their daily number of events, and says so', async () => {
    const { store } = current;
    const publishing = oncePerDay();
    await createEvent({ store, publishing }, body(), ORGANIZER);
    const err = await refusal(createEvent({ store, publishing }, body(), ORGANIZER));
    expect(err.code).toBe('RATE_LIMITED');
    expect(err.message).toMatch(/^You can publish up to 1 events a day\. Try again/);
    expect(await pendingMessages(store.outbox, 'ticketing')).toHaveLength(1);
  });

  it('does not limit an admin', async () => {
    const { store } = current;
    const publishing = oncePerDay();
    await createEvent({ store, publishing }, body(), ADMIN);
    await createEvent({ store, publishing }, body(), ADMIN);
    expect(await sent(store, 'EventPublished')).toHaveLength(2);
    // The admin's events were not counted against anyone: an organizer still has their one.
    await createEvent({ store, publishing }, body(), ORGANIZER);
  });

  it('refuses an event that would already be over before counting it, and stores nothing', async () => {
    const { store } = current;
    const publishing = oncePerDay();
    const over = body({ startsAt: inDays(-2), endsAt: inDays(-1) });
    expect((await refusal(createEvent({ store, publishing }, over, ORGANIZER))).code).toBe('VALIDATION_FAILED');
    expect(await pendingMessages(store.outbox, 'ticketing')).toEqual([]);
    await createEvent({ store, publishing }, body(), ORGANIZER);
  });
});

describe('storeNewEvent', () => {
  it('stores any well-formed event with an EventPublished of the time it was created', async () => {
    const { store } = current;
    const event = await createEvent({ store, publishing: oncePerDay() }, body(), ORGANIZER, new Date(Date.now() - 60_000));
    const copy = { ...event, id: 'evt_copy', ticketTypes: [] };
    expect(await storeNewEvent(store, copy)).toBe(copy);
    const published = (await sent(store, 'EventPublished')).find((m) => m.data.event.id === 'evt_copy');
    expect(published?.occurredAt).toBe(event.createdAt);
  });
});
