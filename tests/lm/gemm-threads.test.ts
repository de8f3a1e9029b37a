// The kit's matMul on several threads (src/lm/kernels/gemm-threads.ts) on wasm: every product split among 2 or 3
// threads is bit-identical to the one-thread kernel — whole batch items, row ranges with ragged ends, transposeA,
// B broadcast, a decoder's training step — products below the threshold stay on one thread, a worker that cannot
// start leaves the kernel on one thread with one line said, and a process with workers still running exits.
// device.threads is a config key the run's plan hands to the backend. (Its own file: it changes the process's
// matMul threads.)
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { applyRunPlan, currentBackend, initBackend } from '../../src/backend';
import { resolveConfig, setOverrides } from '../../src/config';
import { gemmCalls, gemmThreadedCalls, setGemmRoute, setGemmThreadLimits, THREAD_MIN_MACS } from '../../src/lm/kernels/gemm';
import { gemmThreads, setGemmThreads, setGemmWorkerSourceForTests, stopGemmThreads } from '../../src/lm/kernels/gemm-threads';
import { Decoder } from '../../src/lm/model';
import { planFor, runningBackend } from '../../src/plan/gather';
import { FIXTURES, tinyConfig } from '../helpers/kit';

let onWasm = false;
beforeAll(async () => {
  const info = await initBackend('wasm', { log: () => {} });
  onWasm = info.name === 'wasm' && tf.env().getBool('WASM_HAS_SIMD_SUPPORT');
});
afterEach(() => {
  setGemmRoute('batched');
  setGemmThreadLimits();
  setGemmWorkerSourceForTests(null);
});
afterAll(() => stopGemmThreads());

function bitsDiffer(x: Float32Array, y: Float32Array): number {
  const a = new Uint32Array(x.buffer, x.byteOffset, x.length);
  const b = new Uint32Array(y.buffer, y.byteOffset, y.length);
  let n = x.length === y.length ? 0 : Math.max(x.length, y.length);
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) n++;
  return n;
}

/** The product on `threads` threads: its values, and whether it was split among them. */
function product(threads: number, a: tf.Tensor, b: tf.Tensor, tA: boolean): { out: Float32Array; split: boolean; kit: boolean } {
  setGemmThreads(threads);
  const calls = gemmCalls();
  const split = gemmThreadedCalls();
  const t = tf.matMul(a, b, tA);
  const out = t.dataSync() as Float32Array;
  t.dispose();
  return { out, split: gemmThreadedCalls() > split, kit: gemmCalls() > calls };
}

// [A, B, transposeA, route]: batch ≥ threads (items split, uneven at 3), batch < threads (rows of every item), 2-D
// products with ragged row ends (7 rows: 4 + 3), B broadcast over a batch, and K over several k blocks of 48.
const CASES: [number[], number[], boolean, 'batched' | 'all'][] = [
  [[5, 9, 33], [5, 33, 21], false, 'batched'],
  [[5, 33, 9], [5, 33, 21], true, 'batched'],
  [[2, 11, 20], [2, 20, 13], false, 'batched'],
  [[2, 20, 11], [2, 20, 13], true, 'batched'],
  [[2, 4, 3, 130], [2, 4, 130, 37], false, 'batched'],
  [[7, 50], [50, 19], false, 'all'],
  [[50, 7], [50, 19], true, 'all'],
  [[37, 70], [70, 90], false, 'all'],
  [[70, 37], [70, 90], true, 'all'],
  [[3, 6, 20], [20, 12], false, 'all'],
  [[2, 9, 20], [20, 12], false, 'all'],
  [[2, 20, 9], [20, 12], true, 'all'],
  [[1, 5, 3], [1, 3, 1], false, 'all'],
];

