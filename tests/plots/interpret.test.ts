// The interpretability numbers (src/plots/interpret.ts): τ–entropy correlation and mean τ per token class, each
// with a seeded bootstrap over problems. Values are checked against hand computations.
import { describe, expect, it } from 'vitest';
import { binOf, quantileEdges, tauByClass, tauByEntropyBin, tauEntropyCorrelation } from '../../src/plots/interpret';
import type { TokenTrace } from '../../src/plots/types';

function trace(problemId: string, text: string[], tau: number[], entropy: number[], correct = true): TokenTrace {
  return { problemId, correct, text, tau, entropy, gate: tau.map(() => 1) };
}

describe('tauEntropyCorrelation', () => {
  it('is exactly 1 (with a degenerate CI) for perfectly monotone data over several problems', () => {
    // τ = exp(H) is strictly increasing in H, and every problem's tokens lie on the same curve,
    // so every bootstrap resample is also perfectly monotone: Spearman 1 everywhere.
    const traces = [0, 1, 2].map((p) => {
      const h = [0.1, 0.4, 0.9, 1.3].map((v) => v + p);
      return trace(`p${p}`, ['a', 'b', 'c', 'd'], h.map(Math.exp), h);
    });
    const r = tauEntropyCorrelation(traces, { resamples: 200, seed: 3 });
    expect(r.tokens).toBe(12);
    expect(r.problems).toBe(3);
    expect(r.spearman.value).toBeCloseTo(1, 12);
    expect(r.spearman.lo).toBeCloseTo(1, 12);
    expect(r.spearman.hi).toBeCloseTo(1, 12);
    expect(r.spearman.resamplesUsed).toBeGreaterThan(150); // a resample drawing one problem three times... still has 4 distinct points
    expect(r.pearson.value).toBeGreaterThan(0.9);
    expect(r.pearson.value).toBeLessThan(1);
  });

  it('matches the hand-worked Pearson example; one problem gives a zero-width CI', () => {
    // H = 1 2 3 4, τ = 2 1 4 3 → r = 3 / 5 = 0.6 (see tests/plots/stats.test.ts for the arithmetic); the ranks equal
    // the values, so Spearman is 0.6 too. With one problem every resample is that problem.
    const r = tauEntropyCorrelation([trace('only', ['1', '+', '2', '='], [2, 1, 4, 3], [1, 2, 3, 4])], { resamples: 50 });
    expect(r.pearson.value).toBeCloseTo(0.6, 12);
    expect(r.spearman.value).toBeCloseTo(0.6, 12);
    expect(r.pearson.lo).toBeCloseTo(0.6, 12);
    expect(r.pearson.hi).toBeCloseTo(0.6, 12);
    expect(r.pearson.resamplesUsed).toBe(50);
  });

  it('is deterministic per seed, resamples whole problems, and skips non-finite tokens', () => {
    const traces = [
      trace('a', ['x', 'y', 'z'], [0.5, 0.9, 1.4], [0.2, 0.8, 1.5]),
      trace('b', ['x', 'y', 'z'], [1.2, 0.6, NaN], [0.3, 0.9, 2.0]),
      trace('c', ['x', 'y'], [0.7, 1.6], [0.1, 1.9]),
      trace('a', ['x'], [0.4], [0.05]), // a second sample of problem 'a' moves with it
    ];
    const r1 = tauEntropyCorrelation(traces, { resamples: 300, seed: 11 });
    expect(tauEntropyCorrelation(traces, { resamples: 300, seed: 11 })).toEqual(r1);
    // 8 problems with scattered values: another seed gives another interval
    const many = Array.from({ length: 8 }, (_, p) => trace(`m${p}`, ['a', 'b', 'c'], [0.3 + 0.11 * p, 1.7 - 0.07 * p * p, 0.9], [0.1 * p, 0.5, 0.13 * p * p]));
    const a = tauEntropyCorrelation(many, { resamples: 300, seed: 1 });
    expect(tauEntropyCorrelation(many, { resamples: 300, seed: 2 }).pearson.lo).not.toBe(a.pearson.lo);
    expect(r1.tokens).toBe(8);
    expect(r1.problems).toBe(3);
    expect(r1.pearson.lo).toBeLessThanOrEqual(r1.pearson.hi);
    expect(r1.spearman.lo).toBeGreaterThanOrEqual(-1);
    expect(r1.spearman.hi).toBeLessThanOrEqual(1);
  });

  it('is NaN (not an error) for a fixed temperature', () => {
    const r = tauEntropyCorrelation([trace('a', ['1', '2'], [1, 1], [0.3, 0.9]), trace('b', ['3'], [1], [1.2])], { resamples: 20 });
    expect(r.pearson.value).toBeNaN();
    expect(r.spearman.value).toBeNaN();
    expect(r.pearson.resamplesUsed).toBe(0);
    expect(r.pearson.lo).toBeNaN();
  });

  it('rejects traces whose arrays disagree in length', () => {
    expect(() => tauEntropyCorrelation([{ problemId: 'x', correct: true, text: ['a'], tau: [1, 2], gate: [1], entropy: [1] }])).toThrow(/tau 2/);
  });
});

