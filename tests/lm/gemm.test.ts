// The kit's SIMD matMul on wasm (src/lm/kernels/gemm.ts): the committed binary is the assembled source; on the
// 'batched' route every product is bit-identical to tfjs's own kernel (so no recorded result changes), across tails
// of every block size, transposeA and k blocks; the routes take exactly the cases they say; and a training step of
// the decoder gives bit-identical loss and gradients through either kernel.
import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend';
import { assembleGemm } from '../../src/lm/kernels/assemble';
import { GEMM_SHARED_WASM_BASE64, GEMM_WASM_BASE64 } from '../../src/lm/kernels/gemm-binary';
import { gemmCalls, gemmRoute, gemmStreamCalls, setGemmRoute, setGemmStream, STREAM_MIN_N } from '../../src/lm/kernels/gemm';
import { Decoder } from '../../src/lm/model';
import { matMulOn } from '../helpers/gemm';
import { tinyConfig } from '../helpers/kit';

let onWasm = false;
beforeAll(async () => {
  const info = await initBackend('wasm', { log: () => {} });
  onWasm = info.name === 'wasm' && tf.env().getBool('WASM_HAS_SIMD_SUPPORT');
});
afterEach(() => {
  setGemmRoute('batched');
  setGemmStream(true);
});

function bitsDiffer(x: Float32Array, y: Float32Array): number {
  const a = new Uint32Array(x.buffer, x.byteOffset, x.length);
  const b = new Uint32Array(y.buffer, y.byteOffset, y.length);
  let n = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) n++;
  return n;
}

