import { describe, expect, it } from 'vitest';
import { notificationKey, timestampOf } from '../src/store/dynamodb.js';

describe('DynamoDB notification keys', () => {
  it('gives notifications of one millisecond distinct Timestamp keys, in order, that their ids encode', () => {
    const ms = Date.parse('2026-05-01T12:00:00.000Z');
    const keys = Array.from({ length: 200 }, () => notificationKey(ms));
    expect(new Set(keys.map((k) => k.timestamp)).size).toBe(200);
    for (const k of keys) {
      expect(Math.floor(k.timestamp / 1000)).toBe(ms);
      expect(timestampOf(k.id)).toBe(k.timestamp);
    }
    // Within a millisecond the sequence counts up (wrapping at 1000), so ids sort with their keys.
    const sorted = [...keys].sort((a, b) => a.timestamp - b.timestamp);
    expect(sorted.map((k) => k.id)).toEqual([...keys.map((k) => k.id)].sort());
    expect(timestampOf('ntf_missing')).toBeNull();
  });
});
