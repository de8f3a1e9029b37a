// The non-learned baselines: fixed τ, EDT (τ = T0 · N^(θ/H)) and EAD (its authors' annealing, step-aware decay) at hand
// values; their log-prob is zero, they leak no tensors and have no variables.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend';
import { eadDecay, eadTau } from '../../src/policy/ead';
import { edtTau } from '../../src/policy/edt';
import { createController } from '../../src/policy/registry';
import { TauInputs } from '../../src/policy/types';
import { Rng } from '../../src/rng';
import { disposeInputs, randomInputs } from './helpers';

beforeAll(async () => {
  await initBackend('cpu', { log: () => {} });
});

function inputsWith(logits: number[][], position: number[]): TauInputs {
  const N = logits.length;
  return {
    hidden: tf.zeros([N, 4]) as tf.Tensor2D,
    logits: tf.tensor2d(logits),
    prevTau: tf.ones([N]) as tf.Tensor1D,
    position: tf.tensor1d(position),
  };
}

describe('fixed', () => {
  it('gives fixedTau everywhere, gate 1, z NaN, logp 0', () => {
    const c = createController('fixed', { fixedTau: 0.6 }, 4, 0);
    const x = randomInputs(3, 4, 5, 1);
    const s = c.act(x, new Rng(1));
    expect(Array.from(s.tau)).toEqual([0.6, 0.6, 0.6].map(Math.fround));
    expect(Array.from(s.gate)).toEqual([1, 1, 1]);
    expect(s.z.every(Number.isNaN)).toBe(true);
    expect(Array.from(s.logp)).toEqual([0, 0, 0]);
    expect(c.learned).toBe(false);
    expect(c.variables()).toEqual([]);
    disposeInputs(x);
  });
});

describe('edt', () => {
  it('formula at hand values (T0 = 1, N = 0.8, θ = 1)', () => {
    // H = ln 4 (uniform over 4): τ = 0.8^(1/ln 4) = exp(ln 0.8 / 1.3862944) = exp(−0.1609640) = 0.8513227
    // H = ln 2 (uniform over 2): τ = 0.8^(1/ln 2) = exp(−0.3219281) = 0.7247503
    // θ = 2, H = ln 2: τ = 0.8^(2/ln 2) = 0.7247503² = 0.5252630
    expect(edtTau(Math.log(4), 1, 0.8, 1, 0.1, 2)).toBeCloseTo(0.8513227, 6);
    expect(edtTau(Math.log(2), 1, 0.8, 1, 0.1, 2)).toBeCloseTo(0.7247503, 6);
    expect(edtTau(Math.log(2), 1, 0.8, 2, 0.1, 2)).toBeCloseTo(0.525263, 6);
    // H → 0: τ → T0 · 0 → clamped to τ_min; H ≤ 0 (rounding) is the same limit; T0 = 5 at high entropy → τ_max
    expect(edtTau(1e-9, 1, 0.8, 1, 0.1, 2)).toBe(0.1);
    expect(edtTau(0, 1, 0.8, 1, 0.1, 2)).toBe(0.1);
    expect(edtTau(-1e-8, 1, 0.8, 1, 0.1, 2)).toBe(0.1);
    expect(edtTau(1e6, 5, 0.8, 1, 0.1, 2)).toBe(2);
  });

  it('act() computes H from the logits at τ = 1 and clamps to [tauMin, tauMax]', () => {
    const c = createController('edt', { tauMin: 0.1, tauMax: 2 }, 4, 0);
    // rows: uniform over 4 tokens (H = ln 4); uniform over 2 of 4 (the others at −1e9: H = ln 2); one-hot-ish (H ≈ 0)
    const x = inputsWith(
      [
        [0, 0, 0, 0],
        [3, 3, -1e9, -1e9],
        [100, 0, 0, 0],
      ],
      [0, 1, 2],
    );
    const before = tf.memory().numTensors;
    const s = c.act(x, new Rng(1));
    expect(tf.memory().numTensors).toBe(before);
    expect(s.tau[0]).toBeCloseTo(0.8513227, 5);
    expect(s.tau[1]).toBeCloseTo(0.7247503, 5);
    expect(s.tau[2]).toBe(Math.fround(0.1));
    expect(Array.from(s.logp)).toEqual([0, 0, 0]);
    disposeInputs(x);
  });
});

