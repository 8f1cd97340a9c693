import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dynamoTestTarget } from '@dems/kit/testing';
import { DYNAMODB_TEST_TIMEOUT_MS } from '../setup/timeouts.js';
import { createEvent, dynamoDbEnv, eventually, liveNotifications, startTestSystem, waitOnSale } from './helpers.js';

const dynamo = dynamoTestTarget();

/**
 * The journey runs on each storage the services ship with: embedded SQLite (the default) and DynamoDB Local, where
 * a message takes a few more round trips to arrive (`withinMs`: how soon the live notification must be there).
 */
const BACKINGS = [
  { name: 'SQLite', env: () => ({}), withinMs: 2000, timeout: 10_000, skip: undefined },
  { name: 'DynamoDB Local', env: () => dynamoDbEnv(dynamo.endpoint!, 'journey'), withinMs: 5000, timeout: DYNAMODB_TEST_TIMEOUT_MS, skip: dynamo.skip },
];

for (const { name, env, withinMs, timeout, skip } of BACKINGS) {
  if (skip) {
    describe.skip(`system journey on ${name} — skipped: ${skip}`, () => {
      it('runs when DynamoDB Local is available', () => {});
    });
    continue;
  }
  describeJourney(name, env(), withinMs, timeout);
}

function describeJourney(name: string, env: Record<string, string>, withinMs: number, timeout: number) {
  describe(`system on ${name}: a full journey through the gateway, four real processes`, { timeout }, () => {
    let t: Awaited<ReturnType<typeof startTestSystem>>;
    beforeAll(async () => {
      t = await startTestSystem({ env });
    }, 120_000);
    afterAll(async () => t?.stop());

    it(`organizer creates an event; attendee registers, buys, and is notified live within ${withinMs / 1000} s`, async () => {
      const { api } = t;
      const organizer = await api.account('organizer');
      const attendee = await api.account('attendee');

      const event = await createEvent(api, organizer.token, 50);
      expect((await api.get(`/events/${event.id}`)).body.title).toBe('Jazz Night');
      expect((await api.get('/events?q=jazz')).body.items.map((e: { id: string }) => e.id)).toContain(event.id);

      const live = await liveNotifications(t.system.urls.gateway, attendee.token);
      try {
        const reg = await api.post('/register', { eventId: event.id }, attendee.token);
        expect(reg.status).toBe(201);
        expect((await api.get('/registrations', attendee.token)).body.items).toHaveLength(1);

        await waitOnSale(api, event.id);
        const sentAt = Date.now();
        const order = await api.post('/orders', { eventId: event.id, ticketTypeId: event.ticketTypes[0]!.id, quantity: 2 }, attendee.token, { 'idempotency-key': 'journey-1' });
        expect(order.status).toBe(201);
        expect(order.body).toMatchObject({ quantity: 2, totalCents: 5000, currency: 'EUR', status: 'confirmed' });
        expect(order.body.tickets).toHaveLength(2);

        const confirmed = await eventually(async () => live.received.find((n) => n.type === 'order_confirmed'), withinMs, 'live order notification');
        expect(confirmed.body).toBe('Your 2 tickets for Jazz Night are confirmed.');
        expect(confirmed.at - sentAt).toBeLessThan(withinMs);
        expect(live.received.some((n) => n.type === 'registration_confirmed')).toBe(true);

        const mine = await api.get('/notifications', attendee.token);
        expect(mine.body.items.map((n: { type: string }) => n.type).sort()).toEqual(['order_confirmed', 'registration_confirmed']);
        expect(mine.body.unreadCount).toBe(2);
        expect((await api.get('/tickets', attendee.token)).body.items).toHaveLength(2);
        expect((await api.get(`/availability/${event.id}`)).body.ticketTypes[0]).toMatchObject({ capacity: 50, sold: 2, remaining: 48 });

        // Ownership: the organizer sees none of the attendee's orders or notifications.
        expect((await api.get(`/orders/${order.body.id}`, organizer.token)).status).toBe(404);
        expect((await api.get('/notifications', organizer.token)).body.items).toHaveLength(0);
      } finally {
        live.close();
      }
    });

    it('cancelling the event cancels the tickets and notifies the ticket holder', async () => {
      const { api } = t;
      const organizer = await api.account('organizer');
      const attendee = await api.account('attendee');
      const event = await createEvent(api, organizer.token, 10);
      await waitOnSale(api, event.id);
      const order = await api.post('/orders', { eventId: event.id, ticketTypeId: event.ticketTypes[0]!.id, quantity: 1 }, attendee.token, {
        'idempotency-key': 'cancel-1',
      });
      expect(order.status).toBe(201);
      expect((await api.post(`/events/${event.id}/cancel`, {}, attendee.token)).status).toBe(403);
      expect((await api.post(`/events/${event.id}/cancel`, {}, organizer.token)).status).toBe(200);

      const tickets = await eventually(
        async () => {
          const r = await api.get('/tickets', attendee.token);
          return r.body.items.every((x: { status: string }) => x.status === 'cancelled') ? r.body.items : undefined;
        },
        2 * withinMs,
        'tickets to be cancelled',
      );
      expect(tickets).toHaveLength(1);
      const cancelled = await eventually(
        async () => {
          const r = await api.get('/notifications', attendee.token);
          return r.body.items.find((n: { type: string }) => n.type === 'event_cancelled');
        },
        2 * withinMs,
        'cancellation notification',
      );
      expect(cancelled.title).toContain('Jazz Night');
      const again = await api.post('/orders', { eventId: event.id, ticketTypeId: event.ticketTypes[0]!.id, quantity: 1 }, attendee.token, {
        'idempotency-key': 'cancel-2',
      });
      expect(again.status).toBe(409);
      expect(again.body.code).toBe('EVENT_CANCELLED');
    });

    it('answers bad input through the gateway with a clear 4xx and keeps serving', async () => {
      const { api } = t;
      const bad = await fetch(`${t.system.urls.gateway}/api/users`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"email":' });
      expect(bad.status).toBe(400);
      expect(((await bad.json()) as { code: string }).code).toBe('MALFORMED_JSON');
      const extra = await api.post('/users', { email: 'x@example.com', password: 'long enough pw', name: 'X', isAdmin: true });
      expect(extra.status).toBe(400);
      expect(extra.body.code).toBe('VALIDATION_FAILED');
      expect((await api.get('/events/not%20an%20id')).status).toBe(400);
      expect((await api.get('/events')).status).toBe(200);
    });
  });
}
