import { describe, expect, it } from 'vitest';
import { classConsistencyBySeed } from '../../src/plots/seed-consistency';
import type { TokenTrace } from '../../src/plots/types';

type C = 'a' | 'b' | 'c';
const classify = (toks: readonly string[]): C[] => toks.map((t) => t as C);
const seedOf = (t: TokenTrace) => t.problemId.split(':')[0];

/** One problem of one seed: a token 'a' at tauA and a token 'b' at tauB. */
function trace(seed: number, p: number, tauA: number, tauB: number): TokenTrace {
  return { problemId: `${seed}:p${p}`, correct: true, text: ['a', 'b'], tau: [tauA, tauB], gate: [1, 1], entropy: [0, 0] };
}

describe('classConsistencyBySeed', () => {
  it('finds a class on the same side of every seed’s mean, with hand-derived means', () => {
    // Seed 0: a at 0.5 / 0.7, b at 1.5 / 1.3 -> seed mean 1.0, a mean 0.6, b mean 1.4.
    // Seed 1: a at 0.9 / 0.9, b at 1.1 / 1.1 -> seed mean 1.0, a 0.9, b 1.1 (smaller gap, same direction).
    const traces = [trace(0, 1, 0.5, 1.5), trace(0, 2, 0.7, 1.3), trace(1, 1, 0.9, 1.1), trace(1, 2, 0.9, 1.1)];
    const r = classConsistencyBySeed(traces, ['a', 'b', 'c'] as const, classify, seedOf, { resamples: 200 });
    expect(r.a.seeds['0'].mean_tau).toBeCloseTo(0.6, 12);
    expect(r.a.seeds['0'].seed_mean_tau).toBeCloseTo(1.0, 12);
    expect(r.a.seeds['0'].deviation).toBeCloseTo(-0.4, 12);
    expect(r.a.seeds['0'].count).toBe(2);
    // Bootstrap over two problems of seed 0: class a's mean is one of 0.5, 0.6, 0.7, all below 1.0.
    expect(r.a.seeds['0'].ci95![1]).toBeLessThanOrEqual(0.7 + 1e-12);
    expect(r.a.direction).toBe('below');
    expect(r.a.consistent).toBe(true);
    expect(r.b.direction).toBe('above');
    expect(r.b.seeds['1'].deviation).toBeCloseTo(0.1, 12);
    // A class no seed has is never called consistent.
    expect(r.c.consistent).toBe(false);
    expect(r.c.seeds['0'].side).toBe('empty');
  });

  it('calls a pooled spread from heads that went opposite ways mixed', () => {
    // Pooled, a is at 0.6 and 1.4 (mean 1.0) and b likewise: seed 0 lowers a, seed 1 raises it.
    const traces = [trace(0, 1, 0.6, 1.4), trace(0, 2, 0.6, 1.4), trace(1, 1, 1.4, 0.6), trace(1, 2, 1.4, 0.6)];
    const r = classConsistencyBySeed(traces, ['a', 'b'] as const, classify, seedOf, { resamples: 100 });
    expect(r.a.seeds['0'].side).toBe('below');
    expect(r.a.seeds['1'].side).toBe('above');
    expect(r.a.direction).toBe('mixed');
    expect(r.a.consistent).toBe(false);
  });

  it('needs two seeds, and a CI that overlaps the seed mean is not a direction', () => {
    const one = classConsistencyBySeed([trace(0, 1, 0.5, 1.5), trace(0, 2, 0.5, 1.5)], ['a', 'b'] as const, classify, seedOf, { resamples: 50 });
    expect(one.a.direction).toBe('mixed');
    // Seed 1's class a straddles its mean (0.5 on one problem, 1.5 on the other; seed mean 1.0).
    const overlap = classConsistencyBySeed(
      [trace(0, 1, 0.5, 1.5), trace(0, 2, 0.5, 1.5), trace(1, 1, 0.5, 1.5), trace(1, 2, 1.5, 0.5)],
      ['a', 'b'] as const,
      classify,
      seedOf,
      { resamples: 400 },
    );
    expect(overlap.a.seeds['1'].side).toBe('overlaps');
    expect(overlap.a.consistent).toBe(false);
  });

  it('names the trace whose seed cannot be read', () => {
    expect(() => classConsistencyBySeed([trace(0, 1, 1, 1)], ['a'] as const, classify, () => '')).toThrow(/0:p1/);
  });
});
