// TAMPO's meta-policy as its published summaries describe it (arXiv 2602.11779): sparsemax credit over the candidates,
// the batch mean of credit × advantage, an EMA, min–max normalisation and a top-p draw, all at hand values; one τ for
// the whole rollout batch by default; an exact state round trip.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend';
import { createController } from '../../src/policy/registry';
import { minMaxDistribution, nucleus, sparsemax, TampoController } from '../../src/policy/tampo';
import { Rng } from '../../src/rng';
import { disposeInputs, expectKitError, randomInputs } from './helpers';

beforeAll(async () => {
  await initBackend('cpu', { log: () => {} });
});

const tampo = (cfg = {}) => createController('tampo', cfg, 4, 0) as TampoController;
const close = (got: number[], want: number[]) => {
  expect(got.length).toBe(want.length);
  got.forEach((g, i) => expect(g).toBeCloseTo(want[i], 9));
};

describe('tampo building blocks', () => {
  it('sparsemax at hand values', () => {
    // [0.5, 0.2, −1]: support {0.5, 0.2} (1 + 2·0.2 > 0.7, 1 + 3·(−1) < −0.3), η = (0.7 − 1)/2 = −0.15 → [0.65, 0.35, 0]
    close(sparsemax([0.5, 0.2, -1]), [0.65, 0.35, 0]);
    // mean log-likelihoods [−0.9, −1.0, −1.6]: support of two, η = (−1.9 − 1)/2 = −1.45 → [0.55, 0.45, 0]
    close(sparsemax([-0.9, -1.0, -1.6]), [0.55, 0.45, 0]);
    close(sparsemax([-3, -3]), [0.5, 0.5]);
    close(sparsemax([-100, 0]), [0, 1]);
    expectKitError(() => sparsemax([0, NaN]), 'sparsemax');
  });

  it('min–max distribution and the top-p nucleus at hand values', () => {
    close(minMaxDistribution([0, 0, 0]), [1 / 3, 1 / 3, 1 / 3]);
    // shifted by the min: [0.03, 0, 0.01] / 0.04
    close(minMaxDistribution([0.02, -0.01, 0]), [0.75, 0, 0.25]);
    close(nucleus([0.75, 0, 0.25], 0.7), [1, 0, 0]);
    close(nucleus([0.75, 0, 0.25], 0.9), [0.75, 0, 0.25]);
    // a candidate tied with the last one taken joins the nucleus
    close(nucleus([0.4, 0.3, 0.3], 0.5), [0.4, 0.3, 0.3]);
    close(nucleus([0.25, 0.25, 0.25, 0.25], 0.5), [0.25, 0.25, 0.25, 0.25]);
    // top-p 0 = greedy; ties share it
    close(nucleus([0.4, 0.3, 0.3], 0), [1, 0, 0]);
    close(nucleus([0.5, 0.5, 0], 0), [0.5, 0.5, 0]);
  });
});

