import { describe, expect, it } from 'vitest';
import { SqliteEventsStore } from '../../src/store/sqlite.js';
import type { EventChange } from '../../src/store/events-store.js';
import { cancelEvent } from '../../src/use-cases/cancel-event.js';
import { updateEvent } from '../../src/use-cases/update-event.js';
import { UNREACHABLE_TICKETING } from '../helpers.js';
import { ADMIN, onlyMessage, ORGANIZER, OTHER_ORGANIZER, refusal, seedEvent, sent, storePerTest } from './harness.js';

/**
 * Fake: the real store, except that each of the next `losses` saves finds that a rival change (a new venue)
 * committed first — the race a cancellation loses when the organizer edits the event at the same moment.
 */
class RaceLosingStore extends SqliteEventsStore {
  losses = 0;
  rivals = 0;
  private rivalling = false;
  override async saveEvent(change: EventChange): Promise<boolean> {
    if (this.losses > 0 && !this.rivalling) {
      this.losses--;
      this.rivalling = true;
      try {
        await updateEvent({ store: this, inventory: UNREACHABLE_TICKETING }, change.event.id, { venue: `Rival hall ${++this.rivals}` }, ADMIN);
      } finally {
        this.rivalling = false;
      }
    }
    return super.saveEvent(change);
  }
}

const current = storePerTest((file) => new RaceLosingStore({ file, synchronous: 'NORMAL' }));

describe('cancelEvent', () => {
  it('makes the event cancelled as the next version, and tells ticketing and engagement with EventCancelled', async () => {
    const { store } = current;
    const event = await seedEvent(store);
    const now = new Date(Date.now() + 60_000);
    const cancelled = await cancelEvent(store, event.id, ORGANIZER, now);
    expect(cancelled).toEqual({ ...event, status: 'cancelled', updatedAt: now.toISOString() });
    expect(await store.getEventForUpdate(event.id)).toEqual({ event: cancelled, version: 2 });
    for (const subscriber of ['ticketing', 'engagement'] as const) {
      expect(await onlyMessage(store, 'EventCancelled', subscriber)).toMatchObject({
        source: 'events',
        occurredAt: now.toISOString(),
        data: { event: { id: event.id, status: 'cancelled', version: 2 } },
      });
    }
  });

  it('lets an admin cancel any event', async () => {
    const { store } = current;
    const event = await seedEvent(store);
    expect((await cancelEvent(store, event.id, ADMIN)).status).toBe('cancelled');
  });

  it('cancels once: cancelling again answers the event as it is and sends nothing', async () => {
    const { store } = current;
    const event = await seedEvent(store);
    const first = await cancelEvent(store, event.id, ORGANIZER);
    expect(await cancelEvent(store, event.id, ORGANIZER, new Date(Date.now() + 60_000))).toEqual(first);
    expect(await sent(store, 'EventCancelled')).toHaveLength(1);
    expect((await store.getEventForUpdate(event.id))?.version).toBe(2);
  });

  it('refuses an unknown event and another organizer, and changes nothing', async () => {
    const { store } = current;
    const event = await seedEvent(store);
    expect(await refusal(cancelEvent(store, 'evt_missing', ORGANIZER))).toMatchObject({ code: 'EVENT_NOT_FOUND', message: 'No event with this id.' });
    expect((await refusal(cancelEvent(store, event.id, OTHER_ORGANIZER))).code).toBe('FORBIDDEN');
    expect(await store.getEventForUpdate(event.id)).toEqual({ event, version: 1 });
    expect(await sent(store, 'EventCancelled')).toEqual([]);
  });

  it('plans again on top of a change that committed first: both stand, at consecutive versions', async () => {
    const { store } = current;
    const event = await seedEvent(store);
    store.losses = 4;
    const cancelled = await cancelEvent(store, event.id, ORGANIZER);
    expect(cancelled).toMatchObject({ status: 'cancelled', venue: 'Rival hall 4' });
    expect(await store.getEventForUpdate(event.id)).toEqual({ event: cancelled, version: 6 });
    const [message] = await sent(store, 'EventCancelled');
    expect(message?.data.event).toMatchObject({ venue: 'Rival hall 4', version: 6 });
  });

  it('gives up with EDIT_CONFLICT after losing five times, leaving the event published', async () => {
    const { store } = current;
    const event = await seedEvent(store);
    store.losses = 5;
    expect((await refusal(cancelEvent(store, event.id, ORGANIZER))).code).toBe('EDIT_CONFLICT');
    expect(await store.getEvent(event.id)).toMatchObject({ status: 'published', venue: 'Rival hall 5' });
    expect(await sent(store, 'EventCancelled')).toEqual([]);
  });
});
