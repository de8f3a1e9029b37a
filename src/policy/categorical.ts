// Ablation 'introllm-categorical' (paper ablation "Beta vs a categorical head over a discrete τ set"; also the form of
// Adaptive Decoding, arXiv 2411.09661): the value half of the head outputs K logits over a discrete τ set, z = the
// sampled index, τ = set[z], log p(z) = log softmax(logits)[z]. Initial logits are all 0 (uniform over the set).
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../rng';
import { f32InRange } from './common';
import { ValueDistribution } from './value';

export class CategoricalValue implements ValueDistribution {
  readonly kind = 'categorical' as const;
  readonly numParams: number;
  readonly safeZ = 0;
  private readonly taus: Float32Array;

  /** taus: the discrete set, each already validated to lie in the controller's τ range [tauMin, tauMax]; stored as
   *  float32 values rounded so that they stay inside that range. */
  constructor(taus: readonly number[], tauMin: number, tauMax: number) {
    this.taus = Float32Array.from(taus, (t) => f32InRange(t, tauMin, tauMax));
    this.numParams = taus.length;
  }

  initBias(): number[] {
    return new Array(this.numParams).fill(0);
  }

  private probs(u: ArrayLike<number>, o: number): Float64Array {
    const K = this.numParams;
    let m = -Infinity;
    for (let k = 0; k < K; k++) m = Math.max(m, u[o + k]);
    const p = new Float64Array(K);
    let s = 0;
    for (let k = 0; k < K; k++) s += p[k] = Math.exp(u[o + k] - m);
    for (let k = 0; k < K; k++) p[k] /= s;
    return p;
  }

  sample(u: ArrayLike<number>, offset: number, rng: Rng): number {
    const p = this.probs(u, offset);
    const r = rng.next();
    let acc = 0;
    for (let k = 0; k < p.length; k++) {
      acc += p[k];
      if (r < acc) return k;
    }
    for (let k = p.length - 1; k >= 0; k--) if (p[k] > 0) return k; // rounding left acc slightly below r
    return p.length - 1;
  }

  /** The most probable index for both 'mean' and 'mode' (a mean of indices is not a member of the τ set). */
  pointZ(u: ArrayLike<number>, offset: number, _how: 'mean' | 'mode'): number {
    const p = this.probs(u, offset);
    let best = 0;
    for (let k = 1; k < p.length; k++) if (p[k] > p[best]) best = k;
    return best;
  }

  tauOf(z: number): number {
    return this.taus[z];
  }

  centerTau(u: ArrayLike<number>, offset: number): number {
    const p = this.probs(u, offset);
    let m = 0;
    for (let k = 0; k < p.length; k++) m += p[k] * this.taus[k];
    return m;
  }

  logDensity(u: ArrayLike<number>, offset: number, z: number): number {
    return Math.log(this.probs(u, offset)[Math.round(z)]);
  }

  logProb(u: tf.Tensor2D, z: tf.Tensor1D): tf.Tensor1D {
    return tf.tidy(() => {
      const idx = tf.cast(tf.round(z), 'int32');
      return tf.sum(tf.mul(tf.logSoftmax(u), tf.oneHot(idx, this.numParams)), -1) as tf.Tensor1D;
    });
  }
}
