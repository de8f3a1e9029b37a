// The host-side Beta sampler (Marsaglia–Tsang Gamma draws, log-space boost for shapes < 1): sample mean and variance
// over 20k draws against α/(α+β) and αβ/((α+β)²(α+β+1)), within 5 standard errors; Bernoulli rate; determinism.
import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/rng';
import { sampleBernoulli, sampleBeta, sampleLogGamma } from '../../src/policy/random';

/** Mean, variance and the standard errors of both for Beta(a, b) with n draws. The SE of the sample variance is
 *  √((μ4 − σ⁴)/n), μ4 = (excess kurtosis + 3) σ⁴, excess kurtosis of Beta =
 *  6[(a−b)²(a+b+1) − ab(a+b+2)] / [ab(a+b+2)(a+b+3)]. */
function betaMoments(a: number, b: number, n: number) {
  const s = a + b;
  const mean = a / s;
  const v = (a * b) / (s * s * (s + 1));
  const kurt = (6 * ((a - b) ** 2 * (s + 1) - a * b * (s + 2))) / (a * b * (s + 2) * (s + 3));
  const mu4 = (kurt + 3) * v * v;
  return { mean, v, seMean: Math.sqrt(v / n), seVar: Math.sqrt((mu4 - v * v) / n) };
}

describe('sampleBeta', () => {
  const N = 20000;
  for (const [a, b] of [
    [2, 2],
    [2, 5],
    [0.5, 0.5],
    [0.3, 2],
    [20, 3],
    [1, 1],
    [0.01, 0.01],
  ]) {
    it(`Beta(${a}, ${b}): mean and variance within 5 standard errors`, () => {
      const rng = new Rng(1000 + a * 100 + b);
      let m = 0;
      const xs = new Float64Array(N);
      for (let i = 0; i < N; i++) {
        xs[i] = sampleBeta(a, b, rng);
        expect(xs[i] >= 0 && xs[i] <= 1).toBe(true);
        m += xs[i] / N;
      }
      let v = 0;
      for (let i = 0; i < N; i++) v += (xs[i] - m) ** 2 / (N - 1);
      const ref = betaMoments(a, b, N);
      expect(Math.abs(m - ref.mean)).toBeLessThan(5 * ref.seMean);
      expect(Math.abs(v - ref.v)).toBeLessThan(5 * ref.seVar);
    });
  }

  it('Gamma draws have mean a (a = 0.5, 3): E[exp(logG)] within 5 SE (sd √a)', () => {
    for (const a of [0.5, 3]) {
      const rng = new Rng(7);
      let m = 0;
      for (let i = 0; i < N; i++) m += Math.exp(sampleLogGamma(a, rng)) / N;
      expect(Math.abs(m - a)).toBeLessThan(5 * Math.sqrt(a / N));
    }
  });

  it('is deterministic for a seed', () => {
    const r1 = new Rng(42);
    const r2 = new Rng(42);
    for (let i = 0; i < 100; i++) expect(sampleBeta(0.7, 3, r1)).toBe(sampleBeta(0.7, 3, r2));
  });
});

describe('sampleBernoulli', () => {
  it('has rate p (p = 0.75, 20k draws, 5 SE)', () => {
    const rng = new Rng(3);
    let k = 0;
    for (let i = 0; i < 20000; i++) k += sampleBernoulli(0.75, rng);
    expect(Math.abs(k / 20000 - 0.75)).toBeLessThan(5 * Math.sqrt((0.75 * 0.25) / 20000));
  });
});
