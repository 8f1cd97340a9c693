import type { CreateEventBody, Message, MessageType, ServiceName } from '@dems/contracts';
import { join } from 'node:path';
import { AppError, FilesystemBannerStore, Upstreams, type OutboxStore } from '@dems/kit';
import { TEST_SECRET } from '@dems/kit/testing';
import { ticketingInventory } from '../src/ticketing/inventory.js';

export const DAY = 24 * 60 * 60 * 1000;
export const inDays = (days: number, hours = 0) => new Date(Date.now() + days * DAY + hours * 3_600_000).toISOString();

export function eventBody(overrides: Partial<Record<keyof CreateEventBody, unknown>> = {}): Record<string, unknown> {
  return {
    title: 'Jazz Night',
    description: 'An evening of live jazz.',
    venue: 'Blue Note Hall',
    timezone: 'Europe/Berlin',
    startsAt: inDays(7),
    endsAt: inDays(7, 3),
    ticketTypes: [{ name: 'General', priceCents: 2500, currency: 'EUR', capacity: 100 }],
    ...overrides,
  };
}

/** Everything currently waiting in the outbox for one subscriber, without consuming it (a zero-length lease). */
export async function pendingMessages(outbox: OutboxStore, subscriber: ServiceName = 'engagement'): Promise<Message[]> {
  const entries = await outbox.claimDue(subscriber, 1000, Date.now(), 0);
  return entries.map((e) => e.message);
}

export async function pendingTypes(outbox: OutboxStore, subscriber: ServiceName = 'engagement'): Promise<MessageType[]> {
  return (await pendingMessages(outbox, subscriber)).map((m) => m.type);
}

/**
 * The real ticketing client aimed at a closed loopback port: forces the "ticketing cannot be reached" path.
 * Tests of confirmed capacity changes run with real ticketing in tests/system.
 */
export const UNREACHABLE_TICKETING = ticketingInventory({
  ticketing: new Upstreams({ service: 'ticketing', urls: 'http://127.0.0.1:9' }),
  secret: TEST_SECRET,
  timeoutMs: 2000,
});

/** Banners as files in a test's own directory (the default store of `npm start`). */
export const bannersIn = (dir: string) => ({ store: new FilesystemBannerStore(join(dir, 'banners')) });

/** The AppError a domain rule throws, or null when it lets the call through. */
export function errorOf(fn: () => unknown): AppError | null {
  try {
    fn();
    return null;
  } catch (err) {
    if (err instanceof AppError) return err;
    throw err;
  }
}
