import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CreateEventBody, ERROR_CODES, GATEWAY_ROUTES, MESSAGE_TYPES, MessageData, newMessage, parseMessage, SUBSCRIPTIONS, UpdateEventBody } from '@dems/contracts';

describe('error codes', () => {
  it('are all documented in docs/errors.md with their status', () => {
    const doc = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8');
    for (const [code, { status }] of Object.entries(ERROR_CODES)) expect(doc).toContain(`| \`${code}\` | ${status} |`);
  });
});

describe('messages', () => {
  it('every message type has a schema and at least one subscriber', () => {
    for (const type of MESSAGE_TYPES) {
      expect(MessageData[type]).toBeDefined();
      expect(SUBSCRIPTIONS[type].length).toBeGreaterThan(0);
    }
  });

  it('round-trips through parseMessage and rejects data of the wrong shape', () => {
    const m = newMessage('events', 'UserRegistered', { registrationId: 'reg_1', eventId: 'evt_1', eventTitle: 'Jazz', userId: 'usr_1' });
    expect(parseMessage(JSON.parse(JSON.stringify(m)))).toEqual(m);
    expect(() => parseMessage({ ...m, data: { eventId: 'evt_1' } })).toThrow();
    expect(() => parseMessage({ ...m, type: 'Nope' })).toThrow();
  });
});

describe('event schemas', () => {
  const valid = {
    title: 'Jazz Night',
    venue: 'Blue Room',
    timezone: 'Europe/Lisbon',
    startsAt: '2030-01-01T19:00:00Z',
    endsAt: '2030-01-01T22:00:00Z',
    ticketTypes: [{ name: 'General', priceCents: 2500, capacity: 100 }],
  };
  it('accepts a valid event and fills defaults', () => {
    expect(CreateEventBody.parse(valid)).toMatchObject({ description: '', ticketTypes: [{ currency: 'USD' }] });
  });
  it('rejects unknown fields, bad time zones, end before start, no ticket types', () => {
    expect(CreateEventBody.safeParse({ ...valid, extra: 1 }).success).toBe(false);
    expect(CreateEventBody.safeParse({ ...valid, timezone: 'Mars/Olympus' }).success).toBe(false);
    expect(CreateEventBody.safeParse({ ...valid, endsAt: '2029-12-31T00:00:00Z' }).success).toBe(false);
    expect(CreateEventBody.safeParse({ ...valid, ticketTypes: [] }).success).toBe(false);
    expect(UpdateEventBody.safeParse({}).success).toBe(false);
  });
});

describe('gateway routes', () => {
  it('never expose /internal and have no duplicate prefixes', () => {
    const prefixes = GATEWAY_ROUTES.map((r) => r.prefix);
    expect(new Set(prefixes).size).toBe(prefixes.length);
    expect(prefixes.some((p) => p.startsWith('/internal'))).toBe(false);
  });
});
