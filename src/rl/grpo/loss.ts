// The clipped GRPO policy loss, one function for both levels of the IntroLLM hierarchical policy.
//
// Per token:  r = exp(logpNew − logpOld),  ℓ = −min(r·A, clip(r, 1 − ε_low, 1 + ε_high)·A)
// (PPO's clipped surrogate, Schulman et al. 2017, as used by GRPO, DeepSeekMath arXiv 2402.03300 eq. 3; the asymmetric
// ε_low / ε_high is DAPO's "clip-higher", arXiv 2503.14476). The per-token ℓ is aggregated by a named aggregation
// (aggregation.ts: token-mean, seq-mean-token-mean, seq-mean-token-sum-norm).
//
// KL to a frozen reference policy (DeepSeekMath eq. 4 uses k3, Schulman's "approximating KL" estimators):
//   d = logpRef − logpNew;  k1 = −d,  k2 = d²/2,  k3 = exp(d) − d − 1  (k3 ≥ 0, unbiased for KL(π_new ‖ π_ref))
// aggregated the same way as ℓ, then loss = agg(ℓ) + klCoef · agg(k). klCoef defaults to 0 (DAPO and Dr. GRPO drop
// the KL term for verifiable rewards; DeepSeekMath used 0.04). With refLogp given and klCoef 0 the KL is still
// reported in the metrics, and adds nothing to the loss or its gradient.
//
// Both policies, one loss: IntroLLM trains the token policy π_θ and the temperature policy π_φ with the SAME
// sequence-level advantage A_i (docs/method.md#training). For the token policy, logpNew/logpOld are log π_θ(y_t | h_t,
// τ_t) at the temperature τ_t recorded in the rollout; for the temperature policy they are log π_φ(τ_t | h_t, τ_{t−1})
// = log P(c_t) + c_t·log Beta(z_t; α, β) per step, under the same mask, and A_i is the same vector. Only where the
// gradient flows differs (θ or φ, chosen by the coordinate-ascent schedule), not this function.
//
// Numerical guards (deviations only in pathological cases): masked positions are replaced by 0 with tf.where before
// any exp, so −Inf/NaN padding there cannot reach the loss or the gradient; log-ratios are clamped to ±MAX_LOG_RATIO
// (20, as verl does) before exp, so a ratio cannot overflow to Inf (gradient 0 beyond the clamp).
import * as tf from '@tensorflow/tfjs';
import { check } from '../../errors';
import { AggregationOptions, checkAggregationOptions, getAggregation } from './aggregation';

export const MAX_LOG_RATIO = 20;

export type KlEstimator = 'k1' | 'k2' | 'k3';
export const KL_ESTIMATORS: readonly KlEstimator[] = ['k1', 'k2', 'k3'];

export interface PolicyLossInputs extends AggregationOptions {
  /** [B, T] float32, log-probs under the current parameters; the loss is differentiable w.r.t. it. */
  logpNew: tf.Tensor;
  /** [B, T] float32, log-probs under the parameters that sampled the rollout (constants). */
  logpOld: tf.Tensor;
  /** [B], one sequence-level advantage per row (from computeAdvantages), shared by all its tokens. */
  advantages: tf.Tensor | Float32Array;
  /** [B, T], nonzero where the token counts (generated, not prompt or padding). */
  mask: tf.Tensor;
  /** ε_low ∈ [0, 1): the ratio is clipped below at 1 − ε_low (0.2 in PPO/GRPO). */
  clipLow: number;
  /** ε_high ≥ 0: the ratio is clipped above at 1 + ε_high (0.2 in PPO/GRPO, 0.28 in DAPO). */
  clipHigh: number;
  /** A name from LOSS_AGGREGATIONS. */
  aggregation: string;
  /** [B, T] float32, log-probs under the frozen reference policy. Required when klCoef > 0. */
  refLogp?: tf.Tensor;
  /** Weight of the KL term, ≥ 0. Default 0. */
  klCoef?: number;
  /** Default 'k3'. */
  klEstimator?: KlEstimator;
}

