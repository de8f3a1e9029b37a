// Log-densities of the value distributions at hand values (arithmetic in the comments), and the gate composition's
// Bernoulli term through a head whose outputs are forced to chosen values.
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend';
import { logBetaDensity } from '../../src/policy/beta';
import { CategoricalValue } from '../../src/policy/categorical';
import { GaussianValue } from '../../src/policy/gaussian';
import { createController } from '../../src/policy/registry';
import { softplusInverse } from '../../src/policy/special';
import { TemperatureController } from '../../src/policy/types';
import { disposeInputs, randomInputs, setHeadOutputs } from './helpers';

beforeAll(async () => {
  await initBackend('cpu', { log: () => {} });
});

const EPS = 1e-3; // the default epsilon
const U2 = softplusInverse(2 - EPS); // softplus(U2) + ε = 2
const U1 = softplusInverse(1 - EPS); // softplus(U1) + ε = 1

function lbeta(z: number[], a: number[], b: number[]): number[] {
  return tf.tidy(() => logBetaDensity(tf.tensor1d(z), tf.tensor1d(a), tf.tensor1d(b)).arraySync() as number[]);
}

describe('log Beta density', () => {
  it('matches hand values', () => {
    // Beta(2,2): pdf 6 z (1−z) → at ½: 6·¼ = 1.5.  Beta(1,1): pdf 1 → 0 everywhere.
    // Beta(2,5): 1/B(2,5) = Γ7/(Γ2 Γ5) = 720/24 = 30, pdf 30 z (1−z)⁴ → at 0.2: 30·0.2·0.8⁴ = 2.4576.
    // Beta(½,½) at ½: 1/B = 1/π, pdf (¼)^(−½)/π = 2/π.
    const got = lbeta([0.5, 0.1, 0.73, 0.2, 0.5], [2, 1, 1, 2, 0.5], [2, 1, 1, 5, 0.5]);
    const want = [Math.log(1.5), 0, 0, Math.log(2.4576), Math.log(2 / Math.PI)];
    got.forEach((g, i) => expect(g).toBeCloseTo(want[i], 5));
  });

  it('clamps z into (1e-6, 1 − 1e-6): finite at 0 and 1', () => {
    // Beta(2, 1) at z → 1e-6: pdf 2z → log(2e-6)
    const got = lbeta([0, 1], [2, 2], [1, 1]);
    expect(got[0]).toBeCloseTo(Math.log(2e-6), 3);
    expect(got[1]).toBeCloseTo(Math.log(2), 4);
  });
});

describe('categorical and Gaussian value log-densities', () => {
  it('categorical: logits [0, ln 3] → softmax [¼, ¾]', () => {
    const cat = new CategoricalValue([0.5, 1.5], 0.4, 1.6);
    const got = tf.tidy(
      () =>
        cat
          .logProb(
            tf.tensor2d([
              [0, Math.log(3)],
              [0, Math.log(3)],
            ]),
            tf.tensor1d([1, 0]),
          )
          .arraySync() as number[],
    );
    expect(got[0]).toBeCloseTo(Math.log(0.75), 6);
    expect(got[1]).toBeCloseTo(Math.log(0.25), 6);
  });

  it('gaussian: density of s = sigmoid(z) with the Jacobian', () => {
    // μ = 0, σ = 1, z = 0: s = ½, p(s) = N(0; 0, 1) / (s(1−s)) = 0.3989423 / 0.25 → ln = −½ ln 2π + 2 ln 2 = 0.4673558.
    // μ = 1, σ = 2, z = 3: ln N = −½(1)² − ln 2 − ½ ln 2π; Jacobian term softplus(3) + softplus(−3) = 3 + 2 ln(1 + e^{−3}).
    const g = new GaussianValue(0.4, 1.6, EPS, 1, 1);
    const uS2 = softplusInverse(2 - EPS);
    const got = tf.tidy(
      () =>
        g
          .logProb(
            tf.tensor2d([
              [0, U1],
              [1, uS2],
            ]),
            tf.tensor1d([0, 3]),
          )
          .arraySync() as number[],
    );
    expect(got[0]).toBeCloseTo(-0.5 * Math.log(2 * Math.PI) + 2 * Math.log(2), 5);
    expect(got[1]).toBeCloseTo(-0.5 - Math.log(2) - 0.5 * Math.log(2 * Math.PI) + 3 + 2 * Math.log1p(Math.exp(-3)), 5);
  });
});

describe('gate + value composition (introllm)', () => {
  let c: TemperatureController;
  beforeAll(() => {
    c = createController('introllm', {}, 8, 1);
  });
  afterAll(() => c.dispose());

  function logp(u: number[], gate: number[], z: number[]): number[] {
    setHeadOutputs(c, u);
    const x = randomInputs(gate.length, 8, 5, 2);
    const out = tf.tidy(() => c.logProb(x, tf.tensor1d(gate), tf.tensor1d(z)).arraySync() as number[]);
    disposeInputs(x);
    return out;
  }

  it('u_c = 0: P(c) = ½ both ways; Beta(2,2) at ½ adds ln 1.5; gate off adds nothing (z = NaN allowed)', () => {
    // gate 1: ln ½ + ln 1.5 = ln 0.75 ; gate 0: ln ½ only
    const got = logp([0, U2, U2], [1, 0, 0], [0.5, NaN, 0.5]);
    expect(got[0]).toBeCloseTo(Math.log(0.75), 5);
    expect(got[1]).toBeCloseTo(Math.log(0.5), 6);
    expect(got[2]).toBeCloseTo(Math.log(0.5), 6);
  });

  it('u_c = ln 3: P(c = 1) = 3/(3+1) = ¾, P(c = 0) = ¼', () => {
    // gate 1 with Beta(1,1): ln ¾ + 0 ; gate 1 with Beta(2,2) at ½: ln(¾ · 1.5) = ln 1.125 ; gate 0: ln ¼
    expect(logp([Math.log(3), U1, U1], [1], [0.3])[0]).toBeCloseTo(Math.log(0.75), 5);
    const got = logp([Math.log(3), U2, U2], [1, 0], [0.5, NaN]);
    expect(got[0]).toBeCloseTo(Math.log(1.125), 5);
    expect(got[1]).toBeCloseTo(Math.log(0.25), 6);
  });

  it('nogate: log π = log Beta only, whatever the gate tensor says', () => {
    const ng = createController('introllm-nogate', {}, 8, 1);
    setHeadOutputs(ng, [U2, U2]);
    const x = randomInputs(2, 8, 5, 3);
    const got = tf.tidy(() => ng.logProb(x, tf.tensor1d([1, 1]), tf.tensor1d([0.5, 0.5])).arraySync() as number[]);
    expect(got[0]).toBeCloseTo(Math.log(1.5), 5);
    disposeInputs(x);
    ng.dispose();
  });
});
