// The "value" half of a learned temperature head: the distribution of the new τ when the gate opens (paper: a Beta
// on z with τ = τ_min + z (τ_max − τ_min); ablations: a categorical over a discrete τ set, a squashed Gaussian). Each
// distribution reads its slice of the head outputs u, samples on the host with the kit's Rng, and gives a
// differentiable log-density of a recorded z. The gate composition lives in head-controller.ts.
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../rng';

export interface ValueDistribution {
  readonly kind: 'beta' | 'categorical' | 'gaussian';
  /** How many head outputs it reads. */
  readonly numParams: number;
  /** A z with finite log-density, used in place of the NaN that gate-off rows record. */
  readonly safeZ: number;
  /** Initial values of its b2 entries (sets the τ distribution at initialisation). */
  initBias(): number[];
  /** Draws z from the head outputs u[offset .. offset + numParams) of one row; the result is a float32 value. */
  sample(u: ArrayLike<number>, offset: number, rng: Rng): number;
  /** The deterministic z of one row's outputs, for a head that does not sample at evaluation (controller.evalAction):
   *  'mean' or 'mode' of the distribution (see each implementation for the cases where they coincide or the mode is
   *  not interior). A float32 value, like sample(). */
  pointZ(u: ArrayLike<number>, offset: number, how: 'mean' | 'mode'): number;
  /** τ for a drawn z, a float32 value inside the controller's τ range. */
  tauOf(z: number): number;
  /** The τ at the distribution's centre for one row's outputs (Beta and categorical: the mean; Gaussian: the median),
   *  for metrics. */
  centerTau(u: ArrayLike<number>, offset: number): number;
  /** The same log p(z | u) on the host for one row (float64 arithmetic): act() records it without a second pass
   *  through the device; tests check it against logProb. */
  logDensity(u: ArrayLike<number>, offset: number, z: number): number;
  /** log p(z | u): u [N, numParams] (its slice of the head outputs), z [N] (no NaN). Returns [N]. */
  logProb(u: tf.Tensor2D, z: tf.Tensor1D): tf.Tensor1D;
}
