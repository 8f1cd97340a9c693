import { join } from 'node:path';
import { beforeEach, expect, it } from 'vitest';
import type { Message } from '@dems/contracts';
import { describeEachAdapter, type StoreAdapters } from '@dems/kit/testing';
import { purchaseInput } from '../src/use-cases/place-order.js';
import { DynamoTicketingStore } from '../src/store/dynamodb.js';
import { SqliteTicketingStore } from '../src/store/sqlite.js';
import type { TicketingStore } from '../src/store/ticketing-store.js';
import { DynamoWaitingRoomStore } from '../src/waiting-room/store/dynamodb.js';
import { SqliteWaitingRoomStore } from '../src/waiting-room/store/sqlite.js';
import type { WaitingRoomStore } from '../src/waiting-room/store/waiting-room-store.js';
import { eventSnapshot, published } from './fixtures.js';
import { eventChange } from '../src/use-cases/apply-event-changes.js';
import { roomChanged } from '../src/waiting-room/rooms.js';

/** The waiting room's store contract, on every adapter: the ticketing store and the rooms' store over the same data. */
interface Stores {
  tickets: TicketingStore;
  rooms: WaitingRoomStore;
}

const adapters: StoreAdapters<Stores> = {
  sqlite: (dir) => {
    const file = join(dir, 'ticketing.db');
    const tickets = new SqliteTicketingStore({ file, synchronous: 'NORMAL' });
    return { tickets, rooms: new SqliteWaitingRoomStore({ file, synchronous: 'NORMAL' }) };
  },
  dynamodb: {
    open: (settings) => {
      const tickets = new DynamoTicketingStore({ settings });
      return { tickets, rooms: new DynamoWaitingRoomStore({ settings, outbox: tickets.outbox }) };
    },
    prepare: (stores: { tickets: DynamoTicketingStore; rooms: WaitingRoomStore }) => stores.tickets.createTables(),
  },
};

const closeBoth = async (s: Stores) => {
  await s.rooms.close();
  await s.tickets.close();
};

const T0 = Date.parse('2030-01-01T10:00:00.000Z');
const at = (ms: number) => new Date(T0 + ms);
const settings = { opensAt: new Date(T0).toISOString(), admitPerMinute: 600, passMinutes: 10 };

async function roomMessages(store: TicketingStore): Promise<Message<'WaitingRoomChanged'>[]> {
  const due = await store.outbox.claimDue('engagement', 1000, Date.now(), 1);
  return due.map((e) => e.message).filter((m): m is Message<'WaitingRoomChanged'> => m.type === 'WaitingRoomChanged');
}

