// Tests of src/rng.ts (the kit's seeded RNG; kept next to the task tests, its first users): determinism, ranges,
// uniformity of int(), forks that do not disturb the parent, and exact checkpoint/restore of the state.
import { describe, expect, it } from 'vitest';
import { KitError } from '../../src/errors';
import { hashString, Rng } from '../../src/rng';

describe('Rng', () => {
  it('is deterministic per seed and differs across seeds', () => {
    const a = Array.from(
      { length: 5 },
      (
        (r) => () =>
          r.nextUint32()
      )(new Rng(42)),
    );
    const b = Array.from(
      { length: 5 },
      (
        (r) => () =>
          r.nextUint32()
      )(new Rng(42)),
    );
    const c = Array.from(
      { length: 5 },
      (
        (r) => () =>
          r.nextUint32()
      )(new Rng(43)),
    );
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
  });
  it('next() is in [0, 1) and int(n) in [0, n) with roughly uniform counts', () => {
    const r = new Rng(1);
    const counts = [0, 0, 0, 0, 0, 0];
    for (let i = 0; i < 60_000; i++) {
      const x = r.next();
      expect(x >= 0 && x < 1).toBe(true);
      counts[r.int(6)]++;
    }
    // Expected 10000 each; the standard deviation is sqrt(60000·(1/6)·(5/6)) ≈ 91, so ±500 is over 5 sigma.
    for (const c of counts) expect(Math.abs(c - 10_000)).toBeLessThan(500);
  });
  it('range, pick and shuffle stay in bounds', () => {
    const r = new Rng(5);
    for (let i = 0; i < 200; i++) {
      const v = r.range(-2, 2);
      expect(v >= -2 && v <= 2 && Number.isInteger(v)).toBe(true);
    }
    expect(r.shuffle([1, 2, 3, 4, 5]).sort()).toEqual([1, 2, 3, 4, 5]);
    expect(['a', 'b']).toContain(r.pick(['a', 'b']));
  });
  it('fork does not advance the parent and is reproducible', () => {
    const p1 = new Rng(9);
    const p2 = new Rng(9);
    const child = p1.fork('eval');
    expect(p1.nextUint32()).toBe(p2.nextUint32());
    const again = new Rng(9).fork('eval');
    expect(child.nextUint32()).toBe(again.nextUint32());
    expect(new Rng(9).fork('eval').nextUint32()).not.toBe(new Rng(9).fork('train').nextUint32());
    expect(new Rng(9).fork(1).nextUint32()).not.toBe(new Rng(9).fork('1').nextUint32());
  });
  it('state/fromState resume the exact stream, also through JSON', () => {
    const r = new Rng(3);
    r.next();
    const saved = JSON.parse(JSON.stringify(r.state()));
    const expected = [r.next(), r.next()];
    const restored = Rng.fromState(saved);
    expect([restored.next(), restored.next()]).toEqual(expected);
  });
  it('bad input is a KitError', () => {
    expect(() => new Rng(Number.NaN)).toThrow(KitError);
    expect(() => new Rng(1).int(0)).toThrow(KitError);
    expect(() => Rng.fromState({ kind: 'xoshiro128ss', s: [0, 0, 0, 0] })).toThrow(KitError);
    expect(() => Rng.fromState({ s: [1, 2, 3] })).toThrow(/fromState/);
  });
  it('hashString is FNV-1a', () => {
    // FNV-1a of the empty string is the offset basis 0x811c9dc5; of "a": (0x811c9dc5 ^ 0x61) * 0x01000193 mod 2^32 = 0xe40c292c.
    expect(hashString('')).toBe(0x811c9dc5);
    expect(hashString('a')).toBe(0xe40c292c);
  });
});
