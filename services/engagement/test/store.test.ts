import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { DescribeTableCommand, DescribeTimeToLiveCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, QueryCommand, TransactWriteCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import type { Message } from '@dems/contracts';
import { describeEachAdapter, type StoreAdapters } from '@dems/kit/testing';
import { checkAnnouncementLimits } from '../src/domain/announcement-limits.js';
import { followsEvent, heldTicketIds } from '../src/domain/audience.js';
import type { EventMessage } from '../src/domain/event-news.js';
import { announcementText, orderConfirmedText, ticketCancelledText } from '../src/domain/notification-texts.js';
import type { AudienceChange, EngagementStore } from '../src/store/engagement-store.js';
import { eventChanged } from '../src/use-cases/event-changed.js';
import { AUDIENCE_BUCKETS, audienceBucket, DynamoEngagementStore, engagementTables, notificationKey } from '../src/store/dynamodb.js';
import { SqliteEngagementStore } from '../src/store/sqlite.js';
import { msg, snapshot } from './helpers.js';

/** The DynamoDB adapter alone, for the suites about how it lays out and writes its items. */
const onDynamo: StoreAdapters<DynamoEngagementStore> = {
  dynamodb: { open: (settings) => new DynamoEngagementStore({ settings }), prepare: (store) => store.createTables() },
};
/** The store on each adapter, fresh for every test (the kit's adapter matrix). */
const adapters: StoreAdapters<EngagementStore> = {
  sqlite: (dir) => new SqliteEngagementStore({ file: join(dir, 'engagement.db'), synchronous: 'NORMAL' }),
  dynamodb: onDynamo.dynamodb,
};

const user = (email: string) => ({ email, name: 'Ada', role: 'attendee' as const, passwordHash: 'scrypt$1$1$1$AA==$AA==' });
/** The audience change the message handler makes of an OrderPlaced: one ticket id per ticket, told or silent. */
const orderChange = (m: Message<'OrderPlaced'>, told = true): AudienceChange => ({
  eventId: m.data.eventId,
  userId: m.data.userId,
  ticketsHeld: heldTicketIds(m.data.orderId, m.data.quantity),
  text: told ? orderConfirmedText(m.data) : null,
});
/** ... and of a TicketCancelled: the ticket's id; by the event's cancellation it tells nothing. */
const cancelChange = (m: Message<'TicketCancelled'>): AudienceChange => ({
  eventId: m.data.eventId,
  userId: m.data.userId,
  ticketsGone: [m.data.ticketId],
  lostToEventCancellation: m.data.reason === 'event_cancelled',
  text: m.data.reason === 'event_cancelled' ? null : ticketCancelledText(m.data),
});
const order = (userId: string, quantity = 1) => {
  const m = msg.order(userId, quantity);
  return { m, change: orderChange(m) };
};

describeEachAdapter('EngagementStore contract', adapters, (h) => {
  let store: EngagementStore;
  /** Another store on the same data, as a restart or another process opens it. */
  const reopen = async () => h.open();
  beforeEach(() => {
    store = h.store;
  });
  /** Applies an event message as its use case decides it. */
  const applyEvent = (m: EventMessage) => store.applyEventChange(m, eventChanged(m).event);

  it('answers isReady', async () => {
    expect(await store.isReady()).toBe(true);
  });

  describe('users', () => {
    it('creates a user, finds it by id and by email in any case, with its hash', async () => {
      const created = await store.createUser(user('Ada@Example.com'));
      expect(created).toMatchObject({ email: 'ada@example.com', name: 'Ada', role: 'attendee' });
      expect(await store.getUser(created!.id)).toEqual(created);
      const creds = await store.findCredentials('ADA@example.com');
      expect(creds).toEqual({ user: created, passwordHash: 'scrypt$1$1$1$AA==$AA==' });
      expect(await store.findCredentials('nobody@example.com')).toBeNull();
      expect(await store.getUser('usr_missing')).toBeNull();
    });

    it('returns null for a taken email, case-insensitively, even under concurrent sign-ups', async () => {
      const results = await Promise.all([store.createUser(user('same@example.com')), store.createUser(user('SAME@example.com'))]);
      expect(results.filter((r) => r !== null)).toHaveLength(1);
      expect(await store.createUser(user('Same@Example.com'))).toBeNull();
    });

    it('keeps users across a reopen', async () => {
      const created = await store.createUser(user('keep@example.com'));
      await store.close();
      store = await reopen();
      expect(await store.getUser(created!.id)).toEqual(created);
    });
  });

  describe('refresh tokens', () => {
    const at = (offsetMs: number) => new Date(Date.now() + offsetMs).toISOString();
    const token = (hash: string, familyId = 'fam_1', userId = 'usr_a') => ({ hash, userId, familyId, createdAt: at(0), expiresAt: at(3_600_000) });

    it('rotates once; a replayed spent token revokes its whole family', async () => {
      await store.saveRefreshToken(token('h1'));
      expect(await store.rotateRefreshToken('h1', { hash: 'h2', createdAt: at(0), expiresAt: at(3_600_000) }, at(0))).toEqual({
        outcome: 'rotated',
        userId: 'usr_a',
        familyId: 'fam_1',
      });
      expect(await store.rotateRefreshToken('h1', { hash: 'h3', createdAt: at(0), expiresAt: at(3_600_000) }, at(0))).toEqual({
        outcome: 'reused',
        userId: 'usr_a',
        familyId: 'fam_1',
      });
      // The family is revoked: the token issued by the legitimate rotation no longer works either.
      expect(await store.rotateRefreshToken('h2', { hash: 'h4', createdAt: at(0), expiresAt: at(3_600_000) }, at(0))).toEqual({ outcome: 'invalid' });
      expect(await store.rotateRefreshToken('unknown', { hash: 'h5', createdAt: at(0), expiresAt: at(3_600_000) }, at(0))).toEqual({ outcome: 'invalid' });
    });

    it('refuses an expired token, revokes a family on sign-out and every live token of a user', async () => {
      await store.saveRefreshToken({ ...token('old'), expiresAt: at(-1000) });
      expect((await store.rotateRefreshToken('old', { hash: 'x', createdAt: at(0), expiresAt: at(3_600_000) }, at(0))).outcome).toBe('invalid');
      await store.saveRefreshToken(token('s1', 'fam_s'));
      expect(await store.revokeRefreshFamily('s1', at(0))).toEqual({ userId: 'usr_a', familyId: 'fam_s' });
      expect(await store.revokeRefreshFamily('missing', at(0))).toBeNull();
      expect((await store.rotateRefreshToken('s1', { hash: 'y', createdAt: at(0), expiresAt: at(3_600_000) }, at(0))).outcome).toBe('invalid');
      await store.saveRefreshToken(token('u1', 'fam_u1', 'usr_u'));
      await store.saveRefreshToken(token('u2', 'fam_u2', 'usr_u'));
      expect(await store.revokeUserRefreshTokens('usr_u', at(0))).toBe(2);
      expect((await store.rotateRefreshToken('u2', { hash: 'z', createdAt: at(0), expiresAt: at(3_600_000) }, at(0))).outcome).toBe('invalid');
    });

    it('says whether a session (a family) is still signed in, through rotation and every kind of revocation', async () => {
      await store.saveRefreshToken(token('a1', 'fam_a', 'usr_s'));
      await store.saveRefreshToken(token('b1', 'fam_b', 'usr_s'));
      await store.saveRefreshToken(token('c1', 'fam_c', 'usr_s'));
      await store.saveRefreshToken(token('d1', 'fam_d', 'usr_t'));
      expect(await store.isSessionActive('usr_s', 'fam_a')).toBe(true);
      await store.rotateRefreshToken('a1', { hash: 'a2', createdAt: at(0), expiresAt: at(3_600_000) }, at(0));
      expect(await store.isSessionActive('usr_s', 'fam_a')).toBe(true);
      await store.revokeRefreshFamily('a2', at(0));
      expect(await store.isSessionActive('usr_s', 'fam_a')).toBe(false);
      await store.rotateRefreshToken('b1', { hash: 'b2', createdAt: at(0), expiresAt: at(3_600_000) }, at(0));
      await store.rotateRefreshToken('b1', { hash: 'b3', createdAt: at(0), expiresAt: at(3_600_000) }, at(0));
      expect(await store.isSessionActive('usr_s', 'fam_b')).toBe(false);
      expect(await store.isSessionActive('usr_s', 'fam_c')).toBe(true);
      await store.revokeUserRefreshTokens('usr_s', at(0));
      expect(await store.isSessionActive('usr_s', 'fam_c')).toBe(false);
      expect(await store.isSessionActive('usr_t', 'fam_d')).toBe(true);
    });
  });

  it('remembers the first signing key it was told of', async () => {
    expect(await store.recordedSigningKey()).toBeNull();
    await store.recordSigningKey({ kid: 'k1', createdAt: '2026-01-01T00:00:00.000Z' });
    await store.recordSigningKey({ kid: 'k2', createdAt: '2026-02-01T00:00:00.000Z' });
    expect(await store.recordedSigningKey()).toEqual({ kid: 'k1', createdAt: '2026-01-01T00:00:00.000Z' });
    const again = await reopen();
    expect(await again.recordedSigningKey()).toEqual({ kid: 'k1', createdAt: '2026-01-01T00:00:00.000Z' });
    await again.close();
  });

  describe('notifications', () => {
    it('applies an audience change once and returns the notifications it created', async () => {
      const { m, change } = order('usr_a', 2);
      const first = await store.applyAudienceChange(m, change);
      expect(first.result).toBe('applied');
      expect(first.created).toHaveLength(1);
      expect(first.created[0]).toMatchObject({ userId: 'usr_a', notification: { type: 'order_confirmed', readAt: null } });
      const again = await store.applyAudienceChange(m, change);
      expect(again).toEqual({ result: 'duplicate', created: [] });
      const page = await store.listNotifications('usr_a', { limit: 10 });
      expect(page.items).toEqual([first.created[0]!.notification]);
      expect(page.unreadCount).toBe(1);
    });

    it('lists newest first in pages that join up, with the unread count', async () => {
      for (let i = 0; i < 7; i++) {
        const { m, change } = order('usr_a');
        await store.applyAudienceChange(m, change);
      }
      const seen: string[] = [];
      let after: Awaited<ReturnType<EngagementStore['listNotifications']>>['next'] | undefined;
      let pages = 0;
      do {
        const page = await store.listNotifications('usr_a', { after: after ?? undefined, limit: 3 });
        expect(page.unreadCount).toBe(7);
        seen.push(...page.items.map((n) => `${n.createdAt}|${n.id}`));
        after = page.next;
        pages++;
      } while (after);
      expect(pages).toBe(3);
      expect(seen).toHaveLength(7);
      expect(new Set(seen).size).toBe(7);
      expect([...seen].sort().reverse()).toEqual(seen);
    });

    it("marks read only the owner's notification, keeps the first read time, and marks all read", async () => {
      const a = await store.applyAudienceChange(order('usr_a').m, order('usr_a').change);
      await store.applyAudienceChange(order('usr_a').m, order('usr_a').change);
      const id = a.created[0]!.notification.id;
      expect(await store.markNotificationRead('usr_b', id)).toBeNull();
      const read = await store.markNotificationRead('usr_a', id);
      expect(read?.readAt).toEqual(expect.any(String));
      expect((await store.markNotificationRead('usr_a', id))?.readAt).toBe(read?.readAt);
      expect(await store.markNotificationRead('usr_a', 'ntf_missing')).toBeNull();
      expect(await store.markAllNotificationsRead('usr_b')).toBe(0);
      expect(await store.markAllNotificationsRead('usr_a')).toBe(1);
      expect((await store.listNotifications('usr_a', { limit: 10 })).unreadCount).toBe(0);
    });

    it('counts the unread among the newest 100 only, and marks every unread one read', async () => {
      const orders = Array.from({ length: 103 }, () => order('usr_a'));
      for (let i = 0; i < orders.length; i += 25) await Promise.all(orders.slice(i, i + 25).map(({ m, change }) => store.applyAudienceChange(m, change)));
      expect((await store.listNotifications('usr_a', { limit: 5 })).unreadCount).toBe(100);
      // Reading the 3 newest leaves 100 unread, but only 97 of them among the newest 100.
      const newest = (await store.listNotifications('usr_a', { limit: 3 })).items;
      for (const n of newest) await store.markNotificationRead('usr_a', n.id);
      expect((await store.listNotifications('usr_a', { limit: 5 })).unreadCount).toBe(97);
      expect(await store.markAllNotificationsRead('usr_a')).toBe(100);
      expect((await store.listNotifications('usr_a', { limit: 5 })).unreadCount).toBe(0);
      expect(await store.markAllNotificationsRead('usr_a')).toBe(0);
    });
  });

  describe('events and audiences', () => {
    it('keeps the highest version of an event copy, whatever the arrival order', async () => {
      expect(await store.getEvent('evt_jazz')).toBeNull();
      await applyEvent(msg.published(snapshot({ version: 2, title: 'New' })));
      await applyEvent(msg.published(snapshot({ version: 1, title: 'Old' })));
      expect(await store.getEvent('evt_jazz')).toMatchObject({ title: 'New', version: 2, organizerId: 'usr_org', status: 'published' });
    });

    it('notifies the audience of a newer update only, and of a cancellation once', async () => {
      const published = snapshot();
      await applyEvent(msg.published(published));
      await store.applyAudienceChange(msg.registered('usr_reg'), { eventId: 'evt_jazz', userId: 'usr_reg', registered: true, text: null });
      const bought = msg.order('usr_tix', 1);
      await store.applyAudienceChange(bought, orderChange(bought, false));
      await store.applyAudienceChange(msg.registered('usr_out'), { eventId: 'evt_jazz', userId: 'usr_out', registered: true, text: null });
      await store.applyAudienceChange(msg.withdrawn('usr_out'), { eventId: 'evt_jazz', userId: 'usr_out', registered: false, text: null });

      const v2 = snapshot({ version: 2 });
      const updated = await applyEvent(msg.updated(v2, ['venue']));
      expect(updated.created.map((c) => c.userId).sort()).toEqual(['usr_reg', 'usr_tix']);
      const stale = await applyEvent(msg.updated(v2, ['venue']));
      expect(stale).toEqual({ result: 'applied', created: [] });

      const v3 = snapshot({ version: 3, status: 'cancelled' });
      expect((await applyEvent(msg.cancelled(v3))).created).toHaveLength(2);
      expect((await applyEvent(msg.cancelled(v3))).created).toHaveLength(0);
      expect((await store.getEvent('evt_jazz'))?.status).toBe('cancelled');
    });

    it('counts tickets lost to a cancellation toward its audience', async () => {
      const bought = msg.order('usr_a', 1);
      await store.applyAudienceChange(bought, orderChange(bought, false));
      const lost = msg.ticketCancelled('usr_a', 'event_cancelled');
      await store.applyAudienceChange(lost, cancelChange(lost));
      const v2 = snapshot({ version: 2, status: 'cancelled' });
      const res = await applyEvent(msg.cancelled(v2));
      expect(res.created.map((c) => c.userId)).toEqual(['usr_a']);
    });

    // The relay may deliver a message later than the ones behind it (a retried one), so the audience must come
    // out the same in any arrival order.
    const announce = async () =>
      (await store.createAnnouncement({ eventId: 'evt_jazz', senderId: 'usr_org', message: 'x', tell: { hears: followsEvent, text: announcementText(snapshot(), 'x') } }))!.created
        .map((c) => c.userId)
        .sort();

    it('applies a redelivered OrderPlaced or TicketCancelled once: nothing written or told twice, in any order', async () => {
      await applyEvent(msg.published(snapshot()));
      const bought = msg.order('usr_a', 2);
      const [first, second] = [msg.ticketCancelled('usr_a', 'attendee'), msg.ticketCancelled('usr_a', 'attendee')];
      // The first cancellation overtakes the order, and both come twice.
      const results = [];
      for (const [m, change] of [
        [first, cancelChange(first)],
        [bought, orderChange(bought)],
        [first, cancelChange(first)],
        [bought, orderChange(bought)],
      ] as const) {
        results.push(await store.applyAudienceChange(m, change));
      }
      expect(results.map((r) => r.result)).toEqual(['applied', 'applied', 'duplicate', 'duplicate']);
      expect(results.map((r) => r.created.length)).toEqual([1, 1, 0, 0]);
      expect((await store.listNotifications('usr_a', { limit: 10 })).items.map((n) => n.type).sort()).toEqual(['order_confirmed', 'ticket_cancelled']);
      // 2 bought, 1 cancelled (each counted once): still in the audience; the second cancellation takes them out.
      expect(await announce()).toEqual(['usr_a']);
      await store.applyAudienceChange(second, cancelChange(second));
      expect(await announce()).toEqual([]);
    });

    it('finds the whole audience however its people are spread over the store', async () => {
      await applyEvent(msg.published(snapshot()));
      const people = onePerBucket();
      for (const [i, userId] of people.entries()) {
        const m = i % 2 ? msg.registered(userId) : msg.order(userId, 1);
        await store.applyAudienceChange(m, m.type === 'OrderPlaced' ? orderChange(m, false) : { eventId: 'evt_jazz', userId, registered: true, text: null });
      }
      expect(await announce()).toEqual([...people].sort());
      const v2 = snapshot({ version: 2, status: 'cancelled' });
      const cancelled = await applyEvent(msg.cancelled(v2));
      expect(cancelled.created.map((c) => c.userId).sort()).toEqual([...people].sort());
    });

    it('applies a delivered batch in order, answering each; one change that throws is undone alone', async () => {
      await applyEvent(msg.published(snapshot()));
      const earlier = order('usr_d');
      await store.applyAudienceChange(earlier.m, earlier.change);
      const a = order('usr_a');
      const b = msg.registered('usr_b');
      const c = msg.registered('usr_c');
      /** Test fake: a notification text that throws when read, so the store fails inside that change's apply. */
      const exploding = Object.defineProperty({}, 'type', {
        get: () => {
          throw new Error('forced failure (test fake)');
        },
      }) as AudienceChange['text'];
      const outcomes = await store.applyMessages([
        { message: a.m, audience: a.change },
        { message: b, audience: { eventId: 'evt_jazz', userId: 'usr_b', registered: true, text: exploding } },
        { message: c, audience: { eventId: 'evt_jazz', userId: 'usr_c', registered: true, text: null } },
        { message: earlier.m, audience: earlier.change },
      ]);
      expect(outcomes).toHaveLength(4);
      expect(outcomes[0]).toMatchObject({ result: 'applied', created: [{ userId: 'usr_a', notification: { type: 'order_confirmed' } }] });
      expect(outcomes[1]).toEqual({ error: expect.objectContaining({ message: 'forced failure (test fake)' }) });
      expect(outcomes[2]).toEqual({ result: 'applied', created: [] });
      expect(outcomes[3]).toEqual({ result: 'duplicate', created: [] });
      // Nothing of the failed change stayed: its redelivery is applied (no inbox record), and it was not in the audience.
      const announced = await store.createAnnouncement({
        eventId: 'evt_jazz',
        senderId: 'usr_org',
        message: 'Hi',
        tell: { hears: followsEvent, text: announcementText({ id: 'evt_jazz', title: 'Jazz' }, 'Hi') },
      });
      expect(announced!.created.map((n) => n.userId).sort()).toEqual(['usr_a', 'usr_c', 'usr_d']);
      const retried = await store.applyMessages([{ message: b, audience: { eventId: 'evt_jazz', userId: 'usr_b', registered: true, text: null } }]);
      expect(retried).toEqual([{ result: 'applied', created: [] }]);
      expect(await store.applyMessages([])).toEqual([]);
    });

    it('counts tickets the same whatever order orders and cancellations arrive in', async () => {
      await applyEvent(msg.published(snapshot()));
      const cancel = (userId: string) => {
        const m = msg.ticketCancelled(userId, 'attendee');
        return store.applyAudienceChange(m, cancelChange(m));
      };
      const order = (userId: string, n: number) => {
        const m = msg.order(userId, n);
        return store.applyAudienceChange(m, orderChange(m));
      };
      // usr_gone: the cancellation of their only ticket arrives before the order; usr_kept keeps one of two.
      await cancel('usr_gone');
      await order('usr_gone', 1);
      await cancel('usr_kept');
      await order('usr_kept', 2);
      expect(await announce()).toEqual(['usr_kept']);
    });

    it('keeps the newest RSVP whatever order registrations and withdrawals arrive in', async () => {
      await applyEvent(msg.published(snapshot()));
      const at = (m: Message, ms: number) => ({ ...m, occurredAt: new Date(Date.UTC(2030, 0, 1) + ms).toISOString() }) as Message;
      const rsvp = (m: Message, userId: string, registered: boolean) => store.applyAudienceChange(m, { eventId: 'evt_jazz', userId, registered, text: null });
      // usr_left registered, then withdrew; the registration is redelivered last. usr_back withdrew, then registered again.
      await rsvp(at(msg.withdrawn('usr_left'), 2), 'usr_left', false);
      await rsvp(at(msg.registered('usr_left'), 1), 'usr_left', true);
      await rsvp(at(msg.registered('usr_back'), 3), 'usr_back', true);
      await rsvp(at(msg.withdrawn('usr_back'), 2), 'usr_back', false);
      expect(await announce()).toEqual(['usr_back']);
    });

    it('creates an announcement with one notification per audience member; null for an unknown event', async () => {
      expect(
        await store.createAnnouncement({
          eventId: 'evt_jazz',
          senderId: 'usr_org',
          message: 'Hi',
          tell: { hears: followsEvent, text: announcementText({ id: 'evt_jazz', title: 'Jazz Night' }, 'Hi') },
        }),
      ).toBeNull();
      const event = snapshot();
      await applyEvent(msg.published(event));
      await store.applyAudienceChange(msg.registered('usr_a'), { eventId: 'evt_jazz', userId: 'usr_a', registered: true, text: null });
      for (const m of [msg.order('usr_a', 2), msg.order('usr_b', 1)]) await store.applyAudienceChange(m, orderChange(m, false));
      const res = await store.createAnnouncement({ eventId: 'evt_jazz', senderId: 'usr_org', message: 'Hi', tell: { hears: followsEvent, text: announcementText(event, 'Hi') } });
      expect(res?.announcement).toMatchObject({ eventId: 'evt_jazz', message: 'Hi', recipients: 2 });
      expect(res?.created.map((c) => c.userId).sort()).toEqual(['usr_a', 'usr_b']);
      expect((await store.listNotifications('usr_a', { limit: 10 })).items[0]).toMatchObject({ type: 'announcement', body: 'Hi' });
    });

    it('holds announcements to their limits per event, even when requests race', async () => {
      const event = snapshot();
      await applyEvent(msg.published(event));
      const other = snapshot({ id: 'evt_other' });
      await applyEvent(msg.published(other));
      const announce = (eventId: string, limits = { perEventPerHour: 2, perEventTotal: 3 }) =>
        store.createAnnouncement({
          eventId,
          senderId: 'usr_org',
          message: 'Hi',
          tell: { hears: followsEvent, text: announcementText(event, 'Hi') },
          admit: (sent, now) => checkAnnouncementLimits(sent, limits, now),
        });
      const raced = await Promise.allSettled(Array.from({ length: 5 }, () => announce('evt_jazz')));
      expect(raced.filter((r) => r.status === 'fulfilled')).toHaveLength(2);
      for (const r of raced.filter((r) => r.status === 'rejected')) expect((r as PromiseRejectedResult).reason).toMatchObject({ code: 'RATE_LIMITED' });
      expect(await announce('evt_other')).not.toBeNull();
      // The total counts every hour: with room in the hour, the third is the last.
      expect(await announce('evt_jazz', { perEventPerHour: 10, perEventTotal: 3 })).not.toBeNull();
      await expect(announce('evt_jazz', { perEventPerHour: 10, perEventTotal: 3 })).rejects.toMatchObject({ code: 'ANNOUNCEMENT_LIMIT_REACHED' });
    });

    it('tells a 250-person audience of a change once, even when the message comes again', async () => {
      const people = await audienceOf(store, 250);
      const v2 = snapshot({ version: 2 });
      const update = msg.updated(v2, ['venue']);
      const { event: change } = eventChanged(update);
      expect((await store.applyEventChange(update, change)).created).toHaveLength(250);
      expect(await store.applyEventChange(update, change)).toEqual({ result: 'duplicate', created: [] });
      expect(await notificationsPerPerson(store, people)).toEqual(people.map(() => 1));
    });
  });
});

/** One user id for each of the DynamoDB adapter's audience buckets, so an event's audience spans all of them. */
function onePerBucket(): string[] {
  const byBucket = new Map<number, string>();
  for (let i = 0; byBucket.size < AUDIENCE_BUCKETS; i++) if (!byBucket.has(audienceBucket(`usr_${i}`))) byBucket.set(audienceBucket(`usr_${i}`), `usr_${i}`);
  return [...byBucket.values()];
}

/** 250 people registered for the published event evt_jazz, as the store learns of them. */
async function audienceOf(store: EngagementStore, size: number): Promise<string[]> {
  const published = msg.published(snapshot());
  await store.applyEventChange(published, eventChanged(published).event);
  const people = Array.from({ length: size }, (_, i) => `usr_${String(i).padStart(3, '0')}`);
  for (let i = 0; i < people.length; i += 25) {
    await Promise.all(people.slice(i, i + 25).map((userId) => store.applyAudienceChange(msg.registered(userId), { eventId: 'evt_jazz', userId, registered: true, text: null })));
  }
  return people;
}

const notificationsPerPerson = (store: EngagementStore, people: string[]) =>
  Promise.all(people.map(async (userId) => (await store.listNotifications(userId, { limit: 10 })).items.length));

/**
 * A fake only to force the failure path: once `okItems` notification items have been written (alone or in
 * transactions), every further write of notifications fails — the way a crash or a lost connection between
 * chunks leaves a large fan-out half written.
 */
function failAfterNotifications(store: DynamoEngagementStore, okItems: number): { heal: () => void } {
  const doc = (store as unknown as { dynamo: { doc: { send: (command: unknown) => Promise<unknown> } } }).dynamo.doc;
  const send = doc.send.bind(doc);
  const isNotification = (table: unknown) => String(table).endsWith('Notifications');
  let written = 0;
  doc.send = (command) => {
    let items = 0;
    if (command instanceof PutCommand && isNotification(command.input.TableName)) items = 1;
    if (command instanceof TransactWriteCommand) items = (command.input.TransactItems ?? []).filter((i) => isNotification(i.Put?.TableName)).length;
    if (items > 0 && written + items > okItems) return Promise.reject(new Error('injected failure between notification writes'));
    written += items;
    return send(command);
  };
  return { heal: () => (doc.send = send) };
}

describeEachAdapter('DynamoDB notification fan-out after a failure', onDynamo, (h) => {
  let store: DynamoEngagementStore;
  beforeEach(() => {
    store = h.store;
  });

  it('a redelivery after a crash between chunks notifies each of 250 people exactly once', async () => {
    const people = await audienceOf(store, 250);
    const v2 = snapshot({ version: 2, status: 'cancelled' });
    const cancelled = msg.cancelled(v2);
    const { event: change } = eventChanged(cancelled);

    const crash = failAfterNotifications(store, 120);
    await expect(store.applyEventChange(cancelled, change)).rejects.toThrow(/injected failure/);
    crash.heal();
    const partly = await notificationsPerPerson(store, people);
    expect(partly.filter((n) => n === 1).length).toBeGreaterThanOrEqual(100);
    expect(partly.filter((n) => n === 0).length).toBeGreaterThan(0);

    const redelivered = await store.applyEventChange(cancelled, change);
    expect(redelivered.result).toBe('applied');
    expect(redelivered.created).toHaveLength(250);
    expect(await notificationsPerPerson(store, people)).toEqual(people.map(() => 1));
    expect(await store.applyEventChange(cancelled, change)).toEqual({ result: 'duplicate', created: [] });
  });

  it('keeps two different notifications of one person that land on the same key', async () => {
    const first = msg.order('usr_a', 1);
    // Another message of the same millisecond whose key for usr_a is the same Timestamp.
    const key = notificationKey(Date.parse(first.occurredAt), first.id, 'usr_a').timestamp;
    let second: Message<'OrderPlaced'> = { ...msg.order('usr_a', 2), occurredAt: first.occurredAt };
    while (notificationKey(Date.parse(first.occurredAt), second.id, 'usr_a').timestamp !== key) {
      second = { ...second, id: randomUUID() };
    }
    const a = await store.applyAudienceChange(first, orderChange(first));
    const b = await store.applyAudienceChange(second, orderChange(second));
    expect(b.result).toBe('applied');
    expect(b.created[0]!.notification.id).not.toBe(a.created[0]!.notification.id);
    const listed = (await store.listNotifications('usr_a', { limit: 10 })).items;
    expect(listed.map((n) => n.id).sort()).toEqual([a.created[0]!.notification.id, b.created[0]!.notification.id].sort());
  });

  it('announces to an audience larger than one transaction, once per person', async () => {
    const people = await audienceOf(store, 150);
    const ann = await store.createAnnouncement({
      eventId: 'evt_jazz',
      senderId: 'usr_org',
      message: 'Doors at 7',
      tell: { hears: followsEvent, text: announcementText(snapshot(), 'Doors at 7') },
    });
    expect(ann?.created).toHaveLength(150);
    expect(await notificationsPerPerson(store, people)).toEqual(people.map(() => 1));
  });
});

/** The adapter's document client and raw reads of its tables, for what the port does not show (keys, TTL attributes). */
function raw(store: DynamoEngagementStore) {
  const dynamo = (store as unknown as { dynamo: { doc: DynamoDBDocumentClient; client: DynamoDBClient } }).dynamo;
  const prefix = (store as unknown as { t: ReturnType<typeof engagementTables> }).t.users.name.replace(/Users$/, '');
  return { ...dynamo, tables: engagementTables(prefix) };
}

/**
 * A fake only to force the failure path: the next write that `matches` fails (as a crash or a lost connection
 * would leave it) before it reaches DynamoDB; everything else goes through.
 */
function failNextWrite(store: DynamoEngagementStore, matches: (command: unknown) => boolean): void {
  const { doc } = raw(store);
  const send = doc.send.bind(doc) as (command: unknown) => Promise<unknown>;
  (doc as { send: (command: unknown) => Promise<unknown> }).send = (command) => {
    if (!matches(command)) return send(command);
    (doc as { send: unknown }).send = send;
    return Promise.reject(new Error('injected failure of one write'));
  };
}

describeEachAdapter('DynamoDB: purchase notifications without an inbox', onDynamo, (h) => {
  let store: DynamoEngagementStore;
  beforeEach(() => {
    store = h.store;
  });

  const audienceItem = (userId: string) => {
    const { doc, tables } = raw(store);
    return doc
      .send(new GetCommand({ TableName: tables.audiences.name, Key: { EventBucket: `evt_jazz#${audienceBucket(userId)}`, UserID: userId }, ConsistentRead: true }))
      .then((r) => r.Item);
  };
  const isPut = (table: string) => (c: unknown) => c instanceof PutCommand && String(c.input.TableName).endsWith(table);
  const isUpdate = (table: string) => (c: unknown) => c instanceof UpdateCommand && String(c.input.TableName).endsWith(table);

  it('a crash after the audience update, before the notification: the redelivery tells the buyer once', async () => {
    const bought = msg.order('usr_a', 2);
    failNextWrite(store, isPut('Notifications'));
    await expect(store.applyAudienceChange(bought, orderChange(bought))).rejects.toThrow(/injected failure/);
    expect((await audienceItem('usr_a'))?.Held).toEqual(new Set(heldTicketIds(bought.data.orderId, 2)));
    expect((await store.listNotifications('usr_a', { limit: 10 })).items).toEqual([]);

    const redelivered = await store.applyAudienceChange(bought, orderChange(bought));
    expect(redelivered.result).toBe('applied');
    expect(redelivered.created).toHaveLength(1);
    expect(await store.applyAudienceChange(bought, orderChange(bought))).toEqual({ result: 'duplicate', created: [] });
    expect((await store.listNotifications('usr_a', { limit: 10 })).items).toHaveLength(1);
    expect((await audienceItem('usr_a'))?.Held).toEqual(new Set(heldTicketIds(bought.data.orderId, 2)));
  });

  it('a crash at the audience update writes no notification, so the redelivery does the whole', async () => {
    const gone = msg.ticketCancelled('usr_a', 'attendee');
    failNextWrite(store, isUpdate('EventAudiences'));
    await expect(store.applyAudienceChange(gone, cancelChange(gone))).rejects.toThrow(/injected failure/);
    expect(await audienceItem('usr_a')).toBeUndefined();
    expect((await store.listNotifications('usr_a', { limit: 10 })).items).toEqual([]);
    const redelivered = await store.applyAudienceChange(gone, cancelChange(gone));
    expect(redelivered).toMatchObject({ result: 'applied', created: [{ userId: 'usr_a' }] });
    expect((await audienceItem('usr_a'))?.Gone).toEqual(new Set([gone.data.ticketId]));
  });

  it('keeps one audience item per person in the bucket of their id: one event spans all 16 partitions', async () => {
    const people = onePerBucket();
    for (const userId of people) {
      const m = msg.order(userId, 1);
      await store.applyAudienceChange(m, orderChange(m, false));
    }
    const items = await Promise.all(people.map(audienceItem));
    expect(items.map((i) => i?.EventID)).toEqual(people.map(() => 'evt_jazz'));
    expect(new Set(people.map(audienceBucket)).size).toBe(AUDIENCE_BUCKETS);
  });

  it('writes the TTL attributes: notifications 180 days after creation, tokens at expiry, revoked families after the longest token life', async () => {
    const { doc, client, tables } = raw(store);
    const bought = msg.order('usr_a', 1);
    const { created } = await store.applyAudienceChange(bought, orderChange(bought));
    const stored = await doc.send(new QueryCommand({ TableName: tables.notifications.name, KeyConditionExpression: 'UserID = :u', ExpressionAttributeValues: { ':u': 'usr_a' } }));
    expect(stored.Items).toHaveLength(1);
    expect(stored.Items?.[0]).toMatchObject({ NotificationID: created[0]!.notification.id, ExpiresAt: Math.floor(Date.parse(bought.occurredAt) / 1000) + 180 * 86_400 });
    expect(stored.Items?.[0]).not.toHaveProperty('UnreadUserID');

    const expiresAt = '2031-02-03T04:05:06.789Z';
    await store.saveRefreshToken({ hash: 'h1', userId: 'usr_a', familyId: 'fam_1', createdAt: new Date().toISOString(), expiresAt });
    const token = await doc.send(new GetCommand({ TableName: tables.sessions.name, Key: { Hash: 'h1' } }));
    expect(token.Item?.ExpiresAt).toBe(Math.floor(Date.parse(expiresAt) / 1000));
    const now = '2030-01-01T00:00:00.000Z';
    await store.revokeRefreshFamily('h1', now);
    const family = await doc.send(new GetCommand({ TableName: tables.sessions.name, Key: { Hash: 'family#fam_1' } }));
    expect(family.Item?.ExpiresAt).toBe(Date.parse(now) / 1000 + 90 * 86_400);

    for (const table of [tables.notifications.name, tables.sessions.name]) {
      const ttl = await client.send(new DescribeTimeToLiveCommand({ TableName: table }));
      expect(ttl.TimeToLiveDescription).toMatchObject({ TimeToLiveStatus: 'ENABLED', AttributeName: 'ExpiresAt' });
    }
    const notifications = await client.send(new DescribeTableCommand({ TableName: tables.notifications.name }));
    expect(notifications.Table?.GlobalSecondaryIndexes).toBeUndefined();
  });
});
