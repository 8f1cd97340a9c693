import { z } from 'zod';

/** Ids are opaque, URL-safe strings; anything else in a path is a 400, never a lookup. */
export const Id = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9_-]+$/, 'must be an id (letters, digits, - and _)');
export const IdParams = z.strictObject({ id: Id });

/**
 * The moments DEMS accepts and stores: 1970-01-01 to 9999-12-31, judged on the UTC value (a valid ISO 8601
 * text like `0000-01-01T00:00:00+00:01` is year −1 in UTC). Inside this range the UTC form has a fixed
 * width, so stored times sort as strings in every store.
 */
export const EARLIEST_TIME_MS = Date.UTC(1970, 0, 1);
export const LATEST_TIME_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
const inStoredRange = (iso: string) => {
  const ms = Date.parse(iso);
  return ms >= EARLIEST_TIME_MS && ms <= LATEST_TIME_MS;
};
const RANGE_MESSAGE = 'must be between 1970-01-01 and 9999-12-31 in UTC';

/** A moment as DEMS stores and answers it: UTC (`…Z`) within the stored range. */
export const IsoDateTime = z.iso.datetime().refine(inStoredRange, RANGE_MESSAGE);

/**
 * A moment as a client sends it: ISO 8601 with `Z` or an offset, checked on its UTC value and handed to the
 * handler in UTC, so every service stores and compares one form.
 */
export const DateTimeInput = z.iso
  .datetime({ offset: true })
  .refine(inStoredRange, RANGE_MESSAGE)
  .transform((iso) => new Date(iso).toISOString());

export const ErrorBody = z.object({
  code: z.string(),
  message: z.string(),
  requestId: z.string(),
  details: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
});

export const PageQuery = z.strictObject({
  cursor: z.string().max(512).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
});

export const Ok = z.object({ ok: z.literal(true) });

export function isValidTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}
