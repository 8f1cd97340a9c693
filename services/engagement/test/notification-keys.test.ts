import { describe, expect, it } from 'vitest';
import { notificationKey, timestampOf } from '../src/store/dynamodb.js';

describe('DynamoDB notification keys', () => {
  const ms = Date.parse('2026-05-01T12:00:00.000Z');

  it('are the same for the same source and user on every attempt, and ids encode them', () => {
    const first = notificationKey(ms, 'msg-1', 'usr_a');
    expect(notificationKey(ms, 'msg-1', 'usr_a')).toEqual(first);
    expect(Math.floor(first.timestamp / 1000)).toBe(ms);
    expect(timestampOf(first.id)).toBe(first.timestamp);
    expect(timestampOf('ntf_missing')).toBeNull();
  });

  it("spread one millisecond's notifications over keys, and step on past a taken key with the same tail", () => {
    const keys = Array.from({ length: 200 }, (_, i) => notificationKey(ms, `msg-${i}`, 'usr_a'));
    // 200 sources in one millisecond share at most a few keys; probing resolves those.
    expect(new Set(keys.map((k) => k.timestamp)).size).toBeGreaterThan(150);
    const next = notificationKey(ms, 'msg-1', 'usr_a', 1);
    const first = notificationKey(ms, 'msg-1', 'usr_a');
    expect(next.timestamp).toBe(first.timestamp + 1);
    expect(next.id.slice(-11)).toBe(first.id.slice(-11));
    expect(timestampOf(next.id)).toBe(next.timestamp);
  });
});
