import { randomBytes } from 'node:crypto';
import { AppError } from './errors.js';

/** Sortable-enough, URL-safe ids: a time prefix keeps inserts local in indexes, the random part makes them unguessable. */
export function newId(prefix = ''): string {
  return `${prefix}${Date.now().toString(36)}${randomBytes(10).toString('base64url')}`;
}

export const nowIso = (): string => new Date().toISOString();

/** Opaque pagination cursors: clients pass them back verbatim and never build them. */
export function encodeCursor(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

export function decodeCursor<T>(cursor: string | undefined, isValid: (v: unknown) => v is T): T | undefined {
  if (!cursor) return undefined;
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (isValid(value)) return value;
  } catch {
    /* fall through */
  }
  return undefined;
}

/** One page of a list: at most `limit` items after the `cursor` a previous page returned (none: from the start). */
export interface PageRequest {
  cursor?: string;
  limit: number;
}

/** A page of a list; `next` is the opaque cursor of the following page, null on the last one. */
export interface Page<T> {
  items: T[];
  next: string | null;
}

/** What a store throws for a cursor it did not make (the API answers 400, as GET /events does). */
export const invalidCursor = (): AppError => new AppError('VALIDATION_FAILED', 'query.cursor: this cursor is not valid; use the nextCursor of a previous page.');
