// The kit's matMul on several threads (src/lm/kernels/gemm-threads.ts) on wasm: every product split among 2 or 3
// threads is bit-identical to the one-thread kernel — whole batch items, row ranges with ragged ends, transposeA,
// B broadcast, a decoder's training step — products below the threshold stay on one thread, a worker that cannot
// start leaves the kernel on one thread with one line said, and a process with workers still running exits.
// device.threads is a config key the run's plan hands to the backend. (Its own file: it changes the process's
// matMul threads.)
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { applyRunPlan, currentBackend, initBackend } from '../../src/backend';
import { resolveConfig, setOverrides } from '../../src/config';
import {
  gemmCalls,
  gemmThreadedCalls,
  setGemmRoute,
  setGemmThreadLimits,
  THREAD_MIN_MACS,
  XNN_SPLIT_MIN_MACS,
  XNN_SPLIT_MIN_ROWS,
  xnnSplitCount,
} from '../../src/lm/kernels/gemm';
import {
  gemmThreads,
  setGemmThreads,
  setGemmWorkerSourceForTests,
  setXnnFactoryForTests,
  stopGemmThreads,
  xnnThreads,
} from '../../src/lm/kernels/gemm-threads';
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
  setXnnFactoryForTests(null);
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
      // On 'batched' the 2-D products are XNNPACK's: split too (every row range, however small).
      setGemmThreadLimits({ minMacs: 0, macsPerCopy: 0, xnnMinRows: 1, xnnMinMacs: 0 });
      const one = run(1);
      const xnn = xnnSplitCount();
      const two = run(2);
      expect(two.split, route).toBeGreaterThan(0);
      if (route === 'batched') expect(xnnSplitCount() - xnn).toBeGreaterThan(0);
      expect(two.loss).toBe(one.loss);
      one.g.forEach((g, i) => expect(bitsDiffer(g, two.g[i]), `${route} gradient ${i}`).toBe(0));
    }
    ids.dispose();
    model.dispose();
  });

  it("XNNPACK's 2-D products split by rows among 2 and 3 threads equal tfjs's one-thread product to the bit", () => {
    if (!onWasm) return;
    setGemmThreadLimits({ xnnMinRows: 1, xnnMinMacs: 0, macsPerCopy: 0 }); // split even the small products
    // Ragged row ranges (7 rows on 3 threads: 2 + 3 + 2), K and N not multiples of the SIMD width, one column, and a
    // product whose B (a weight) XNNPACK has already packed on the calling thread.
    const shapes: [number, number, number][] = [
      [7, 50, 19],
      [13, 48, 1],
      [101, 33, 77],
      [64, 96, 256],
      [64, 96, 256],
    ];
    const w = tf.randomNormal([96, 256], 0, 1, 'float32', 7);
    const inputs = shapes.map(([M, K, N], i) => [tf.randomNormal([M, K], 0, 1, 'float32', i), i === 4 ? w : tf.randomNormal([K, N], 0, 1, 'float32', 50 + i)]);
    const results = [1, 2, 3].map((threads) =>
      inputs.map(([a, b], i) => {
        const before = xnnSplitCount();
        const r = product(threads, a, b, false);
        expect(r.kit, `${shapes[i]}: the kit's own kernel does not take 2-D products on 'batched'`).toBe(false);
        expect(xnnSplitCount() - before, `${shapes[i]} on ${threads}`).toBe(threads > 1 ? 1 : 0);
        return r.out;
      }),
    );
    expect(xnnThreads()).toBe(3);
    for (const threads of [2, 3]) results[threads - 1].forEach((out, i) => expect(bitsDiffer(results[0][i], out), `${shapes[i]} on ${threads}`).toBe(0));
    tf.dispose([...inputs.flat(), w]);
  });

  it("at the default limits a training step's tall products are split; decoding's few rows and weight gradients (long K) are not", () => {
    if (!onWasm) return;
    tf.tidy(() => {
      const cases: [number, number, number, boolean][] = [
        [3168, 96, 256, true], // the tiny preset's MLP up-projection over an RL update's tokens
        [2 * XNN_SPLIT_MIN_ROWS, 256, 192, true], // XNN_SPLIT_MIN_MACS exactly
        [2 * XNN_SPLIT_MIN_ROWS - 1, 512, 512, false], // a thread would get fewer than XNN_SPLIT_MIN_ROWS rows
        [128, 96, 256, false], // a decoding step at 128 rows
        [96, 3168, 256, false], // a weight's gradient xᵀ · dy: 96 rows
        [3136, 48, 96, false], // below XNN_SPLIT_MIN_MACS (a head's product, slower split)
      ];
      for (const [M, K, N, split] of cases) {
        const a = tf.randomNormal([M, K], 0, 1, 'float32', 1);
        const b = tf.randomNormal([K, N], 0, 1, 'float32', 2);
        const one = product(1, a, b, false);
        const before = xnnSplitCount();
        const two = product(2, a, b, false);
        expect(xnnSplitCount() - before, `${M}×${K}·${K}×${N}`).toBe(split ? 1 : 0);
        expect(bitsDiffer(one.out, two.out)).toBe(0);
      }
      expect(2 * XNN_SPLIT_MIN_ROWS * 256 * 192).toBe(XNN_SPLIT_MIN_MACS);
      expect(3136 * 48 * 96).toBeLessThan(XNN_SPLIT_MIN_MACS);
      // Route 'tfjs' keeps tfjs's kernels alone.
      setGemmRoute('tfjs');
      const before = xnnSplitCount();
      product(2, tf.randomNormal([3168, 96]), tf.randomNormal([96, 256]), false);
      expect(xnnSplitCount()).toBe(before);
    });
  });

  it("workers whose copy of tfjs-backend-wasm's module cannot load take only the kit's own products", () => {
    if (!onWasm) return;
    stopGemmThreads();
    setXnnFactoryForTests('/nonexistent/tfjs-backend-wasm-simd.js');
    setGemmThreads(2);
    tf.tidy(() => {
      const a = tf.randomNormal([3168, 96], 0, 1, 'float32', 1);
      const b = tf.randomNormal([96, 256], 0, 1, 'float32', 2);
      const before = xnnSplitCount();
      const two = tf.matMul(a, b).dataSync();
      expect(xnnThreads()).toBe(1);
      expect(xnnSplitCount()).toBe(before);
      // The kit's own products are still split.
      const split = gemmThreadedCalls();
      tf.matMul(tf.randomNormal([32, 256, 64]), tf.randomNormal([32, 64, 128])).dataSync();
      expect(gemmThreadedCalls()).toBe(split + 1);
      stopGemmThreads();
      setXnnFactoryForTests(null);
      const one = product(1, a, b, false).out;
      expect(bitsDiffer(one, two as Float32Array)).toBe(0);
    });
  });

  it("a worker's XNNPACK part that fails is computed on the calling thread: the product is still right, then one thread", () => {
    if (!onWasm) return;
    stopGemmThreads();
    // A module that loads but whose matMul throws.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'introllm-xnn-'));
    const factory = path.join(dir, 'factory.js');
    fs.writeFileSync(
      factory,
      `module.exports = (m) => { m.cwrap = (name) => name === 'BatchMatMul' ? () => { throw new Error('no'); } : () => {}; m._malloc = () => 16; m._free = () => {}; m.HEAPF32 = new Float32Array(1 << 22); };`,
    );
    setXnnFactoryForTests(factory);
    const lines: string[] = [];
    setGemmThreads(2, (l) => lines.push(l));
    tf.tidy(() => {
      const a = tf.randomNormal([3168, 96], 0, 1, 'float32', 1);
      const b = tf.randomNormal([96, 256], 0, 1, 'float32', 2);
      const before = xnnSplitCount();
      const two = tf.matMul(a, b).dataSync() as Float32Array;
      expect(xnnSplitCount()).toBe(before + 1);
      expect(lines).toEqual(['introllm: matMul on one thread: a worker thread failed']);
      expect(gemmThreads()).toBe(1);
      setXnnFactoryForTests(null);
      expect(bitsDiffer(product(1, a, b, false).out, two)).toBe(0);
    });
    fs.rmSync(dir, { recursive: true, force: true });
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
