// Group advantages (grpo with both std kinds and with scaleByStd off, rloo), worked by hand in the comments, plus the
// argument errors. Plain host arrays: no backend needed.
import { describe, expect, it } from 'vitest';
import { ADVANTAGE_ESTIMATORS, computeAdvantages, DEFAULT_ADVANTAGE_OPTIONS } from '../../../src/rl/grpo/advantages';
import { Rng } from '../../../src/rng';
import { expectKitError } from '../../helpers/kit';

function expectClose(actual: ArrayLike<number>, expected: number[], digits = 6): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) expect(actual[i], `index ${i}`).toBeCloseTo(expected[i], digits);
}

// Two prompts, G = 4: group 0 = [1, 0, 0, 1], group 1 = [1, 1, 1, 1].
const REWARDS = Float32Array.from([1, 0, 0, 1, 1, 1, 1, 1]);
const EPS = 1e-6;

describe('grpo advantages', () => {
  it('population std: group 0 has mean 0.5 and std 0.5, so A = ±0.5 / (0.5 + eps); the all-ones group gives 0', () => {
    // Group 0: deviations +0.5, −0.5, −0.5, +0.5; population variance = 4·0.25 / 4 = 0.25, std = 0.5.
    // A = ±0.5 / (0.5 + 1e-6) = ±0.999998.  Group 1: all equal → A = 0 and it counts as zero-variance.
    const a = 0.5 / (0.5 + EPS);
    const { advantages, stats } = computeAdvantages('grpo', REWARDS, { groupSize: 4, stdKind: 'population' });
    expectClose(advantages, [a, -a, -a, a, 0, 0, 0, 0]);
    expect(Array.from(advantages.slice(4))).toEqual([0, 0, 0, 0]); // exact zeros, not rounding noise
    expect(stats).toEqual({ numGroups: 2, groupSize: 4, zeroVarianceFraction: 0.5, meanAbsAdvantage: expect.closeTo((4 * a) / 8, 6) });
  });

  it('with eps = 0 the population-std advantages of group 0 are exactly ±1', () => {
    const { advantages } = computeAdvantages('grpo', REWARDS, { groupSize: 4, stdKind: 'population', eps: 0 });
    expect(Array.from(advantages)).toEqual([1, -1, -1, 1, 0, 0, 0, 0]);
  });

  it('sample std (the default): variance 1/3, so A = ±0.5 / (sqrt(1/3) + eps) = ±0.866024', () => {
    // Sample variance = (4 · 0.25) / (4 − 1) = 1/3, std = 0.577350; 0.5 / 0.577351 = 0.866024.
    expect(DEFAULT_ADVANTAGE_OPTIONS.stdKind).toBe('sample');
    const a = 0.5 / (Math.sqrt(1 / 3) + EPS);
    expect(a).toBeCloseTo(0.866024, 6);
    const { advantages } = computeAdvantages('grpo', REWARDS, { groupSize: 4 });
    expectClose(advantages, [a, -a, -a, a, 0, 0, 0, 0]);
  });

  it('scaleByStd off (Dr. GRPO) is R − mean: ±0.5', () => {
    const { advantages, stats } = computeAdvantages('grpo', REWARDS, { groupSize: 4, scaleByStd: false });
    expect(Array.from(advantages)).toEqual([0.5, -0.5, -0.5, 0.5, 0, 0, 0, 0]);
    expect(stats.meanAbsAdvantage).toBe(0.25);
  });

  it('non-binary rewards [3, 1, 2] with G = 3: deviations 1, −1, 0, sample variance 2/2 = 1 → A = (1, −1, 0)/(1 + eps)', () => {
    const { advantages, stats } = computeAdvantages('grpo', [3, 1, 2], { groupSize: 3 });
    expectClose(advantages, [1 / (1 + EPS), -1 / (1 + EPS), 0]);
    expect(stats.zeroVarianceFraction).toBe(0);
  });

  it('advantages of each group sum to 0 and options set to undefined fall back to the defaults', () => {
    const rng = new Rng(7);
    const r = Float32Array.from({ length: 24 }, () => Math.floor(rng.nextUint32() / 2 ** 30));
    const a = computeAdvantages('grpo', r, { groupSize: 6, stdKind: undefined, eps: undefined }).advantages;
    const b = computeAdvantages('grpo', r, { groupSize: 6 }).advantages;
    expect(Array.from(a)).toEqual(Array.from(b));
    for (let g = 0; g < 4; g++) expect(a.slice(g * 6, g * 6 + 6).reduce((s, v) => s + v, 0)).toBeCloseTo(0, 5);
  });
});

