// The kit's matMul on several threads on the cpu backend (src/lm/kernels/gemm.ts): the operands go into the workers'
// shared memory and every thread computes its part there; bit-identical to one thread over item and row splits,
// ragged ends, transposeA and B broadcast, and the row-streaming products of ≤ 4 rows stay on one thread. (Its own
// file: it runs on the cpu backend.)
import * as tf from '@tensorflow/tfjs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend';
import { gemmStreamCalls, gemmThreadedCalls, setGemmRoute, setGemmThreadLimits } from '../../src/lm/kernels/gemm';
import { setGemmThreads, stopGemmThreads } from '../../src/lm/kernels/gemm-threads';

beforeAll(async () => {
  await initBackend('cpu', { log: () => {} });
});
afterEach(() => {
  setGemmRoute('batched');
  setGemmThreadLimits();
});
afterAll(() => stopGemmThreads());

function bitsDiffer(x: Float32Array, y: Float32Array): number {
  const a = new Uint32Array(x.buffer, x.byteOffset, x.length);
  const b = new Uint32Array(y.buffer, y.byteOffset, y.length);
  let n = x.length === y.length ? 0 : Math.max(x.length, y.length);
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) n++;
  return n;
}

describe('kit gemm on worker threads (cpu backend)', () => {
  it('splits among 2 and 3 threads bit-identical to one thread; few-row streamed products stay on one', () => {
    setGemmThreadLimits({ minMacs: 0 });
    // [A, B, transposeA, split]
    const cases: [number[], number[], boolean, boolean][] = [
      [[5, 9, 33], [5, 33, 21], false, true],
      [[2, 11, 20], [2, 20, 13], false, true],
      [[2, 20, 11], [2, 20, 13], true, true],
      [[7, 50], [50, 19], false, true],
      [[50, 7], [50, 19], true, true],
      [[130, 70], [70, 90], false, true],
      [[3, 6, 20], [20, 12], false, true],
      [[2, 20, 9], [20, 12], true, true],
      [[4, 37], [37, 68], false, false],
      [[1, 64], [64, 200], false, false],
    ];
    const inputs = cases.map(([as, bs], i) => [tf.randomNormal(as, 0, 1, 'float32', i), tf.randomNormal(bs, 0, 1, 'float32', 100 + i)]);
    const results = [1, 2, 3].map((threads) => {
      setGemmThreads(threads);
      return cases.map(([as, , tA, split], i) => {
        const before = gemmThreadedCalls();
        const streamed = gemmStreamCalls();
        const t = tf.matMul(inputs[i][0], inputs[i][1], tA);
        const out = t.dataSync() as Float32Array;
        t.dispose();
        expect(gemmThreadedCalls() > before, `${as} on ${threads}`).toBe(threads > 1 && split);
        if (!split) expect(gemmStreamCalls()).toBe(streamed + 1);
        return out;
      });
    });
    for (const threads of [2, 3]) results[threads - 1].forEach((out, i) => expect(bitsDiffer(results[0][i], out), `${cases[i][0]} on ${threads}`).toBe(0));
    tf.dispose(inputs.flat());
  });
});