describe('tauByClass', () => {
  it('gives hand-computed means, counts and a zero-width CI for one problem', () => {
    const text = ['1', '+', '1', '\n', '#', '#', '#', '#', ' ', '2'];
    const tau = [0.5, 0.7, 0.6, 1.0, 0.2, 0.2, 0.2, 0.2, 0.3, 0.4];
    const s = tauByClass(
      [
        trace(
          'p',
          text,
          tau,
          tau.map(() => 1),
        ),
      ],
      { resamples: 30 },
    );
    // digits: (0.5 + 0.6)/2 = 0.55; operator: 0.7; newline: 1.0; answer: (4·0.2 + 0.3 + 0.4)/6 = 1.5/6 = 0.25
    expect(s.digit.value).toBeCloseTo(0.55, 12);
    expect(s.digit.count).toBe(2);
    expect(s.operator.value).toBeCloseTo(0.7, 12);
    expect(s.newline.value).toBeCloseTo(1.0, 12);
    expect(s.answer.value).toBeCloseTo(0.25, 12);
    expect(s.answer.count).toBe(6);
    expect(s.answer.lo).toBeCloseTo(0.25, 12);
    expect(s.answer.hi).toBeCloseTo(0.25, 12);
    expect(s.marker.count).toBe(0);
    expect(s.marker.value).toBeNaN();
    expect(s.marker.problems).toBe(0);
  });

  it('pools tokens (a token-weighted mean) and keeps the CI inside the per-problem extremes', () => {
    // problem a: digits τ 0.2, 0.4 (mean 0.3); problem b: one digit τ 0.9. Pooled: (0.2 + 0.4 + 0.9)/3 = 0.5.
    const traces = [trace('a', ['1', '2'], [0.2, 0.4], [1, 1]), trace('b', ['3', '\n', 'back'], [0.9, 0.1, 1.5], [1, 1, 1])];
    const s = tauByClass(traces, { resamples: 400, seed: 5 });
    expect(s.digit.value).toBeCloseTo(0.5, 12);
    expect(s.digit.count).toBe(3);
    expect(s.digit.problems).toBe(2);
    expect(s.digit.lo).toBeGreaterThanOrEqual(0.3 - 1e-12);
    expect(s.digit.hi).toBeLessThanOrEqual(0.9 + 1e-12);
    expect(s.digit.lo).toBeLessThan(s.digit.hi);
    // 'back' appears only in problem b: resamples without b have no marker and are dropped
    expect(s.marker.value).toBeCloseTo(1.5, 12);
    expect(s.marker.resamplesUsed).toBeLessThan(400);
    expect(s.marker.resamplesUsed).toBeGreaterThan(200);
    expect(tauByClass(traces, { resamples: 400, seed: 5 })).toEqual(s);
  });
});

describe('entropy bins', () => {
  it('quantileEdges: quantiles of the finite values, tied edges collapsed', () => {
    // sorted 0 1 2 3 4 (NaN dropped): quantiles 0, 0.25, 0.5, 0.75, 1 → 0, 1, 2, 3, 4
    expect(quantileEdges([4, 0, NaN, 3, 1, 2], 4)).toEqual([0, 1, 2, 3, 4]);
    // 0 0 0 0 0 1: the first four quartiles are all 0 → one bin [0, 0] left, then (0, 1]; 0.75 → pos 3.75 → 0
    expect(quantileEdges([0, 0, 0, 0, 0, 1], 4)).toEqual([0, 1]);
    expect(quantileEdges([2, 2], 3)).toEqual([2, 2]);
    expect(quantileEdges([], 3)).toEqual([]);
    expect(() => quantileEdges([1], 0)).toThrow(/bins/);
  });

  it('binOf: half-open bins, the last one closed, -1 outside', () => {
    const e = [0, 1, 2, 4];
    expect([0, 0.5, 1, 3.9, 4, -0.1, 4.1, NaN].map((x) => binOf(x, e))).toEqual([0, 0, 1, 2, 2, -1, -1, -1]);
    expect(binOf(2, [2, 2])).toBe(0);
    expect(binOf(1, [1])).toBe(-1);
  });

  it('tauByEntropyBin: mean τ, counts and mean entropy per bin, CI over problems', () => {
    // problem a: (H, τ) = (0.1, 0.5), (0.9, 1.5), (1.5, 1.0); problem b: (0.2, 0.7), (1.8, 1.2), (NaN H, 3) dropped
    const traces = [trace('a', ['x', 'y', 'z'], [0.5, 1.5, 1.0], [0.1, 0.9, 1.5]), trace('b', ['x', 'y', 'z'], [0.7, 1.2, 3], [0.2, 1.8, NaN])];
    const [low, high] = tauByEntropyBin(traces, [0, 1, 2], { resamples: 200, seed: 1 });
    // [0, 1): 0.5, 1.5 (a) and 0.7 (b) → 2.7 / 3 = 0.9; mean H (0.1 + 0.9 + 0.2) / 3 = 0.4
    expect(low.count).toBe(3);
    expect(low.value).toBeCloseTo(0.9, 12);
    expect(low.entropyMean).toBeCloseTo(0.4, 12);
    expect(low.problems).toBe(2);
    // a resample of a alone: (0.5 + 1.5) / 2 = 1.0; of b alone: 0.7; the CI stays within them
    expect(low.lo).toBeGreaterThanOrEqual(0.7 - 1e-12);
    expect(low.hi).toBeLessThanOrEqual(1.0 + 1e-12);
    // [1, 2]: 1.0 (a) and 1.2 (b) → 1.1; mean H 1.65
    expect(high.count).toBe(2);
    expect(high.value).toBeCloseTo(1.1, 12);
    expect(high.entropyMean).toBeCloseTo(1.65, 12);
    expect([high.from, high.to]).toEqual([1, 2]);
  });
});