describeEachAdapter(
  'WaitingRoomStore contract',
  adapters,
  (h) => {
    let stores: Stores;

    beforeEach(async () => {
      stores = h.store;
      await stores.tickets.applyEventSnapshot(eventChange(published(eventSnapshot()), eventSnapshot()));
    });

    it("knows the event's organizer from ticketing's copy, and no organizer of an event it has no copy of", async () => {
      expect(await stores.rooms.eventOrganizer('evt_jazz')).toBe('usr_org');
      expect(await stores.rooms.eventOrganizer('evt_none')).toBeNull();
    });

    it('sets, changes and deletes a room, each with its WaitingRoomChanged in the same commit', async () => {
      expect(await stores.rooms.getRoom('evt_jazz')).toBeNull();
      const set = await stores.rooms.setRoom('evt_jazz', settings, roomChanged('evt_jazz', settings, at(0)));
      expect(set).toEqual({ eventId: 'evt_jazz', settings, joined: 0, lastAdmitAtMs: 0 });
      const changed = { ...settings, admitPerMinute: 60 };
      await stores.rooms.setRoom('evt_jazz', changed, roomChanged('evt_jazz', changed, at(1)));
      expect((await stores.rooms.getRoom('evt_jazz'))?.settings).toEqual(changed);
      expect(await stores.rooms.deleteRoom('evt_jazz', roomChanged('evt_jazz', null, at(2)))).toBe(true);
      expect(await stores.rooms.getRoom('evt_jazz')).toBeNull();
      expect(await stores.rooms.deleteRoom('evt_jazz', roomChanged('evt_jazz', null, at(3)))).toBe(false);

      const messages = await roomMessages(stores.tickets);
      expect(messages.map((m) => m.data)).toEqual([
        { eventId: 'evt_jazz', room: settings },
        { eventId: 'evt_jazz', room: changed },
        { eventId: 'evt_jazz', room: null },
      ]);
    });

    it('admits by the leaky bucket: from the opening, one interval apart, and at once when nobody is ahead', async () => {
      await stores.rooms.setRoom('evt_jazz', settings, roomChanged('evt_jazz', settings, at(-60_000)));
      // Before the opening: placed in join order, the first at the opening.
      const a = await stores.rooms.join('evt_jazz', 'usr_a', at(-30_000));
      const b = await stores.rooms.join('evt_jazz', 'usr_b', at(-20_000));
      expect(a?.place).toEqual({ position: 1, admitAtMs: T0, passExpiresAtMs: null });
      expect(b?.place).toEqual({ position: 2, admitAtMs: T0 + 100, passExpiresAtMs: null });
      expect(a?.created && b?.created).toBe(true);
      // Long after: nobody ahead, admitted at the join itself.
      const c = await stores.rooms.join('evt_jazz', 'usr_c', at(50_000));
      expect(c?.place.admitAtMs).toBe(T0 + 50_000);
      expect(c?.room).toEqual({ eventId: 'evt_jazz', settings, joined: 3, lastAdmitAtMs: T0 + 50_000 });
      // A rate change applies to places handed out after it.
      await stores.rooms.setRoom('evt_jazz', { ...settings, admitPerMinute: 6 }, roomChanged('evt_jazz', { ...settings, admitPerMinute: 6 }, at(50_001)));
      const d = await stores.rooms.join('evt_jazz', 'usr_d', at(50_002));
      expect(d?.place).toMatchObject({ position: 4, admitAtMs: T0 + 60_000 });
      expect((await stores.rooms.getRoom('evt_jazz'))?.joined).toBe(4);
    });

    it('gives a user who joins again the same place, never a second one', async () => {
      await stores.rooms.setRoom('evt_jazz', settings, roomChanged('evt_jazz', settings, at(0)));
      const first = await stores.rooms.join('evt_jazz', 'usr_a', at(1));
      const again = await stores.rooms.join('evt_jazz', 'usr_a', at(2));
      expect(again).toMatchObject({ created: false, place: first!.place });
      expect((await stores.rooms.getRoom('evt_jazz'))?.joined).toBe(1);
    });

    it('hands out unique positions in join order under concurrency, across two stores on the same data', async () => {
      const other = h.open();
      await stores.rooms.setRoom('evt_jazz', settings, roomChanged('evt_jazz', settings, at(0)));
      const users = Array.from({ length: 40 }, (_, i) => `usr_${i}`);
      const results = await Promise.all(users.map((u, i) => (i % 2 ? other : stores).rooms.join('evt_jazz', u, at(10))));
      const places = results.map((r) => r!.place).sort((x, y) => x.position - y.position);
      expect(places.map((p) => p.position)).toEqual(users.map((_, i) => i + 1));
      // Later positions are never admitted earlier, and each is one interval after the one before.
      for (let i = 1; i < places.length; i++) expect(places[i]!.admitAtMs - places[i - 1]!.admitAtMs).toBeCloseTo(100, 6);
      expect((await stores.rooms.getRoom('evt_jazz'))?.joined).toBe(40);
    }, 60_000);

    it('answers null for an event whose sale is not queued (never queued, or deleted)', async () => {
      expect(await stores.rooms.join('evt_jazz', 'usr_a', at(0))).toBeNull();
      await stores.rooms.setRoom('evt_jazz', settings, roomChanged('evt_jazz', settings, at(0)));
      await stores.rooms.join('evt_jazz', 'usr_a', at(1));
      await stores.rooms.deleteRoom('evt_jazz', roomChanged('evt_jazz', null, at(2)));
      expect(await stores.rooms.join('evt_jazz', 'usr_b', at(3))).toBeNull();
      // Queued again: the chain goes on, so places already handed out stay unique.
      await stores.rooms.setRoom('evt_jazz', settings, roomChanged('evt_jazz', settings, at(4)));
      expect((await stores.rooms.join('evt_jazz', 'usr_b', at(5)))?.place.position).toBe(2);
    });

    it('opens one pass window per place: the same until it ends, expired after, and a new place on joining again', async () => {
      await stores.rooms.setRoom('evt_jazz', settings, roomChanged('evt_jazz', settings, at(0)));
      const joined = await stores.rooms.join('evt_jazz', 'usr_a', at(1));
      const position = joined!.place.position;
      const first = await stores.rooms.issuePass('evt_jazz', 'usr_a', position, 600_000, at(1_000));
      expect(first).toEqual({ kind: 'issued', expiresAtMs: T0 + 601_000 });
      expect(await stores.rooms.issuePass('evt_jazz', 'usr_a', position, 600_000, at(300_000))).toEqual(first);
      expect(await stores.rooms.issuePass('evt_jazz', 'usr_a', position, 600_000, at(601_000))).toEqual({ kind: 'expired' });
      // Someone else's place, or none: unknown.
      expect(await stores.rooms.issuePass('evt_jazz', 'usr_b', position, 600_000, at(2_000))).toEqual({ kind: 'unknown' });
      // The spent place gives way to a new one at the end; the old token's position stays spent.
      const rejoined = await stores.rooms.join('evt_jazz', 'usr_a', at(700_000));
      expect(rejoined).toMatchObject({ created: true, place: { position: 2, passExpiresAtMs: null } });
      expect(await stores.rooms.issuePass('evt_jazz', 'usr_a', position, 600_000, at(700_001))).toEqual({ kind: 'expired' });
      expect(await stores.rooms.issuePass('evt_jazz', 'usr_a', 2, 600_000, at(700_002))).toEqual({ kind: 'issued', expiresAtMs: T0 + 1_300_002 });
    });

    it('tells whether a user already bought with an Idempotency-Key', async () => {
      const body = { eventId: 'evt_jazz', ticketTypeId: 'tt_ga', quantity: 1 };
      await stores.tickets.placeOrder(purchaseInput({ ...body, userId: 'usr_a', idempotencyKey: 'key-1' }));
      expect(await stores.rooms.hasPurchase('usr_a', 'key-1')).toBe(true);
      expect(await stores.rooms.hasPurchase('usr_a', 'key-2')).toBe(false);
      expect(await stores.rooms.hasPurchase('usr_b', 'key-1')).toBe(false);
    });
  },
  { close: closeBoth },
);
