// Tests of the evaluation metrics with hand-derived values: the unbiased pass@k estimator (Chen et al. 2021),
// Avg@k, majority vote @k, and the percentile bootstrap over problems.
import { describe, expect, it } from 'vitest';
import { KitError } from '../../src/errors';
import { Rng } from '../../src/rng';
import {
  avgAtK,
  bootstrapMeanCI,
  evaluateSamples,
  majorityAtK,
  majorityVote,
  pairedDiffCI,
  passAtK,
  passAtKEstimate,
  quantileSorted,
} from '../../src/eval/metrics';

/** 1 − C(n−c, k)/C(n, k) by direct binomials, to check the product form. */
function passDirect(n: number, c: number, k: number): number {
  const C = (a: number, b: number): number => {
    if (b < 0 || b > a) return 0;
    let r = 1;
    for (let i = 1; i <= b; i++) r = (r * (a - b + i)) / i;
    return r;
  };
  return 1 - C(n - c, k) / C(n, k);
}

describe('passAtKEstimate', () => {
  it('matches hand-derived values', () => {
    // n=8, c=2, k=1: 1 − C(6,1)/C(8,1) = 1 − 6/8 = 0.25 (= c/n, as pass@1 must).
    expect(passAtKEstimate(8, 2, 1)).toBeCloseTo(0.25, 12);
    // n=4, c=1, k=2: 1 − C(3,2)/C(4,2) = 1 − 3/6 = 0.5.
    expect(passAtKEstimate(4, 1, 2)).toBeCloseTo(0.5, 12);
    // n=5, c=2, k=3: 1 − C(3,3)/C(5,3) = 1 − 1/10 = 0.9.
    expect(passAtKEstimate(5, 2, 3)).toBeCloseTo(0.9, 12);
    // n=8, c=1, k=8: with all 8 samples drawn, the correct one is always included: 1.
    expect(passAtKEstimate(8, 1, 8)).toBe(1);
    // c=0: never.
    expect(passAtKEstimate(8, 0, 4)).toBe(0);
    // n−c < k: every draw of k contains a correct sample. n=5, c=3, k=3: C(2,3)=0, so 1.
    expect(passAtKEstimate(5, 3, 3)).toBe(1);
  });
  it('agrees with the binomial form over a grid', () => {
    for (let n = 1; n <= 12; n++)
      for (let c = 0; c <= n; c++)
        for (let k = 1; k <= n; k++) {
          expect(passAtKEstimate(n, c, k)).toBeCloseTo(passDirect(n, c, k), 10);
        }
  });
  it('rejects impossible arguments', () => {
    expect(() => passAtKEstimate(4, 5, 1)).toThrow(KitError);
    expect(() => passAtKEstimate(4, 1, 5)).toThrow(KitError);
    expect(() => passAtKEstimate(4, 1, 0)).toThrow(KitError);
    expect(() => passAtKEstimate(4, 1.5, 1)).toThrow(KitError);
  });
});

describe('avgAtK and passAtK', () => {
  const T = true;
  const F = false;
  // Problem A: 2 of 4 correct; problem B: 0 of 4; problem C: 4 of 4.
  const table = [
    [T, F, T, F],
    [F, F, F, F],
    [T, T, T, T],
  ];
  it('avg@k is the mean per-problem accuracy', () => {
    // (2/4 + 0 + 1) / 3 = 1.5 / 3 = 0.5.
    expect(avgAtK(table)).toBeCloseTo(0.5, 12);
  });
  it('pass@k averages the per-problem estimates', () => {
    // k=2: A: 1 − C(2,2)/C(4,2) = 1 − 1/6 = 5/6; B: 0; C: 1. Mean = (5/6 + 1)/3 = 11/18.
    expect(passAtK(table, 2)).toBeCloseTo(11 / 18, 12);
    // k=1 equals avg@k: (0.5 + 0 + 1)/3.
    expect(passAtK(table, 1)).toBeCloseTo(0.5, 12);
  });
  it('needs at least k samples per problem and at least one problem', () => {
    expect(() => passAtK(table, 5)).toThrow(/problem 0 has 4 samples, fewer than k=5/);
    expect(() => avgAtK([])).toThrow(KitError);
    expect(() => avgAtK([[]])).toThrow(/problem 0 has no samples/);
  });
});

describe('majority vote', () => {
  it('picks the most frequent answer, ignoring missing ones', () => {
    // "3" ×2, "4" ×1, null ×2: "3" wins; sample 1 ("3") is correct.
    expect(majorityVote(['4', '3', null, '3', null], [false, true, false, true, false])).toEqual({ answer: '3', correct: true });
  });
  it('breaks ties by first appearance', () => {
    // "5" and "6" both twice; "5" appeared first.
    expect(majorityVote(['5', '6', '6', '5'], [false, true, true, false])).toEqual({ answer: '5', correct: false });
  });
  it('is wrong when no answer was extracted', () => {
    expect(majorityVote([null, null], [false, false])).toEqual({ answer: null, correct: false });
  });
  it('majority@k is the fraction of problems whose vote is correct', () => {
    const keys = [
      ['1', '1', '2'],
      ['7', '8', '8'],
      [null, '3', null],
    ];
    const correct = [
      [true, true, false],
      [true, false, false],
      [false, true, false],
    ];
    // Problem 1: "1" wins, correct. Problem 2: "8" wins, wrong. Problem 3: "3" wins, correct. 2/3.
    expect(majorityAtK(keys, correct)).toBeCloseTo(2 / 3, 12);
    expect(() => majorityVote(['1'], [true, false])).toThrow(KitError);
  });
});

