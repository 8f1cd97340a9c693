import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { newMessage, type Notification } from '@dems/contracts';
import { openSqlite } from '@dems/kit/sqlite';
import { deliver } from '@dems/kit/testing';
import type { CreatedNotification } from '../src/store/engagement-store.js';
import { msg, snapshot, testApp, type TestApp } from './helpers.js';

let t: TestApp;
let pushed: CreatedNotification[];
beforeEach(async () => {
  t = await testApp();
  pushed = [];
  t.live.subscribe((created) => pushed.push(...created));
});
afterEach(async () => {
  await t.close();
});

async function notificationsOf(userId: string): Promise<Notification[]> {
  return (await t.store.listNotifications(userId, { limit: 100 })).items;
}

async function send(...messages: Parameters<typeof deliver>[1]) {
  const res = await deliver(t.app, messages);
  expect(res.statusCode).toBe(200);
  return res.json() as { applied: number; results: { id: string; result: string }[] };
}

describe('incoming messages', () => {
  it('OrderPlaced confirms the order to the buyer, with the count and total', async () => {
    await send(msg.order('usr_a', 2));
    await send(msg.order('usr_b', 1));
    const [a] = await notificationsOf('usr_a');
    expect(a).toMatchObject({
      type: 'order_confirmed',
      title: 'Order confirmed',
      body: 'Your 2 tickets for Jazz Night are confirmed.',
      eventId: 'evt_jazz',
      readAt: null,
    });
    expect((await notificationsOf('usr_b'))[0]?.body).toBe('Your ticket for Jazz Night is confirmed.');
    expect(pushed.map((p) => p.userId)).toEqual(['usr_a', 'usr_b']);
  });

  it('a duplicate delivery has no effect: one notification, one push, reported as duplicate', async () => {
    const order = msg.order('usr_a', 2);
    const first = await send(order);
    const again = await send(order, order);
    expect(first.results[0]?.result).toBe('applied');
    expect(again.results.map((r) => r.result)).toEqual(['duplicate', 'duplicate']);
    expect(await notificationsOf('usr_a')).toHaveLength(1);
    expect(pushed).toHaveLength(1);
    // The duplicate added no tickets either: after cancelling the 2 real ones, usr_a is no longer in the audience.
    await send(msg.published(), msg.ticketCancelled('usr_a', 'attendee'), msg.ticketCancelled('usr_a', 'attendee'));
    pushed = [];
    await send(msg.updated(snapshot({ version: 2 }), ['venue']));
    expect(pushed).toEqual([]);
  });

  it('a delivered batch is pushed only once committed, each message answered in its place (one with nothing to store too)', async () => {
    // Another connection to the file sees only what is committed: every pushed notification must already be there.
    const reader = openSqlite(join(t.dir, 'engagement.db'));
    const committedWhenPushed: boolean[] = [];
    t.live.subscribe((created) => {
      for (const c of created) committedWhenPushed.push(reader.prepare('SELECT 1 FROM notifications WHERE id = ?').get(c.notification.id) !== undefined);
    });
    const room = newMessage('ticketing', 'WaitingRoomChanged', { eventId: 'evt_jazz', room: null });
    const [a, b] = [msg.order('usr_a', 1), msg.order('usr_b', 3)];
    const res = await send(a, room, b);
    expect(res.results).toEqual([
      { id: a.id, result: 'applied' },
      { id: room.id, result: 'applied' },
      { id: b.id, result: 'applied' },
    ]);
    expect(pushed.map((p) => p.userId)).toEqual(['usr_a', 'usr_b']);
    expect(committedWhenPushed).toEqual([true, true]);
    reader.close();
  });

  it('UserRegistered and RegistrationWithdrawn tell the person concerned', async () => {
    await send(msg.registered('usr_a'), msg.withdrawn('usr_a'));
    const [withdrawn, registered] = await notificationsOf('usr_a');
    expect(registered).toMatchObject({ type: 'registration_confirmed', title: "You're registered for Jazz Night" });
    expect(withdrawn).toMatchObject({ type: 'registration_withdrawn', title: 'Registration withdrawn' });
    expect(withdrawn?.body).toContain('Jazz Night');
  });

  it('TicketCancelled by the attendee says what is refunded; by event cancellation it says nothing', async () => {
    await send(msg.order('usr_a', 2), msg.ticketCancelled('usr_a', 'attendee'));
    expect((await notificationsOf('usr_a'))[0]).toMatchObject({
      type: 'ticket_cancelled',
      title: 'Ticket cancelled',
      body: 'Your ticket for Jazz Night was cancelled; $25.00 will be refunded.',
    });
    await send(msg.ticketCancelled('usr_a', 'event_cancelled'));
    expect(await notificationsOf('usr_a')).toHaveLength(2);
  });

  it('EventPublished stores the event copy and keeps only the highest version', async () => {
    await send(msg.published(snapshot({ version: 1 })));
    await send(msg.updated(snapshot({ version: 3, title: 'Jazz Night Deluxe' }), ['title']));
    await send(msg.updated(snapshot({ version: 2, title: 'Jazz Night (old)' }), ['title']));
    expect(await t.store.getEvent('evt_jazz')).toEqual({
      id: 'evt_jazz',
      title: 'Jazz Night Deluxe',
      organizerId: 'usr_org',
      status: 'published',
      version: 3,
    });
    expect(pushed).toHaveLength(0);
  });

  it('EventUpdated tells every registrant and ticket holder once, and nobody else', async () => {
    await send(
      msg.published(),
      msg.registered('usr_reg'),
      msg.order('usr_holder', 2),
      msg.registered('usr_both'),
      msg.order('usr_both', 1),
      msg.registered('usr_gone'),
      msg.withdrawn('usr_gone'),
      msg.order('usr_refunded', 1),
      msg.ticketCancelled('usr_refunded', 'attendee'),
    );
    pushed = [];
    await send(msg.updated(snapshot({ version: 2 }), ['startsAt', 'venue']));
    expect(pushed.map((p) => p.userId).sort()).toEqual(['usr_both', 'usr_holder', 'usr_reg']);
    const [latest] = await notificationsOf('usr_both');
    expect(latest).toMatchObject({
      type: 'event_updated',
      title: 'Jazz Night has changed',
      body: 'Start time and venue changed. Have a look at the event page for the latest details.',
    });
    // A stale update (older than what we have) is not news.
    await send(msg.updated(snapshot({ version: 2 }), ['venue']));
    expect(pushed).toHaveLength(3);
  });

  it('EventCancelled tells each audience member once, and the tickets it cancels add nothing', async () => {
    await send(msg.published(), msg.registered('usr_reg'), msg.order('usr_holder', 3), msg.registered('usr_holder'));
    pushed = [];
    const cancelled = snapshot({ version: 2, status: 'cancelled' });
    await send(
      msg.cancelled(cancelled),
      msg.ticketCancelled('usr_holder', 'event_cancelled'),
      msg.ticketCancelled('usr_holder', 'event_cancelled'),
      msg.ticketCancelled('usr_holder', 'event_cancelled'),
    );
    expect(pushed.map((p) => p.userId).sort()).toEqual(['usr_holder', 'usr_reg']);
    expect(pushed[0]?.notification).toMatchObject({
      type: 'event_cancelled',
      title: 'Jazz Night is cancelled',
      body: 'The organizer cancelled Jazz Night. Any tickets you held are cancelled and fully refunded.',
    });
    expect((await t.store.getEvent('evt_jazz'))?.status).toBe('cancelled');
    // Another cancellation message for the same event (a different message id) is not news again.
    await send(msg.cancelled(snapshot({ version: 3, status: 'cancelled' })));
    expect(pushed).toHaveLength(2);
  });

  it('a ticket holder hears of the cancellation even when their ticket cancellations arrive first', async () => {
    await send(msg.published(), msg.order('usr_holder', 1));
    await send(msg.ticketCancelled('usr_holder', 'event_cancelled'));
    await send(msg.cancelled(snapshot({ version: 2, status: 'cancelled' })));
    const items = await notificationsOf('usr_holder');
    expect(items.map((n) => n.type)).toEqual(['event_cancelled', 'order_confirmed']);
  });

  it('refuses unsigned deliveries and malformed messages without applying anything', async () => {
    const payload = JSON.stringify({ messages: [msg.order('usr_a', 1)] });
    const unsigned = await t.app.inject({ method: 'POST', url: '/internal/messages', headers: { 'content-type': 'application/json' }, payload });
    expect(unsigned.statusCode).toBe(401);
    const bad = await deliver(t.app, [{ ...msg.order('usr_a', 1), data: { nope: true } } as never]);
    expect(bad.statusCode).toBe(400);
    expect(await notificationsOf('usr_a')).toHaveLength(0);
  });
});
