import { BoundedSet } from './bounded-set';

describe('BoundedSet', () => {
  it('keeps the newest values up to its bound, forgetting the oldest added first', () => {
    const set = new BoundedSet<string>(3);
    for (const v of ['a', 'b', 'c', 'd']) set.add(v);
    expect([...set]).toEqual(['b', 'c', 'd']);
    // A value added again keeps its place: it is still the oldest of those kept.
    set.add('b').add('e');
    expect([...set]).toEqual(['c', 'd', 'e']);
    expect(set.has('a')).toBe(false);
  });
});