/** Plain numbers, read from the device once per call. Token statistics are over unmasked tokens. */
export interface PolicyLossMetrics {
  /** The returned loss: pgLoss + klCoef·kl. */
  loss: number;
  /** The aggregated clipped surrogate. */
  pgLoss: number;
  /** The aggregated KL estimate to the reference (null without refLogp). */
  kl: number | null;
  /** Fraction of tokens where clipping binds (their gradient is 0): A > 0 and r > 1 + ε_high, or A < 0 and r < 1 − ε_low. */
  clipFraction: number;
  /** The A > 0, r > 1 + ε_high part of clipFraction. */
  clipFractionHigh: number;
  /** The A < 0, r < 1 − ε_low part of clipFraction. */
  clipFractionLow: number;
  /** Mean, min and max of r over tokens (1 when there are none). */
  ratioMean: number;
  ratioMin: number;
  ratioMax: number;
  /** Token mean of k3 between old and new policy, mean(exp(old − new) − (old − new) − 1): how far this update moved. */
  approxKlOld: number;
  /** Unmasked tokens, and sequences with at least one. */
  numTokens: number;
  numSequences: number;
}

export interface PolicyLossResult {
  /** Scalar, differentiable w.r.t. logpNew. */
  loss: tf.Scalar;
  metrics: PolicyLossMetrics;
}

function checkShape(t: tf.Tensor, shape: number[], what: string): void {
  check(t.rank === shape.length && t.shape.every((d, i) => d === shape[i]), () => `policyLoss: ${what} must be [${shape}], got [${t.shape}]`);
}

/** Validates the inputs; returns B and T. */
function validate(x: PolicyLossInputs): [number, number] {
  check(
    x.logpNew instanceof tf.Tensor && x.logpNew.rank === 2,
    () => `policyLoss: logpNew must be a [B, T] tensor, got ${x.logpNew instanceof tf.Tensor ? `[${x.logpNew.shape}]` : typeof x.logpNew}`,
  );
  check(x.logpNew.dtype === 'float32', () => `policyLoss: logpNew must be float32, got ${x.logpNew.dtype}`);
  const [B, T] = x.logpNew.shape;
  checkShape(x.logpOld, [B, T], 'logpOld');
  checkShape(x.mask, [B, T], 'mask');
  if (x.advantages instanceof tf.Tensor) {
    checkShape(x.advantages, [B], 'advantages');
  } else {
    const n = x.advantages.length;
    check(n === B, () => `policyLoss: advantages must be [${B}], got ${n} values`);
    for (let i = 0; i < B; i++) check(Number.isFinite(x.advantages[i]), () => `policyLoss: advantages[${i}] is ${(x.advantages as Float32Array)[i]}`);
  }
  if (x.refLogp !== undefined) checkShape(x.refLogp, [B, T], 'refLogp');
  check(Number.isFinite(x.clipLow) && x.clipLow >= 0 && x.clipLow < 1, () => `policyLoss: clipLow must be in [0, 1), got ${x.clipLow}`);
  check(Number.isFinite(x.clipHigh) && x.clipHigh >= 0, () => `policyLoss: clipHigh must be a finite number ≥ 0, got ${x.clipHigh}`);
  const klCoef = x.klCoef ?? 0;
  check(Number.isFinite(klCoef) && klCoef >= 0, () => `policyLoss: klCoef must be a finite number ≥ 0, got ${x.klCoef}`);
  check(klCoef === 0 || x.refLogp !== undefined, () => `policyLoss: klCoef is ${klCoef} but no refLogp was given`);
  check(KL_ESTIMATORS.includes(x.klEstimator ?? 'k3'), () => `policyLoss: klEstimator must be one of ${KL_ESTIMATORS.join(', ')}, got '${x.klEstimator}'`);
  getAggregation(x.aggregation);
  checkAggregationOptions(x, 'policyLoss');
  return [B, T];
}

/** Per-token KL estimate from d = ref − new (already 0 at masked positions). */
function klPerToken(d: tf.Tensor2D, estimator: KlEstimator): tf.Tensor2D {
  switch (estimator) {
    case 'k1':
      return tf.neg(d);
    case 'k2':
      return tf.mul(tf.square(d), 0.5);
    case 'k3':
      return tf.sub(tf.sub(tf.exp(d), d), 1);
  }
}

/**
 * The clipped policy-gradient loss (plus optional KL), see the file comment. Shapes: logpNew, logpOld, mask, refLogp
 * [B, T]; advantages [B]. Returns the scalar loss (differentiable w.r.t. logpNew; call it inside tf.grad /
 * tf.variableGrads) and metrics as plain numbers. The metrics come from tensors that do not feed the loss, so they do
 * not change the gradient; they cost one device→host read of a small vector per call. No tensors leak: only `loss`
 * is returned. Bad shapes or options: KitError naming the argument.
 */
