import { describe, expect, it } from 'vitest';
import { DateTimeInput, EARLIEST_TIME_MS, IsoDateTime, LATEST_TIME_MS } from '@dems/contracts';

const RANGE_MESSAGE = 'must be between 1970-01-01 and 9999-12-31 in UTC';

describe('the stored range of moments', () => {
  it('runs from 1970-01-01T00:00:00.000Z to 9999-12-31T23:59:59.999Z', () => {
    expect(new Date(EARLIEST_TIME_MS).toISOString()).toBe('1970-01-01T00:00:00.000Z');
    expect(new Date(LATEST_TIME_MS).toISOString()).toBe('9999-12-31T23:59:59.999Z');
  });
});

describe('IsoDateTime: a moment as DEMS answers it (UTC, within the stored range)', () => {
  it.each(['1970-01-01T00:00:00.000Z', '1970-01-01T00:00:00Z', '2030-06-01T19:00:00Z', '9999-12-31T23:59:59.999Z'])('accepts %s unchanged', (iso) => {
    expect(IsoDateTime.parse(iso)).toBe(iso);
  });

  it.each([
    ['1969-12-31T23:59:59.999Z', RANGE_MESSAGE],
    ['0000-01-01T00:00:00Z', RANGE_MESSAGE],
  ])('refuses %s as outside the stored range', (iso, message) => {
    const result = IsoDateTime.safeParse(iso);
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((i) => i.message)).toEqual([message]);
  });

  it.each(['2030-06-01T19:00:00+02:00', '2030-06-01', 'tomorrow', ''])('refuses %j (not a UTC date-time)', (text) => {
    expect(IsoDateTime.safeParse(text).success).toBe(false);
  });
});

describe('DateTimeInput: a moment as a client sends it, handed on in UTC', () => {
  it.each([
    ['2030-06-01T19:00:00Z', '2030-06-01T19:00:00.000Z'],
    ['2030-06-01T21:00:00+02:00', '2030-06-01T19:00:00.000Z'],
    ['2030-06-01T14:30:00-04:30', '2030-06-01T19:00:00.000Z'],
    ['1970-01-01T00:00:00Z', '1970-01-01T00:00:00.000Z'],
    ['1970-01-01T01:00:00+01:00', '1970-01-01T00:00:00.000Z'],
    ['9999-12-31T23:59:59.999Z', '9999-12-31T23:59:59.999Z'],
    ['9999-12-31T22:59:59.999-01:00', '9999-12-31T23:59:59.999Z'],
  ])('accepts %s as %s', (input, utc) => {
    expect(DateTimeInput.parse(input)).toBe(utc);
  });

  it.each([
    // Valid ISO 8601 texts whose UTC value falls outside 1970–9999.
    '1969-12-31T23:59:59.999Z',
    '1970-01-01T00:59:59.999+01:00',
    '0000-01-01T00:00:00+00:01',
    '9999-12-31T23:59:59.999-00:01',
  ])('refuses %s: its UTC value is outside the stored range', (input) => {
    const result = DateTimeInput.safeParse(input);
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((i) => i.message)).toEqual([RANGE_MESSAGE]);
  });

  it.each(['2030-06-01', '2030-06-01 19:00', 'not a date', ''])('refuses %j', (input) => {
    expect(DateTimeInput.safeParse(input).success).toBe(false);
  });
});
