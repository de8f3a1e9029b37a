// TAMPO's meta-policy (our reading of arXiv 2602.11779): one τ per rollout row, an EMA of per-temperature advantages
// moves probability toward the temperature whose rollouts succeed, the likelihood-weighted credit at hand values, and
// an exact state round trip.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend';
import { createController } from '../../src/policy/registry';
import { TampoController } from '../../src/policy/tampo';
import { Rng } from '../../src/rng';
import { disposeInputs, expectKitError, randomInputs } from './helpers';

beforeAll(async () => {
  await initBackend('cpu', { log: () => {} });
});

const tampo = (cfg = {}) => createController('tampo', cfg, 4, 0) as TampoController;

describe('tampo', () => {
  it('starts uniform and names its metrics by τ', () => {
    const c = tampo();
    const m = c.metrics();
    for (const k of ['0.6', '0.8', '1.0', '1.2', '1.4']) {
      expect(m[`policy/tampo_p_${k}`]).toBeCloseTo(0.2, 12);
      expect(m[`policy/tampo_w_${k}`]).toBe(0);
    }
    expect(m['policy/tampo_mean_tau']).toBeCloseTo(1.0, 12);
  });

  it('one τ per row from beginRollout; act() repeats it at every step (also with rows)', () => {
    const c = tampo();
    c.beginRollout({ trainStep: 0, batch: 6 }, new Rng(1));
    const rowTau = c.rowTaus()!;
    const x = randomInputs(6, 4, 3, 1);
    const s1 = c.act(x, new Rng(2));
    const s2 = c.act(x, new Rng(3));
    expect(Array.from(s1.tau)).toEqual(Array.from(rowTau));
    expect(Array.from(s2.tau)).toEqual(Array.from(rowTau));
    expect(Array.from(s1.gate)).toEqual([1, 1, 1, 1, 1, 1]);
    expect(Array.from(s1.logp)).toEqual([0, 0, 0, 0, 0, 0]);
    const x2 = randomInputs(2, 4, 3, 2);
    const s3 = c.act({ ...x2, rows: Int32Array.from([5, 0]) }, new Rng(4));
    expect(Array.from(s3.tau)).toEqual([rowTau[5], rowTau[0]]);
    disposeInputs(x);
    disposeInputs(x2);
  });

  it('act() before beginRollout and rows outside the batch are KitErrors', () => {
    const c = tampo();
    const x = randomInputs(2, 4, 3, 1);
    expectKitError(() => c.act(x, new Rng(1)), 'beginRollout');
    c.beginRollout({ trainStep: 0, batch: 2 }, new Rng(1));
    expectKitError(() => c.act({ ...x, rows: Int32Array.from([0, 2]) }, new Rng(1)), 'row 2');
    disposeInputs(x);
  });

  it('moves probability toward the temperature with higher reward (hand values)', () => {
    const c = tampo();
    // one row per candidate, only τ = 1.2 succeeds: mean reward 0.2, A = [−0.2, −0.2, −0.2, 0.8, −0.2]
    // w = 0.1 · A; softmax(w / 0.1) = softmax(A): e^{0.8} = 2.2255409, e^{−0.2} = 0.8187308, sum 5.5004641
    // p(1.2) = 0.95 · 0.4046132 + 0.01 = 0.3943792; others 0.95 · 0.1488467 + 0.01 = 0.1514052
    c.observe({ rowTau: Float32Array.from([0.6, 0.8, 1.0, 1.2, 1.4]), reward: Float32Array.from([0, 0, 0, 1, 0]) });
    const p = c.probs();
    expect(p[3]).toBeCloseTo(0.3943792, 6);
    for (const k of [0, 1, 2, 4]) expect(p[k]).toBeCloseTo(0.1514052, 6);
    // repeated success keeps moving it up
    for (let i = 0; i < 5; i++) c.observe({ rowTau: Float32Array.from([1.2, 0.6]), reward: Float32Array.from([1, 0]) });
    expect(c.probs()[3]).toBeGreaterThan(p[3]);
    expect(c.probs()[0]).toBeLessThan(p[0]);
  });

  it('likelihood-weighted credit (logLikByTau) at hand values', () => {
    const c = tampo({ tampoTaus: [0.5, 1.0] });
    // rows: r0 reward 1, equally likely under both τ → responsibilities [½, ½]; r1 reward 0, explained by τ = 1.0 only
    // (ℓ = [−100, 0] → [e^{−100}, 1] ≈ [0, 1]). A = r − mean = [½, −½].
    // Â_0.5 = (½·½) / ½ = ½;  Â_1.0 = (½·½ + 1·(−½)) / (½ + 1) = −1/6;  w = 0.1 · Â = [0.05, −0.0166667]
    // p_0.5 = 0.95 · sigmoid((0.05 + 0.0166667)/0.1) + 0.025 = 0.95 · 0.6607564 + 0.025 = 0.6527186
    c.observe({ rowTau: Float32Array.from([0.5, 1.0]), reward: Float32Array.from([1, 0]), logLikByTau: Float32Array.from([-3, -3, -100, 0]) });
    expect(c.weights()[0]).toBeCloseTo(0.05, 7);
    expect(c.weights()[1]).toBeCloseTo(-1 / 60, 7);
    expect(c.probs()[0]).toBeCloseTo(0.6527186, 6);
  });

  it('state round-trips exactly through JSON: weights, probabilities, row assignment and later draws', () => {
    const a = tampo();
    const rng = new Rng(5);
    for (let s = 0; s < 4; s++) {
      a.beginRollout({ trainStep: s, batch: 8 }, rng);
      const rowTau = a.rowTaus()!;
      a.observe({ rowTau, reward: Float32Array.from(rowTau, (t) => (t > 1 ? 1 : 0.3)) });
    }
    a.beginRollout({ trainStep: 4, batch: 8 }, rng);
    const b = tampo();
    b.loadState(JSON.parse(JSON.stringify(a.state())));
    expect(b.weights()).toEqual(a.weights());
    expect(b.probs()).toEqual(a.probs());
    expect(b.metrics()).toEqual(a.metrics());
    expect(Array.from(b.rowTaus()!)).toEqual(Array.from(a.rowTaus()!));
    const ra = new Rng(9);
    const rb = new Rng(9);
    a.beginRollout({ trainStep: 5, batch: 16 }, ra);
    b.beginRollout({ trainStep: 5, batch: 16 }, rb);
    expect(Array.from(b.rowTaus()!)).toEqual(Array.from(a.rowTaus()!));
    expectKitError(() => tampo({ tampoTaus: [0.5, 1] }).loadState(a.state()), 'tampo.loadState', 'taus');
  });

  it('group and batch scopes share a τ within a prompt / the batch', () => {
    const g = tampo({ tampoScope: 'group' });
    g.beginRollout({ trainStep: 0, batch: 6, groups: Int32Array.from([0, 0, 0, 1, 1, 1]) }, new Rng(2));
    const t = g.rowTaus()!;
    expect(t[0]).toBe(t[1]);
    expect(t[1]).toBe(t[2]);
    expect(t[3]).toBe(t[5]);
    expectKitError(() => g.beginRollout({ trainStep: 0, batch: 6 }, new Rng(2)), 'groups');
    const b = tampo({ tampoScope: 'batch' });
    b.beginRollout({ trainStep: 0, batch: 5 }, new Rng(3));
    expect(new Set(b.rowTaus()!).size).toBe(1);
  });

  it('observe() rejects a τ that is not a candidate and mismatched lengths', () => {
    const c = tampo();
    expectKitError(() => c.observe({ rowTau: Float32Array.from([0.7]), reward: Float32Array.from([1]) }), 'rowTau[0] = ');
    expectKitError(() => c.observe({ rowTau: Float32Array.from([0.6]), reward: Float32Array.from([1, 0]) }), 'reward');
    expectKitError(() => c.observe({ rowTau: Float32Array.from([0.6]), reward: Float32Array.from([1]), logLikByTau: Float32Array.from([0]) }), 'logLikByTau');
  });

  it('leaks no tensors', () => {
    const c = tampo();
    c.beginRollout({ trainStep: 0, batch: 3 }, new Rng(1));
    const x = randomInputs(3, 4, 3, 1);
    const before = tf.memory().numTensors;
    c.act(x, new Rng(1));
    tf.tidy(() => {
      c.logProb(x, tf.ones([3]) as tf.Tensor1D, tf.zeros([3]) as tf.Tensor1D);
    });
    expect(tf.memory().numTensors).toBe(before);
    disposeInputs(x);
  });
});
