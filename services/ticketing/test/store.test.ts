import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { newMessage, type Message, type MessageType, type Order } from '@dems/contracts';
import { describeEachAdapter, type StoreAdapters } from '@dems/kit/testing';
import { purchaseInput, type PurchaseRequest } from '../src/use-cases/place-order.js';
import { DynamoTicketingStore } from '../src/store/dynamodb.js';
import { SqliteTicketingStore } from '../src/store/sqlite.js';
import type { PlaceOrderInput, TicketingStore } from '../src/store/ticketing-store.js';
import { cancelled, eventSnapshot, pastEvent, published, ticketType, updated } from './fixtures.js';
import { eventChange } from '../src/use-cases/apply-event-changes.js';
import { byAttendee } from '../src/use-cases/cancel-tickets.js';
import { changeCapacity } from '../src/use-cases/change-capacity.js';

/** What a test may open a store with: `onMessagesCommitted` counts the commits that wrote messages. */
type OpenOptions = { onMessagesCommitted?: () => void };
const createTables = (store: DynamoTicketingStore) => store.createTables();

/** The store on each adapter, fresh for every test (the kit's adapter matrix). */
const adapters: StoreAdapters<TicketingStore, OpenOptions> = {
  sqlite: (dir, o) => new SqliteTicketingStore({ file: join(dir, 'ticketing.db'), synchronous: 'NORMAL', ...o }),
  dynamodb: { open: (settings, o) => new DynamoTicketingStore({ settings, ...o }), prepare: createTables },
  variants: {
    // The same suite with each ticket type's inventory split over 4 shards: sharding must not change behaviour.
    'dynamodb-sharded': { dynamodb: { open: (settings, o) => new DynamoTicketingStore({ settings, shards: 4, ...o }), prepare: createTables } },
  },
};

function order(over: Partial<PurchaseRequest> = {}): PlaceOrderInput {
  const body = { eventId: over.eventId ?? 'evt_jazz', ticketTypeId: over.ticketTypeId ?? 'tt_ga', quantity: over.quantity ?? 2 };
  return purchaseInput({ ...body, userId: 'usr_ann', idempotencyKey: crypto.randomUUID(), ...over });
}

async function outboxMessages(store: TicketingStore, subscriber: 'engagement' | 'events' = 'engagement'): Promise<Message[]> {
  // A lease of 1 ms leaves the entries claimable again for the next look.
  return (await store.outbox.claimDue(subscriber, 1000, Date.now(), 1)).map((e) => e.message);
}

/** Everything in one page (the suite's users have far fewer than 100 orders). */
const ordersOf = async (store: TicketingStore, userId: string) => (await store.listOrders(userId, { limit: 100 })).items;
const ticketsOf = async (store: TicketingStore, userId: string) => (await store.listTickets(userId, { limit: 100 })).items;

const ofType = <T extends MessageType>(messages: Message[], type: T) => messages.filter((m) => m.type === type) as Message<T>[];

