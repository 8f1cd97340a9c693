import { describe, expect, it } from 'vitest';
import { followsEvent, hearsOfCancellation, type AudienceMember } from '../src/domain/audience.js';
import { eventNews, type HeldEvent } from '../src/domain/event-news.js';
import { eventCancelledText, eventUpdatedText } from '../src/domain/notification-texts.js';
import { msg, snapshot } from './helpers.js';

const member = (standing: Partial<AudienceMember>): AudienceMember => ({
  userId: 'usr_a',
  registered: false,
  holdsTickets: false,
  lostTicketsToCancellation: false,
  ...standing,
});

const held = (version: number, status: HeldEvent['status'] = 'published'): HeldEvent => ({ version, status });

describe('audience', () => {
  it('follows an event while registered or holding a ticket', () => {
    expect(followsEvent(member({}))).toBe(false);
    expect(followsEvent(member({ registered: true }))).toBe(true);
    expect(followsEvent(member({ holdsTickets: true }))).toBe(true);
    expect(followsEvent(member({ lostTicketsToCancellation: true }))).toBe(false);
  });

  it('hears of a cancellation as a follower, or as one whose tickets it took', () => {
    expect(hearsOfCancellation(member({}))).toBe(false);
    expect(hearsOfCancellation(member({ registered: true }))).toBe(true);
    expect(hearsOfCancellation(member({ holdsTickets: true }))).toBe(true);
    expect(hearsOfCancellation(member({ lostTicketsToCancellation: true }))).toBe(true);
  });
});

describe('event news', () => {
  const v2 = snapshot({ version: 2 });
  const cancelledV2 = snapshot({ version: 2, status: 'cancelled' });

  it('a publication replaces only an older copy, and tells nobody', () => {
    expect(eventNews(msg.published(v2), null)).toEqual({ keepCopy: true, tell: null });
    expect(eventNews(msg.published(v2), held(1))).toEqual({ keepCopy: true, tell: null });
    expect(eventNews(msg.published(v2), held(2))).toEqual({ keepCopy: false, tell: null });
    expect(eventNews(msg.published(v2), held(3))).toEqual({ keepCopy: false, tell: null });
  });

  it('an update newer than the copy tells the followers what changed', () => {
    const update = msg.updated(v2, ['venue']);
    const expected = { keepCopy: true, tell: { hears: followsEvent, text: eventUpdatedText(v2, ['venue']) } };
    expect(eventNews(update, held(1))).toEqual(expected);
    expect(eventNews(update, held(1)).tell?.hears).toBe(followsEvent);
    expect(eventNews(update, null)).toEqual(expected);
  });

  it('an update no newer than the copy, or to a cancelled event, is not news', () => {
    const update = msg.updated(v2, ['venue']);
    expect(eventNews(update, held(2))).toEqual({ keepCopy: false, tell: null });
    expect(eventNews(update, held(3))).toEqual({ keepCopy: false, tell: null });
    // Newer, so the copy takes it, but the event was cancelled already: nobody is told of details changing.
    expect(eventNews(update, held(1, 'cancelled'))).toEqual({ keepCopy: true, tell: null });
  });

  it('a cancellation is news once, even after a later version arrived first', () => {
    const cancel = msg.cancelled(cancelledV2);
    const told = { hears: hearsOfCancellation, text: eventCancelledText(cancelledV2) };
    expect(eventNews(cancel, held(1))).toEqual({ keepCopy: true, tell: told });
    expect(eventNews(cancel, held(1)).tell?.hears).toBe(hearsOfCancellation);
    expect(eventNews(cancel, null)).toEqual({ keepCopy: true, tell: told });
    expect(eventNews(cancel, held(3))).toEqual({ keepCopy: false, tell: told });
    expect(eventNews(cancel, held(1, 'cancelled'))).toEqual({ keepCopy: true, tell: null });
    expect(eventNews(cancel, held(3, 'cancelled'))).toEqual({ keepCopy: false, tell: null });
  });
});
