import { describe, expect, it } from 'vitest';
import { ScoreIndex } from '../../src/resolvers/live/score-index.js';

/** The subscriber index of myStandingChanged, checked against a plain sorted list. */

/** A deterministic generator (mulberry32), so a failure replays. */
function rng(seed: number) {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function model(entries: Map<string, number>, lo: number, hi: number) {
  return [...entries]
    .filter(([, s]) => s >= lo && s <= hi)
    .sort(([ka, a], [kb, b]) => b - a || (ka < kb ? -1 : 1))
    .map(([k]) => k);
}

describe('ScoreIndex', () => {
  it('finds the members between two scores, highest first, inclusive at both ends', () => {
    const index = new ScoreIndex();
    index.set('a', 10);
    index.set('b', 20);
    index.set('c', 20);
    index.set('d', 30);
    index.set('e', 5);
    expect(index.range(10, 20)).toEqual(['b', 'c', 'a']);
    expect(index.range(20, 20)).toEqual(['b', 'c']);
    expect(index.range(-Infinity, 9)).toEqual(['e']);
    expect(index.range(31, 100)).toEqual([]);
    expect(index.range(20, 10)).toEqual([]);
    expect(index.keys()).toEqual(['d', 'b', 'c', 'a', 'e']);
  });

  it('moves and removes members', () => {
    const index = new ScoreIndex();
    index.set('a', 10);
    index.set('b', 20);
    index.set('a', 25);
    expect(index.keys()).toEqual(['a', 'b']);
    expect(index.scoreOf('a')).toBe(25);
    expect(index.delete('b')).toBe(true);
    expect(index.delete('b')).toBe(false);
    expect(index.size).toBe(1);
    expect(index.range(0, 100)).toEqual(['a']);
    expect(index.delete('a')).toBe(true);
    expect(index.range(-Infinity, Infinity)).toEqual([]);
    expect(index.size).toBe(0);
  });

  it('agrees with a sorted list through 20,000 random operations', () => {
    const random = rng(12345);
    const index = new ScoreIndex(rng(99));
    const truth = new Map<string, number>();
    for (let step = 0; step < 20_000; step++) {
      const key = `k${Math.floor(random() * 500)}`;
      const op = random();
      if (op < 0.6) {
        const score = Math.floor(random() * 200);
        index.set(key, score);
        truth.set(key, score);
      } else if (op < 0.8) {
        expect(index.delete(key)).toBe(truth.delete(key));
      } else {
        const a = Math.floor(random() * 220) - 10;
        const b = Math.floor(random() * 220) - 10;
        expect(index.range(Math.min(a, b), Math.max(a, b))).toEqual(model(truth, Math.min(a, b), Math.max(a, b)));
      }
      expect(index.size).toBe(truth.size);
    }
    expect(index.keys()).toEqual(model(truth, -Infinity, Infinity));
  });

  it('a range query steps through O(log n + k) nodes: 100 members in range cost about the same among 1,000 or 100,000', () => {
    const cost = (n: number) => {
      const index = new ScoreIndex(rng(n));
      for (let i = 0; i < n; i++) index.set(`m${i}`, i);
      const found = index.range(n / 2, n / 2 + 99);
      expect(found).toHaveLength(100);
      expect(found[0]).toBe(`m${n / 2 + 99}`);
      return index.lastRangeSteps;
    };
    const small = cost(1_000);
    const large = cost(100_000);
    // A scan would step through ~50,000 nodes for the large one; the skip list descends in O(log n).
    expect(large).toBeLessThan(100 + 200);
    expect(large).toBeLessThan(small * 2);
  });
});