describe('kit gemm', () => {
  it('the committed binary is the assembled source (run scripts/build-gemm.ts after editing gemm-wat.ts)', async () => {
    const built = Buffer.from(await assembleGemm()).toString('base64');
    expect(built).toBe(GEMM_WASM_BASE64);
    // The worker threads' build: the same module on a shared memory.
    expect(Buffer.from(await assembleGemm(true)).toString('base64')).toBe(GEMM_SHARED_WASM_BASE64);
  });

  it('is the default route on wasm; another is set by name (config key device.gemm, applied from the plan)', () => {
    if (!onWasm) return;
    expect(gemmRoute()).toBe('batched');
    expect(() => setGemmRoute('fast' as never)).toThrow(/unknown matMul route 'fast'; valid: batched, all, tfjs/);
    expect(gemmRoute()).toBe('batched');
  });

  it("batched products are bit-identical to tfjs-wasm's, over every row/column tail, k blocks and transposeA", () => {
    if (!onWasm) return;
    let cases = 0;
    // M covers the 4-row blocks and 1–3-row rests; N the 8/16-column blocks, 4-column blocks and single columns;
    // K one and several blocks of 48, and a partial last one.
    for (const [B, Ms, Ks, Ns] of [[3, [1, 2, 3, 4, 5, 6, 7, 9], [1, 5, 48, 49, 130], [1, 3, 4, 7, 8, 12, 16, 17, 21, 35]]] as const) {
      for (const M of Ms)
        for (const K of Ks)
          for (const N of Ns)
            for (const tA of [false, true]) {
              tf.tidy(() => {
                const a = tf.randomNormal(tA ? [B, K, M] : [B, M, K], 0, 1, 'float32', M * 1000 + K);
                const b = tf.randomNormal([B, K, N], 0, 1, 'float32', N);
                const ref = matMulOn('tfjs', a, b, tA);
                const kit = matMulOn('batched', a, b, tA);
                expect(ref.kit).toBe(false);
                expect(kit.kit).toBe(true);
                expect(bitsDiffer(ref.out, kit.out), `[${B},${M},${K}]·[${B},${K},${N}] tA=${tA}`).toBe(0);
              });
              cases++;
            }
    }
    expect(cases).toBe(8 * 5 * 10 * 2);
  });

  it('batched also covers 4-D batches and the attention shapes of decoding and training', () => {
    if (!onWasm) return;
    for (const [aShape, bShape] of [
      [
        [2, 4, 1, 16],
        [2, 4, 16, 160],
      ],
      [
        [2, 4, 1, 160],
        [2, 4, 160, 16],
      ],
      [
        [8, 160, 16],
        [8, 16, 160],
      ],
    ]) {
      tf.tidy(() => {
        const a = tf.randomNormal(aShape, 0, 1, 'float32', 1);
        const b = tf.randomNormal(bShape, 0, 1, 'float32', 2);
        const ref = matMulOn('tfjs', a, b);
        const kit = matMulOn('batched', a, b);
        expect(kit.kit).toBe(true);
        expect(bitsDiffer(ref.out, kit.out)).toBe(0);
      });
    }
  });

  it('routes: batched leaves 2-D, broadcast and transposeB products to tfjs; all takes 2-D ones, close to XNNPACK', () => {
    if (!onWasm) return;
    tf.tidy(() => {
      const x = tf.randomNormal([5, 37], 0, 1, 'float32', 3);
      const w = tf.randomNormal([37, 70], 0, 1, 'float32', 4);
      const xb = tf.randomNormal([3, 5, 37], 0, 1, 'float32', 5);
      expect(matMulOn('batched', x, w).kit).toBe(false);
      expect(matMulOn('batched', xb, w).kit).toBe(false); // B broadcast over A's batch
      expect(matMulOn('batched', xb, tf.randomNormal([3, 70, 37]), false, true).kit).toBe(false);
      const ref = matMulOn('tfjs', x, w).out;
      const all = matMulOn('all', x, w);
      expect(all.kit).toBe(true);
      let worst = 0;
      for (let i = 0; i < ref.length; i++) worst = Math.max(worst, Math.abs(ref[i] - all.out[i]) / (1 + Math.abs(ref[i])));
      expect(worst).toBeLessThan(1e-5);
      const refB = matMulOn('tfjs', xb, w).out;
      const allB = matMulOn('all', xb, w);
      expect(allB.kit).toBe(true);
      expect(Array.from(allB.out.slice(0, 5 * 70)).every((v, i) => Math.abs(v - refB[i]) < 1e-4 * (1 + Math.abs(refB[i])))).toBe(true);
      expect(matMulOn('all', x, tf.randomNormal([70, 37]), false, true).kit).toBe(false);
      expect(() => setGemmRoute('x' as never)).toThrow(/unknown matMul route 'x'/);
    });
  });

  it('products of ≤ 4 rows stream B row by row on route all: the bits of the register blocks, close to XNNPACK', () => {
    if (!onWasm) return;
    let cases = 0;
    for (const M of [1, 2, 3, 4])
      for (const K of [1, 5, 48, 49, 130])
        for (const N of [STREAM_MIN_N, 68, 200])
          for (const tA of [false, true]) {
            tf.tidy(() => {
              const a = tf.randomNormal(tA ? [K, M] : [M, K], 0, 1, 'float32', 7 * M + K);
              const b = tf.randomNormal([K, N], 0, 1, 'float32', N + K);
              const streamed = gemmStreamCalls();
              const s = matMulOn('all', a, b, tA);
              expect(gemmStreamCalls()).toBe(streamed + 1);
              setGemmStream(false);
              const blocks = matMulOn('all', a, b, tA);
              setGemmStream(true);
              expect(gemmStreamCalls()).toBe(streamed + 1);
              expect(s.kit && blocks.kit).toBe(true);
              expect(bitsDiffer(s.out, blocks.out), `[${M},${K}]·[${K},${N}] tA=${tA}`).toBe(0);
              const ref = matMulOn('tfjs', a, b, tA).out;
              for (let i = 0; i < ref.length; i++) expect(Math.abs(ref[i] - s.out[i])).toBeLessThan(1e-4 * (1 + Math.abs(ref[i])));
            });
            cases++;
          }
    expect(cases).toBe(4 * 5 * 3 * 2);
    // Five rows, a column count that is not a multiple of 4, or fewer than STREAM_MIN_N columns: the register blocks.
    tf.tidy(() => {
      const before = gemmStreamCalls();
      matMulOn('all', tf.ones([5, 8]), tf.ones([8, 64]));
      matMulOn('all', tf.ones([2, 8]), tf.ones([8, 66]));
      matMulOn('all', tf.ones([2, 8]), tf.ones([8, STREAM_MIN_N - 4]));
      expect(gemmStreamCalls()).toBe(before);
    });
  });

  it("a decoder training step: the same loss and gradients to the bit through either kernel, and it went through the kit's", () => {
    if (!onWasm) return;
    const model = Decoder.random(tinyConfig('qwen3'), 7);
    const ids = tf.tensor2d(
      Array.from({ length: 3 * 12 }, (_, i) => (i * 7) % 37),
      [3, 12],
      'int32',
    );
    const step = (route: 'tfjs' | 'batched') => {
      setGemmRoute(route);
      const before = gemmCalls();
      const { value, grads } = tf.variableGrads(
        () =>
          tf.tidy(() => {
            const logits = model.forward(ids).logits as tf.Tensor3D;
            return tf.mean(tf.square(logits)) as tf.Scalar;
          }),
        model.variables(),
      );
      const out = {
        loss: value.dataSync()[0],
        grads: Object.fromEntries(Object.entries(grads).map(([k, g]) => [k, g.dataSync() as Float32Array])),
        kit: gemmCalls() - before,
      };
      tf.dispose([value, ...Object.values(grads)]);
      return out;
    };
    const ref = step('tfjs');
    const kit = step('batched');
    expect(ref.kit).toBe(0);
    expect(kit.kit).toBeGreaterThan(0);
    expect(kit.loss).toBe(ref.loss);
    expect(Object.keys(kit.grads).sort()).toEqual(Object.keys(ref.grads).sort());
    for (const [k, g] of Object.entries(ref.grads)) expect(bitsDiffer(g, kit.grads[k]), k).toBe(0);
    ids.dispose();
    model.dispose();
  });
});
