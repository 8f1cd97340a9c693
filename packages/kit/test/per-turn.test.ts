import { describe, expect, it } from 'vitest';
import { PerTurn } from '@dems/kit/sqlite';

const nextTurn = () => new Promise((r) => setImmediate(r));

describe('PerTurn', () => {
  it('hands over everything added in one turn together at the next, then starts again', async () => {
    const flushed: number[][] = [];
    const perTurn = new PerTurn<number>((batch) => flushed.push(batch));
    perTurn.add(1);
    perTurn.add(2);
    expect(flushed).toEqual([]);
    await nextTurn();
    expect(flushed).toEqual([[1, 2]]);
    perTurn.add(3);
    await nextTurn();
    expect(flushed).toEqual([[1, 2], [3]]);
  });

  it('hands over at most `max` at a time, the rest a turn later, in order', async () => {
    const flushed: number[][] = [];
    const perTurn = new PerTurn<number>((batch) => flushed.push(batch), 2);
    for (const n of [1, 2, 3, 4, 5]) perTurn.add(n);
    await nextTurn();
    expect(flushed).toEqual([[1, 2]]);
    perTurn.add(6);
    await nextTurn();
    await nextTurn();
    expect(flushed).toEqual([
      [1, 2],
      [3, 4],
      [5, 6],
    ]);
  });
});
