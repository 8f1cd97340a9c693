import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { newMessage } from '@dems/contracts';
import { tempDir } from '@dems/kit/testing';
import { refuseCancellation, refuseCapacity, refusePurchase } from '../src/domain/purchase.js';
import { messageBatchHandler } from '../src/messages/handlers.js';
import { SqliteTicketingStore } from '../src/store/sqlite.js';
import { eventSnapshot, published } from './fixtures.js';

describe('a capacity below what is sold', () => {
  it('is refused in words the organizer reads, one ticket or many; down to exactly what is sold is fine', () => {
    expect(refuseCapacity({ name: 'VIP', sold: 1 }, 0)).toEqual({ code: 'CAPACITY_BELOW_SOLD', message: "VIP has already sold 1 ticket; its capacity can't be lower than that." });
    expect(refuseCapacity({ name: 'VIP', sold: 3 }, 2)?.message).toBe("VIP has already sold 3 tickets; its capacity can't be lower than that.");
    expect(refuseCapacity({ name: 'VIP', sold: 3 }, 3)).toBeNull();
  });
});

describe('a refused purchase or cancellation', () => {
  const now = new Date('2031-03-01T12:00:00.000Z');
  const onSale = { status: 'published' as const, endsAt: '2031-03-01T22:00:00.000Z' };
  const seats = { capacity: 10, sold: 0 };

  it.each([
    ['an event ticketing has not received', undefined, seats, 'EVENT_NOT_ON_SALE', 'This event is not on sale yet. Please try again in a moment.'],
    ['a cancelled event', { ...onSale, status: 'cancelled' as const }, seats, 'EVENT_CANCELLED', 'This event has been cancelled, so tickets are no longer sold.'],
    ['an unknown ticket type', onSale, undefined, 'TICKET_TYPE_NOT_FOUND', 'This event has no such ticket type.'],
  ])('says why, for %s', (_name, event, ticketType, code, message) => {
    expect(refusePurchase(event, ticketType, 1, now)).toEqual({ code, message });
  });

  it('says a ticket was already cancelled', () => {
    expect(refuseCancellation('cancelled', onSale, now)).toEqual({ code: 'TICKET_ALREADY_CANCELLED', message: 'This ticket was already cancelled.' });
  });
});

describe('a message ticketing has no use for', () => {
  let dir: ReturnType<typeof tempDir>;
  let store: SqliteTicketingStore;
  beforeEach(() => {
    dir = tempDir('ticketing-misrouted-');
    store = new SqliteTicketingStore({ file: join(dir.path, 'ticketing.db'), synchronous: 'NORMAL' });
  });
  afterEach(async () => {
    await store.close();
    dir.cleanup();
  });

  it('is recorded once, so that the sender stops retrying it', async () => {
    const apply = async (message: Parameters<ReturnType<typeof messageBatchHandler>>[0][number]) => (await messageBatchHandler(store)([message]))[0];
    const misrouted = newMessage('events', 'UserRegistered', {
      eventId: 'evt_jazz',
      eventTitle: 'Jazz Night',
      userId: 'usr_ann',
      registrationId: 'reg_1',
    });
    expect(await apply(misrouted)).toBe('applied');
    expect(await apply(misrouted)).toBe('duplicate');
  });

  it('a delivered batch applies each event snapshot and records each other message once, answering in order', async () => {
    const applyBatch = messageBatchHandler(store);
    const misrouted = newMessage('events', 'UserRegistered', { eventId: 'evt_jazz', eventTitle: 'Jazz Night', userId: 'usr_ann', registrationId: 'reg_1' });
    const snapshot = published(eventSnapshot());
    expect(await applyBatch([misrouted, snapshot, misrouted])).toEqual(['applied', 'applied', 'duplicate']);
    // The snapshot went in as a snapshot, not merely as a message seen: its ticket types are on sale.
    expect((await store.getAvailability('evt_jazz'))?.ticketTypes.map((t) => t.ticketTypeId)).toEqual(['tt_ga', 'tt_vip']);
    expect(await applyBatch([snapshot])).toEqual(['duplicate']);
  });
});
