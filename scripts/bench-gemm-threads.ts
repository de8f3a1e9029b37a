// The matMuls on 1 and 2 threads side by side, one process, alternating (docs/benchmarks.md#the-kits-matmul-on-both-cores):
// attention's products of a training step (256-wide and tiny shapes), on route 'all' 2-D MLP products on the kit's
// kernel, and on route 'batched' the 2-D products XNNPACK runs split by rows. Prints the median ms of 5 alternations
// (each the mean of 3 products) and the range.
//   npx tsx scripts/bench-gemm-threads.ts [--backend cpu]
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/backend';
import { GemmRoute, setGemmRoute } from '../src/lm/kernels/gemm';
import { setGemmThreads, stopGemmThreads } from '../src/lm/kernels/gemm-threads';

const CASES: { what: string; a: number[]; b: number[]; route: GemmRoute }[] = [
  { what: 'training q·kᵀ, 256-wide, 16 × 128 tokens', a: [32, 256, 64], b: [32, 64, 128], route: 'batched' },
  { what: 'training P·v, 256-wide', a: [32, 256, 128], b: [32, 128, 64], route: 'batched' },
  { what: 'training q·kᵀ, tiny shape, 32 × 160 tokens', a: [64, 320, 16], b: [64, 16, 160], route: 'batched' },
  { what: 'training P·v, tiny shape', a: [64, 320, 160], b: [64, 160, 16], route: 'batched' },
  { what: "2-D, route 'all', tiny shape MLP, 128 × 160 tokens", a: [20480, 64], b: [64, 192], route: 'all' },
  { what: "2-D, route 'all', 256-wide MLP up, 5120 tokens", a: [5120, 256], b: [256, 704], route: 'all' },
  { what: "2-D XNNPACK (route 'batched'), tiny preset's MLP up over a 64-rollout update's 3168 tokens", a: [3168, 96], b: [96, 256], route: 'batched' },
  { what: "2-D XNNPACK, tiny preset's dx of the MLP down-projection", a: [3168, 256], b: [256, 96], route: 'batched' },
  { what: '2-D XNNPACK, tiny shape MLP, 128 × 160 tokens', a: [20480, 64], b: [64, 192], route: 'batched' },
  { what: '2-D XNNPACK, 256-wide MLP up, 5120 tokens', a: [5120, 256], b: [256, 704], route: 'batched' },
  { what: '2-D XNNPACK, a decoding step of 128 rows (not split)', a: [128, 96], b: [96, 256], route: 'batched' },
];

(async () => {
  const bi = process.argv.indexOf('--backend');
  await initBackend(bi > 0 ? process.argv[bi + 1] : 'wasm', { log: () => {} });
  for (const c of CASES) {
    setGemmRoute(c.route);
    const a = tf.randomNormal(c.a);
    const b = tf.randomNormal(c.b);
    const ms: Record<number, number[]> = { 1: [], 2: [] };
    for (let rep = 0; rep < 5; rep++) {
      for (const threads of [1, 2]) {
        setGemmThreads(threads);
        tf.matMul(a, b).dispose();
        const t0 = performance.now();
        for (let i = 0; i < 3; i++) tf.matMul(a, b).dispose();
        ms[threads].push((performance.now() - t0) / 3);
      }
    }
    const med = (x: number[]) => [...x].sort((p, q) => p - q)[Math.floor(x.length / 2)];
    const fmt = (x: number[]) => `${med(x).toFixed(1)} ms (${Math.min(...x).toFixed(1)}–${Math.max(...x).toFixed(1)})`;
    console.log(`${c.what} [${c.a}]·[${c.b}]: 1 thread ${fmt(ms[1])}, 2 threads ${fmt(ms[2])}, 1/2 ${(med(ms[1]) / med(ms[2])).toFixed(2)}`);
    tf.dispose([a, b]);
  }
  setGemmRoute('batched');
  stopGemmThreads();
})();
