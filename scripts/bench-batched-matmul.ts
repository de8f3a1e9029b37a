// tfjs's batched matMul against a loop of 2-D matMuls (unstack → matMul each → stack) on the attention shapes of
// training, prefill and decoding, on the current backend (README, "Where the time goes").
//   npx tsx scripts/bench-batched-matmul.ts
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/backend';

const SHAPES: [number, number, number, number][] = [[64, 320, 16, 160], [64, 320, 160, 16], [16, 960, 64, 480], [256, 2, 16, 160], [32, 160, 16, 160]];

(async () => {
  await initBackend(undefined, { log: () => {} });
  for (const [N, m, k, n] of SHAPES) {
    const a = tf.randomNormal([N, m, k]) as tf.Tensor3D;
    const b = tf.randomNormal([N, k, n]) as tf.Tensor3D;
    // Each callback returns nothing: tf.tidy walks a returned typed array element by element, which would be timed too.
    const batched = () => tf.tidy(() => { tf.matMul(a, b).dataSync(); });
    const loop = () => tf.tidy(() => {
      const bs = tf.unstack(b);
      tf.stack(tf.unstack(a).map((x, i) => tf.matMul(x as tf.Tensor2D, bs[i] as tf.Tensor2D))).dataSync();
    });
    const time = (f: () => void) => {
      f();
      const t0 = performance.now();
      for (let i = 0; i < 5; i++) f();
      return (performance.now() - t0) / 5;
    };
    console.log(`[${N}, ${m}, ${k}] · [${N}, ${k}, ${n}]: batched ${time(batched).toFixed(1)} ms, loop of ${N} 2-D matMuls ${time(loop).toFixed(1)} ms`);
    tf.dispose([a, b]);
  }
})();
