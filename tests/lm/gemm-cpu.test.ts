// The kit's matMul on the cpu backend (src/lm/kernels/gemm.ts): operands copied into the kit's own wasm memory. It
// takes every float32 product without transposeB, matches tfjs-cpu's JavaScript matMul to float rounding, and a
// decoder forward through it matches the one through tfjs's kernel. (Its own file: it runs on the cpu backend.)
import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend';
import { gemmStreamCalls, setGemmRoute } from '../../src/lm/kernels/gemm';
import { matMulOn } from '../helpers/gemm';
import { Decoder } from '../../src/lm/model';
import { tinyConfig } from '../helpers/kit';

beforeAll(async () => {
  const info = await initBackend('cpu', { log: () => {} });
  expect(info.detail).toBe('pure JavaScript, matMul kit (wasm SIMD)');
});
afterEach(() => setGemmRoute('batched'));

describe('kit gemm on the cpu backend', () => {
  it('2-D, batched, broadcast and transposeA products match tfjs-cpu; transposeB stays with tfjs', () => {
    const cases: [number[], number[], boolean][] = [
      [[3, 5], [5, 7], false],
      [[1, 64], [64, 200], false],
      [[4, 37], [37, 68], false],
      [[37, 4], [37, 68], true],
      [[2, 9, 50], [2, 50, 17], false],
      [[2, 50, 9], [2, 50, 17], true],
      [[3, 6, 20], [20, 12], false],
      [[130, 70], [70, 90], false],
    ];
    const streamed = gemmStreamCalls();
    for (const [as, bs, tA] of cases) {
      tf.tidy(() => {
        const a = tf.randomNormal(as, 0, 1, 'float32', 1);
        const b = tf.randomNormal(bs, 0, 1, 'float32', 2);
        const ref = matMulOn('tfjs', a, b, tA);
        const kit = matMulOn('batched', a, b, tA);
        expect(ref.kit).toBe(false);
        expect(kit.kit, `${as} · ${bs}`).toBe(true);
        expect(kit.out.length).toBe(ref.out.length);
        for (let i = 0; i < ref.out.length; i++) expect(Math.abs(kit.out[i] - ref.out[i])).toBeLessThan(1e-4 * (1 + Math.abs(ref.out[i])));
      });
    }
    expect(gemmStreamCalls()).toBe(streamed + 3); // [1, 64]·[64, 200], [4, 37]·[37, 68] and its transposeA twin
    tf.tidy(() => {
      expect(matMulOn('batched', tf.ones([3, 4]), tf.ones([5, 4]), false, true).kit).toBe(false);
    });
  });

  it("a decoder forward and its gradients through the kit's kernel match tfjs-cpu's", () => {
    const model = Decoder.random(tinyConfig('qwen3'), 9, { std: 0.3 });
    const ids = tf.tensor2d(
      [
        [3, 4, 5, 6, 7, 8],
        [9, 10, 11, 12, 13, 14],
      ],
      [2, 6],
      'int32',
    );
    const run = (route: 'tfjs' | 'batched') => {
      setGemmRoute(route);
      const { value, grads } = tf.variableGrads(() => tf.tidy(() => tf.mean(tf.square(model.forward(ids).logits)) as tf.Scalar), model.variables());
      const out = { loss: value.dataSync()[0], g: Object.values(grads).map((g) => Array.from(g.dataSync())) };
      tf.dispose([value, ...Object.values(grads)]);
      return out;
    };
    const ref = run('tfjs');
    const kit = run('batched');
    expect(Math.abs(kit.loss - ref.loss)).toBeLessThan(1e-5 * (1 + Math.abs(ref.loss)));
    ref.g.forEach((g, i) => g.forEach((v, j) => expect(Math.abs(kit.g[i][j] - v)).toBeLessThan(1e-4 * (1 + Math.abs(v)))));
    ids.dispose();
    model.dispose();
  });
});
