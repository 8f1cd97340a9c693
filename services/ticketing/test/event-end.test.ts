import { describe, expect, it } from 'vitest';
import { refuseCancellation, refusePurchase, type SaleEvent } from '../src/domain/purchase.js';

// An event is over from its end instant on (hasEnded in contracts); the events service refuses a
// registration at that same instant, so a purchase and a cancellation must be refused then too.

const END = new Date('2031-03-01T22:00:00.000Z');
const at = (deltaMs: number) => new Date(END.getTime() + deltaMs);
const event: SaleEvent = { status: 'published', endsAt: END.toISOString() };
const seats = { capacity: 10, sold: 0 };

describe('at the end instant the event is over', () => {
  it.each([
    [-1, null],
    [0, 'EVENT_ENDED'],
    [1, 'EVENT_ENDED'],
  ])('buying when now − end = %i ms → %s', (delta, code) => {
    expect(refusePurchase(event, seats, 1, at(delta))?.code ?? null).toBe(code);
  });

  it.each([
    [-1, null],
    [0, 'EVENT_ENDED'],
    [1, 'EVENT_ENDED'],
  ])('handing a ticket back when now − end = %i ms → %s', (delta, code) => {
    expect(refuseCancellation('valid', event, at(delta))?.code ?? null).toBe(code);
  });

  it('says why in words a buyer understands', () => {
    expect(refusePurchase(event, seats, 1, at(0))?.message).toBe('This event is already over.');
    expect(refuseCancellation('valid', event, at(0))?.message).toBe('This event is already over, so its tickets can no longer be cancelled.');
  });
});
