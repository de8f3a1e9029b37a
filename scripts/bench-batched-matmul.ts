// The matMul paths of the wasm backend side by side, one process, alternating
// (docs/benchmarks.md#the-kits-matmul-kernel): tfjs's own kernels (its generic loop for batched products, XNNPACK for
// 2-D ones) against the kit's SIMD kernel (src/lm/kernels/gemm.ts) on the attention shapes of training, prefill and
// decoding, and on the 2-D products of a 0.5B model (route 'all': no packed weight copies). Prints ms per product and
// GMAC/s.
//   npx tsx scripts/bench-batched-matmul.ts [--json] [--backend cpu]
// On the cpu backend the kit's kernel takes every product (copies of the operands in its own wasm memory) and the
// comparison is with tfjs-cpu's JavaScript matMul.
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/backend';
import { GemmRoute, setGemmRoute } from '../src/lm/kernels/gemm';

// [batch, M, K, N]: batch 0 = a 2-D product.
const CASES: { what: string; shape: [number, number, number, number]; kit: GemmRoute }[] = [
  { what: 'training q·kᵀ, tiny shape, 32 × 160 tokens', shape: [64, 320, 16, 160], kit: 'batched' },
  { what: 'training P·v, tiny shape, 32 × 160 tokens', shape: [64, 320, 160, 16], kit: 'batched' },
  { what: 'prefill q·kᵀ, 256-wide, 8 × 480-token prompt', shape: [16, 960, 64, 480], kit: 'batched' },
  { what: 'decode q·kᵀ, tiny shape, B128, cache 160', shape: [256, 2, 16, 160], kit: 'batched' },
  { what: 'decode P·v, tiny shape, B128, cache 160', shape: [256, 2, 160, 16], kit: 'batched' },
  { what: 'decode MLP up, Qwen2.5-0.5B, B1', shape: [0, 1, 896, 4864], kit: 'all' },
  { what: 'decode MLP up, Qwen2.5-0.5B, B4', shape: [0, 4, 896, 4864], kit: 'all' },
  { what: 'decode tied LM head, Qwen3-0.6B, B1', shape: [0, 1, 1024, 151936], kit: 'all' },
  { what: 'prefill MLP up, Qwen2.5-0.5B, 4 × 129 tokens', shape: [0, 516, 896, 4864], kit: 'all' },
];

(async () => {
  const bi = process.argv.indexOf('--backend');
  const info = await initBackend(bi > 0 ? process.argv[bi + 1] : 'wasm', { log: () => {} });
  const json = process.argv.includes('--json');
  const rows: Record<string, unknown>[] = [];
  for (const c of CASES) {
    const [B, M, K, N] = c.shape;
    const a = tf.randomNormal(B ? [B, M, K] : [M, K]);
    const b = tf.randomNormal(B ? [B, K, N] : [K, N]);
    const macs = Math.max(B, 1) * M * K * N;
    const reps = macs > 2e8 ? 3 : 10;
    const once = (route: GemmRoute) => {
      setGemmRoute(route);
      const t0 = performance.now();
      tf.tidy(() => {
        tf.matMul(a, b).dataSync();
      });
      return performance.now() - t0;
    };
    once('tfjs');
    once(c.kit);
    const ms: Record<string, number[]> = { tfjs: [], kit: [] };
    for (let i = 0; i < reps; i++) {
      ms.tfjs.push(once('tfjs'));
      ms.kit.push(once(c.kit));
    }
    const med = (x: number[]) => [...x].sort((p, q) => p - q)[Math.floor(x.length / 2)];
    const row = {
      case: c.what,
      shape: c.shape,
      route: c.kit,
      tfjs_ms: med(ms.tfjs),
      kit_ms: med(ms.kit),
      tfjs_gmacs: macs / med(ms.tfjs) / 1e6,
      kit_gmacs: macs / med(ms.kit) / 1e6,
    };
    rows.push(row);
    if (!json) {
      const shape = B ? `[${B}, ${M}, ${K}] · [${B}, ${K}, ${N}]` : `[${M}, ${K}] · [${K}, ${N}]`;
      console.log(
        `${c.what}: ${shape}: tfjs ${row.tfjs_ms.toFixed(2)} ms (${row.tfjs_gmacs.toFixed(2)} GMAC/s), kit '${c.kit}' ${row.kit_ms.toFixed(2)} ms (${row.kit_gmacs.toFixed(2)} GMAC/s), ${(row.tfjs_ms / row.kit_ms).toFixed(2)}×`,
      );
    }
    tf.dispose([a, b]);
  }
  setGemmRoute('batched');
  if (json) console.log(JSON.stringify({ backend: info.name, detail: info.detail, date: new Date().toISOString(), rows }, null, 1));
})();
