import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CreateEventBody, newMessage, type CapacityChangeBody, type UpdateEventBody } from '@dems/contracts';
import type { EventRecord } from '../src/domain/banner.js';
import { AppError, type AuthUser } from '@dems/kit';
import { tempDir } from '@dems/kit/testing';
import { buildNewEvent, planEventUpdate, toSnapshot } from '../src/domain/event-rules.js';
import { SqliteEventsStore } from '../src/store/sqlite.js';
import type { EventChange } from '../src/store/events-store.js';
import type { TicketingInventory } from '../src/ticketing/inventory.js';
import { storeNewEvent } from '../src/use-cases/create-event.js';
import { updateEvent } from '../src/use-cases/update-event.js';
import { eventBody, pendingMessages } from './helpers.js';

// The PATCH use case on a real SQLite store: what the organizer gets back, what is committed, which
// EventUpdated messages the other services receive, and what ticketing is asked to confirm.

const ORGANIZER = { id: 'usr_org', role: 'organizer' } as AuthUser;

/**
 * Fake: the real store, except that each of the next `losses` saves finds that a rival change (a new title)
 * committed first — the race a PATCH loses when someone else edits the same event at the same moment.
 */
class RaceLosingStore extends SqliteEventsStore {
  losses = 0;
  rivals = 0;
  override async saveEvent(change: EventChange): Promise<boolean> {
    if (this.losses > 0) {
      this.losses--;
      const current = (await this.getEventForUpdate(change.event.id))!;
      const { event, changes } = planEventUpdate(current.event, { title: `Rival edit ${++this.rivals}` }, new Date());
      const version = current.version + 1;
      const messages = [newMessage('events', 'EventUpdated', { event: toSnapshot(event, version), changes })];
      expect(await super.saveEvent({ event, changes, version, messages })).toBe(true);
    }
    return super.saveEvent(change);
  }
}

/** Fake ticketing: records each capacity change it is asked to confirm, and refuses them all when told to. */
class RecordingInventory implements TicketingInventory {
  asked: CapacityChangeBody[] = [];
  refusal: AppError | null = null;
  async changeCapacity(change: CapacityChangeBody): Promise<void> {
    this.asked.push(structuredClone(change));
    if (this.refusal) throw this.refusal;
  }
}

let dir: ReturnType<typeof tempDir>;
let store: RaceLosingStore;
let inventory: RecordingInventory;
let event: EventRecord;

beforeEach(async () => {
  dir = tempDir('dems-events-update-');
  store = new RaceLosingStore({ file: join(dir.path, 'events.db'), synchronous: 'NORMAL' });
  inventory = new RecordingInventory();
  const body = CreateEventBody.parse(
    eventBody({
      ticketTypes: [
        { name: 'General', priceCents: 2500, currency: 'EUR', capacity: 100 },
        { name: 'VIP', priceCents: 9000, currency: 'EUR', capacity: 10 },
      ],
    }),
  );
  event = await storeNewEvent(store, buildNewEvent(body, ORGANIZER.id, new Date()));
});

afterEach(async () => {
  await store.close();
  dir.cleanup();
});

const update = (patch: UpdateEventBody, id = event.id) => updateEvent({ store, inventory }, id, patch, ORGANIZER);

async function updates() {
  return (await pendingMessages(store.outbox, 'engagement')).flatMap((m) =>
    m.type === 'EventUpdated' ? [{ version: m.data.event.version, title: m.data.event.title, changes: m.data.changes }] : [],
  );
}

async function errorOf(p: Promise<unknown>): Promise<AppError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AppError);
  return err as AppError;
}

