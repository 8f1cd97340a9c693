import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { newMessage, type Message } from '@dems/contracts';
import { AppError, encodeCursor } from '@dems/kit';
import { tempDir } from '@dems/kit/testing';
import { DEFAULT_ANNOUNCEMENT_LIMITS } from '../src/domain/announcement-limits.js';
import { heldTicketIds } from '../src/domain/audience.js';
import { eventNews } from '../src/domain/event-news.js';
import { orderConfirmedText, registrationConfirmedText, registrationWithdrawnText, ticketCancelledText } from '../src/domain/notification-texts.js';
import type { CreatedNotification, EngagementStore, MessageChange } from '../src/store/engagement-store.js';
import { SqliteEngagementStore } from '../src/store/sqlite.js';
import { applyMessages } from '../src/use-cases/apply-messages.js';
import { eventChanged } from '../src/use-cases/event-changed.js';
import { orderPlaced } from '../src/use-cases/order-placed.js';
import { listNotifications, markAllNotificationsRead, markNotificationRead } from '../src/use-cases/read-notifications.js';
import { registrationChanged } from '../src/use-cases/registration-changed.js';
import { sendAnnouncement } from '../src/use-cases/send-announcement.js';
import { ticketCancelled } from '../src/use-cases/ticket-cancelled.js';
import { waitingRoomChanged } from '../src/use-cases/waiting-room-changed.js';
import { msg, snapshot } from './helpers.js';

describe('what each incoming message changes', () => {
  it('an event message keeps a copy of the event and leaves what is news to the domain', () => {
    const update = msg.updated(snapshot({ version: 2, title: 'Jazz Night Deluxe' }), ['title']);
    const change = eventChanged(update);
    expect(change.message).toBe(update);
    expect(change.event.event).toEqual({ id: 'evt_jazz', title: 'Jazz Night Deluxe', organizerId: 'usr_org', status: 'published', version: 2 });
    const before = { ...change.event.event, version: 1 };
    expect(change.event.decide(before)).toEqual(eventNews(update, before));
    expect(change.event.decide(null).tell?.text.title).toBe('Jazz Night Deluxe has changed');
    expect(change.event.decide({ ...before, version: 2 })).toEqual({ keepCopy: false, tell: null });
  });

  it('a registration joins the audience and a withdrawal leaves it, each told to the person', () => {
    const registered = msg.registered('usr_a');
    expect(registrationChanged(registered)).toEqual({
      message: registered,
      audience: { eventId: 'evt_jazz', userId: 'usr_a', registered: true, text: registrationConfirmedText('evt_jazz', 'Jazz Night') },
    });
    const withdrawn = msg.withdrawn('usr_a');
    expect(registrationChanged(withdrawn)).toEqual({
      message: withdrawn,
      audience: { eventId: 'evt_jazz', userId: 'usr_a', registered: false, text: registrationWithdrawnText('evt_jazz', 'Jazz Night') },
    });
  });

  it('an order gives its buyer one held ticket id per ticket, and a confirmation', () => {
    const order = msg.order('usr_a', 3);
    expect(orderPlaced(order)).toEqual({
      message: order,
      audience: { eventId: 'evt_jazz', userId: 'usr_a', ticketsHeld: heldTicketIds(order.data.orderId, 3), text: orderConfirmedText(order.data) },
    });
  });

  it("a cancelled ticket is told with its refund, unless the event's cancellation took it", () => {
    const byAttendee = msg.ticketCancelled('usr_a', 'attendee');
    expect(ticketCancelled(byAttendee)).toEqual({
      message: byAttendee,
      audience: {
        eventId: 'evt_jazz',
        userId: 'usr_a',
        ticketsGone: [byAttendee.data.ticketId],
        lostToEventCancellation: false,
        text: ticketCancelledText(byAttendee.data),
      },
    });
    const byEvent = msg.ticketCancelled('usr_a', 'event_cancelled');
    expect(ticketCancelled(byEvent).audience).toEqual({
      eventId: 'evt_jazz',
      userId: 'usr_a',
      ticketsGone: [byEvent.data.ticketId],
      lostToEventCancellation: true,
      text: null,
    });
  });

  it('a waiting-room change goes to the live rooms and stores nothing', () => {
    const seen: Message[] = [];
    const room = newMessage('ticketing', 'WaitingRoomChanged', { eventId: 'evt_jazz', room: null });
    expect(waitingRoomChanged({ changed: (m) => seen.push(m) }, room)).toBeNull();
    expect(seen).toEqual([room]);
  });
});

