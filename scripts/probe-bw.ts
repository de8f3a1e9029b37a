import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/backend';
import { setFusedKernels } from '../src/lm/kernels/fused';
const eps = 1e-6;
const comp = (x: tf.Tensor, w: tf.Tensor) => tf.mul(tf.mul(x, tf.rsqrt(tf.add(tf.mean(tf.square(x), -1, true), eps))), w);
const handRms = tf.customGrad(((x: tf.Tensor, w: tf.Tensor, save: tf.GradSaveFunc) => {
  save([x, w]);
  return {
    value: comp(x, w),
    gradFunc: (dy: tf.Tensor, [xs, ws]: tf.Tensor[]) =>
      tf.tidy(() => {
        const d = xs.shape[xs.rank - 1]!;
        const inv = tf.rsqrt(tf.add(tf.mean(tf.square(xs), -1, true), eps));
        const g = tf.mul(dy, ws);
        const c = tf.mul(tf.sum(tf.mul(g, xs), -1, true), tf.div(tf.pow(inv, 3), d));
        const dx = tf.sub(tf.mul(g, inv), tf.mul(xs, c));
        const z = tf.reshape(tf.mul(dy, tf.mul(xs, inv)), [-1, d]);
        const dw = tf.reshape(tf.matMul(tf.ones([1, z.shape[0]]), z), [d]);
        return [dx, dw];
      }),
  };
}) as any) as any;
const siluC = (g: tf.Tensor, u: tf.Tensor) => tf.mul(tf.mul(g, tf.sigmoid(g)), u);
const handSilu = tf.customGrad(((g: tf.Tensor, u: tf.Tensor, save: tf.GradSaveFunc) => {
  save([g, u]);
  return {
    value: siluC(g, u),
    gradFunc: (dy: tf.Tensor, [gs, us]: tf.Tensor[]) =>
      tf.tidy(() => {
        const s = tf.sigmoid(gs);
        const gsg = tf.mul(gs, s);
        const du = tf.mul(dy, gsg);
        // dg = dy·u·(s + g·s·(1 − s)) = dy·u·(s + gs − gs·s)
        const dg = tf.mul(tf.mul(dy, us), tf.add(s, tf.sub(gsg, tf.mul(gsg, s))));
        return [dg, du];
      }),
  };
}) as any) as any;
(async () => {
  await initBackend('wasm', { log: () => {} });
  setFusedKernels(false);
  for (const N of [128, 6336]) {
    const x = tf.randomNormal([N, 96]);
    const w = tf.randomNormal([96]);
    const g = tf.randomNormal([N, 256]);
    const u = tf.randomNormal([N, 256]);
    const cases: Record<string, () => tf.Tensor[]> = {
      rmsAuto: () => tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(comp(a, b)))([x, w]),
      rmsHand: () => tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(handRms(a, b)))([x, w]),
      siluAuto: () => tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(siluC(a, b)))([g, u]),
      siluHand: () => tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(handSilu(a, b)))([g, u]),
    };
    const vals: Record<string, Float32Array[]> = {};
    for (const [k, f] of Object.entries(cases)) vals[k] = tf.tidy(() => f().map((t) => t.dataSync() as Float32Array));
    const diff = (a: Float32Array[], b: Float32Array[]) =>
      Math.max(
        ...a.map((v, i) => {
          let m = 0,
            s = 0;
          for (let j = 0; j < v.length; j++) {
            m = Math.max(m, Math.abs(v[j] - b[i][j]));
            s = Math.max(s, Math.abs(b[i][j]));
          }
          return m / s;
        }),
      );
    console.log('rel diff rms', diff(vals.rmsHand, vals.rmsAuto), 'silu', diff(vals.siluHand, vals.siluAuto));
    for (const [k, f] of Object.entries(cases)) {
      const reps = N > 1000 ? 10 : 200;
      const ts: number[] = [];
      for (let r = 0; r < 5; r++) {
        const t0 = performance.now();
        for (let i = 0; i < reps; i++)
          tf.tidy(() => {
            f();
          });
        ts.push((performance.now() - t0) / reps);
      }
      const p = await tf.profile(() => {
        tf.tidy(() => {
          f();
        });
      });
      console.log(N, k, ts.sort((a, b) => a - b)[2].toFixed(3), 'ms', p.kernels.filter((q) => tf.getKernel(q.name, 'wasm')).length, 'kernels');
    }
  }
})();
