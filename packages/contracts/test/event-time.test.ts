import { describe, expect, it } from 'vitest';
import { CreateEventBody, endsAfterStart, hasEnded, UpdateEventBody } from '@dems/contracts';

const END = '2030-06-01T20:00:00.000Z';
const endMs = Date.parse(END);

describe('hasEnded: an event is over from its end instant on', () => {
  it.each([
    [endMs - 1, false],
    [endMs, true],
    [endMs + 1, true],
  ])('at %i ms → %s', (now, over) => {
    expect(hasEnded({ endsAt: END }, now)).toBe(over);
    expect(hasEnded({ endsAt: END }, new Date(now))).toBe(over);
  });
});

describe('endsAfterStart: an event lasts at least a millisecond', () => {
  it.each([
    ['2030-06-01T19:59:59.999Z', true],
    [END, false],
    ['2030-06-01T20:00:00.001Z', false],
  ])('starting %s, ending at 20:00 → %s', (startsAt, ok) => {
    expect(endsAfterStart({ startsAt, endsAt: END })).toBe(ok);
  });

  it('judges instants, not text: the same moment in another offset is a zero-length event', () => {
    expect(endsAfterStart({ startsAt: '2030-06-01T22:00:00+02:00', endsAt: END })).toBe(false);
  });

  const body = {
    title: 'Jazz Night',
    venue: 'Blue Room',
    timezone: 'Europe/Berlin',
    ticketTypes: [{ name: 'General', priceCents: 0, capacity: 10 }],
  };

  it('a zero-length event is refused by the create and change schemas, on endsAt', () => {
    for (const result of [CreateEventBody.safeParse({ ...body, startsAt: END, endsAt: END }), UpdateEventBody.safeParse({ startsAt: '2030-06-01T22:00:00+02:00', endsAt: END })]) {
      expect(result.success).toBe(false);
      expect(result.error?.issues.map((i) => [i.path.join('.'), i.message])).toEqual([['endsAt', 'must be after startsAt']]);
    }
    expect(CreateEventBody.safeParse({ ...body, startsAt: '2030-06-01T19:59:59.999Z', endsAt: END }).success).toBe(true);
  });

  it('a change that sends only one of the two times is left to the service, which knows the other', () => {
    expect(UpdateEventBody.safeParse({ endsAt: END }).success).toBe(true);
    expect(UpdateEventBody.safeParse({ startsAt: END }).success).toBe(true);
  });
});