export function policyLoss(x: PolicyLossInputs): PolicyLossResult {
  const [B] = validate(x);
  const agg = getAggregation(x.aggregation);
  const klCoef = x.klCoef ?? 0;
  const estimator = x.klEstimator ?? 'k3';
  let metrics: PolicyLossMetrics | undefined;
  const loss = tf.tidy(() => {
    const present = tf.notEqual(x.mask, 0) as tf.Tensor2D;
    const zeros = tf.zerosLike(x.logpNew);
    const adv = x.advantages instanceof tf.Tensor ? tf.cast(x.advantages, 'float32') : tf.tensor1d(x.advantages, 'float32');
    const A = tf.reshape(adv, [B, 1]);

    const logRatio = tf.clipByValue(tf.where(present, tf.sub(x.logpNew, x.logpOld), zeros), -MAX_LOG_RATIO, MAX_LOG_RATIO) as tf.Tensor2D;
    const ratio = tf.exp(logRatio);
    const unclipped = tf.mul(ratio, A);
    const clipped = tf.mul(tf.clipByValue(ratio, 1 - x.clipLow, 1 + x.clipHigh), A);
    // unclipped first: on a tie (r inside the band) tf.minimum sends the gradient to it, which is the same value.
    const perToken = tf.neg(tf.minimum(unclipped, clipped)) as tf.Tensor2D;
    const pgLoss = agg.aggregate(perToken, present, x);

    let kl: tf.Scalar | null = null;
    if (x.refLogp !== undefined) {
      const d = tf.clipByValue(tf.where(present, tf.sub(x.refLogp, x.logpNew), zeros), -MAX_LOG_RATIO, MAX_LOG_RATIO) as tf.Tensor2D;
      kl = agg.aggregate(klPerToken(d, estimator), present, x);
    }
    const total = kl !== null && klCoef > 0 ? (tf.add(pgLoss, tf.mul(kl, klCoef)) as tf.Scalar) : pgLoss;

    metrics = readMetrics(total, pgLoss, kl, ratio, logRatio, A, present, x.clipLow, x.clipHigh);
    return total;
  });
  return { loss, metrics: metrics! };
}

/** Computes every metric from detached values and reads them with one dataSync. */
function readMetrics(
  total: tf.Scalar,
  pgLoss: tf.Scalar,
  kl: tf.Scalar | null,
  ratio: tf.Tensor2D,
  logRatio: tf.Tensor2D,
  A: tf.Tensor,
  present: tf.Tensor2D,
  clipLow: number,
  clipHigh: number,
): PolicyLossMetrics {
  const m = tf.cast(present, 'float32');
  const counts = tf.sum(m, 1);
  const numTokens = tf.sum(counts);
  const denom = tf.maximum(numTokens, 1);
  const tokenMean = (v: tf.Tensor) => tf.div(tf.sum(tf.mul(v, m)), denom);
  const high = tf.logicalAnd(tf.greater(A, 0), tf.greater(ratio, 1 + clipHigh));
  const low = tf.logicalAnd(tf.less(A, 0), tf.less(ratio, 1 - clipLow));
  const highF = tokenMean(tf.cast(high, 'float32'));
  const lowF = tokenMean(tf.cast(low, 'float32'));
  const one = tf.onesLike(ratio);
  // exp(old − new) − (old − new) − 1 with old − new = −logRatio (0 at masked positions, so k3 = 0 there).
  const k3Old = tf.sub(tf.add(tf.exp(tf.neg(logRatio)), logRatio), 1);
  const packed = tf.stack([
    total,
    pgLoss,
    kl ?? tf.scalar(0),
    tf.add(highF, lowF),
    highF,
    lowF,
    tf.add(tokenMean(tf.sub(ratio, 1)), 1),
    tf.min(tf.where(present, ratio, one)),
    tf.max(tf.where(present, ratio, one)),
    tokenMean(k3Old),
    numTokens,
    tf.sum(tf.cast(tf.greater(counts, 0), 'float32')),
  ]);
  const v = packed.dataSync();
  return {
    loss: v[0],
    pgLoss: v[1],
    kl: kl === null ? null : v[2],
    clipFraction: v[3],
    clipFractionHigh: v[4],
    clipFractionLow: v[5],
    ratioMean: v[6],
    ratioMin: v[7],
    ratioMax: v[8],
    approxKlOld: v[9],
    numTokens: v[10],
    numSequences: v[11],
  };
}
