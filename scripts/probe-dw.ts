import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/backend';
(async () => {
  await initBackend('wasm', { log: () => {} });
  const shapes: [number, number, number][] = [
    [3168, 96, 256],
    [3168, 256, 96],
    [3168, 96, 96],
    [3168, 96, 48],
    [6336, 96, 256],
    [20480, 64, 192],
    [5120, 256, 704],
  ];
  for (const [T, I, O] of shapes) {
    const x = tf.randomNormal([T, I]) as tf.Tensor2D;
    const dy = tf.randomNormal([T, O]) as tf.Tensor2D;
    const chunked = (c: number) => () => {
      let acc: tf.Tensor | null = null;
      for (let k = 0; k < T; k += c) {
        const n = Math.min(c, T - k);
        const p = tf.matMul(tf.transpose(tf.slice(x, [k, 0], [n, I])), tf.slice(dy, [k, 0], [n, O]));
        acc = acc ? tf.add(acc, p) : p;
      }
      return acc!;
    };
    const paths: Record<string, () => tf.Tensor> = {
      'transpose+xnnpack': () => tf.matMul(tf.transpose(x), dy),
      'chunks 256': chunked(256),
      'chunks 512': chunked(512),
      'chunks 1024': chunked(1024),
    };
    const ms: Record<string, number[]> = {};
    const ref = tf.tidy(() => paths['transpose+xnnpack']().dataSync());
    for (let r = 0; r < 6; r++)
      for (const [k, f] of Object.entries(paths)) {
        const t0 = performance.now();
        const v = tf.tidy(() => f().dataSync());
        (ms[k] ??= []).push(performance.now() - t0);
        if (r === 0) {
          let m = 0,
            s = 0;
          for (let i = 0; i < v.length; i++) {
            m = Math.max(m, Math.abs(v[i] - ref[i]));
            s = Math.max(s, Math.abs(ref[i]));
          }
          if (m / s > 1e-5) console.log('MISMATCH', k, m / s);
        }
      }
    const med = (a: number[]) => a.sort((p, q) => p - q)[a.length >> 1];
    console.log(
      `[${T},${I}]ᵀ·[${T},${O}] ` +
        Object.entries(ms)
          .map(([k, v]) => `${k} ${med(v).toFixed(2)} ms (${((T * I * O) / med(v) / 1e6).toFixed(1)})`)
          .join(' | '),
    );
  }
})();
