import { describe, expect, it } from 'vitest';
import { AppError } from '@dems/kit';
import { checkAnnouncementLimits, withinLastHour } from '../src/domain/announcement-limits.js';
import { registrationConfirmedText } from '../src/domain/notification-texts.js';

// What an organizer notices of the announcement limits: which sends count towards the hour, when the next
// one may go out (Retry-After), and when the total is used up.

const NOW = Date.parse('2031-03-01T12:00:00.000Z');
const ago = (minutes: number, seconds = 0) => new Date(NOW - minutes * 60_000 - seconds * 1000).toISOString();
const LIMITS = { perEventPerHour: 3, perEventTotal: 100 };

function refusal(sent: { total: number; recent: string[] }, limits = LIMITS): AppError | null {
  try {
    checkAnnouncementLimits(sent, limits, NOW);
    return null;
  } catch (err) {
    if (err instanceof AppError) return err;
    throw err;
  }
}

describe('the hour an announcement counts in', () => {
  it('counts the sends of the last hour; one sent exactly an hour ago, or earlier, no longer counts', () => {
    expect(withinLastHour([ago(61), ago(60), ago(59, 59), ago(1)], NOW)).toEqual([ago(59, 59), ago(1)]);
  });

  it('lets one more go out when older sends have left the hour', () => {
    expect(refusal({ total: 5, recent: [ago(90), ago(60), ago(30), ago(10)] })).toBeNull();
  });
});

describe('a full hour', () => {
  it('is 429 RATE_LIMITED with Retry-After until the oldest send of the hour leaves it', () => {
    const err = refusal({ total: 5, recent: [ago(10), ago(40), ago(20), ago(70)] });
    expect(err).toMatchObject({ code: 'RATE_LIMITED', headers: { 'retry-after': String(20 * 60) } });
    expect(err?.message).toMatch(/^This event has sent 3 announcements in the last hour, the most it can send per hour\./);
  });
});

describe('the total', () => {
  it('is 409 ANNOUNCEMENT_LIMIT_REACHED once used up, whatever the hour', () => {
    expect(refusal({ total: 99, recent: [] }, { perEventPerHour: 3, perEventTotal: 100 })).toBeNull();
    expect(refusal({ total: 100, recent: [] }, { perEventPerHour: 3, perEventTotal: 100 })).toMatchObject({
      code: 'ANNOUNCEMENT_LIMIT_REACHED',
      message: expect.stringMatching(/^This event has already sent 100 announcements, the most one event can send\./),
    });
  });
});

describe('a registration confirmation', () => {
  it('promises to tell the attendee of changes to the event', () => {
    expect(registrationConfirmedText('evt_jazz', 'Jazz Night')).toEqual({
      type: 'registration_confirmed',
      title: "You're registered for Jazz Night",
      body: "We'll let you know here if anything about Jazz Night changes.",
      eventId: 'evt_jazz',
    });
  });
});
