import { describe, expect, it } from 'vitest';
import { formatDateTime, formatEventTime, formatMoney, formatPriceRange, formatTime, isoToZonedInput, zonedInputToIso, zoneOffset } from './format';
import { toIcs } from './ics';

describe('money and dates', () => {
  it('formats prices and ranges', () => {
    expect(formatMoney(2500, 'EUR')).toBe('€25.00');
    expect(formatMoney(0, 'USD')).toBe('Free');
    expect(
      formatPriceRange([
        { priceCents: 8000, currency: 'USD' },
        { priceCents: 1000, currency: 'USD' },
      ]),
    ).toBe('$10.00 – $80.00');
    expect(formatPriceRange([{ priceCents: 0, currency: 'USD' }])).toBe('Free');
  });

  it("shows a time in the event's own zone", () => {
    // 19:30 UTC on a summer day is 20:30 in Lisbon and 15:30 in New York.
    expect(formatDateTime('2030-07-14T19:30:00.000Z', 'Europe/Lisbon')).toMatch(/8:30\s?PM GMT\+1/);
    expect(formatDateTime('2030-07-14T19:30:00.000Z', 'America/New_York')).toMatch(/3:30\s?PM EDT/);
  });

  it('reads a datetime-local value in the event zone, on both sides of a DST change', () => {
    expect(zonedInputToIso('2030-07-14T20:30', 'Europe/Lisbon')).toBe('2030-07-14T19:30:00.000Z');
    expect(zonedInputToIso('2030-01-14T20:30', 'Europe/Lisbon')).toBe('2030-01-14T20:30:00.000Z');
    expect(zonedInputToIso('2030-03-10T12:00', 'America/New_York')).toBe('2030-03-10T16:00:00.000Z');
    expect(zonedInputToIso('', 'UTC')).toBeNull();
    expect(isoToZonedInput('2030-07-14T19:30:00.000Z', 'Asia/Tokyo')).toBe('2030-07-15T04:30');
  });

  it("writes a calendar file at the event's wall-clock times in its zone, with escaped text", () => {
    const ics = toIcs(
      {
        id: 'e1',
        title: 'Jazz, live',
        description: 'Line 1\nLine 2',
        venue: 'Blue Room; Lisbon',
        timezone: 'Europe/Lisbon',
        startsAt: '2030-07-14T19:30:00.000Z',
        endsAt: '2030-07-14T22:00:00.000Z',
      },
      new Date('2030-01-01T00:00:00Z'),
    );
    expect(ics).toContain('DTSTART;TZID=Europe/Lisbon:20300714T203000\r\n');
    expect(ics).toContain('DTEND;TZID=Europe/Lisbon:20300714T230000\r\n');
    expect(ics).toContain(
      'BEGIN:VTIMEZONE\r\nTZID:Europe/Lisbon\r\nBEGIN:STANDARD\r\nDTSTART:19700101T000000\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0100\r\nTZNAME:GMT+1\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n',
    );
    expect(ics).toContain('DTSTAMP:20300101T000000Z\r\n');
    expect(ics).toContain('SUMMARY:Jazz\\, live\r\n');
    expect(ics).toContain('LOCATION:Blue Room\\; Lisbon\r\n');
    expect(ics).toContain('DESCRIPTION:Line 1\\nLine 2\r\n');
  });

  it('describes the clock change of an event that spans one, so both of its times mean what they say', () => {
    // Los Angeles falls back at 2:00 AM PDT (09:00 UTC) on Nov 3, 2030: 1:00 AM PDT to 3:00 AM PST is three hours.
    const ics = toIcs({
      id: 'e2',
      title: 'Late set',
      description: '',
      venue: 'Club',
      timezone: 'America/Los_Angeles',
      startsAt: '2030-11-03T08:00:00.000Z',
      endsAt: '2030-11-03T11:00:00.000Z',
    });
    expect(ics).toContain('DTSTART;TZID=America/Los_Angeles:20301103T010000\r\n');
    expect(ics).toContain('DTEND;TZID=America/Los_Angeles:20301103T030000\r\n');
    expect(ics).toContain('DTSTART:19700101T000000\r\nTZOFFSETFROM:-0700\r\nTZOFFSETTO:-0700\r\nTZNAME:PDT\r\n');
    expect(ics).toContain('DTSTART:20301103T020000\r\nTZOFFSETFROM:-0700\r\nTZOFFSETTO:-0800\r\nTZNAME:PST\r\n');
  });

  it('writes an event in a zone the browser does not know in UTC', () => {
    const ics = toIcs({ id: 'e3', title: 'T', description: '', venue: 'V', timezone: 'Mars/Olympus', startsAt: '2030-07-14T19:30:00.000Z', endsAt: '2030-07-14T22:00:00.000Z' });
    expect(ics).toContain('DTSTART:20300714T193000Z\r\n');
    expect(ics).toContain('DTEND:20300714T220000Z\r\n');
    expect(ics).not.toContain('VTIMEZONE');
  });
});

