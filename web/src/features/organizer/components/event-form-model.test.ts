import { describe, expect, it } from 'vitest';
import { sameMomentsIn, zoneChangeEffect, zoneLabel } from './event-form-model';

describe('a time zone change on typed times', () => {
  it('keeping the wall clock moves the event by the difference of the offsets on that date (daylight saving included)', () => {
    // July: Lisbon is UTC+1, New York UTC−4. January: UTC+0 and UTC−5. Tokyo is UTC+9 all year.
    expect(zoneChangeEffect('2099-07-14T19:00', 'Europe/Lisbon', 'America/New_York')).toEqual({ movesByMinutes: 300, sameMoment: '2099-07-14T14:00' });
    expect(zoneChangeEffect('2099-01-14T19:00', 'America/New_York', 'Asia/Tokyo')).toEqual({ movesByMinutes: -840, sameMoment: '2099-01-15T09:00' });
    expect(zoneChangeEffect('2099-07-14T19:00', 'Asia/Kolkata', 'UTC')).toEqual({ movesByMinutes: 330, sameMoment: '2099-07-14T13:30' });
  });

  it('has nothing to ask without a time, or when both zones have one offset on that date', () => {
    expect(zoneChangeEffect('', 'Europe/Lisbon', 'America/New_York')).toBeNull();
    expect(zoneChangeEffect('2099-07-14T19:00', 'Europe/Lisbon', 'Europe/London')).toBeNull();
  });

  it('sameMomentsIn rewrites start and end, and keeps an empty one', () => {
    expect(sameMomentsIn({ startsAt: '2099-07-14T19:00', endsAt: '' }, 'America/Los_Angeles', 'Europe/Berlin')).toEqual({ startsAt: '2099-07-15T04:00', endsAt: '' });
    expect(sameMomentsIn({ startsAt: '2099-07-14T19:00', endsAt: '2099-07-14T21:00' }, 'Europe/Lisbon', 'Europe/London')).toEqual({
      startsAt: '2099-07-14T19:00',
      endsAt: '2099-07-14T21:00',
    });
  });

  it('zone names read with spaces', () => {
    expect(zoneLabel('America/Argentina/Buenos_Aires')).toBe('America/Argentina/Buenos Aires');
  });
});
