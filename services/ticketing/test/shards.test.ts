import { describe, expect, it } from 'vitest';
import { distributeCapacity, planTake } from '../src/store/dynamodb.js';

describe('inventory shards (DynamoDB adapter)', () => {
  it('spreads capacity evenly, keeps every shard at or above its own sales, and never loses a seat', () => {
    expect(distributeCapacity(100, [0, 0, 0, 0])).toEqual([25, 25, 25, 25]);
    expect(distributeCapacity(10, [0, 0, 0])).toEqual([4, 3, 3]);
    // 30 sold unevenly, capacity raised to 110: 80 unsold seats spread over the four.
    expect(distributeCapacity(110, [25, 5, 0, 0])).toEqual([45, 25, 20, 20]);
    // Capacity cut below what is sold: each shard closes at its own sales, nothing more is for sale.
    expect(distributeCapacity(20, [15, 10])).toEqual([15, 10]);
    const cases: [number, number[]][] = [
      [7, [1, 0, 3]],
      [1000, [3, 9, 0, 0, 1]],
    ];
    for (const [declared, sold] of cases) {
      const caps = distributeCapacity(declared, sold);
      expect(caps.reduce((a, b) => a + b, 0)).toBe(
        Math.max(
          declared,
          sold.reduce((a, b) => a + b, 0),
        ),
      );
      caps.forEach((c, i) => expect(c).toBeGreaterThanOrEqual(sold[i]!));
    }
  });

  it('takes all seats from one random shard that has them, else from several, and refuses only when all together lack them', () => {
    const shards = [
      { id: 'a', remaining: 2 },
      { id: 'b', remaining: 5 },
      { id: 'c', remaining: 5 },
    ];
    expect(planTake(shards, 3, () => 0)).toEqual([{ id: 'b', take: 3 }]);
    expect(planTake(shards, 3, () => 0.99)).toEqual([{ id: 'c', take: 3 }]);
    expect(planTake(shards, 11)).toEqual([
      { id: 'b', take: 5 },
      { id: 'c', take: 5 },
      { id: 'a', take: 1 },
    ]);
    expect(planTake(shards, 13)).toBeNull();
    expect(
      planTake(
        [
          { id: 'a', remaining: 0 },
          { id: 'b', remaining: 1 },
        ],
        1,
      ),
    ).toEqual([{ id: 'b', take: 1 }]);
  });
});
