import { z } from 'zod';

/** Ids are opaque, URL-safe strings; anything else in a path is a 400, never a lookup. */
export const Id = z.string().min(1).max(64).regex(/^[A-Za-z0-9_-]+$/, 'must be an id (letters, digits, - and _)');
export const IdParams = z.strictObject({ id: Id });

export const IsoDateTime = z.iso.datetime({ offset: true });

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
