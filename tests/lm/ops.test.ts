// linear (src/lm/ops.ts): y = x · w with a gradient written out. Its weight gradient is xᵀ · dy when w is at least as
// tall as it is wide, and (dyᵀ · x)ᵀ when it is wider (so that the narrower operand is on XNNPACK's right, the one it
// packs): checked here against hand-derived values and, to the bit, against xᵀ · dy, on cpu and wasm.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend';
import { linear } from '../../src/lm/ops';

beforeAll(async () => {
  await initBackend('wasm', { log: () => {} });
  await initBackend('cpu', { log: () => {} });
});

/** dx and dw of sum(linear(x, w) ⊙ r), i.e. with upstream gradient r. */
function grads(x: tf.Tensor2D, w: tf.Tensor2D, r: tf.Tensor2D): [Float32Array, Float32Array] {
  const g = tf.grads((xi: tf.Tensor, wi: tf.Tensor) => tf.sum(tf.mul(linear(xi, wi), r)));
  const [dx, dw] = g([x, w]);
  const out: [Float32Array, Float32Array] = [dx.dataSync() as Float32Array, dw.dataSync() as Float32Array];
  tf.dispose([dx, dw]);
  return out;
}

const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

for (const backend of ['cpu', 'wasm'] as const) {
  describe(`linear's gradient on ${backend}`, () => {
    it('hand-derived: x [3, 2], w [2, 3] (wider than tall) and its transpose', async () => {
      await tf.setBackend(backend);
      tf.tidy(() => {
        const x = tf.tensor2d([1, 2, 3, 4, 5, 6], [3, 2]);
        const w = tf.tensor2d([1, 0, -1, 2, 1, 0], [2, 3]);
        const r = tf.tensor2d([1, 0, 0, 0, 1, 0, 0, 0, 2], [3, 3]);
        expect(Array.from(linear(x, w).dataSync())).toEqual([5, 2, -1, 11, 4, -3, 17, 6, -5]);
        const [dx, dw] = grads(x, w, r);
        // dx = r · wᵀ: rows (1, 0, 0) → (1, 2), (0, 1, 0) → (0, 1), (0, 0, 2) → (-2, 0).
        expect(Array.from(dx)).toEqual([1, 2, 0, 1, -2, 0]);
        // dw = xᵀ · r: column j of r picks rows of x: (1, 2), (3, 4), 2 · (5, 6).
        expect(Array.from(dw)).toEqual([1, 3, 10, 2, 4, 12]);
        // w [3, 2] (taller than wide) takes the other formula.
        const w2 = tf.tensor2d([1, 2, 0, 1, -1, 0], [3, 2]);
        const x2 = tf.tensor2d([1, 2, 3, 4, 5, 6], [2, 3]);
        const r2 = tf.tensor2d([1, 0, 0, 2], [2, 2]);
        const [dx2, dw2] = grads(x2, w2, r2);
        expect(Array.from(dx2)).toEqual([1, 0, -1, 4, 2, 0]);
        expect(Array.from(dw2)).toEqual([1, 8, 2, 10, 3, 12]);
      });
    });

    it('equals xᵀ · dy and dy · wᵀ to the bit, wider and taller weights, hundreds of rows', async () => {
      await tf.setBackend(backend);
      for (const [n, din, dout] of [
        [300, 96, 256],
        [300, 256, 96],
        [257, 5, 7],
        [64, 48, 48],
      ]) {
        tf.tidy(() => {
          const x = tf.randomNormal([n, din], 0, 1, 'float32', 1) as tf.Tensor2D;
          const w = tf.randomNormal([din, dout], 0, 1, 'float32', 2) as tf.Tensor2D;
          const r = tf.randomNormal([n, dout], 0, 1, 'float32', 3) as tf.Tensor2D;
          const [dx, dw] = grads(x, w, r);
          expect(bits(dw), `dw [${din}, ${dout}]`).toEqual(bits(tf.matMul(tf.transpose(x), r).dataSync() as Float32Array));
          expect(bits(dx), `dx [${n}, ${din}]`).toEqual(bits(tf.matMul(r, tf.transpose(w)).dataSync() as Float32Array));
        });
      }
    });
  });
}
