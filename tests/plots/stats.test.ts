// Hand-derived checks of the statistics behind the figures and the interpretability numbers (src/plots/stats.ts).
import { describe, expect, it } from 'vitest';
import { binnedMeans, ema, mean, pearson, sampleStd, spearman, weightedRanks } from '../../src/plots/stats';

describe('pearson', () => {
  it('matches a hand-worked example', () => {
    // x = 1 2 3 4, y = 2 1 4 3: both means 2.5; dx = -1.5 -0.5 0.5 1.5, dy = -0.5 -1.5 1.5 0.5
    // Σdx·dy = 0.75 + 0.75 + 0.75 + 0.75 = 3; Σdx² = Σdy² = 2.25 + 0.25 + 0.25 + 2.25 = 5; r = 3 / √(5·5) = 0.6
    expect(pearson([1, 2, 3, 4], [2, 1, 4, 3])).toBeCloseTo(0.6, 12);
  });

  it('is ±1 for exact linear relations and NaN for a constant variable or too few points', () => {
    expect(pearson([1, 2, 3], [5, 7, 9])).toBeCloseTo(1, 12);
    expect(pearson([1, 2, 3], [3, 2, 1])).toBeCloseTo(-1, 12);
    expect(pearson([1, 2, 3], [0.7, 0.7, 0.7])).toBeNaN();
    expect(pearson([0.1 + 0.2, 0.3, 0.30000000000000004], [1, 2, 3])).toBeNaN();
    expect(pearson([1], [2])).toBeNaN();
  });

  it('with integer weights equals the computation on duplicated pairs', () => {
    const x = [1, 2, 3, 4, 5];
    const y = [2, 1, 4, 3, 7];
    const w = [2, 0, 1, 3, 1];
    const dx = x.flatMap((v, i) => Array(w[i]).fill(v));
    const dy = y.flatMap((v, i) => Array(w[i]).fill(v));
    expect(pearson(x, y, w)).toBeCloseTo(pearson(dx, dy), 12);
    expect(spearman(x, y, w)).toBeCloseTo(spearman(dx, dy), 12);
  });
});

describe('spearman', () => {
  it('is 1 for any strictly increasing relation, -1 for decreasing', () => {
    const x = [0.1, 0.5, 2, 3, 10];
    expect(
      spearman(
        x,
        x.map((v) => Math.exp(v)),
      ),
    ).toBeCloseTo(1, 12);
    expect(
      spearman(
        x,
        x.map((v) => -v * v * v),
      ),
    ).toBeCloseTo(-1, 12);
  });

  it('averages ranks of ties', () => {
    // x = 1 2 2 3 → ranks 1 2.5 2.5 4; y = 1 2 3 4. Rank deviations: dx = -1.5 0 0 1.5, dy = -1.5 -0.5 0.5 1.5
    // Σdx·dy = 2.25 + 2.25 = 4.5; Σdx² = 4.5; Σdy² = 5; r = 4.5 / √22.5 = 3/√10
    expect(Array.from(weightedRanks([1, 2, 2, 3]))).toEqual([1, 2.5, 2.5, 4]);
    expect(spearman([1, 2, 2, 3], [1, 2, 3, 4])).toBeCloseTo(3 / Math.sqrt(10), 12);
  });

  it('ranks with weights as if values were repeated', () => {
    // values 5, 1, 5 with weights 1, 2, 1: expanded 1 1 5 5 → ranks of 1 = 1.5, of 5 = 3.5
    expect(Array.from(weightedRanks([5, 1, 5], [1, 2, 1]))).toEqual([3.5, 1.5, 3.5]);
  });
});

describe('seed aggregation helpers', () => {
  it('mean, sample standard deviation and EMA', () => {
    expect(mean([1, 2, 6])).toBe(3);
    expect(mean([])).toBeNaN();
    // (0.1, 0.2, 0.3): deviations -0.1 0 0.1, Σ = 0.02, /(n-1) = 0.01, sd = 0.1
    expect(sampleStd([0.1, 0.2, 0.3])).toBeCloseTo(0.1, 12);
    expect(sampleStd([4])).toBe(0);
    // w = 0.5: s1 = 0.1; s2 = 0.5·0.1 + 0.5·0.2 = 0.15; s3 = 0.5·0.15 + 0.5·0.3 = 0.225
    const s = ema([0.1, 0.2, 0.3], 0.5);
    expect(s[0]).toBe(0.1);
    expect(s[1]).toBeCloseTo(0.15, 12);
    expect(s[2]).toBeCloseTo(0.225, 12);
    expect(ema([3, 1], 0)).toEqual([3, 1]);
    expect(() => ema([1], 1)).toThrow(/smoothing/);
  });

  it('binned means over equal-width bins, empty bins left out, the maximum in the last bin', () => {
    // range [0, 4], 2 bins of width 2: bin 0 gets x=0,1 (y 1, 3 → 2); bin 1 gets x=2.5, 4 (y 10, 20 → 15)
    const b = binnedMeans([0, 1, 2.5, 4], [1, 3, 10, 20], 2);
    expect(b).toEqual({ center: [1, 3], mean: [2, 15], count: [2, 2] });
    const c = binnedMeans([0, 4], [1, 2], 4);
    expect(c.center).toEqual([0.5, 3.5]);
    expect(c.count).toEqual([1, 1]);
  });
});
