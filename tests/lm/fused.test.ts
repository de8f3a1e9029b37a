// The fused RMSNorm, SiLU · up and RoPE kernels of the wasm backend (src/lm/kernels/fused.ts): the committed binary,
// hand-derived values, the fused kernels against the tfjs ops they replace (forward to the bit, gradients to float32
// rounding, on sizes with and without a ragged end for the SIMD loops), a decoder's logits and every parameter's
// gradient with and without them, and the kernel counts they save.
import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend';
import { assembleFused } from '../../src/lm/kernels/assemble';
import { FUSED_WASM_BASE64 } from '../../src/lm/kernels/fused-binary';
import { fusedKernels, rmsNorm, rope, setFusedKernels, siluMul } from '../../src/lm/kernels/fused';
import { Decoder } from '../../src/lm/model';
import { Rng } from '../../src/rng';
import { tinyConfig } from '../helpers/kit';

beforeAll(async () => {
  await initBackend('wasm', { log: () => {} });
});

afterEach(() => setFusedKernels(true));

const randn = (rng: Rng, shape: number[], scale = 1) =>
  tf.tensor(
    Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => scale * (rng.next() * 2 - 1)),
    shape,
  );

function maxRelDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let scale = 0;
  let d = 0;
  for (let i = 0; i < b.length; i++) {
    scale = Math.max(scale, Math.abs(b[i]));
    d = Math.max(d, Math.abs(a[i] - b[i]));
  }
  return d / Math.max(scale, 1e-30);
}

/** f's value and its gradients with respect to xs, fused and composed. */
function bothWays(xs: tf.Tensor[], f: (...xs: tf.Tensor[]) => tf.Tensor, weight: tf.Tensor): { fused: Float32Array[]; composed: Float32Array[] } {
  const once = (on: boolean) => {
    setFusedKernels(on);
    expect(fusedKernels()).toBe(on);
    const loss = (...a: tf.Tensor[]) => tf.sum(tf.mul(f(...a), weight)) as tf.Scalar;
    const { value, grads } = tf.valueAndGrads(loss)(xs);
    const y = tf.tidy(() => f(...xs));
    const out = [y, ...grads].map((t) => t.dataSync() as Float32Array);
    tf.dispose([value, y, ...grads]);
    return out;
  };
  return { fused: once(true), composed: once(false) };
}