describe("event times, in the event's own zone", () => {
  // "Now" for these tests is in 2030, so 2030 dates show no year and others do.
  const now = Date.parse('2030-06-01T12:00:00Z');
  const event = (timezone: string, startsAt: string, endsAt: string) => formatEventTime({ timezone, startsAt, endsAt }, now);

  // [why, zone, start, end, as shown]
  it.each([
    ['a same-day event names its zone once', 'America/Los_Angeles', '2030-12-16T01:00:00Z', '2030-12-16T05:00:00Z', 'Sun, Dec 15, 5:00 PM – 9:00 PM PST'],
    ['the year is said when it is not this year', 'America/Los_Angeles', '2031-12-16T01:00:00Z', '2031-12-16T05:00:00Z', 'Mon, Dec 15, 2031, 5:00 PM – 9:00 PM PST'],
    ['summer time has its own name', 'America/Los_Angeles', '2030-07-16T01:00:00Z', '2030-07-16T05:00:00Z', 'Mon, Jul 15, 6:00 PM – 10:00 PM PDT'],
    // 05:00–10:00 UTC is one UTC day, but Dec 15 9:00 PM to Dec 16 2:00 AM in Los Angeles.
    [
      'an event past midnight in its zone shows its end date',
      'America/Los_Angeles',
      '2030-12-16T05:00:00Z',
      '2030-12-16T10:00:00Z',
      'Sun, Dec 15, 9:00 PM – Mon, Dec 16, 2:00 AM PST',
    ],
    ['an event past midnight in UTC only is one day in its zone', 'Asia/Kolkata', '2030-12-15T22:00:00Z', '2030-12-16T02:00:00Z', 'Mon, Dec 16, 3:30 AM – 7:30 AM GMT+5:30'],
    ['a party into next year says that year', 'Europe/Berlin', '2030-12-31T20:00:00Z', '2031-01-01T03:00:00Z', 'Tue, Dec 31, 9:00 PM – Wed, Jan 1, 2031, 4:00 AM GMT+1'],
    [
      "a start's year is said once, not again at its end",
      'Europe/Berlin',
      '2031-07-31T20:00:00Z',
      '2031-08-01T03:00:00Z',
      'Thu, Jul 31, 2031, 10:00 PM – Fri, Aug 1, 5:00 AM GMT+2',
    ],
    ['a half-hour offset', 'Asia/Kolkata', '2030-07-14T13:30:00Z', '2030-07-14T16:00:00Z', 'Sun, Jul 14, 7:00 PM – 9:30 PM GMT+5:30'],
    ['Berlin in summer', 'Europe/Berlin', '2030-07-14T17:00:00Z', '2030-07-14T20:00:00Z', 'Sun, Jul 14, 7:00 PM – 10:00 PM GMT+2'],
    ['Berlin in winter', 'Europe/Berlin', '2030-01-14T18:00:00Z', '2030-01-14T21:00:00Z', 'Mon, Jan 14, 7:00 PM – 10:00 PM GMT+1'],
    // Los Angeles falls back at 2:00 AM on Sun, Nov 3, 2030: 1:00 AM PDT is 08:00 UTC, 3:00 AM PST is 11:00 UTC.
    ['clocks falling back during the event: both zone names', 'America/Los_Angeles', '2030-11-03T08:00:00Z', '2030-11-03T11:00:00Z', 'Sun, Nov 3, 1:00 AM PDT – 3:00 AM PST'],
    // …and spring forward on Sun, Mar 10, 2030.
    ['on the day clocks spring forward, after the change', 'America/Los_Angeles', '2030-03-10T17:00:00Z', '2030-03-10T20:00:00Z', 'Sun, Mar 10, 10:00 AM – 1:00 PM PDT'],
    // Berlin springs forward at 2:00 AM on Sun, Mar 31, 2030 (01:00 UTC).
    ['a night from winter into summer time', 'Europe/Berlin', '2030-03-30T22:00:00Z', '2030-03-31T03:00:00Z', 'Sat, Mar 30, 11:00 PM GMT+1 – Sun, Mar 31, 5:00 AM GMT+2'],
  ])('%s', (_why, timezone, startsAt, endsAt, shown) => {
    expect(event(timezone, startsAt, endsAt)).toBe(shown);
  });

  it("shows the same text wherever the reader is: only the event's zone counts", () => {
    const times = { timezone: 'Asia/Kolkata', startsAt: '2030-07-14T13:30:00Z', endsAt: '2030-07-14T16:00:00Z' };
    const readerZone = process.env.TZ;
    try {
      for (const reader of ['Pacific/Auckland', 'America/Los_Angeles', 'UTC']) {
        process.env.TZ = reader; // Node reads the process's zone afresh when TZ changes
        expect(new Date(times.startsAt).getTimezoneOffset(), `the reader's clock is ${reader}'s`).toBe(0 - zoneOffset(Date.parse(times.startsAt), reader) / 60_000 + 0);
        expect(formatEventTime(times, now)).toBe('Sun, Jul 14, 7:00 PM – 9:30 PM GMT+5:30');
        expect(formatDateTime(times.startsAt, times.timezone, now)).toBe('Sun, Jul 14, 7:00 PM GMT+5:30');
        expect(formatTime(times.startsAt, 'America/New_York')).toBe('9:30 AM EDT');
      }
    } finally {
      if (readerZone === undefined) delete process.env.TZ;
      else process.env.TZ = readerZone;
    }
  });

  it("falls back to the reader's zone for a zone it does not know, rather than failing the page", () => {
    expect(event('Mars/Olympus', '2030-07-14T13:30:00Z', '2030-07-14T16:00:00Z')).toMatch(/^Sun, Jul 14, \d+:30 [AP]M – \d+:00 [AP]M \S+$/);
  });
});
