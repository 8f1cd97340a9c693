// childrenOf: the children of a page of parents, read by one query, handed to each parent in the order read.
import { describe, expect, it } from 'vitest';
import { childrenOf } from '../src/sqlite.js';

describe('childrenOf', () => {
  const rows = [
    { parent: 'evt_b', name: 'General', position: 0 },
    { parent: 'evt_a', name: 'VIP', position: 1 },
    { parent: 'evt_b', name: 'Student', position: 1 },
    { parent: 'evt_a', name: 'Early bird', position: 0 },
  ];

  it('hands each parent exactly its own children, mapped, in the order the query read them', () => {
    const namesOf = childrenOf(
      rows,
      (r) => r.parent,
      (r) => r.name,
    );
    expect(namesOf('evt_a')).toEqual(['VIP', 'Early bird']);
    expect(namesOf('evt_b')).toEqual(['General', 'Student']);
  });

  it('gives a parent without children an empty list, and one of its own each time', () => {
    const namesOf = childrenOf(
      rows,
      (r) => r.parent,
      (r) => r.name,
    );
    expect(namesOf('evt_none')).toEqual([]);
    namesOf('evt_none').push('x');
    expect(namesOf('evt_none')).toEqual([]);
    expect(
      childrenOf(
        [],
        (r: { parent: string }) => r.parent,
        (r) => r,
      )('evt_a'),
    ).toEqual([]);
  });
});