describe('bootstrap', () => {
  it('quantileSorted interpolates', () => {
    // Positions 0..3 hold 0, 10, 20, 30; q=0.5 → position 1.5 → 15.
    expect(quantileSorted([0, 10, 20, 30], 0.5)).toBe(15);
    expect(quantileSorted([0, 10, 20, 30], 1)).toBe(30);
  });
  it('a constant score has a zero-width interval', () => {
    expect(bootstrapMeanCI([1, 1, 1], new Rng(1), 200)).toEqual({ value: 1, lo: 1, hi: 1 });
  });
  it('is seeded, contains the mean, and has about the normal-theory width', () => {
    // 100 problems, half solved: mean 0.5, standard error sqrt(0.25/100) = 0.05, so the 95% interval is ≈ 0.5 ± 0.098.
    const scores = Array.from({ length: 100 }, (_, i) => (i % 2 === 0 ? 1 : 0));
    const a = bootstrapMeanCI(scores, new Rng(7), 2000);
    const b = bootstrapMeanCI(scores, new Rng(7), 2000);
    expect(a).toEqual(b);
    expect(a.value).toBe(0.5);
    expect(a.lo).toBeLessThan(0.5);
    expect(a.hi).toBeGreaterThan(0.5);
    expect(a.hi - a.lo).toBeGreaterThan(0.16);
    expect(a.hi - a.lo).toBeLessThan(0.23);
  });
  it('rejects bad settings', () => {
    expect(() => bootstrapMeanCI([], new Rng(1))).toThrow(KitError);
    expect(() => bootstrapMeanCI([1], new Rng(1), 0)).toThrow(KitError);
    expect(() => bootstrapMeanCI([1], new Rng(1), 10, 1)).toThrow(KitError);
  });
  it('evaluateSamples reports all metrics with intervals', () => {
    const table = [
      [true, false],
      [false, false],
      [true, true],
    ];
    const keys = [
      ['1', '2'],
      ['3', '3'],
      ['4', '4'],
    ];
    const r = evaluateSamples(table, 2, new Rng(3), keys, 300);
    // avg: (0.5 + 0 + 1)/3 = 0.5; pass@2 with n=2: A 1, B 0, C 1 → 2/3; majority: A "1" correct, B wrong, C correct → 2/3.
    expect(r.avg.value).toBeCloseTo(0.5, 12);
    expect(r.pass.value).toBeCloseTo(2 / 3, 12);
    expect(r.majority?.value).toBeCloseTo(2 / 3, 12);
    expect(r.avg.lo).toBeLessThanOrEqual(r.avg.value);
    expect(r.avg.hi).toBeGreaterThanOrEqual(r.avg.value);
    expect(r).toMatchObject({ problems: 3, samplesPerProblem: 2, k: 2 });
  });
});

describe('pairedDiffCI', () => {
  it('is the bootstrap of per-problem differences: a constant shift has a zero-width interval', () => {
    const b = [0, 0.25, 0.5, 1, 0, 0.75];
    const a = b.map((x) => x + 0.25);
    const d = pairedDiffCI(a, b, new Rng(3), 500);
    expect(d.value).toBeCloseTo(0.25, 12);
    expect(d.lo).toBeCloseTo(0.25, 12);
    expect(d.hi).toBeCloseTo(0.25, 12);
    // unpaired, the spread of problem difficulty would widen it
    const ua = bootstrapMeanCI(a, new Rng(3), 500);
    expect(ua.hi - ua.lo).toBeGreaterThan(0.2);
  });

  it('hand values: differences [0.5, 0, 0] → mean 1/6, interval inside [0, 0.5]; same seed, same interval', () => {
    const d = pairedDiffCI([1, 0.5, 0], [0.5, 0.5, 0], new Rng(1), 2000);
    expect(d.value).toBeCloseTo(1 / 6, 12);
    expect(d.lo).toBe(0); // a resample without the first problem has difference 0 (probability 8/27)
    expect(d.hi).toBeCloseTo(0.5, 12); // ... and one of only the first problem has 0.5 (1/27 > 2.5%)
    expect(pairedDiffCI([1, 0.5, 0], [0.5, 0.5, 0], new Rng(1), 2000)).toEqual(d);
  });

  it('different numbers of problems are a KitError', () => {
    expect(() => pairedDiffCI([1, 0], [1], new Rng(1))).toThrow(/same problems/);
  });
});
