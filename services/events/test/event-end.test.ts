import { describe, expect, it } from 'vitest';
import { CreateEventBody } from '@dems/contracts';
import type { EventRecord } from '../src/domain/banner.js';
import { assertCanRegister, buildNewEvent, planEventUpdate } from '../src/domain/event-rules.js';
import { errorOf, eventBody } from './helpers.js';

// An event is over from its end instant on (hasEnded in contracts); ticketing refuses a purchase at that
// same instant, so registering must be refused too, and an event may not be created or moved to end then.

const END = new Date('2031-03-01T22:00:00.000Z');
const at = (deltaMs: number) => new Date(END.getTime() + deltaMs);
const START = '2031-03-01T19:00:00.000Z';

const event = (over: Partial<EventRecord> = {}): EventRecord => ({
  ...buildNewEvent(CreateEventBody.parse(eventBody({ startsAt: START, endsAt: END.toISOString() })), 'usr_org', new Date(START)),
  ...over,
});

describe('at the end instant the event is over', () => {
  it.each([
    [-1, null],
    [0, 'EVENT_ENDED'],
    [1, 'EVENT_ENDED'],
  ])('registering when now − end = %i ms → %s', (delta, code) => {
    expect(errorOf(() => assertCanRegister(event(), at(delta)))?.code ?? null).toBe(code);
  });

  it.each([
    [-1, true],
    [0, false],
    [1, false],
  ])('creating an event when now − end = %i ms: accepted = %s', (delta, accepted) => {
    const body = CreateEventBody.parse(eventBody({ startsAt: '2031-03-01T00:00:00.000Z', endsAt: END.toISOString() }));
    const err = errorOf(() => buildNewEvent(body, 'usr_org', at(delta)));
    expect(err === null).toBe(accepted);
    if (err) expect(err).toMatchObject({ code: 'VALIDATION_FAILED', message: expect.stringMatching(/^body\.endsAt: this event would already be over/) });
  });

  it.each([
    [-1, true],
    [0, false],
    [1, false],
  ])('moving the end so that now − end = %i ms: accepted = %s', (delta, accepted) => {
    const current = event({ endsAt: '2031-03-02T00:00:00.000Z' });
    const err = errorOf(() => planEventUpdate(current, { endsAt: END.toISOString() }, at(delta)));
    expect(err === null).toBe(accepted);
    if (err) expect(err).toMatchObject({ code: 'VALIDATION_FAILED', message: expect.stringMatching(/^body\.endsAt: the end time is already past/) });
  });

  it('a change that leaves the end alone is allowed after the event is over (a typo fix in the title)', () => {
    expect(planEventUpdate(event(), { title: 'Jazz Night (recording)' }, at(0)).changes).toEqual(['title']);
  });
});

describe('a zero-length event is refused by the domain too, not only by the schema', () => {
  it('on create, when the body did not come through the schema', () => {
    const body = { ...CreateEventBody.parse(eventBody()), startsAt: END.toISOString(), endsAt: END.toISOString() };
    expect(errorOf(() => buildNewEvent(body, 'usr_org', new Date(START)))).toMatchObject({
      code: 'VALIDATION_FAILED',
      message: 'body.endsAt: the event must end after it starts.',
    });
  });

  it.each([
    ['the start moved onto the end', { startsAt: END.toISOString() }],
    ['the end moved onto the start', { endsAt: START }],
  ])('on change, when %s', (_, patch) => {
    expect(errorOf(() => planEventUpdate(event(), patch, new Date(START)))).toMatchObject({
      code: 'VALIDATION_FAILED',
      message: 'body.endsAt: the event must end after it starts.',
    });
  });

  it('one millisecond long is an event', () => {
    expect(planEventUpdate(event(), { startsAt: at(-1).toISOString() }, new Date(START)).event).toMatchObject({ startsAt: at(-1).toISOString(), endsAt: END.toISOString() });
  });
});
