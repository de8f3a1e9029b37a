// The paper's value distribution: z ~ Beta(α, β) with α = softplus(u_α) + ε, β = softplus(u_β) + ε, and
// τ = τ_min + z (τ_max − τ_min). The affine map's Jacobian is a constant, so log π uses log Beta(z; α, β) only.
// z is clamped into (1e-6, 1 − 1e-6) when recorded and again before the log-density, so that it stays finite.
import * as tf from '@tensorflow/tfjs';
import { check } from '../errors';
import { Rng } from '../rng';
import { f32InRange } from './common';
import { sampleBeta } from './random';
import { lgamma, lgammaNumber, softplusInverse, softplusNumber } from './special';
import { ValueDistribution } from './value';

/** The clamp of z away from 0 and 1. */
export const Z_EPS = 1e-6;

/** log Beta(z; α, β) = (α−1) ln z + (β−1) ln(1−z) − [ln Γ(α) + ln Γ(β) − ln Γ(α+β)], z clamped to [Z_EPS, 1−Z_EPS].
 *  z, alpha, beta: same shape (or broadcastable), α, β > 0. Differentiable in all three. */
export function logBetaDensity(z: tf.Tensor, alpha: tf.Tensor, beta: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const zc = tf.clipByValue(z, Z_EPS, 1 - Z_EPS);
    const lnB = tf.sub(tf.add(lgamma(alpha), lgamma(beta)), lgamma(tf.add(alpha, beta)));
    const a = tf.mul(tf.sub(alpha, 1), tf.log(zc));
    const b = tf.mul(tf.sub(beta, 1), tf.log1p(tf.neg(zc)));
    return tf.sub(tf.add(a, b), lnB);
  });
}

export class BetaValue implements ValueDistribution {
  readonly kind = 'beta' as const;
  readonly numParams = 2;
  readonly safeZ = 0.5;

  constructor(
    private readonly tauMin: number,
    private readonly tauMax: number,
    private readonly epsilon: number,
    private readonly initTau: number,
    private readonly initConcentration: number,
  ) {}

  initBias(): number[] {
    // mean z̄ = α / (α + β) at the target τ, concentration κ = α + β: α = z̄κ, β = (1 − z̄)κ, u = softplus⁻¹(· − ε).
    const zbar = (this.initTau - this.tauMin) / (this.tauMax - this.tauMin);
    const a = zbar * this.initConcentration;
    const b = (1 - zbar) * this.initConcentration;
    check(
      a > this.epsilon && b > this.epsilon,
      () =>
        `controller config: headInitConcentration ${this.initConcentration} with headInitTau ${this.initTau} gives Beta(${a}, ${b}); both shapes must exceed epsilon ${this.epsilon} (raise headInitConcentration or move headInitTau towards the middle of [tauMin, tauMax])`,
    );
    return [softplusInverse(a - this.epsilon), softplusInverse(b - this.epsilon)];
  }

  private shapes(u: ArrayLike<number>, o: number): [number, number] {
    return [softplusNumber(u[o]) + this.epsilon, softplusNumber(u[o + 1]) + this.epsilon];
  }

  sample(u: ArrayLike<number>, offset: number, rng: Rng): number {
    const [a, b] = this.shapes(u, offset);
    return Math.fround(Math.min(Math.max(sampleBeta(a, b, rng), Z_EPS), 1 - Z_EPS));
  }

  /** 'mean': α / (α + β). 'mode': (α − 1) / (α + β − 2) when α, β > 1; a Beta with α ≤ 1 or β ≤ 1 has its mode at
   *  a boundary of [0, 1] (or none), so its mean is used there. Clamped like a sample. */
  pointZ(u: ArrayLike<number>, offset: number, how: 'mean' | 'mode'): number {
    const [a, b] = this.shapes(u, offset);
    const z = how === 'mode' && a > 1 && b > 1 ? (a - 1) / (a + b - 2) : a / (a + b);
    return Math.fround(Math.min(Math.max(z, Z_EPS), 1 - Z_EPS));
  }

  tauOf(z: number): number {
    return f32InRange(this.tauMin + z * (this.tauMax - this.tauMin), this.tauMin, this.tauMax);
  }

  centerTau(u: ArrayLike<number>, offset: number): number {
    const [a, b] = this.shapes(u, offset);
    return this.tauMin + (a / (a + b)) * (this.tauMax - this.tauMin);
  }

  logDensity(u: ArrayLike<number>, offset: number, z: number): number {
    const [a, b] = this.shapes(u, offset);
    const zc = Math.min(Math.max(z, Z_EPS), 1 - Z_EPS);
    return (a - 1) * Math.log(zc) + (b - 1) * Math.log1p(-zc) - (lgammaNumber(a) + lgammaNumber(b) - lgammaNumber(a + b));
  }

  logProb(u: tf.Tensor2D, z: tf.Tensor1D): tf.Tensor1D {
    return tf.tidy(() => {
      const ab = tf.add(tf.softplus(u), this.epsilon);
      const [alpha, beta] = tf.unstack(ab, 1);
      return logBetaDensity(z, alpha, beta) as tf.Tensor1D;
    });
  }
}
