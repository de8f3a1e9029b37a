// The non-learned baselines: fixed τ, EDT (τ = T0 · N^(θ/H)) and EAD (annealing with a step-aware decay) at hand
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
    const x = inputsWith([[0, 0, 0, 0], [3, 3, -1e9, -1e9], [100, 0, 0, 0]], [0, 1, 2]);
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
  it('formula at hand values (τ_max 1.2, τ_min 0.1, c = 2, d = 150)', () => {
    // t < c: 1.0;  t = 2: 1 + 1.2 − e^{2/150} = 2.2 − 1.0134228 = 1.1865774;  t = 100: 2.2 − e^{2/3} = 2.2 − 1.9477340 =
    // 0.2522660;  t = 150: 2.2 − e = −0.518 → floor 0.1
    expect(eadTau(0, 150, 2, 1.2, 0.1)).toBe(1);
    expect(eadTau(1, 150, 2, 1.2, 0.1)).toBe(1);
    expect(eadTau(2, 150, 2, 1.2, 0.1)).toBeCloseTo(1.1865774, 6);
    expect(eadTau(100, 150, 2, 1.2, 0.1)).toBeCloseTo(0.252266, 6);
    expect(eadTau(150, 150, 2, 1.2, 0.1)).toBe(0.1);
    // d_s = min(d0 + 5 s, 40000): d0 = 100 → s = 10: 150; s = 1e6: capped at 40000
    expect(eadDecay(10, 100, 5, 40000)).toBe(150);
    expect(eadDecay(1e6, 100, 5, 40000)).toBe(40000);
  });

  it('act() uses the training step from beginRollout and the token position', () => {
    const c = createController('ead', {}, 4, 0); // defaults: d0 100, growth 5, τ_max 1.2, τ_min 0.1, c 2
    c.beginRollout({ trainStep: 10, batch: 4 }, new Rng(1));
    const x = inputsWith([[0], [0], [0], [0]], [0, 2, 100, 150]);
    const s = c.act(x, new Rng(1));
    expect(s.tau[0]).toBe(1);
    expect(s.tau[1]).toBeCloseTo(1.1865774, 6);
    expect(s.tau[2]).toBeCloseTo(0.252266, 6);
    expect(s.tau[3]).toBe(Math.fround(0.1));
    expect(c.metrics!()['policy/ead_decay']).toBe(150);
    const st = JSON.parse(JSON.stringify(c.state()));
    const c2 = createController('ead', {}, 4, 0);
    c2.loadState(st);
    expect(Array.from(c2.act(x, new Rng(1)).tau)).toEqual(Array.from(s.tau));
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