describe('use cases over a real SQLite store', () => {
  let store: EngagementStore;
  let cleanup: () => void;
  let pushed: CreatedNotification[][];
  let lagged: { hop: string; message: unknown }[];
  const live = { publish: (created: CreatedNotification[]) => pushed.push(created) };
  const lag = (hop: string, message: unknown) => lagged.push({ hop, message });
  beforeEach(() => {
    const dir = tempDir('dems-engagement-use-cases-');
    store = new SqliteEngagementStore({ file: join(dir.path, 'engagement.db'), synchronous: 'NORMAL' });
    cleanup = dir.cleanup;
    pushed = [];
    lagged = [];
  });
  afterEach(async () => {
    await store.close();
    cleanup();
  });

  const publish = () => applyMessages({ store, live }, [eventChanged(msg.published())]);

  describe('applyMessages', () => {
    it('answers each message in its place, and pushes (timed) only what a committed change created', async () => {
      await publish();
      pushed = [];
      const order = orderPlaced(msg.order('usr_a', 1));
      /** Test fake: a notification text that throws when read, so the store fails inside that change alone. */
      const exploding = Object.defineProperty({}, 'type', {
        get: () => {
          throw new Error('forced failure (test fake)');
        },
      }) as never;
      const failing: MessageChange = { message: msg.registered('usr_b'), audience: { eventId: 'evt_jazz', userId: 'usr_b', registered: true, text: exploding } };
      const silent = registrationChanged(msg.registered('usr_c'));
      silent.audience.text = null;
      const outcomes = await applyMessages({ store, live, lag }, [order, null, failing, silent, order]);
      expect(outcomes).toEqual(['applied', 'applied', { error: expect.objectContaining({ message: 'forced failure (test fake)' }) }, 'applied', 'duplicate']);
      expect(pushed).toHaveLength(1);
      expect(pushed[0]).toMatchObject([{ userId: 'usr_a', notification: { type: 'order_confirmed' } }]);
      expect(lagged).toEqual([{ hop: 'pushed', message: order.message }]);
    });

    it('pushes each change of a batch on its own, without a lag timer too', async () => {
      await publish();
      const [a, b] = [orderPlaced(msg.order('usr_a', 1)), orderPlaced(msg.order('usr_b', 1))];
      expect(await applyMessages({ store, live }, [a, b])).toEqual(['applied', 'applied']);
      expect(pushed.map((p) => p.map((c) => c.userId))).toEqual([['usr_a'], ['usr_b']]);
    });
  });

  describe('sendAnnouncement', () => {
    const deps = () => ({ store, live, limits: { perEventPerHour: 10, perEventTotal: 1 } });
    const organizer = { id: 'usr_org', role: 'organizer' as const };

    it("tells the event's followers, nobody else, and pushes what it stored", async () => {
      await publish();
      await applyMessages({ store, live }, [registrationChanged(msg.registered('usr_a')), orderPlaced(msg.order('usr_b', 1)), registrationChanged(msg.withdrawn('usr_c'))]);
      pushed = [];
      const announcement = await sendAnnouncement(deps(), organizer, { eventId: 'evt_jazz', message: 'Doors at 7' });
      expect(announcement).toMatchObject({ eventId: 'evt_jazz', message: 'Doors at 7', recipients: 2 });
      expect(pushed).toHaveLength(1);
      expect(pushed[0]!.map((c) => c.userId).sort()).toEqual(['usr_a', 'usr_b']);
      expect(pushed[0]![0]!.notification).toMatchObject({ type: 'announcement', title: 'Message from the organizer of Jazz Night', body: 'Doors at 7' });
    });

    it('refuses an unknown event, and anyone but its organizer or an admin', async () => {
      await expect(sendAnnouncement(deps(), organizer, { eventId: 'evt_none', message: 'Hi' })).rejects.toMatchObject({
        code: 'EVENT_NOT_FOUND',
        message: 'No event with this id.',
      });
      await publish();
      await expect(sendAnnouncement(deps(), { id: 'usr_other', role: 'organizer' }, { eventId: 'evt_jazz', message: 'Hi' })).rejects.toMatchObject({
        code: 'FORBIDDEN',
        message: "Only the event's organizer can send announcements to its audience.",
      });
      expect(await sendAnnouncement(deps(), { id: 'usr_admin', role: 'admin' }, { eventId: 'evt_jazz', message: 'Hi' })).toMatchObject({ recipients: 0 });
    });

    it('holds the event to its limits', async () => {
      await publish();
      await sendAnnouncement(deps(), organizer, { eventId: 'evt_jazz', message: 'Hi' });
      const refused = sendAnnouncement(deps(), organizer, { eventId: 'evt_jazz', message: 'Again' });
      await expect(refused).rejects.toBeInstanceOf(AppError);
      await expect(refused).rejects.toMatchObject({ code: 'ANNOUNCEMENT_LIMIT_REACHED' });
      // Within the default limits a second one goes out.
      expect(await sendAnnouncement({ store, live, limits: DEFAULT_ANNOUNCEMENT_LIMITS }, organizer, { eventId: 'evt_jazz', message: 'Again' })).toMatchObject({
        message: 'Again',
      });
    });

    it('answers EVENT_NOT_FOUND when the store no longer finds the event it just read', async () => {
      await publish();
      /** Test fake: the store's answer when the event is gone by the time the announcement is recorded. */
      const vanishing = Object.assign(Object.create(store) as EngagementStore, { createAnnouncement: async () => null });
      await expect(sendAnnouncement({ ...deps(), store: vanishing }, organizer, { eventId: 'evt_jazz', message: 'Hi' })).rejects.toMatchObject({
        code: 'EVENT_NOT_FOUND',
        message: 'No event with this id.',
      });
      expect(pushed).toEqual([]);
    });
  });

  describe('reading notifications', () => {
    const notify = (userId: string, n: number) =>
      applyMessages(
        { store, live },
        Array.from({ length: n }, () => orderPlaced(msg.order(userId, 1))),
      );

    it('pages through the caller’s own notifications with the cursor each page gives', async () => {
      await notify('usr_a', 3);
      await notify('usr_b', 1);
      const first = await listNotifications(store, 'usr_a', { limit: 2 });
      expect(first.items).toHaveLength(2);
      expect(first.unreadCount).toBe(3);
      expect(first.nextCursor).toEqual(expect.any(String));
      const second = await listNotifications(store, 'usr_a', { cursor: first.nextCursor!, limit: 2 });
      expect(second).toMatchObject({ nextCursor: null, unreadCount: 3 });
      expect(second.items).toHaveLength(1);
      expect(new Set([...first.items, ...second.items].map((n) => n.id)).size).toBe(3);
    });

    it('refuses a cursor it did not give', async () => {
      for (const cursor of [
        'not-a-cursor',
        encodeCursor(null),
        encodeCursor('x'),
        encodeCursor({ createdAt: 1, id: 'a' }),
        encodeCursor({ createdAt: 'a', id: 2 }),
        encodeCursor({ id: 'a' }),
      ]) {
        await expect(listNotifications(store, 'usr_a', { cursor, limit: 2 })).rejects.toMatchObject({
          code: 'VALIDATION_FAILED',
          message: 'The cursor is not valid; pass back a nextCursor you were given.',
        });
      }
      expect(await listNotifications(store, 'usr_a', { cursor: encodeCursor({ createdAt: '2030-01-01T00:00:00.000Z', id: 'ntf_x' }), limit: 2 })).toEqual({
        items: [],
        nextCursor: null,
        unreadCount: 0,
      });
    });

    it('marks read only the caller’s own notification, and all of theirs at once', async () => {
      await notify('usr_a', 2);
      const [mine] = (await listNotifications(store, 'usr_a', { limit: 1 })).items;
      await expect(markNotificationRead(store, 'usr_b', mine!.id)).rejects.toMatchObject({
        code: 'NOTIFICATION_NOT_FOUND',
        message: 'No notification with this id belongs to you.',
      });
      expect(await markNotificationRead(store, 'usr_a', mine!.id)).toMatchObject({ id: mine!.id, readAt: expect.any(String) });
      expect(await markAllNotificationsRead(store, 'usr_a')).toEqual({ updated: 1 });
      expect(await markAllNotificationsRead(store, 'usr_a')).toEqual({ updated: 0 });
    });
  });
});
