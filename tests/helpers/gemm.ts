// tf.matMul under one of the kit's matMul routes (src/lm/kernels/gemm.ts), for the kernel tests.
import * as tf from '@tensorflow/tfjs';
import { gemmCalls, GemmRoute, setGemmRoute } from '../../src/lm/kernels/gemm';

/** The product's values, and whether the kit's kernel computed it. */
export function matMulOn(route: GemmRoute, a: tf.Tensor, b: tf.Tensor, transposeA = false, transposeB = false): { out: Float32Array; kit: boolean } {
  setGemmRoute(route);
  const before = gemmCalls();
  const t = tf.matMul(a, b, transposeA, transposeB);
  const out = t.dataSync() as Float32Array;
  t.dispose();
  return { out, kit: gemmCalls() > before };
}