describeEachAdapter('TicketingStore contract', adapters, (h) => {
  let store: TicketingStore;
  let commits: number;

  beforeEach(async () => {
    commits = 0;
    store = h.open({ onMessagesCommitted: () => commits++ });
    await store.applyEventSnapshot(eventChange(published(eventSnapshot()), eventSnapshot()));
  });

  describe('placeOrder', () => {
    it('takes the seats, creates the order and its tickets, and enqueues OrderPlaced for its subscribers', async () => {
      const before = commits;
      const { order: placed, replayed } = await store.placeOrder(order({ quantity: 3 }));
      expect(replayed).toBe(false);
      expect(placed).toMatchObject({
        userId: 'usr_ann',
        eventId: 'evt_jazz',
        eventTitle: 'Jazz Night',
        ticketTypeId: 'tt_ga',
        quantity: 3,
        totalCents: 7500,
        refundedCents: 0,
        currency: 'USD',
        status: 'confirmed',
      });
      expect(placed.tickets).toHaveLength(3);
      for (const t of placed.tickets) expect(t.code).toMatch(/^DEMS-[A-Z2-9]{4}(-[A-Z2-9]{4}){3}$/);
      expect(new Set(placed.tickets.map((t) => t.code)).size).toBe(3);

      const availability = await store.getAvailability('evt_jazz');
      expect(availability?.ticketTypes[0]).toMatchObject({ ticketTypeId: 'tt_ga', capacity: 100, sold: 3, remaining: 97 });

      const toEngagement = ofType(await outboxMessages(store, 'engagement'), 'OrderPlaced');
      expect(toEngagement).toHaveLength(1);
      expect(toEngagement[0]?.data).toMatchObject({
        orderId: placed.id,
        userId: 'usr_ann',
        quantity: 3,
        totalCents: 7500,
        ticketTypeName: 'General admission',
        eventTitle: 'Jazz Night',
      });
      // Events owns no sales and receives none (ticketing checks capacity itself).
      expect(await outboxMessages(store, 'events')).toEqual([]);
      expect(commits).toBe(before + 1);
    });

    it('refuses with the code that says why, and changes nothing', async () => {
      await store.applyEventSnapshot(eventChange(published(pastEvent()), pastEvent()));
      const gone = eventSnapshot({ id: 'evt_gone', ticketTypes: [ticketType({ id: 'tt_gone' })] });
      await store.applyEventSnapshot(eventChange(published(gone), gone));
      await store.applyEventSnapshot(eventChange(cancelled({ ...gone, version: 2 }), { ...gone, status: 'cancelled', version: 2 }));

      await expect(store.placeOrder(order({ eventId: 'evt_unknown' }))).rejects.toMatchObject({ code: 'EVENT_NOT_ON_SALE' });
      await expect(store.placeOrder(order({ eventId: 'evt_gone', ticketTypeId: 'tt_gone' }))).rejects.toMatchObject({ code: 'EVENT_CANCELLED' });
      await expect(store.placeOrder(order({ eventId: 'evt_past' }))).rejects.toMatchObject({ code: 'EVENT_ENDED' });
      await expect(store.placeOrder(order({ ticketTypeId: 'tt_nope' }))).rejects.toMatchObject({ code: 'TICKET_TYPE_NOT_FOUND' });
      // A ticket type of another event is not a ticket type of this one.
      await expect(store.placeOrder(order({ ticketTypeId: 'tt_gone' }))).rejects.toMatchObject({ code: 'TICKET_TYPE_NOT_FOUND' });
      await expect(store.placeOrder(order({ ticketTypeId: 'tt_vip', quantity: 4 }))).rejects.toMatchObject({ code: 'SOLD_OUT', message: 'Sorry — only 3 tickets left.' });

      expect(await ordersOf(store, 'usr_ann')).toEqual([]);
      expect(ofType(await outboxMessages(store), 'OrderPlaced')).toEqual([]);
      expect((await store.getAvailability('evt_jazz'))?.ticketTypes.map((t) => t.sold)).toEqual([0, 0]);
    });

    it('says kindly how many are left, and when none are', async () => {
      await store.placeOrder(order({ ticketTypeId: 'tt_vip', quantity: 2 }));
      await expect(store.placeOrder(order({ ticketTypeId: 'tt_vip', quantity: 2 }))).rejects.toMatchObject({ code: 'SOLD_OUT', message: 'Sorry — only 1 ticket left.' });
      await store.placeOrder(order({ ticketTypeId: 'tt_vip', quantity: 1 }));
      await expect(store.placeOrder(order({ ticketTypeId: 'tt_vip', quantity: 1 }))).rejects.toMatchObject({ code: 'SOLD_OUT', message: 'Sorry — this ticket type is sold out.' });
    });

    it('returns the first order for a retried key and creates nothing', async () => {
      const input = order({ idempotencyKey: 'key-1' });
      const first = await store.placeOrder(input);
      const again = await store.placeOrder({ ...input });
      expect(again.replayed).toBe(true);
      expect(again.order).toEqual(first.order);
      expect(await ordersOf(store, 'usr_ann')).toHaveLength(1);
      expect((await store.getAvailability('evt_jazz'))?.ticketTypes[0]?.sold).toBe(2);
      expect(ofType(await outboxMessages(store), 'OrderPlaced')).toHaveLength(1);
    });

    it('rejects a key reused for a different purchase, and keys are per user', async () => {
      await store.placeOrder(order({ idempotencyKey: 'key-1', quantity: 1 }));
      await expect(store.placeOrder(order({ idempotencyKey: 'key-1', quantity: 2 }))).rejects.toMatchObject({ code: 'IDEMPOTENCY_KEY_REUSED' });
      const bob = await store.placeOrder(order({ idempotencyKey: 'key-1', quantity: 1, userId: 'usr_bob' }));
      expect(bob.replayed).toBe(false);
      expect(bob.order.userId).toBe('usr_bob');
      expect((await store.getAvailability('evt_jazz'))?.ticketTypes[0]?.sold).toBe(2);
    });

    it('keeps a committed order across a reopen of the store', async () => {
      const { order: placed } = await store.placeOrder(order());
      await store.close();
      store = h.open();
      expect(await store.getOrder('usr_ann', placed.id)).toEqual(placed);
    });

    it('never oversells: two stores on the same data, 300 concurrent orders of 1–3 against capacity 100', async () => {
      const hot = eventSnapshot({ id: 'evt_hot', ticketTypes: [ticketType({ id: 'tt_hot', capacity: 100 })] });
      await store.applyEventSnapshot(eventChange(published(hot), hot));
      const other = h.open();
      const results = await Promise.allSettled(
        Array.from({ length: 300 }, (_, i) =>
          (i % 2 ? other : store).placeOrder(order({ eventId: 'evt_hot', ticketTypeId: 'tt_hot', quantity: (i % 3) + 1, userId: `usr_${i % 37}` })),
        ),
      );
      const sold = results.filter((r) => r.status === 'fulfilled').map((r) => r.value.order.quantity);
      const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      expect(sold.reduce((a, b) => a + b, 0)).toBe(100);
      expect(refused.length).toBe(300 - sold.length);
      for (const r of refused) expect(r.reason).toMatchObject({ code: 'SOLD_OUT' });
      for (const s of [store, other]) {
        expect((await s.getAvailability('evt_hot'))?.ticketTypes[0]).toMatchObject({ capacity: 100, sold: 100, remaining: 0 });
      }
      let tickets = 0;
      for (let u = 0; u < 37; u++) tickets += (await ticketsOf(store, `usr_${u}`)).filter((t) => t.eventId === 'evt_hot').length;
      expect(tickets).toBe(100);
    });

    // Purchases issued together may be committed together (SQLite group commit); each still stands alone.
    it('the same key twice among simultaneous purchases makes one order; the other answer replays it', async () => {
      const first = order({ idempotencyKey: 'same-key', quantity: 2 });
      const [a, b, c] = await Promise.all([store.placeOrder(first), store.placeOrder(order({ quantity: 1 })), store.placeOrder({ ...first })]);
      expect(a!.order).toEqual(c!.order);
      expect([a!.replayed, c!.replayed].sort()).toEqual([false, true]);
      expect((await ordersOf(store, 'usr_ann')).map((o) => o.id).sort()).toEqual([a!.order.id, b!.order.id].sort());
      expect((await store.getAvailability('evt_jazz'))?.ticketTypes[0]?.sold).toBe(3);
    });

    it('a refusal among simultaneous purchases undoes only itself', async () => {
      // VIP has 3 seats: of 2 + 2 + 1 exactly one 2 and the 1 fit. Key "k" twice with different purchases: one stands.
      const results = await Promise.allSettled([
        store.placeOrder(order({ ticketTypeId: 'tt_vip', quantity: 2 })),
        store.placeOrder(order({ ticketTypeId: 'tt_vip', quantity: 2 })),
        store.placeOrder(order({ idempotencyKey: 'k', quantity: 1 })),
        store.placeOrder(order({ idempotencyKey: 'k', quantity: 4 })),
        store.placeOrder(order({ ticketTypeId: 'tt_vip', quantity: 1 })),
      ]);
      const codes = results.map((r) => (r.status === 'fulfilled' ? 'ok' : (r.reason as { code: string }).code));
      expect([codes[0], codes[1]].sort()).toEqual(['SOLD_OUT', 'ok']);
      expect([codes[2], codes[3]].sort()).toEqual(['IDEMPOTENCY_KEY_REUSED', 'ok']);
      expect(codes[4]).toBe('ok');
      const kept = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value.order] : []));
      const sold = Object.fromEntries((await store.getAvailability('evt_jazz'))!.ticketTypes.map((t) => [t.ticketTypeId, t.sold]));
      expect(sold).toEqual({ tt_ga: kept.filter((o) => o.ticketTypeId === 'tt_ga').reduce((n, o) => n + o.quantity, 0), tt_vip: 3 });
      expect((await ordersOf(store, 'usr_ann')).map((o) => o.id).sort()).toEqual(kept.map((o) => o.id).sort());
      expect(ofType(await outboxMessages(store), 'OrderPlaced')).toHaveLength(3);
      // Every answer came after its commit: a second store on the same data sees every order at once.
      const other = h.open();
      expect(await ordersOf(other, 'usr_ann')).toHaveLength(3);
    });
  });

  // A sold-out ticket type is refused again and again in a rush; however an adapter answers that (SQLite from
  // memory while its file is unchanged), seats freed by anyone must be sold at once, and the answer must be the
  // one a full check gives.
  describe('sold out, then seats come back', () => {
    /** VIP (3 seats) sold out to ann, and refused twice since: an adapter that remembers a shortage has it now. */
    const sellOutVip = async () => {
      const sold = await store.placeOrder(order({ ticketTypeId: 'tt_vip', quantity: 3, idempotencyKey: 'vip-all' }));
      for (let i = 0; i < 2; i++) {
        await expect(store.placeOrder(order({ ticketTypeId: 'tt_vip', quantity: 1, userId: 'usr_bob' }))).rejects.toMatchObject({
          code: 'SOLD_OUT',
          message: 'Sorry — this ticket type is sold out.',
        });
      }
      return sold.order;
    };
    const vipSold = async (s: TicketingStore) => (await s.getAvailability('evt_jazz'))?.ticketTypes.find((t) => t.ticketTypeId === 'tt_vip')?.sold;

    it('sells a seat another store on the same data freed, at once', async () => {
      const sold = await sellOutVip();
      const other = h.open();
      await other.cancelTicket('usr_ann', sold.tickets[0]!.id, byAttendee());
      const { order: bought } = await store.placeOrder(order({ ticketTypeId: 'tt_vip', quantity: 1, userId: 'usr_bob' }));
      expect(bought.quantity).toBe(1);
      expect(await vipSold(store)).toBe(3);
      await expect(store.placeOrder(order({ ticketTypeId: 'tt_vip', quantity: 1, userId: 'usr_bob' }))).rejects.toMatchObject({ code: 'SOLD_OUT' });
    });

    it('sells at once after another store raises the capacity, or a newer snapshot does', async () => {
      await sellOutVip();
      const other = h.open();
      await changeCapacity(other, { eventId: 'evt_jazz', version: 2, ticketTypes: [{ id: 'tt_vip', capacity: 4 }] });
      await store.placeOrder(order({ ticketTypeId: 'tt_vip', quantity: 1, userId: 'usr_bob' }));
      await expect(store.placeOrder(order({ ticketTypeId: 'tt_vip', quantity: 1, userId: 'usr_bob' }))).rejects.toMatchObject({ code: 'SOLD_OUT' });
      const v3 = eventSnapshot({ version: 3, ticketTypes: [ticketType(), ticketType({ id: 'tt_vip', name: 'VIP', priceCents: 9900, capacity: 6 })] });
      await other.applyEventSnapshot(eventChange(updated(v3, ['ticketTypes']), v3));
      const { order: bought } = await store.placeOrder(order({ ticketTypeId: 'tt_vip', quantity: 2, userId: 'usr_bob' }));
      expect(bought.quantity).toBe(2);
      expect(await vipSold(other)).toBe(6);
    });

    it('sells at once what this same store freed or added', async () => {
      const sold = await sellOutVip();
      await store.cancelTicket('usr_ann', sold.tickets[1]!.id, byAttendee());
      await store.placeOrder(order({ ticketTypeId: 'tt_vip', quantity: 1, userId: 'usr_bob' }));
      await expect(store.placeOrder(order({ ticketTypeId: 'tt_vip', quantity: 1, userId: 'usr_bob' }))).rejects.toMatchObject({ code: 'SOLD_OUT' });
      await changeCapacity(store, { eventId: 'evt_jazz', version: 2, ticketTypes: [{ id: 'tt_vip', capacity: 5 }] });
      await store.placeOrder(order({ ticketTypeId: 'tt_vip', quantity: 2, userId: 'usr_bob' }));
      expect(await vipSold(store)).toBe(5);
    });

    it('answers a retry of the purchase that sold out with its order, and a reused key as such', async () => {
      const sold = await sellOutVip();
      const again = await store.placeOrder(order({ ticketTypeId: 'tt_vip', quantity: 3, idempotencyKey: 'vip-all' }));
      expect(again).toEqual({ order: sold, replayed: true });
      await expect(store.placeOrder(order({ ticketTypeId: 'tt_vip', quantity: 1, idempotencyKey: 'vip-all' }))).rejects.toMatchObject({ code: 'IDEMPOTENCY_KEY_REUSED' });
      expect(await vipSold(store)).toBe(3);
    });

    it('says how many are left, and that the event is over once it is', async () => {
      await store.placeOrder(order({ ticketTypeId: 'tt_vip', quantity: 2 }));
      for (let i = 0; i < 2; i++) {
        await expect(store.placeOrder(order({ ticketTypeId: 'tt_vip', quantity: 2 }))).rejects.toMatchObject({ code: 'SOLD_OUT', message: 'Sorry — only 1 ticket left.' });
      }
      const afterTheEnd = new Date(Date.parse(eventSnapshot().endsAt) + 1000);
      await expect(store.placeOrder(order({ ticketTypeId: 'tt_vip', quantity: 2, now: afterTheEnd }))).rejects.toMatchObject({ code: 'EVENT_ENDED' });
      // What is left may still be bought, and then nothing is.
      await store.placeOrder(order({ ticketTypeId: 'tt_vip', quantity: 1 }));
      await expect(store.placeOrder(order({ ticketTypeId: 'tt_vip', quantity: 1 }))).rejects.toMatchObject({ code: 'SOLD_OUT', message: 'Sorry — this ticket type is sold out.' });
    });

    it('refuses a cancelled event as cancelled, not sold out', async () => {
      await sellOutVip();
      const other = h.open();
      const gone = { ...eventSnapshot({ version: 2 }), status: 'cancelled' as const };
      await other.applyEventSnapshot(eventChange(cancelled(gone), gone));
      await expect(store.placeOrder(order({ ticketTypeId: 'tt_vip', quantity: 1, userId: 'usr_bob' }))).rejects.toMatchObject({ code: 'EVENT_CANCELLED' });
    });
  });

  describe('reading orders and tickets', () => {
    it("lists only the caller's own, newest first", async () => {
      const a1 = await store.placeOrder(order({ quantity: 1, now: new Date(Date.now() - 2000) }));
      const a2 = await store.placeOrder(order({ quantity: 2, now: new Date(Date.now() - 1000) }));
      const b1 = await store.placeOrder(order({ quantity: 1, userId: 'usr_bob' }));
      expect((await ordersOf(store, 'usr_ann')).map((o) => o.id)).toEqual([a2.order.id, a1.order.id]);
      expect(await store.getOrder('usr_ann', b1.order.id)).toBeNull();
      expect(await store.getOrder('usr_bob', b1.order.id)).toEqual(b1.order);
      const tickets = await ticketsOf(store, 'usr_ann');
      expect(tickets).toHaveLength(3);
      expect(tickets[0]).toMatchObject({
        orderId: a2.order.id,
        eventTitle: 'Jazz Night',
        ticketTypeName: 'General admission',
        priceCents: 2500,
        status: 'valid',
        cancelledAt: null,
      });
      expect(tickets[2]?.orderId).toBe(a1.order.id);
      expect((await ticketsOf(store, 'usr_bob')).map((t) => t.id)).toEqual(b1.order.tickets.map((t) => t.id));
    });

    it('lists each ticket with its event as the newest snapshot describes it: venue, time zone, start, end, status', async () => {
      await store.placeOrder(order({ quantity: 1 }));
      const first = eventSnapshot();
      expect((await ticketsOf(store, 'usr_ann'))[0]).toMatchObject({ eventVenue: 'Blue Room', eventTimezone: 'Europe/Berlin', eventStatus: 'published' });
      const moved = eventSnapshot({ venue: 'Great Hall', timezone: 'Asia/Tokyo', startsAt: first.endsAt, endsAt: '2099-01-01T00:00:00.000Z', version: 2 });
      await store.applyEventSnapshot(eventChange(updated(moved, ['venue']), moved));
      expect((await ticketsOf(store, 'usr_ann'))[0]).toMatchObject({
        eventVenue: 'Great Hall',
        eventTimezone: 'Asia/Tokyo',
        eventStartsAt: first.endsAt,
        eventEndsAt: '2099-01-01T00:00:00.000Z',
        eventStatus: 'published',
      });
    });

    /** Every page of a list, following nextCursor; checks each page's size on the way. */
    async function allPages<T>(list: (page: { cursor?: string; limit: number }) => Promise<{ items: T[]; next: string | null }>, limit: number) {
      const pages: T[][] = [];
      let cursor: string | undefined;
      do {
        const page = await list({ cursor, limit });
        pages.push(page.items);
        cursor = page.next ?? undefined;
        // A page that says there is more is full; only the last may be short (never empty, unless the list is).
        if (cursor) expect(page.items).toHaveLength(limit);
        expect(pages.length).toBeLessThan(50);
      } while (cursor);
      return pages;
    }

    it('pages orders newest first: every order exactly once, whatever the page size', async () => {
      const placed: string[] = [];
      for (const quantity of [1, 3, 2, 1, 2, 1, 1]) placed.push((await store.placeOrder(order({ quantity, userId: 'usr_pages' }))).order.id);
      await store.placeOrder(order({ userId: 'usr_other' }));
      const all = await ordersOf(store, 'usr_pages');
      expect(all.map((o) => o.id)).toEqual([...placed].reverse());
      expect(all.map((o) => o.createdAt)).toEqual(
        all
          .map((o) => o.createdAt)
          .sort()
          .reverse(),
      );
      for (const limit of [1, 2, 3, 7, 100]) {
        const pages = await allPages((page) => store.listOrders('usr_pages', page), limit);
        expect(pages.length).toBe(Math.ceil(7 / limit));
        expect(pages.flat()).toEqual(all);
      }
      expect(await store.listOrders('usr_nobody', { limit: 10 })).toEqual({ items: [], next: null });
    });

    it('pages tickets newest first, a page may end inside an order and the next goes on from there', async () => {
      const placed: string[][] = [];
      for (const quantity of [3, 1, 2, 3, 1]) placed.push((await store.placeOrder(order({ quantity, userId: 'usr_pages' }))).order.tickets.map((t) => t.id));
      // Newest order first, and in an order the last-issued ticket first.
      const expected = placed.reverse().flatMap((ids) => [...ids].reverse());
      expect((await ticketsOf(store, 'usr_pages')).map((t) => t.id)).toEqual(expected);
      for (const limit of [1, 2, 4, 9, 10]) {
        const pages = await allPages((page) => store.listTickets('usr_pages', page), limit);
        expect(pages.length).toBe(Math.ceil(10 / limit));
        expect(pages.flat().map((t) => t.id)).toEqual(expected);
      }
      // A cancelled ticket keeps its place, with its state.
      await store.cancelTicket('usr_pages', expected[1]!, byAttendee());
      const [, second] = (await store.listTickets('usr_pages', { limit: 2 })).items;
      expect(second).toMatchObject({ id: expected[1], status: 'cancelled', cancelledAt: expect.any(String) });
    });

    it('refuses a cursor it did not make', async () => {
      await store.placeOrder(order());
      for (const cursor of ['nonsense', Buffer.from('{"order":"../x","skip":-1}').toString('base64url'), Buffer.from('{"at":1}').toString('base64url')]) {
        await expect(store.listOrders('usr_ann', { cursor, limit: 10 })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
        await expect(store.listTickets('usr_ann', { cursor, limit: 10 })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
      }
    });
  });

  describe('cancelTicket', () => {
    it('cancels, refunds, returns the seat to sale and enqueues TicketCancelled', async () => {
      const { order: placed } = await store.placeOrder(order({ quantity: 2 }));
      const [t1, t2] = placed.tickets;
      const ticket = await store.cancelTicket('usr_ann', t1!.id, byAttendee());
      expect(ticket).toMatchObject({ id: t1!.id, status: 'cancelled' });
      expect(ticket.cancelledAt).not.toBeNull();
      expect(await store.getOrder('usr_ann', placed.id)).toMatchObject({ refundedCents: 2500, status: 'partially_cancelled', refundStatus: 'partial' });
      expect((await store.getAvailability('evt_jazz'))?.ticketTypes[0]).toMatchObject({ sold: 1, remaining: 99 });

      await store.cancelTicket('usr_ann', t2!.id, byAttendee());
      expect(await store.getOrder('usr_ann', placed.id)).toMatchObject({ refundedCents: 5000, status: 'cancelled', refundStatus: 'full' });
      const messages = ofType(await outboxMessages(store), 'TicketCancelled');
      expect(messages.map((m) => m.data)).toEqual([
        expect.objectContaining({ ticketId: t1!.id, orderId: placed.id, userId: 'usr_ann', refundCents: 2500, currency: 'USD', reason: 'attendee' }),
        expect.objectContaining({ ticketId: t2!.id, reason: 'attendee' }),
      ]);
    });

    it('a free order follows its tickets to cancelled, with nothing to refund, even when both go at once', async () => {
      const free = eventSnapshot({ id: 'evt_free', ticketTypes: [ticketType({ id: 'tt_free', name: 'Free entry', priceCents: 0 })] });
      await store.applyEventSnapshot(eventChange(published(free), free));
      const freeOrder = () => order({ eventId: 'evt_free', ticketTypeId: 'tt_free', quantity: 2 });
      const { order: placed } = await store.placeOrder(freeOrder());
      expect(placed).toMatchObject({ totalCents: 0, status: 'confirmed', refundStatus: 'none' });
      const [t1, t2] = placed.tickets;

      await store.cancelTicket('usr_ann', t1!.id, byAttendee());
      expect(await store.getOrder('usr_ann', placed.id)).toMatchObject({ status: 'partially_cancelled', refundStatus: 'none', refundedCents: 0 });
      await store.cancelTicket('usr_ann', t2!.id, byAttendee());
      expect(await store.getOrder('usr_ann', placed.id)).toMatchObject({ status: 'cancelled', refundStatus: 'none', refundedCents: 0 });

      const { order: other } = await store.placeOrder(freeOrder());
      await Promise.all(other.tickets.map((t) => store.cancelTicket('usr_ann', t.id, byAttendee())));
      const both = await store.getOrder('usr_ann', other.id);
      expect(both).toMatchObject({ status: 'cancelled', refundStatus: 'none' });
      expect(both?.tickets.map((t) => t.status)).toEqual(['cancelled', 'cancelled']);
      expect((await ordersOf(store, 'usr_ann')).map((o) => o.status)).toEqual(['cancelled', 'cancelled']);
    });

    it("refuses another user's ticket, a cancelled one, and one of an event that is over", async () => {
      const { order: placed } = await store.placeOrder(order({ quantity: 2 }));
      const [t1, t2] = placed.tickets;
      await expect(store.cancelTicket('usr_bob', t1!.id, byAttendee())).rejects.toMatchObject({ code: 'TICKET_NOT_FOUND' });
      await store.cancelTicket('usr_ann', t1!.id, byAttendee());
      await expect(store.cancelTicket('usr_ann', t1!.id, byAttendee())).rejects.toMatchObject({ code: 'TICKET_ALREADY_CANCELLED' });
      const afterTheEvent = new Date(Date.now() + 48 * 3_600_000);
      await expect(store.cancelTicket('usr_ann', t2!.id, byAttendee(afterTheEvent))).rejects.toMatchObject({ code: 'EVENT_ENDED' });
      expect((await store.getAvailability('evt_jazz'))?.ticketTypes[0]?.sold).toBe(1);
    });
  });

  describe('applyEventSnapshot', () => {
    it('applies a message once, however often it is delivered', async () => {
      const v2 = eventSnapshot({ title: 'Jazz Night II', version: 2 });
      const message = updated(v2);
      expect(await store.applyEventSnapshot(eventChange(message, v2))).toBe('applied');
      expect(await store.applyEventSnapshot(eventChange(message, v2))).toBe('duplicate');
      expect((await store.placeOrder(order())).order.eventTitle).toBe('Jazz Night II');
    });

    it('keeps the highest version whatever the arrival order, and never touches sold', async () => {
      await store.placeOrder(order({ quantity: 5 }));
      const v3 = eventSnapshot({ title: 'Late title', version: 3, ticketTypes: [ticketType({ capacity: 50, priceCents: 3000 })] });
      const v2 = eventSnapshot({ title: 'Stale title', version: 2, ticketTypes: [ticketType({ capacity: 10 })] });
      expect(await store.applyEventSnapshot(eventChange(updated(v3), v3))).toBe('applied');
      expect(await store.applyEventSnapshot(eventChange(updated(v2), v2))).toBe('applied');
      const availability = await store.getAvailability('evt_jazz');
      // tt_vip is no longer in the newest snapshot, so it is no longer on sale.
      expect(availability?.ticketTypes).toEqual([{ ticketTypeId: 'tt_ga', name: 'General admission', priceCents: 3000, currency: 'USD', capacity: 50, sold: 5, remaining: 45 }]);
      await expect(store.placeOrder(order({ ticketTypeId: 'tt_vip', quantity: 1 }))).rejects.toMatchObject({ code: 'TICKET_TYPE_NOT_FOUND' });
      expect((await ordersOf(store, 'usr_ann'))[0]?.eventTitle).toBe('Late title');
    });

    it('never takes a capacity below what is sold from a snapshot', async () => {
      await store.placeOrder(order({ quantity: 5 }));
      const v2 = eventSnapshot({ version: 2, ticketTypes: [ticketType({ capacity: 3 })] });
      await store.applyEventSnapshot(eventChange(updated(v2), v2));
      expect((await store.getAvailability('evt_jazz'))?.ticketTypes[0]).toMatchObject({ capacity: 5, sold: 5, remaining: 0 });
      await expect(store.placeOrder(order({ quantity: 1 }))).rejects.toMatchObject({ code: 'SOLD_OUT' });
    });
  });

  describe('applyMessages', () => {
    it('applies a delivered batch in order, answering each; one change that throws is undone alone', async () => {
      const v2 = eventSnapshot({ title: 'Batch title', version: 2 });
      const renamed = updated(v2);
      const other = eventSnapshot({ id: 'evt_other', version: 1, ticketTypes: [ticketType({ id: 'tt_other' })] });
      /** Test fake: a snapshot whose ticket types throw when read, so the store fails inside that change's apply. */
      const exploding = Object.defineProperty({ ...other }, 'ticketTypes', {
        get: () => {
          throw new Error('forced failure (test fake)');
        },
      });
      const otherMessage = published(other);
      const unused = newMessage('events', 'UserRegistered', { registrationId: 'reg_1', eventId: 'evt_jazz', eventTitle: 'Jazz', userId: 'usr_ann' });
      const outcomes = await store.applyMessages([eventChange(renamed, v2), eventChange(otherMessage, exploding), { message: unused, snapshot: null }, eventChange(renamed, v2)]);
      expect(outcomes).toEqual(['applied', { error: expect.objectContaining({ message: 'forced failure (test fake)' }) }, 'applied', 'duplicate']);
      expect((await store.placeOrder(order())).order.eventTitle).toBe('Batch title');
      // Nothing of the failed change stayed: no event, and its redelivery is applied (its inbox record was undone too).
      expect(await store.getAvailability('evt_other')).toBeNull();
      expect(await store.applyMessages([eventChange(otherMessage, other), { message: unused, snapshot: null }])).toEqual(['applied', 'duplicate']);
      expect((await store.getAvailability('evt_other'))?.ticketTypes.map((t) => t.ticketTypeId)).toEqual(['tt_other']);
      expect(await store.applyMessages([])).toEqual([]);
    });
  });

  describe('changeCapacity', () => {
    const capacities = async (eventId = 'evt_jazz') => (await store.getAvailability(eventId))?.ticketTypes.map((t) => [t.ticketTypeId, t.capacity, t.sold]);

    it('sets the capacities; a snapshot up to that version leaves them alone, a newer one applies', async () => {
      await store.placeOrder(order({ quantity: 4 }));
      await changeCapacity(store, {
        eventId: 'evt_jazz',
        version: 2,
        ticketTypes: [
          { id: 'tt_ga', capacity: 4 },
          { id: 'tt_vip', capacity: 7 },
        ],
      });
      expect(await capacities()).toEqual([
        ['tt_ga', 4, 4],
        ['tt_vip', 7, 0],
      ]);
      await expect(store.placeOrder(order({ quantity: 1 }))).rejects.toMatchObject({ code: 'SOLD_OUT' });

      // The snapshot of the same change (or an older one still on its way) carries what events had: no effect on capacity.
      const v2 = eventSnapshot({ version: 2, title: 'Renamed', ticketTypes: [ticketType({ capacity: 100 }), ticketType({ id: 'tt_vip', name: 'VIP', capacity: 3 })] });
      await store.applyEventSnapshot(eventChange(updated(v2), v2));
      expect(await capacities()).toEqual([
        ['tt_ga', 4, 4],
        ['tt_vip', 7, 0],
      ]);
      expect((await ordersOf(store, 'usr_ann'))[0]?.eventTitle).toBe('Renamed');

      const v3 = eventSnapshot({ version: 3, ticketTypes: [ticketType({ capacity: 6 }), ticketType({ id: 'tt_vip', name: 'VIP', capacity: 8 })] });
      await store.applyEventSnapshot(eventChange(updated(v3), v3));
      expect(await capacities()).toEqual([
        ['tt_ga', 6, 4],
        ['tt_vip', 8, 0],
      ]);
    });

    it('refuses the whole change when any type has sold more, and changes nothing', async () => {
      await store.placeOrder(order({ quantity: 3, ticketTypeId: 'tt_vip' }));
      const change = changeCapacity(store, {
        eventId: 'evt_jazz',
        version: 2,
        ticketTypes: [
          { id: 'tt_ga', capacity: 50 },
          { id: 'tt_vip', capacity: 2 },
        ],
      });
      await expect(change).rejects.toMatchObject({ code: 'CAPACITY_BELOW_SOLD', message: "VIP has already sold 3 tickets; its capacity can't be lower than that." });
      expect(await capacities()).toEqual([
        ['tt_ga', 100, 0],
        ['tt_vip', 3, 3],
      ]);
      await changeCapacity(store, { eventId: 'evt_jazz', version: 2, ticketTypes: [{ id: 'tt_vip', capacity: 3 }] });
      expect(await capacities()).toEqual([
        ['tt_ga', 100, 0],
        ['tt_vip', 3, 3],
      ]);
    });

    it('refuses a type or event it has not received yet', async () => {
      for (const change of [
        { eventId: 'evt_jazz', version: 2, ticketTypes: [{ id: 'tt_new', capacity: 5 }] },
        { eventId: 'evt_unknown', version: 2, ticketTypes: [{ id: 'tt_ga', capacity: 5 }] },
      ]) {
        await expect(changeCapacity(store, change)).rejects.toMatchObject({ code: 'EVENT_NOT_ON_SALE' });
      }
      expect(await capacities()).toEqual([
        ['tt_ga', 100, 0],
        ['tt_vip', 3, 0],
      ]);
    });

    it('never ends below sold when it races purchases: five buyers of 10 against a change to 10, from two stores', async () => {
      const other = h.open();
      for (let round = 0; round < 4; round++) {
        const id = `evt_race${round}`;
        const tt = `tt_race${round}`;
        const race = eventSnapshot({ id, ticketTypes: [ticketType({ id: tt, capacity: 100 })] });
        await store.applyEventSnapshot(eventChange(published(race), race));
        const buys = Array.from({ length: 5 }, (_, i) => (i % 2 ? other : store).placeOrder(order({ eventId: id, ticketTypeId: tt, quantity: 10, userId: `usr_${i}` })));
        // The change is started at a different point of the rush in each round.
        const change = new Promise((r) => setTimeout(r, round * 3)).then(() =>
          changeCapacity(round % 2 ? other : store, { eventId: id, version: 2, ticketTypes: [{ id: tt, capacity: 10 }] }),
        );
        const [changed, ...bought] = await Promise.allSettled([change, ...buys]);
        const sold = bought.filter((b) => b.status === 'fulfilled').length * 10;
        const [, capacity, soldNow] = (await capacities(id))![0]!;
        expect(soldNow).toBe(sold);
        expect(capacity).toBeGreaterThanOrEqual(sold);
        if (changed.status === 'fulfilled') expect([capacity, sold]).toEqual([10, sold <= 10 ? sold : -1]);
        else expect([changed.reason.code, capacity]).toEqual(['CAPACITY_BELOW_SOLD', 100]);
      }
    });

    it('on cancellation cancels and refunds every valid ticket, frees the seats and enqueues one TicketCancelled each', async () => {
      const ann = await store.placeOrder(order({ quantity: 2 }));
      const bob = await store.placeOrder(order({ quantity: 1, userId: 'usr_bob', ticketTypeId: 'tt_vip' }));
      await store.cancelTicket('usr_ann', ann.order.tickets[0]!.id, byAttendee());
      const before = commits;
      const snapshot = { ...eventSnapshot({ version: 2 }), status: 'cancelled' as const };
      expect(await store.applyEventSnapshot(eventChange(cancelled(snapshot), snapshot))).toBe('applied');
      expect(commits).toBe(before + 1);

      expect((await ticketsOf(store, 'usr_ann')).map((t) => t.status)).toEqual(['cancelled', 'cancelled']);
      expect((await ticketsOf(store, 'usr_bob')).map((t) => t.status)).toEqual(['cancelled']);
      expect((await ticketsOf(store, 'usr_bob')).map((t) => t.eventStatus)).toEqual(['cancelled']);
      expect(await store.getOrder('usr_ann', ann.order.id)).toMatchObject({ status: 'cancelled', refundStatus: 'full', refundedCents: 5000 });
      expect(await store.getOrder('usr_bob', bob.order.id)).toMatchObject({ status: 'cancelled', refundStatus: 'full', refundedCents: 9900 });
      expect((await store.getAvailability('evt_jazz'))?.ticketTypes.map((t) => t.sold)).toEqual([0, 0]);

      const byEvent = ofType(await outboxMessages(store), 'TicketCancelled').filter((m) => m.data.reason === 'event_cancelled');
      expect(byEvent.map((m) => m.data.ticketId).sort()).toEqual([ann.order.tickets[1]!.id, bob.order.tickets[0]!.id].sort());
      await expect(store.placeOrder(order())).rejects.toMatchObject({ code: 'EVENT_CANCELLED' });
    });

    it('on cancellation of an event sold over several shards, cancels every valid ticket of every order', async () => {
      const big = eventSnapshot({ id: 'evt_big', ticketTypes: [ticketType({ id: 'tt_big', capacity: 200 }), ticketType({ id: 'tt_big2', name: 'Balcony', capacity: 50 })] });
      await store.applyEventSnapshot(eventChange(published(big), big));
      const orders: Order[] = [];
      for (let i = 0; i < 24; i++) {
        orders.push((await store.placeOrder(order({ eventId: 'evt_big', ticketTypeId: i % 4 ? 'tt_big' : 'tt_big2', quantity: (i % 3) + 1, userId: `usr_${i % 5}` }))).order);
      }
      // Some tickets are already cancelled by their holders: partly and wholly cancelled orders.
      await store.cancelTicket(orders[2]!.userId, orders[2]!.tickets[0]!.id, byAttendee());
      await store.cancelTicket(orders[3]!.userId, orders[3]!.tickets[0]!.id, byAttendee());
      const valid = orders.flatMap((o) => o.tickets.map((t) => t.id)).filter((id) => id !== orders[2]!.tickets[0]!.id && id !== orders[3]!.tickets[0]!.id);
      await outboxMessages(store);

      const snapshot = { ...big, version: 2, status: 'cancelled' as const };
      expect(await store.applyEventSnapshot(eventChange(cancelled(snapshot), snapshot))).toBe('applied');

      expect((await store.getAvailability('evt_big'))?.ticketTypes.map((t) => t.sold)).toEqual([0, 0]);
      for (let u = 0; u < 5; u++) {
        const mine = await ordersOf(store, `usr_${u}`);
        for (const o of mine.filter((o) => o.eventId === 'evt_big')) expect(o).toMatchObject({ status: 'cancelled', refundStatus: 'full', refundedCents: o.totalCents });
        for (const t of await ticketsOf(store, `usr_${u}`)) expect(t).toMatchObject({ status: 'cancelled', cancelledAt: expect.any(String) });
      }
      const byEvent = ofType(await outboxMessages(store), 'TicketCancelled').filter((m) => m.data.reason === 'event_cancelled');
      expect(byEvent.map((m) => m.data.ticketId).sort()).toEqual(valid.sort());
      // Another delivery of the cancellation finds nothing left to cancel, and enqueues nothing.
      const before = commits;
      expect(await store.applyEventSnapshot(eventChange({ ...cancelled(snapshot), id: crypto.randomUUID() }, snapshot))).toBe('applied');
      expect(commits).toBe(before);
    });

    it('records messages it has no use for, once', async () => {
      const message = published(eventSnapshot());
      const other = { ...message, id: crypto.randomUUID() };
      expect(await store.acknowledge(other)).toBe('applied');
      expect(await store.acknowledge(other)).toBe('duplicate');
    });
  });

  it('answers ping', async () => {
    expect(await store.isReady()).toBe(true);
  });
});
