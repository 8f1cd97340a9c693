import { describe, expect, it } from 'vitest';
import {
  peopleAhead,
  QUEUE_PASS_HEADER,
  QueueEntry,
  QueuePass,
  QueuePassBody,
  WaitingRoom,
  WaitingRoomParams,
  WaitingRoomSettings,
  WaitingRoomSettingsBody,
} from '@dems/contracts';
import { refusedPaths } from './issues.js';

const opensAt = '2027-03-01T18:00:00.000Z';
const settings = { opensAt, admitPerMinute: 600, passMinutes: 10 };

describe('WaitingRoomSettingsBody (PUT /waiting-rooms/:eventId)', () => {
  it('takes an opening time, and defaults the pass to 10 minutes while the rate is left to the service', () => {
    const parsed = WaitingRoomSettingsBody.parse({ opensAt });
    expect(parsed.passMinutes).toBe(10);
    expect(parsed.admitPerMinute).toBeUndefined();
    expect(Date.parse(parsed.opensAt)).toBe(Date.parse(opensAt));
  });

  it('takes admissions per minute from 1 to 100,000 and passes from 1 to 60 minutes, whole numbers only', () => {
    expect(WaitingRoomSettingsBody.parse({ opensAt, admitPerMinute: 1, passMinutes: 1 })).toMatchObject({ admitPerMinute: 1, passMinutes: 1 });
    expect(WaitingRoomSettingsBody.parse({ opensAt, admitPerMinute: 100_000, passMinutes: 60 })).toMatchObject({ admitPerMinute: 100_000, passMinutes: 60 });
    for (const admitPerMinute of [0, 100_001, 1.5]) expect(refusedPaths(WaitingRoomSettingsBody, { opensAt, admitPerMinute })).toEqual(['admitPerMinute']);
    for (const passMinutes of [0, 61, 2.5]) expect(refusedPaths(WaitingRoomSettingsBody, { opensAt, passMinutes })).toEqual(['passMinutes']);
  });

  it('refuses a missing or unreadable opening time and any field it does not know', () => {
    expect(refusedPaths(WaitingRoomSettingsBody, {})).toEqual(['opensAt']);
    expect(refusedPaths(WaitingRoomSettingsBody, { opensAt: 'next Friday' })).toEqual(['opensAt']);
    expect(refusedPaths(WaitingRoomSettingsBody, { opensAt, queue: true })).toEqual(['']);
  });
});

describe('the answers and messages of a waiting room', () => {
  it('settings as stored and published carry every field within the same bounds', () => {
    expect(WaitingRoomSettings.parse(settings)).toEqual(settings);
    expect(refusedPaths(WaitingRoomSettings, { ...settings, admitPerMinute: 0 })).toEqual(['admitPerMinute']);
    expect(refusedPaths(WaitingRoomSettings, { ...settings, admitPerMinute: 100_001 })).toEqual(['admitPerMinute']);
    expect(refusedPaths(WaitingRoomSettings, { ...settings, passMinutes: 0 })).toEqual(['passMinutes']);
    expect(refusedPaths(WaitingRoomSettings, { ...settings, passMinutes: 61 })).toEqual(['passMinutes']);
    expect(refusedPaths(WaitingRoomSettings, { admitPerMinute: 600, passMinutes: 10 })).toEqual(['opensAt']);
  });

  it('a room says how many joined and were admitted (never negative), whether it sold out, and the server clock', () => {
    const room = { ...settings, eventId: 'evt_1', joined: 0, admittedThrough: 0, soldOut: false, now: opensAt };
    expect(WaitingRoom.parse(room)).toEqual(room);
    expect(refusedPaths(WaitingRoom, { ...room, joined: -1, admittedThrough: -1 })).toEqual(['joined', 'admittedThrough']);
    expect(refusedPaths(WaitingRoom, { ...room, soldOut: 'no', now: 'soon' })).toEqual(['soldOut', 'now']);
  });

  it('an entry has a 1-based position, its admission time and its token', () => {
    const entry = { eventId: 'evt_1', position: 1, admitAt: opensAt, token: 't', admittedThrough: 0, admitPerMinute: 600, soldOut: false };
    expect(QueueEntry.parse(entry)).toEqual(entry);
    expect(refusedPaths(QueueEntry, { ...entry, position: 0, admittedThrough: -1 })).toEqual(['position', 'admittedThrough']);
    expect(refusedPaths(QueueEntry, { ...entry, admitPerMinute: 1.5, admitAt: 'later' })).toEqual(['admitAt', 'admitPerMinute']);
  });

  it('a pass request carries a token of 1 to 4,096 characters and nothing else; a pass says when it expires', () => {
    expect(QueuePassBody.parse({ token: 'x'.repeat(4096) }).token).toHaveLength(4096);
    expect(refusedPaths(QueuePassBody, { token: '' })).toEqual(['token']);
    expect(refusedPaths(QueuePassBody, { token: 'x'.repeat(4097) })).toEqual(['token']);
    expect(refusedPaths(QueuePassBody, { token: 't', pass: 'p' })).toEqual(['']);
    expect(QueuePass.parse({ pass: 'p', expiresAt: opensAt })).toEqual({ pass: 'p', expiresAt: opensAt });
    expect(refusedPaths(QueuePass, { pass: 'p' })).toEqual(['expiresAt']);
    expect(refusedPaths(WaitingRoomParams, { eventId: 'not an id' })).toEqual(['eventId']);
    expect(QUEUE_PASS_HEADER).toBe('queue-pass');
  });
});

describe('peopleAhead', () => {
  it('counts the places the bucket lets through before admitAt at the current rate, rounding up, and 0 once admitted', () => {
    const now = Date.parse(opensAt);
    expect(peopleAhead(now + 60_000, now, 600)).toBe(600);
    expect(peopleAhead(now + 150, now, 600)).toBe(2);
    expect(peopleAhead(now + 100, now, 600)).toBe(1);
    expect(peopleAhead(now, now, 600)).toBe(0);
    expect(peopleAhead(now - 5_000, now, 600)).toBe(0);
  });
});
