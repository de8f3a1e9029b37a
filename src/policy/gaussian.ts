// Ablation 'introllm-gaussian' (paper ablation "Beta vs ... a Gaussian"; the exact form is not known to us, this is
// ours): a squashed Gaussian. The value half of the head outputs [u_μ, u_σ]; z ~ N(μ, σ) with μ = u_μ,
// σ = softplus(u_σ) + ε; s = sigmoid(z), τ = τ_min + s (τ_max − τ_min). The recorded z is the pre-squash value.
// log p is the density of s (like the Beta head's density of z, so the two are on the same footing):
//   log p(s) = log N(z; μ, σ) − log |ds/dz| = log N(z; μ, σ) − log s − log(1 − s)
//            = −½((z − μ)/σ)² − log σ − ½ log 2π + softplus(−z) + softplus(z)
// The Jacobian term does not depend on φ, so it changes log π but not its gradient (nor GRPO ratios).
// Initialisation: μ = logit(z̄) for the target mean-τ z̄ (the median τ of the logit-normal is then headInitTau),
// σ = gaussianInitStd.
import * as tf from '@tensorflow/tfjs';
import { check } from '../errors';
import { Rng } from '../rng';
import { f32InRange } from './common';
import { logit, sigmoidNumber, softplusInverse, softplusNumber } from './special';
import { ValueDistribution } from './value';

const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

export class GaussianValue implements ValueDistribution {
  readonly kind = 'gaussian' as const;
  readonly numParams = 2;
  readonly safeZ = 0;

  constructor(
    private readonly tauMin: number,
    private readonly tauMax: number,
    private readonly epsilon: number,
    private readonly initTau: number,
    private readonly initStd: number,
  ) {}

  initBias(): number[] {
    check(this.initStd > this.epsilon, () => `controller config: gaussianInitStd (${this.initStd}) must exceed epsilon (${this.epsilon})`);
    const zbar = (this.initTau - this.tauMin) / (this.tauMax - this.tauMin);
    return [logit(zbar), softplusInverse(this.initStd - this.epsilon)];
  }

  sample(u: ArrayLike<number>, offset: number, rng: Rng): number {
    const sigma = softplusNumber(u[offset + 1]) + this.epsilon;
    return Math.fround(u[offset] + sigma * rng.normal());
  }

  /** μ for both: the Gaussian's mean and mode (the squashed τ at μ is the median of τ). */
  pointZ(u: ArrayLike<number>, offset: number, _how: 'mean' | 'mode'): number {
    return Math.fround(u[offset]);
  }

  tauOf(z: number): number {
    return f32InRange(this.tauMin + sigmoidNumber(z) * (this.tauMax - this.tauMin), this.tauMin, this.tauMax);
  }

  centerTau(u: ArrayLike<number>, offset: number): number {
    return this.tauMin + sigmoidNumber(u[offset]) * (this.tauMax - this.tauMin);
  }

  logDensity(u: ArrayLike<number>, offset: number, z: number): number {
    const sigma = softplusNumber(u[offset + 1]) + this.epsilon;
    const d = (z - u[offset]) / sigma;
    return -0.5 * d * d - Math.log(sigma) - HALF_LOG_2PI + softplusNumber(z) + softplusNumber(-z);
  }

  logProb(u: tf.Tensor2D, z: tf.Tensor1D): tf.Tensor1D {
    return tf.tidy(() => {
      const [mu, us] = tf.unstack(u, 1);
      const sigma = tf.add(tf.softplus(us), this.epsilon);
      const d = tf.div(tf.sub(z, mu), sigma);
      const logN = tf.sub(tf.add(tf.mul(tf.square(d), -0.5), tf.neg(tf.log(sigma))), HALF_LOG_2PI);
      return tf.add(logN, tf.add(tf.softplus(z), tf.softplus(tf.neg(z)))) as tf.Tensor1D;
    });
  }
}
