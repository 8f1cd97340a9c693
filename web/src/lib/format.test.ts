import { describe, expect, it } from 'vitest';
import { formatDateTime, formatMoney, formatPriceRange, isoToZonedInput, zonedInputToIso } from './format';
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

  it('writes a calendar file in UTC with escaped text', () => {
    const ics = toIcs(
      { id: 'e1', title: 'Jazz, live', description: 'Line 1\nLine 2', venue: 'Blue Room; Lisbon', startsAt: '2030-07-14T19:30:00.000Z', endsAt: '2030-07-14T22:00:00.000Z' },
      new Date('2030-01-01T00:00:00Z'),
    );
    expect(ics).toContain('DTSTART:20300714T193000Z\r\n');
    expect(ics).toContain('DTEND:20300714T220000Z\r\n');
    expect(ics).toContain('SUMMARY:Jazz\\, live\r\n');
    expect(ics).toContain('LOCATION:Blue Room\\; Lisbon\r\n');
    expect(ics).toContain('DESCRIPTION:Line 1\\nLine 2\r\n');
  });
});
