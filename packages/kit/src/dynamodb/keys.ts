import { randomBytes } from 'node:crypto';
import type { Item } from './client.js';

let lastMs = 0;
let counter = 0;

/**
 * A string that sorts in creation order within this process (milliseconds, then a counter) and between
 * processes by millisecond; the random tail keeps keys from two processes in the same millisecond distinct.
 * URL-safe, so it can be part of an id.
 */
export function orderedKey(now = Date.now()): string {
  const ms = Math.max(now, lastMs);
  counter = ms === lastMs ? counter + 1 : 0;
  lastMs = ms;
  return `${ms.toString().padStart(15, '0')}${counter.toString().padStart(6, '0')}${randomBytes(5).toString('hex')}`;
}

/** The creation time (ms) an orderedKey starts with. */
export const orderedKeyTime = (key: string): number => Number(key.slice(0, 15));

/** Zero-padded so that string order is number order (non-negative integers up to 15 digits). */
export const pad = (n: number): string => Math.max(0, Math.floor(n)).toString().padStart(15, '0');

/** The opaque form of a LastEvaluatedKey: clients pass it back verbatim. */
export function encodeKey(key: Item): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

export function decodeKey(cursor: string | undefined): Item | undefined {
  if (!cursor) return undefined;
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (value && typeof value === 'object' && !Array.isArray(value)) return value as Item;
  } catch {
    /* an invalid cursor starts from the beginning */
  }
  return undefined;
}
