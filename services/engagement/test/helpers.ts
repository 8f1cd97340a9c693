import { join } from 'node:path';
import { newMessage, type EventSnapshot, type Message, type MessageData, type MessageType } from '@dems/contracts';
import { type App } from '@dems/kit';
import { TEST_SECRET, tempDir } from '@dems/kit/testing';
import type { z } from 'zod';
import { buildApp, type EngagementDeps } from '../src/app.js';
import { SigningKeys } from '../src/identity/signing-keys.js';
import { LiveNotifications } from '../src/live/live-notifications.js';
import { SqliteEngagementStore } from '../src/store/sqlite.js';

export interface TestApp {
  app: App;
  store: SqliteEngagementStore;
  keys: SigningKeys;
  live: LiveNotifications;
  dir: string;
  close: () => Promise<void>;
}

/** The production app around a real SQLite file and a real key file in a fresh temp directory; `deps` adjusts its settings. */
export async function testApp(deps: Partial<EngagementDeps> = {}): Promise<TestApp> {
  const dir = tempDir('dems-engagement-');
  const store = new SqliteEngagementStore({ file: join(dir.path, 'engagement.db'), synchronous: 'NORMAL' });
  const keys = await SigningKeys.load({ file: join(dir.path, 'engagement-signing-keys.json') });
  const live = new LiveNotifications();
  const app = await buildApp({ store, keys, live, secret: TEST_SECRET, tokenTtlSeconds: 3600, ...deps });
  return {
    app,
    store,
    keys,
    live,
    dir: dir.path,
    close: async () => {
      await app.close();
      dir.cleanup();
    },
  };
}

let seq = 0;
const uniqueEmail = (label: string) => `${label}-${Date.now()}-${seq++}@example.com`;

export interface SignedUp {
  id: string;
  email: string;
  token: string;
  auth: { authorization: string };
}

/** Signs up and signs in through the real routes. */
export async function signUp(app: App, role: 'attendee' | 'organizer' = 'attendee', name = 'Ada Lovelace'): Promise<SignedUp> {
  const email = uniqueEmail(role);
  const password = 'correct horse battery';
  const created = await app.inject({ method: 'POST', url: '/users', payload: { email, password, name, role } });
  if (created.statusCode !== 201) throw new Error(`sign-up failed: ${created.body}`);
  const session = await app.inject({ method: 'POST', url: '/sessions', payload: { email, password } });
  const { token, user } = session.json() as { token: string; user: { id: string } };
  return { id: user.id, email, token, auth: { authorization: `Bearer ${token}` } };
}

export function snapshot(overrides: Partial<EventSnapshot> = {}): EventSnapshot {
  return {
    id: 'evt_jazz',
    organizerId: 'usr_org',
    title: 'Jazz Night',
    venue: 'Blue Note Hall',
    timezone: 'Europe/Berlin',
    startsAt: '2030-06-01T19:00:00.000Z',
    endsAt: '2030-06-01T22:00:00.000Z',
    status: 'published',
    ticketTypes: [{ id: 'tt_general', name: 'General', priceCents: 2500, currency: 'USD', capacity: 100 }],
    version: 1,
    ...overrides,
  };
}

type Data<T extends MessageType> = z.infer<(typeof MessageData)[T]>;

/** Domain messages shaped as the other services send them. */
export const msg = {
  published: (event = snapshot()) => newMessage('events', 'EventPublished', { event }),
  updated: (event: EventSnapshot, changes: string[]) => newMessage('events', 'EventUpdated', { event, changes }),
  cancelled: (event: EventSnapshot) => newMessage('events', 'EventCancelled', { event }),
  registered: (userId: string, eventId = 'evt_jazz', eventTitle = 'Jazz Night') =>
    newMessage('events', 'UserRegistered', { registrationId: `reg_${userId}`, eventId, eventTitle, userId }),
  withdrawn: (userId: string, eventId = 'evt_jazz', eventTitle = 'Jazz Night') =>
    newMessage('events', 'RegistrationWithdrawn', { registrationId: `reg_${userId}`, eventId, eventTitle, userId }),
  order: (userId: string, quantity: number, more: Partial<Data<'OrderPlaced'>> = {}) =>
    newMessage('ticketing', 'OrderPlaced', {
      orderId: `ord_${seq++}`,
      userId,
      eventId: 'evt_jazz',
      eventTitle: 'Jazz Night',
      ticketTypeId: 'tt_general',
      ticketTypeName: 'General',
      quantity,
      totalCents: 2500 * quantity,
      currency: 'USD',
      ...more,
    }),
  ticketCancelled: (userId: string, reason: 'attendee' | 'event_cancelled', more: Partial<Data<'TicketCancelled'>> = {}) =>
    newMessage('ticketing', 'TicketCancelled', {
      ticketId: `tkt_${seq++}`,
      orderId: 'ord_1',
      userId,
      eventId: 'evt_jazz',
      eventTitle: 'Jazz Night',
      ticketTypeId: 'tt_general',
      refundCents: 2500,
      currency: 'USD',
      reason,
      ...more,
    }),
} satisfies Record<string, (...args: never[]) => Message>;