describe('ead', () => {
  it("formula at hand values with the authors' constants (L 20, d_0 25, c 10, τ_max 1.2, τ_min 0.1)", () => {
    // step 0: d = 25, L·d = 500.  t < 10: 1.0;  t = 10: 2.2 − e^{0.02} = 2.2 − 1.0202013 = 1.1797987;
    // t = 100: 2.2 − e^{0.2} = 2.2 − 1.2214028 = 0.9785972;  t = 400: 2.2 − e^{0.8} = −0.0255 → floor 0.1
    expect(eadTau(0, 25, 10, 1.2, 0.1, 20)).toBe(1);
    expect(eadTau(9, 25, 10, 1.2, 0.1, 20)).toBe(1);
    expect(eadTau(10, 25, 10, 1.2, 0.1, 20)).toBeCloseTo(1.1797987, 6);
    expect(eadTau(100, 25, 10, 1.2, 0.1, 20)).toBeCloseTo(0.9785972, 6);
    expect(eadTau(400, 25, 10, 1.2, 0.1, 20)).toBe(0.1);
    // d_s = min(d0 + 5 s, 40000): d0 = 25 → s = 10: 75; s = 1e6: capped at 40000
    expect(eadDecay(10, 25, 5, 40000)).toBe(75);
    expect(eadDecay(1e6, 25, 5, 40000)).toBe(40000);
    // the kit's earlier variant as options (L 1, c 2, d = 150): t = 2: 2.2 − e^{2/150} = 2.2 − 1.0134228 = 1.1865772
    expect(eadTau(2, 150, 2, 1.2, 0.1, 1)).toBeCloseTo(1.1865772, 6);
  });

  it('act() uses the defaults, the training step from beginRollout and the token position', () => {
    const c = createController('ead', {}, 4, 0);
    c.beginRollout({ trainStep: 10, batch: 4 }, new Rng(1));
    // step 10: d = 75, L·d = 1500.  t = 9: 1.0 (warm-up);  t = 150: 2.2 − e^{0.1} = 2.2 − 1.1051709 = 1.0948291;
    // t = 900: 2.2 − e^{0.6} = 2.2 − 1.8221188 = 0.3778812;  t = 1500: 2.2 − e = −0.518 → floor 0.1
    const x = inputsWith([[0], [0], [0], [0]], [9, 150, 900, 1500]);
    const s = c.act(x, new Rng(1));
    expect(s.tau[0]).toBe(1);
    expect(s.tau[1]).toBeCloseTo(1.0948291, 6);
    expect(s.tau[2]).toBeCloseTo(0.3778812, 6);
    expect(s.tau[3]).toBe(Math.fround(0.1));
    expect(c.metrics!()['policy/ead_decay']).toBe(75);
    const st = JSON.parse(JSON.stringify(c.state()));
    const c2 = createController('ead', {}, 4, 0);
    c2.loadState(st);
    expect(Array.from(c2.act(x, new Rng(1)).tau)).toEqual(Array.from(s.tau));
    disposeInputs(x);
  });

  it('the earlier variant stays reachable through options', () => {
    const c = createController('ead', { eadLengthScale: 1, eadD0: 100, eadWarmTokens: 2 }, 4, 0);
    c.beginRollout({ trainStep: 10, batch: 2 }, new Rng(1));
    // d = 150: t = 1: 1.0; t = 100: 2.2 − e^{2/3} = 2.2 − 1.9477340 = 0.2522660
    const x = inputsWith([[0], [0]], [1, 100]);
    const s = c.act(x, new Rng(1));
    expect(s.tau[0]).toBe(1);
    expect(s.tau[1]).toBeCloseTo(0.252266, 6);
    disposeInputs(x);
  });

  it('log-prob is zeros [N] and leaks nothing inside tf.tidy', () => {
    const c = createController('ead', {}, 4, 0);
    const x = randomInputs(5, 4, 3, 2);
    const before = tf.memory().numTensors;
    const v = tf.tidy(() => c.logProb(x, tf.ones([5]) as tf.Tensor1D, tf.zeros([5]) as tf.Tensor1D).arraySync());
    expect(v).toEqual([0, 0, 0, 0, 0]);
    expect(tf.memory().numTensors).toBe(before);
    disposeInputs(x);
  });
});
