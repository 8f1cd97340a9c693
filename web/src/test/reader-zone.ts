import { afterAll, beforeAll } from 'vitest';

/**
 * Puts the reader (this process's local time zone, which Intl and Date read) in `zone` for the tests of the
 * enclosing describe, so a page that shows a time in the reader's zone where it should show the event's is caught.
 */
export function readerInZone(zone: string): void {
  const before = process.env.TZ;
  beforeAll(() => {
    process.env.TZ = zone; // Node reads the zone afresh when TZ changes
  });
  afterAll(() => {
    if (before === undefined) delete process.env.TZ;
    else process.env.TZ = before;
  });
}
