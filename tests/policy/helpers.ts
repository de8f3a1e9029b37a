// Shared helpers of the temperature-policy tests: random TauInputs and forcing a head's outputs to chosen values.
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../../src/rng';
import { TauInputs, TemperatureController } from '../../src/policy/types';
import { expect } from 'vitest';
export { expectKitError } from '../helpers/kit';

/** Random inputs: hidden N(0,1) [N, d], logits N(0, 2²) [N, V], prevTau in [0.5, 1.5], position 0..N−1. */
export function randomInputs(N: number, d: number, V: number, seed: number): TauInputs {
  const r = new Rng(seed);
  return {
    hidden: tf.tensor2d(
      Float32Array.from({ length: N * d }, () => r.normal()),
      [N, d],
    ),
    logits: tf.tensor2d(
      Float32Array.from({ length: N * V }, () => 2 * r.normal()),
      [N, V],
    ),
    prevTau: tf.tensor1d(Float32Array.from({ length: N }, () => 0.5 + r.next())),
    position: tf.tensor1d(Float32Array.from({ length: N }, (_, i) => i)),
  };
}

export function disposeInputs(x: TauInputs): void {
  tf.dispose([x.hidden, x.logits, x.prevTau, x.position]);
}

/** Makes every row's head output equal to u: W2 = 0 and b2 = u (variables are [W1, b1, W2, b2]). */
export function setHeadOutputs(c: TemperatureController, u: number[]): void {
  const [, , w2, b2] = c.variables();
  w2.assign(tf.zerosLike(w2));
  b2.assign(tf.tensor1d(u));
}