describe('fused kernels on wasm', () => {
  it('the committed binary is the assembled source (run scripts/build-gemm.ts after editing fused-wat.ts)', async () => {
    expect(Buffer.from(await assembleFused()).toString('base64')).toBe(FUSED_WASM_BASE64);
  });

  it('run on wasm with SIMD only; off, or on another backend, the ops are composed', async () => {
    expect(fusedKernels()).toBe(true);
    setFusedKernels(false);
    expect(fusedKernels()).toBe(false);
    setFusedKernels(true);
    await tf.setBackend('cpu');
    try {
      expect(fusedKernels()).toBe(false);
      expect(Array.from(rmsNorm(tf.tensor2d([[3, 4]]), tf.tensor1d([1, 2]), 0).dataSync())).toEqual([
        expect.closeTo(3 / Math.sqrt(12.5), 6),
        expect.closeTo(8 / Math.sqrt(12.5), 6),
      ]);
    } finally {
      await tf.setBackend('wasm');
    }
  });

  it('RMSNorm: a hand-derived row, and one kernel forward where the composed op runs six or more', async () => {
    // x = [3, 4], w = [1, 2], eps 0: mean(x²) = 12.5, y = [3, 8] / √12.5.
    const y = rmsNorm(tf.tensor2d([[3, 4]]), tf.tensor1d([1, 2]), 0).dataSync();
    expect(y[0]).toBeCloseTo(3 / Math.sqrt(12.5), 6);
    expect(y[1]).toBeCloseTo(8 / Math.sqrt(12.5), 6);
    const x = tf.ones([4, 8]);
    const w = tf.ones([8]);
    const kernels = async (on: boolean) => {
      setFusedKernels(on);
      return (await tf.profile(() => rmsNorm(x, w, 1e-6))).kernels.filter((k) => tf.getKernel(k.name, 'wasm')).length;
    };
    expect(await kernels(true)).toBe(1);
    expect(await kernels(false)).toBeGreaterThanOrEqual(6);
    tf.dispose([x, w]);
  });

  it('RMSNorm: fused and composed agree, the value to the bit and the gradients (x and w) to rounding, on rows of 2-D and 3-D inputs', () => {
    const rng = new Rng(1);
    for (const shape of [
      [7, 24],
      [5, 3, 18],
      [4, 3],
    ]) {
      const d = shape[shape.length - 1];
      const x = randn(rng, shape, 2);
      const w = randn(rng, [d]);
      const weight = randn(rng, shape);
      const { fused, composed } = bothWays([x, w], (a, b) => rmsNorm(a, b, 1e-5), weight);
      expect(fused[0]).toEqual(composed[0]);
      for (let i = 1; i < 3; i++) expect(maxRelDiff(fused[i], composed[i])).toBeLessThan(2e-6);
      tf.dispose([x, w, weight]);
    }
  });

  it('RMSNorm gradient: a hand-derived value', () => {
    // One row x = [3, 4], w = [1, 2], eps 0, loss = y₀: inv = 1/√12.5; dx = inv · [1, 0] − x · inv³ · 3 / 2.
    const x = tf.tensor2d([[3, 4]]);
    const w = tf.tensor1d([1, 2]);
    const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.slice(rmsNorm(a, b, 0), [0, 0], [1, 1])))([x, w]);
    const inv = 1 / Math.sqrt(12.5);
    const c = (3 * inv ** 3 * 1) / 2;
    expect(Array.from(dx.dataSync())[0]).toBeCloseTo(inv - 3 * c, 6);
    expect(Array.from(dx.dataSync())[1]).toBeCloseTo(-4 * c, 6);
    expect(Array.from(dw.dataSync())).toEqual([expect.closeTo(3 * inv, 6), 0]);
  });

  it('SiLU · up: hand-derived values, and fused and composed agree, the value to the bit and the gradients to rounding', () => {
    const y = siluMul(tf.tensor1d([0, 2, -3]), tf.tensor1d([5, 0.5, 2])).dataSync();
    const sig = (v: number) => 1 / (1 + Math.exp(-v));
    expect(y[0]).toBe(0);
    expect(y[1]).toBeCloseTo(2 * sig(2) * 0.5, 6);
    expect(y[2]).toBeCloseTo(-3 * sig(-3) * 2, 6);
    const rng = new Rng(2);
    for (const shape of [
      [9, 20],
      [7, 13],
    ]) {
      const g = randn(rng, shape, 6);
      const u = randn(rng, shape, 2);
      const weight = randn(rng, shape);
      const { fused, composed } = bothWays([g, u], siluMul, weight);
      expect(fused[0]).toEqual(composed[0]);
      for (let i = 1; i < 3; i++) expect(maxRelDiff(fused[i], composed[i])).toBeLessThan(2e-6);
      tf.dispose([g, u, weight]);
    }
  });

  it('RoPE: the rotate-half map by hand, its gradient its transpose, and fused and composed agree (the value to the bit)', () => {
    // hd 4: y = [x0 c0 − x2 s0, x1 c1 − x3 s1, x2 c2 + x0 s2, x3 c3 + x1 s3].
    const x = tf.tensor3d([[[1, 2, 3, 4]]]);
    const cos = tf.tensor3d([[[0.5, 0.25, 2, 3]]]);
    const sin = tf.tensor3d([[[1, -1, 0.5, 2]]]);
    const composed = () => {
      const [x1, x2] = tf.split(x, 2, -1);
      return tf.add(tf.mul(x, cos), tf.mul(tf.concat([tf.neg(x2), x1], -1), sin));
    };
    expect(Array.from(rope(x, cos, sin, composed).dataSync())).toEqual([0.5 - 3, 0.5 + 4, 6 + 0.5, 12 + 4]);
    const rng = new Rng(3);
    for (const hd of [8, 12, 2]) {
      const xs = randn(rng, [6, 3, hd]);
      const c = randn(rng, [6, 1, hd]);
      const s = randn(rng, [6, 1, hd]);
      const weight = randn(rng, [6, 3, hd]);
      const comp = (a: tf.Tensor) => {
        const [a1, a2] = tf.split(a, 2, -1);
        return tf.add(tf.mul(a, c), tf.mul(tf.concat([tf.neg(a2), a1], -1), s));
      };
      const both = bothWays([xs], (a) => rope(a, c, s, () => comp(a)), weight);
      expect(both.fused[0]).toEqual(both.composed[0]);
      expect(maxRelDiff(both.fused[1], both.composed[1])).toBeLessThan(2e-6);
      tf.dispose([xs, c, s, weight]);
    }
    tf.dispose([x, cos, sin]);
  });
});

describe('a decoder with and without the fused kernels (wasm)', () => {
  beforeAll(async () => {
    await tf.setBackend('wasm');
  });

  for (const arch of ['llama', 'qwen3'] as const) {
    it(`${arch}: the same logits to the bit, every parameter's gradient to float32 rounding, and fewer kernels`, async () => {
      const model = Decoder.random(tinyConfig(arch), 4, { std: 0.3 });
      const B = 2;
      const T = 6;
      const ids = tf.tensor2d(Int32Array.from([1, 5, 6, 7, 8, 9, 0, 1, 8, 9, 5, 5]), [B, T], 'int32');
      const mask = Float32Array.from([1, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1]);
      const rng = new Rng(4);
      const wl = randn(rng, [B, T, model.cfg.vocabSize]);
      const vars = model.variables() as tf.Variable[];
      const run = (on: boolean) => {
        setFusedKernels(on);
        const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(tf.logSoftmax(model.forward(ids, mask).logits), wl)) as tf.Scalar, vars);
        const logits = tf.tidy(() => model.forward(ids, mask).logits.dataSync() as Float32Array);
        const out = { loss: value.dataSync()[0], logits, grads: vars.map((v) => grads[v.name].dataSync() as Float32Array) };
        tf.dispose([value, ...Object.values(grads)]);
        return out;
      };
      const fused = run(true);
      const composed = run(false);
      expect(fused.logits).toEqual(composed.logits);
      expect(fused.loss).toBe(composed.loss);
      vars.forEach((v, i) => expect(maxRelDiff(fused.grads[i], composed.grads[i]), v.name).toBeLessThan(1e-4));
      const kernels = async (on: boolean) => {
        setFusedKernels(on);
        const p = await tf.profile(() => model.forward(ids, mask).logits);
        return p.kernels.filter((k) => tf.getKernel(k.name, 'wasm')).length;
      };
      expect(await kernels(true)).toBeLessThan((await kernels(false)) - 8 * model.cfg.numLayers);
      tf.dispose([ids, wl]);
      model.dispose();
    });
  }
});