describe('tampo', () => {
  it('defaults: the ten candidates 0.6…1.5, uniform at the start, one τ for the batch', () => {
    const c = tampo();
    expect(c.taus).toEqual([0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.3, 1.4, 1.5]);
    const m = c.metrics();
    for (const k of ['0.6', '1.0', '1.5']) {
      expect(m[`policy/tampo_p_${k}`]).toBeCloseTo(0.1, 12);
      expect(m[`policy/tampo_s_${k}`]).toBe(0);
    }
    expect(m['policy/tampo_mean_tau']).toBeCloseTo(1.05, 12);
    c.beginRollout({ trainStep: 0, batch: 6 }, new Rng(1));
    expect(new Set(c.rowTaus()!).size).toBe(1);
    // the uniform start (all tied) keeps every candidate in the nucleus: 300 draws reach all ten
    const seen = new Set<number>();
    const rng = new Rng(2);
    for (let i = 0; i < 300; i++) {
      c.beginRollout({ trainStep: 0, batch: 1 }, rng);
      seen.add(c.rowTaus()![0]);
    }
    expect(seen.size).toBe(10);
  });

  it("act() repeats each row's τ at every step (also with rows); row scope draws per row", () => {
    const c = tampo({ tampoScope: 'row' });
    c.beginRollout({ trainStep: 0, batch: 6 }, new Rng(1));
    const rowTau = c.rowTaus()!;
    expect(new Set(rowTau).size).toBeGreaterThan(1);
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

  it('sparsemax credit, batch-mean advantage, EMA, min–max and top-p at hand values', () => {
    const c = tampo({ tampoTaus: [0.5, 1.0, 1.5] });
    // r0: A = 1, ℓ = [−0.9, −1.0, −1.6] → ℓ̂ = [0.55, 0.45, 0];  r1: A = −1, ℓ = [−100, 0, −100] → ℓ̂ = [0, 1, 0]
    // Â = ½ (ℓ̂(0) − ℓ̂(1)) = [0.275, −0.275, 0];  S = 0.05 Â = [0.01375, −0.01375, 0]
    // min–max: [0.0275, 0, 0.01375] / 0.04125 = [2/3, 0, 1/3];  top-p 0.7 keeps 2/3 and then 1/3 (2/3 < 0.7)
    const obs = {
      rowTau: Float32Array.from([1.0, 1.0]),
      reward: Float32Array.from([1, 0]),
      advantage: Float32Array.from([1, -1]),
      logLikByTau: Float32Array.from([-0.9, -1.0, -1.6, -100, 0, -100]),
    };
    c.observe(obs);
    close(c.scores(), [0.01375, -0.01375, 0]);
    close(c.probs(), [2 / 3, 0, 1 / 3]);
    close(c.drawProbs(), [2 / 3, 0, 1 / 3]);
    close(tampo({ tampoTaus: [0.5, 1.0, 1.5], tampoTopP: 0.5 }).drawProbs(), [1 / 3, 1 / 3, 1 / 3]);
    // EMA: a batch with zero advantage only decays S by 0.95
    c.observe({ ...obs, advantage: Float32Array.from([0, 0]) });
    close(c.scores(), [0.0130625, -0.0130625, 0]);
    // greedy (top-p 0) then always picks τ = 0.5
    const g = tampo({ tampoTaus: [0.5, 1.0, 1.5], tampoTopP: 0 });
    g.observe(obs);
    close(g.drawProbs(), [1, 0, 0]);
    g.beginRollout({ trainStep: 1, batch: 3 }, new Rng(4));
    expect(Array.from(g.rowTaus()!)).toEqual([0.5, 0.5, 0.5]);
    expect(g.metrics()['policy/tampo_updates']).toBe(1);
  });

  it('without logLikByTau each row credits the τ it was sampled at (advantage defaults to reward − mean)', () => {
    const c = tampo();
    // A = [−½, ½]: Â_0.6 = −¼, Â_1.2 = ¼, others 0 → S = ±0.0125; min–max over ten: 0.6 → 0, eight at 0.0125, 1.2 at
    // 0.025, sum 0.125 → p(1.2) = 0.2, p(0.6) = 0, the rest 0.1
    c.observe({ rowTau: Float32Array.from([0.6, 1.2]), reward: Float32Array.from([0, 1]) });
    const p = c.probs();
    expect(p[6]).toBeCloseTo(0.2, 12);
    expect(p[0]).toBe(0);
    for (const k of [1, 2, 3, 4, 5, 7, 8, 9]) expect(p[k]).toBeCloseTo(0.1, 12);
    expect(c.drawProbs()[0]).toBe(0);
  });

  it('state round-trips exactly through JSON: scores, probabilities, row assignment and later draws', () => {
    const a = tampo({ tampoScope: 'row' });
    const rng = new Rng(5);
    for (let s = 0; s < 4; s++) {
      a.beginRollout({ trainStep: s, batch: 8 }, rng);
      const rowTau = a.rowTaus()!;
      a.observe({ rowTau, reward: Float32Array.from(rowTau, (t) => (t > 1 ? 1 : 0.3)) });
    }
    a.beginRollout({ trainStep: 4, batch: 8 }, rng);
    const b = tampo({ tampoScope: 'row' });
    b.loadState(JSON.parse(JSON.stringify(a.state())));
    expect(b.scores()).toEqual(a.scores());
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
    expectKitError(() => c.observe({ rowTau: Float32Array.from([0.65]), reward: Float32Array.from([1]) }), 'rowTau[0] = ');
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
