import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { newMessage } from '@dems/contracts';
import { tempDir } from '@dems/kit/testing';
import { refuseCapacity } from '../src/domain/purchase.js';
import { messageHandler } from '../src/messages/handlers.js';
import { SqliteTicketingStore } from '../src/store/sqlite.js';

describe('a capacity below what is sold', () => {
  it('is refused in words the organizer reads, one ticket or many; down to exactly what is sold is fine', () => {
    expect(refuseCapacity({ name: 'VIP', sold: 1 }, 0)).toEqual({ code: 'CAPACITY_BELOW_SOLD', message: "VIP has already sold 1 ticket; its capacity can't be lower than that." });
    expect(refuseCapacity({ name: 'VIP', sold: 3 }, 2)?.message).toBe("VIP has already sold 3 tickets; its capacity can't be lower than that.");
    expect(refuseCapacity({ name: 'VIP', sold: 3 }, 3)).toBeNull();
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
    const apply = messageHandler(store);
    const misrouted = newMessage('events', 'UserRegistered', {
      eventId: 'evt_jazz',
      eventTitle: 'Jazz Night',
      userId: 'usr_ann',
      registrationId: 'reg_1',
    });
    expect(await apply(misrouted)).toBe('applied');
    expect(await apply(misrouted)).toBe('duplicate');
  });
});