describe('rloo advantages', () => {
  it('group [1, 0, 0, 1]: 1 − (0+0+1)/3 = 2/3 and 0 − (1+0+1)/3 = −2/3; the all-ones group gives 0', () => {
    const { advantages, stats } = computeAdvantages('rloo', REWARDS, { groupSize: 4 });
    expectClose(advantages, [2 / 3, -2 / 3, -2 / 3, 2 / 3, 0, 0, 0, 0]);
    expect(stats.zeroVarianceFraction).toBe(0.5);
    expect(stats.meanAbsAdvantage).toBeCloseTo(1 / 3, 6);
  });

  it('group [3, 1, 2]: 3 − 1.5 = 1.5, 1 − 2.5 = −1.5, 2 − 2 = 0; equals G/(G−1)·(R − mean)', () => {
    const { advantages } = computeAdvantages('rloo', [3, 1, 2], { groupSize: 3 });
    expectClose(advantages, [1.5, -1.5, 0]);
    const rng = new Rng(3);
    const r = Array.from({ length: 10 }, () => rng.nextUint32() / 2 ** 32);
    const loo = computeAdvantages('rloo', r, { groupSize: 5 }).advantages;
    const centred = computeAdvantages('grpo', r, { groupSize: 5, scaleByStd: false }).advantages;
    for (let i = 0; i < 10; i++) expect(loo[i]).toBeCloseTo((5 / 4) * centred[i], 6);
  });
});

describe('argument errors', () => {
  it('an unknown estimator lists the valid ones', () => {
    expect(Object.keys(ADVANTAGE_ESTIMATORS)).toEqual(['grpo', 'rloo']);
    expectKitError(() => computeAdvantages('ppo', REWARDS, { groupSize: 4 }), "unknown advantage estimator 'ppo'", 'grpo, rloo');
  });

  it('groupSize < 2, a fractional groupSize, a batch not divisible by G, an empty batch', () => {
    expectKitError(() => computeAdvantages('grpo', REWARDS, { groupSize: 1 }), 'groupSize', '≥ 2');
    expectKitError(() => computeAdvantages('rloo', REWARDS, { groupSize: 2.5 }), 'groupSize');
    expectKitError(() => computeAdvantages('grpo', REWARDS, { groupSize: 3 }), 'rewards has 8 rows', 'groupSize 3');
    expectKitError(() => computeAdvantages('grpo', new Float32Array(0), { groupSize: 2 }), 'rewards is empty');
  });

  it('a non-finite reward names its index; bad stdKind, eps and scaleByStd are named', () => {
    expectKitError(() => computeAdvantages('grpo', [0, 1, NaN, 1], { groupSize: 2 }), 'rewards[2]', 'NaN');
    expectKitError(() => computeAdvantages('grpo', [0, 1], { groupSize: 2, stdKind: 'biased' as never }), 'stdKind');
    expectKitError(() => computeAdvantages('grpo', [0, 1], { groupSize: 2, eps: -1 }), 'eps');
    expectKitError(() => computeAdvantages('grpo', [0, 1], { groupSize: 2, scaleByStd: 1 as never }), 'scaleByStd');
  });
});
