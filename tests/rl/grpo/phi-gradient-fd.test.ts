// The temperature loss's gradient against central finite differences, for every parameter of the IntroLLM head (W1,
// b1, W2, b2: every element): the clipped GRPO surrogate over log π_φ = log P(c) + c · log Beta(z), with gate-on and
// gate-off rows, ratios inside the clip band, and tokens whose ratio is clipped (which must contribute nothing).
// Also: the log-prob recorded at act() time equals the loss-time logProb() on the same inputs.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src/backend';
import { createController } from '../../../src/policy/registry';
import { TemperatureController } from '../../../src/policy/types';
import { policyLoss } from '../../../src/rl/grpo/loss';
import { Rng } from '../../../src/rng';

beforeAll(async () => {
  await initBackend('wasm', { log: () => {} });
});

const D = 6;
const B = 4;
const T = 5;

describe('temperature loss gradient', () => {
  it('equals central finite differences on every head parameter, and act() records logProb()', () => {
    // A head whose outputs are not at their initial values (larger W2), so every parameter has a gradient.
    // A broad initial Beta (concentration 4): the gradient's formula does not depend on it, and there float32 central
    // differences resolve it; at the default 50 the loss carries terms of size ~35 and the differences get noisy.
    const c: TemperatureController = createController('introllm', { headInitScale: 1, headInitConcentration: 4 }, D, 3);
    const rng = new Rng(5);
    const N = B * T;
    const hiddenArr = Float32Array.from({ length: N * D }, () => 2 * rng.next() - 1);
    const inputs = () => ({
      hidden: tf.tensor2d(hiddenArr, [N, D]),
      logits: tf.zeros([N, 3]) as tf.Tensor2D,
      prevTau: tf.fill([N], 1) as tf.Tensor1D,
      position: tf.zeros([N]) as tf.Tensor1D,
    });
    const inp = inputs();
    const sample = c.act(inp, rng.fork('act'));
    // recorded (act, host) vs loss-time (logProb, device) log-probs
    const logpNow = tf.tidy(() => c.logProb(inp, tf.tensor1d(sample.gate, 'float32'), tf.tensor1d(sample.z)).dataSync());
    for (let i = 0; i < N; i++) expect(Math.abs(logpNow[i] - sample.logp[i])).toBeLessThan(2e-5 * Math.max(1, Math.abs(sample.logp[i])));
    expect(sample.gate.some((g) => g === 0) && sample.gate.some((g) => g === 1)).toBe(true);

    // Behaviour log-probs: the current ones shifted by ±0.1 (ratios 0.90–1.11, inside the band), except two tokens
    // shifted by −1 (ratio e ≈ 2.7 > 1 + ε_high): on a positive-advantage row these are clipped and carry no gradient.
    const old = Float32Array.from(sample.logp, (v, i) => v + (i === 2 || i === 7 ? -1 : 0.2 * (rng.next() - 0.5)));
    const adv = Float32Array.from([1.2, 0.7, -0.9, -1.0]);
    const mask = Float32Array.from({ length: N }, (_, i) => (i % T === T - 1 && i >= 2 * T ? 0 : 1)); // rows 2, 3 end early
    const lossOf = (): tf.Scalar =>
      tf.tidy(() => {
        const x = inputs();
        const logp = tf.reshape(c.logProb(x, tf.tensor1d(sample.gate, 'float32'), tf.tensor1d(sample.z)), [B, T]);
        return policyLoss({
          logpNew: logp,
          logpOld: tf.tensor2d(old, [B, T]),
          advantages: adv,
          mask: tf.tensor2d(mask, [B, T]),
          clipLow: 0.2,
          clipHigh: 0.28,
          aggregation: 'token-mean',
        }).loss;
      });
    const vars = c.variables();
    const { grads, value } = tf.variableGrads(lossOf, vars);
    value.dispose();
    let checked = 0;
    let nonzero = 0;
    for (const v of vars) {
      const g = grads[v.name].dataSync();
      const w = v.dataSync().slice() as Float32Array;
      for (let i = 0; i < w.length; i++) {
        const h = 1e-2 * Math.max(1, Math.abs(w[i]));
        const at = (x: number) => {
          const p = w.slice();
          p[i] = x;
          v.assign(tf.tensor(p, v.shape));
          const l = lossOf();
          const out = l.dataSync()[0];
          l.dispose();
          return out;
        };
        const fd = (at(w[i] + h) - at(w[i] - h)) / (2 * h);
        v.assign(tf.tensor(w, v.shape));
        expect(Math.abs(fd - g[i]), `${v.name}[${i}]: analytic ${g[i]}, finite difference ${fd}`).toBeLessThan(2e-3 * Math.max(0.05, Math.abs(g[i])) + 2e-4);
        checked++;
        if (Math.abs(g[i]) > 1e-3) nonzero++;
      }
    }
    // W1 [6, 3], b1 [3], W2 [3, 3], b2 [3]: all 33 elements checked, most with a real gradient
    expect(checked).toBe(D * 3 + 3 + 3 * 3 + 3);
    expect(nonzero).toBeGreaterThan(checked / 2);
    tf.dispose(Object.values(grads));
    tf.dispose(Object.values(inp));
    c.dispose();
  });

  it('a clipped token contributes no gradient: the loss is flat in its log-prob', () => {
    // one token, A > 0, ratio e^1 (above 1 + 0.28): d loss / d logpNew = 0 (hand value: the clipped branch is constant)
    const x = tf.variable(tf.tensor2d([[0]]));
    const { grads, value } = tf.variableGrads(
      () =>
        policyLoss({
          logpNew: x,
          logpOld: tf.tensor2d([[-1]]),
          advantages: Float32Array.from([1]),
          mask: tf.tensor2d([[1]]),
          clipLow: 0.2,
          clipHigh: 0.28,
          aggregation: 'token-mean',
        }).loss,
      [x],
    );
    expect(value.dataSync()[0]).toBeCloseTo(-1.28, 6);
    expect(grads[x.name].dataSync()[0]).toBe(0);
    tf.dispose([x, value, ...Object.values(grads)]);
  });
});
