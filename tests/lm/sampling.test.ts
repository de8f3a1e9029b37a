// The one temperature path: log softmax(logits / τ) with hand-derived values, the sampler's distribution, greedy τ = 0.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend';
import { sampleTokens, temperatureLogSoftmax, tokenLogp, tokenLogProbs } from '../../src/lm/sampling';
import { Rng } from '../../src/rng';
import { expectKitError } from '../helpers/kit';

beforeAll(async () => {
  await initBackend('wasm', { log: () => {} });
});

describe('temperature path', () => {
  it('log softmax(logits / τ) per row', () => {
    // Row 0: logits [0, ln 3], τ = 1 → p = [1/4, 3/4]. Row 1: logits [0, ln 9], τ = 2 → [0, ln 3]/1 → p = [1/4, 3/4].
    const lp = tf.tidy(() =>
      temperatureLogSoftmax(
        tf.tensor2d([
          [0, Math.log(3)],
          [0, Math.log(9)],
        ]),
        tf.tensor1d([1, 2]),
      ).arraySync(),
    ) as number[][];
    for (const row of lp) {
      expect(row[0]).toBeCloseTo(Math.log(0.25), 6);
      expect(row[1]).toBeCloseTo(Math.log(0.75), 6);
    }
    expectKitError(() => temperatureLogSoftmax(tf.zeros([2, 3]), tf.zeros([2, 3])), 'tau must have rank 1');
  });

  it('tokenLogProbs: log-prob of the chosen token and the entropy at τ', () => {
    // logits [0, ln 3] at τ = 1: p = [1/4, 3/4]; H = −(1/4 ln 1/4 + 3/4 ln 3/4) = 0.5623351446.
    const { logp, entropy } = tf.tidy(() => {
      const r = tokenLogProbs(
        tf.tensor3d([
          [
            [0, Math.log(3)],
            [0, Math.log(3)],
          ],
        ]),
        tf.tensor2d([[1, 1]]),
        tf.tensor2d([[0, 1]], [1, 2], 'int32'),
      );
      return { logp: r.logp.arraySync(), entropy: r.entropy.arraySync() };
    });
    expect(logp[0][0]).toBeCloseTo(Math.log(0.25), 6);
    expect(logp[0][1]).toBeCloseTo(Math.log(0.75), 6);
    expect(entropy[0][0]).toBeCloseTo(0.5623351446, 6);
  });

  it('sampleTokens follows softmax(logits / τ), reports its log-prob, and τ = 0 is argmax', () => {
    const before = tf.memory().numTensors;
    const rng = new Rng(11);
    // τ = 2 on logits [0, ln 9, −∞-ish]: p ∝ [1, 3, ~0] → [0.25, 0.75, 0].
    const logits = tf.tensor2d([
      [0, Math.log(9), -80],
      [0, Math.log(9), -80],
    ]);
    const counts = [0, 0, 0];
    const n = 4000;
    for (let i = 0; i < n; i++) {
      const s = sampleTokens(logits, [2, 0], rng);
      counts[s.tokens[0]]++;
      expect(s.tokens[1]).toBe(1); // greedy row
      expect(s.logp[0]).toBeCloseTo(Math.log(s.tokens[0] === 1 ? 0.75 : 0.25), 4);
    }
    // Binomial std of the count of token 1: sqrt(n·0.75·0.25) ≈ 27; allow 5 std.
    expect(Math.abs(counts[1] - 0.75 * n)).toBeLessThan(5 * 27.4);
    expect(counts[2]).toBe(0);
    logits.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('the same seed gives the same tokens', () => {
    const logits = tf.randomNormal([4, 50], 0, 2, 'float32', 3) as tf.Tensor2D;
    const a = sampleTokens(logits, [1, 1, 0.5, 1.5], new Rng(5)).tokens;
    const b = sampleTokens(logits, [1, 1, 0.5, 1.5], new Rng(5)).tokens;
    expect(Array.from(a)).toEqual(Array.from(b));
    logits.dispose();
  });
});

describe("tokenLogp (the loss's log-probs)", () => {
  it('equals Σ_v log softmax(logits/τ) ⊙ one-hot(y) — the formulation it replaced — to the bit, value and gradient', () => {
    const rng = new Rng(12);
    const [B, T, V] = [3, 4, 11];
    const logits = tf.tensor3d(
      Float32Array.from({ length: B * T * V }, () => 6 * rng.next() - 3),
      [B, T, V],
    );
    const tau = tf.tensor2d(
      Float32Array.from({ length: B * T }, () => 0.4 + rng.next()),
      [B, T],
    );
    const tokens = tf.tensor2d(
      Int32Array.from({ length: B * T }, () => Math.floor(rng.next() * V)),
      [B, T],
      'int32',
    );
    const w = tf.tensor2d(
      Float32Array.from({ length: B * T }, () => rng.next() - 0.5),
      [B, T],
    );
    const oneHotWay = (l: tf.Tensor) => tf.sum(tf.mul(temperatureLogSoftmax(l, tau), tf.oneHot(tokens, V)), -1);
    const loss = (f: (l: tf.Tensor) => tf.Tensor) => (l: tf.Tensor) => tf.sum(tf.mul(f(l), w));
    expect(Array.from(tokenLogp(logits, tau, tokens).dataSync())).toEqual(Array.from(oneHotWay(logits).dataSync()));
    expect(Array.from(tokenLogp(logits, tau, tokens).dataSync())).toEqual(Array.from(tokenLogProbs(logits, tau, tokens).logp.dataSync()));
    const gNew = tf.grad(loss((l) => tokenLogp(l as tf.Tensor3D, tau, tokens)))(logits);
    const gOld = tf.grad(loss(oneHotWay))(logits);
    expect(Array.from(gNew.dataSync())).toEqual(Array.from(gOld.dataSync()));
    // Hand check of one entry: log softmax at the token.
    const row = Array.from(logits.dataSync().slice(0, V), (x) => x / tau.dataSync()[0]);
    const lse = Math.log(row.reduce((s, x) => s + Math.exp(x), 0));
    expect(tokenLogp(logits, tau, tokens).dataSync()[0]).toBeCloseTo(row[tokens.dataSync()[0]] - lse, 5);
  });
});