describe('kit gemm on worker threads (wasm)', () => {
  it('every split (items, rows, ragged ends, transposeA, broadcast B) is bit-identical to one thread, at 2 and 3 threads', () => {
    if (!onWasm) return;
    setGemmThreadLimits({ minMacs: 0, macsPerCopy: 0 }); // split even the small products
    const inputs = CASES.map(([as, bs], i) => [tf.randomNormal(as, 0, 1, 'float32', i), tf.randomNormal(bs, 0, 1, 'float32', 100 + i)]);
    const results = [1, 2, 3].map((threads) =>
      CASES.map(([as, bs, tA, route], i) => {
        setGemmRoute(route);
        const r = product(threads, inputs[i][0], inputs[i][1], tA);
        expect(gemmThreads()).toBe(threads);
        expect(r.kit, `${as}·${bs}`).toBe(true);
        expect(r.split, `${as}·${bs} tA=${tA} on ${threads}`).toBe(threads > 1);
        return r.out;
      }),
    );
    for (const threads of [2, 3]) {
      results[threads - 1].forEach((out, i) => expect(bitsDiffer(results[0][i], out), `${CASES[i][0]}·${CASES[i][1]} tA=${CASES[i][2]} on ${threads}`).toBe(0));
    }
    tf.dispose(inputs.flat());
  });

  it("training-sized products are split at the default limits; tiny ones and decoding's few-row products are not", () => {
    if (!onWasm) return;
    tf.tidy(() => {
      // Attention's q·kᵀ and P·v of a 16 × 128-token training step of the 256-wide shape (heads of 64).
      for (const [as, bs] of [
        [
          [32, 256, 64],
          [32, 64, 128],
        ],
        [
          [32, 256, 128],
          [32, 128, 64],
        ],
      ]) {
        const a = tf.randomNormal(as, 0, 1, 'float32', 1);
        const b = tf.randomNormal(bs, 0, 1, 'float32', 2);
        const one = product(1, a, b, false);
        const two = product(2, a, b, false);
        expect(two.split, `${as}·${bs}`).toBe(true);
        expect(bitsDiffer(one.out, two.out)).toBe(0);
      }
      // Below THREAD_MIN_MACS; a decode step's q·kᵀ (its B, the KV cache, would have to be copied); the tiny shape's
      // training q·kᵀ (heads of 16: its scores, to be copied back, are large beside its arithmetic).
      for (const [as, bs] of [
        [
          [3, 5, 7],
          [3, 7, 4],
        ],
        [
          [256, 2, 16],
          [256, 16, 160],
        ],
        [
          [64, 320, 16],
          [64, 16, 160],
        ],
      ]) {
        const a = tf.randomNormal(as, 0, 1, 'float32', 3);
        const b = tf.randomNormal(bs, 0, 1, 'float32', 4);
        const one = product(1, a, b, false);
        const two = product(2, a, b, false);
        expect(two.kit).toBe(true);
        expect(two.split, `${as}·${bs}`).toBe(false);
        expect(bitsDiffer(one.out, two.out)).toBe(0);
      }
    });
    expect(THREAD_MIN_MACS).toBeGreaterThan(3 * 5 * 7 * 4);
  });

  it("a decoder's loss and gradients are bit-identical on 1 and 2 threads (routes batched and all)", () => {
    if (!onWasm) return;
    setGemmThreadLimits({ minMacs: 0, macsPerCopy: 0 });
    const model = Decoder.random(tinyConfig('qwen3'), 9, { std: 0.3 });
    const ids = tf.tensor2d(
      [
        [3, 4, 5, 6, 7, 8, 9],
        [9, 10, 11, 12, 13, 14, 15],
        [1, 2, 3, 4, 5, 6, 7],
      ],
      [3, 7],
      'int32',
    );
    const run = (threads: number) => {
      setGemmThreads(threads);
      const split = gemmThreadedCalls();
      const { value, grads } = tf.variableGrads(() => tf.tidy(() => tf.mean(tf.square(model.forward(ids).logits)) as tf.Scalar), model.variables());
      const out = { loss: value.dataSync()[0], g: Object.values(grads).map((g) => g.dataSync() as Float32Array), split: gemmThreadedCalls() - split };
      tf.dispose([value, ...Object.values(grads)]);
      return out;
    };
    for (const route of ['batched', 'all'] as const) {
      setGemmRoute(route);
      const one = run(1);
      const two = run(2);
      expect(two.split, route).toBeGreaterThan(0);
      expect(two.loss).toBe(one.loss);
      one.g.forEach((g, i) => expect(bitsDiffer(g, two.g[i]), `${route} gradient ${i}`).toBe(0));
    }
    ids.dispose();
    model.dispose();
  });

  it('a worker that cannot start leaves the kernel on one thread, said in one line', () => {
    if (!onWasm) return;
    stopGemmThreads();
    setGemmThreadLimits({ minMacs: 0, macsPerCopy: 0 });
    // A worker that reports it could not instantiate the kernel.
    setGemmWorkerSourceForTests(`const { workerData } = require('node:worker_threads');
      const c = new Int32Array(workerData.control); Atomics.store(c, workerData.slot * 32, -1); Atomics.notify(c, workerData.slot * 32);`);
    const lines: string[] = [];
    setGemmThreads(2, (l) => lines.push(l));
    tf.tidy(() => {
      const a = tf.randomNormal([2, 9, 20], 0, 1, 'float32', 1);
      const b = tf.randomNormal([2, 20, 13], 0, 1, 'float32', 2);
      const two = product(2, a, b, false); // setGemmThreads(2) again: the pool is off, so it tries once more
      expect(two.split).toBe(false);
      expect(gemmThreads()).toBe(1);
      setGemmWorkerSourceForTests(null);
      const one = product(1, a, b, false);
      expect(bitsDiffer(one.out, two.out)).toBe(0);
    });
    expect(lines).toHaveLength(1); // said once: the second request does not try again
    expect(lines[0]).toBe('introllm: matMul on one thread: a worker thread could not instantiate the kernel');
  });

  it('a process whose matMul workers are still running exits by itself', () => {
    if (!onWasm) return;
    const code = `
      const tf = require('@tensorflow/tfjs');
      const { initBackend } = require('./src/backend');
      const { setGemmThreads } = require('./src/lm/kernels/gemm-threads');
      const { gemmThreadedCalls } = require('./src/lm/kernels/gemm');
      initBackend('wasm', { log: () => {} }).then(() => {
        setGemmThreads(2);
        const t = tf.matMul(tf.ones([32, 256, 64]), tf.ones([32, 64, 128]));
        console.log(gemmThreadedCalls(), t.dataSync()[0]);
      });`;
    const r = spawnSync(process.execPath, ['-r', 'tsx/cjs', '-e', code], { cwd: path.join(__dirname, '..', '..'), encoding: 'utf8', timeout: 60_000 });
    expect(r.error, r.stderr).toBeUndefined();
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe('1 64');
  });

  it("device.threads: 'auto' (default) or a positive integer; the plan resolves it to this machine's cores and applyRunPlan sets it", () => {
    if (!onWasm) return;
    const MODEL = path.join(FIXTURES, 'qwen3-f32');
    expect(resolveConfig({ preset: 'smoke' }).device.threads).toBe('auto');
    expect(() => resolveConfig({ preset: 'smoke', overrides: setOverrides(['device.threads=0']) })).toThrow(
      /config key 'device.threads' must be a positive integer or 'auto', got 0/,
    );
    expect(() => resolveConfig({ preset: 'smoke', overrides: setOverrides(['device.threads=two']) })).toThrow(/device.threads/);
    const auto = resolveConfig({ preset: 'smoke', overrides: setOverrides([`model.dir=${MODEL}`]) });
    const three = resolveConfig({ preset: 'smoke', overrides: setOverrides([`model.dir=${MODEL}`, 'device.threads=3']) });
    const cores = require('node:os').cpus().length as number;
    expect(planFor(auto, { backend: runningBackend(), modelDir: MODEL }).threads).toBe(cores);
    const p3 = planFor(three, { backend: runningBackend(), modelDir: MODEL });
    expect(p3.threads).toBe(3);
    applyRunPlan(p3);
    expect(gemmThreads()).toBe(3);
    expect(currentBackend()!.detail).toMatch(/matMul batched on 3 threads$/);
    applyRunPlan({ ...p3, threads: 1 });
    expect(gemmThreads()).toBe(1);
    expect(currentBackend()!.detail).toMatch(/matMul batched$/);
  });
});