describe('PATCH when another change commits first', () => {
  it('plans again on top of it: both changes are kept, each announced once, at consecutive versions', async () => {
    store.losses = 1;
    const result = await update({ venue: 'Town Hall' });
    expect(result).toMatchObject({ title: 'Rival edit 1', venue: 'Town Hall' });
    expect(await store.getEventForUpdate(event.id)).toEqual({ event: result, version: 3 });
    expect(await updates()).toEqual([
      { version: 2, title: 'Rival edit 1', changes: ['title'] },
      { version: 3, title: 'Rival edit 1', changes: ['venue'] },
    ]);
  });

  it('keeps trying while others keep committing first, up to five plans', async () => {
    store.losses = 4;
    const result = await update({ venue: 'Town Hall' });
    expect(result).toMatchObject({ title: 'Rival edit 4', venue: 'Town Hall' });
    expect((await store.getEventForUpdate(event.id))?.version).toBe(6);
  });

  it('gives up with EDIT_CONFLICT after losing five times; only the rivals’ changes are committed', async () => {
    store.losses = 5;
    const err = await errorOf(update({ venue: 'Town Hall' }));
    expect(err).toMatchObject({
      code: 'EDIT_CONFLICT',
      message: 'This event is being changed by someone else right now. Please reload it and try again.',
    });
    expect((await store.getEvent(event.id))?.venue).toBe(event.venue);
    expect((await updates()).map((u) => u.changes)).toEqual([['title'], ['title'], ['title'], ['title'], ['title']]);
  });

  it('asks ticketing again, for the version it will commit, when it re-plans a capacity change', async () => {
    store.losses = 1;
    const [general] = event.ticketTypes;
    await update({ ticketTypes: [{ ...general!, capacity: 150 }] });
    expect(inventory.asked).toEqual([
      { eventId: event.id, version: 2, ticketTypes: [{ id: general!.id, capacity: 150 }] },
      { eventId: event.id, version: 3, ticketTypes: [{ id: general!.id, capacity: 150 }] },
    ]);
  });
});

describe('PATCH and ticketing', () => {
  it('asks ticketing to confirm only the existing types whose capacity changes, with the version it will commit', async () => {
    const [general, vip] = event.ticketTypes;
    const result = await update({
      ticketTypes: [
        { ...general!, priceCents: 2000 },
        { ...vip!, capacity: 25 },
      ],
    });
    expect(inventory.asked).toEqual([{ eventId: event.id, version: 2, ticketTypes: [{ id: vip!.id, capacity: 25 }] }]);
    expect(result.ticketTypes.map((t) => [t.name, t.priceCents, t.capacity])).toEqual([
      ['General', 2000, 100],
      ['VIP', 9000, 25],
    ]);
  });

  it('does not ask when only new types, prices or other fields change', async () => {
    const [general] = event.ticketTypes;
    await update({
      venue: 'Town Hall',
      ticketTypes: [
        { ...general!, priceCents: 1 },
        { name: 'Student', priceCents: 500, capacity: 20 },
      ],
    });
    expect(inventory.asked).toEqual([]);
    expect((await updates()).map((u) => u.changes)).toEqual([['venue', 'ticketTypes']]);
  });

  it('changes nothing when ticketing refuses: the organizer gets the refusal, nobody hears of a change', async () => {
    inventory.refusal = new AppError('CAPACITY_BELOW_SOLD', 'General has already sold 40 tickets.');
    const [general] = event.ticketTypes;
    const err = await errorOf(update({ venue: 'Town Hall', ticketTypes: [{ ...general!, capacity: 30 }] }));
    expect(err.code).toBe('CAPACITY_BELOW_SOLD');
    expect(await store.getEventForUpdate(event.id)).toEqual({ event, version: 1 });
    expect(await updates()).toEqual([]);
  });
});

describe('PATCH that changes nothing, or nothing that exists', () => {
  it('a no-op PATCH returns the event as it was: updatedAt and version stay, nothing is sent, ticketing is not asked', async () => {
    const result = await update({ venue: event.venue, ticketTypes: event.ticketTypes.map((t) => ({ ...t })) });
    expect(result).toEqual(event);
    expect(await store.getEventForUpdate(event.id)).toEqual({ event, version: 1 });
    expect(await updates()).toEqual([]);
    expect(inventory.asked).toEqual([]);
  });

  it('an unknown event is EVENT_NOT_FOUND', async () => {
    expect(await errorOf(update({ venue: 'X' }, 'evt_missing'))).toMatchObject({ code: 'EVENT_NOT_FOUND', message: 'No event with this id.' });
  });

  it('another organizer may not change it, and nothing is asked or sent', async () => {
    const err = await errorOf(
      updateEvent({ store, inventory }, event.id, { ticketTypes: [{ ...event.ticketTypes[0]!, capacity: 1 }] }, { id: 'usr_other', role: 'organizer' } as AuthUser),
    );
    expect(err.code).toBe('FORBIDDEN');
    expect(inventory.asked).toEqual([]);
    expect(await updates()).toEqual([]);
  });
});
