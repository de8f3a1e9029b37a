// Loss aggregations: how a per-token quantity v [B, T] under a mask [B, T] becomes one scalar. They differ in
// how much each token weighs, which matters for long and short rollouts (DAPO §3.3, Dr. GRPO §3.1). Looked up by name
// in LOSS_AGGREGATIONS (verl-style registry); the same aggregation serves the policy-gradient term and the KL term.
//
//   token-mean               Σ_{i,t} m·v / Σ_{i,t} m                  DAPO (arXiv 2503.14476), "token-level policy
//                                                                      gradient loss": every token weighs the same
//   seq-mean-token-mean      (1/S) Σ_i [ Σ_t m·v / Σ_t m ]             original GRPO (DeepSeekMath, arXiv 2402.03300,
//                                                                      eq. 3): mean over each sequence, then over them
//   seq-mean-token-sum-norm  (1/S) Σ_i [ Σ_t m·v / L ]                 Dr. GRPO (arXiv 2503.20783): the per-sequence
//                                                                      1/|o_i| replaced by a constant L (the maximum
//                                                                      generation length; default T, the padded length)
//
// S counts the sequences with at least one unmasked token: a row whose mask is all zero contributes nothing and does
// not dilute the others, so padding a batch with empty rows leaves the loss unchanged. A batch with no tokens gives 0.
// Masked positions never reach the arithmetic (tf.where, not a product), so NaN or ±Inf there is harmless.
//
// Gradient accumulation: when a batch is split into micro-batches, pass the whole batch's totalTokens (token-mean) or
// totalSequences (seq-mean-*) so that the sum of the micro-batch losses equals the whole-batch loss.
import * as tf from '@tensorflow/tfjs';
import { check, KitError } from '../../errors';

export interface AggregationOptions {
  /** seq-mean-token-sum-norm: the constant length L. Default: T, the second dimension of the values. */
  normLength?: number;
  /** token-mean: use this token count as the denominator instead of the batch's own (gradient accumulation). */
  totalTokens?: number;
  /** seq-mean-*: use this sequence count as the denominator instead of the batch's own (gradient accumulation). */
  totalSequences?: number;
}

export interface LossAggregation {
  name: string;
  /** One line: the formula and the paper it follows. */
  description: string;
  /**
   * values [B, T] float32; present [B, T] bool (true = the token counts). Returns a scalar. Positions where present is
   * false must already be finite (callers select them away with tf.where); aggregate() itself selects them too.
   */
  aggregate(values: tf.Tensor2D, present: tf.Tensor2D, options: AggregationOptions): tf.Scalar;
}

/** max(x, 1) as a scalar tensor, or the given constant. */
function denominator(count: tf.Scalar, given: number | undefined): tf.Scalar {
  return given === undefined ? tf.maximum(count, 1) : tf.scalar(given);
}

/** Σ_t of the present values per row [B], the number of present tokens per row [B]. */
function rowSums(values: tf.Tensor2D, present: tf.Tensor2D): { sums: tf.Tensor1D; counts: tf.Tensor1D } {
  const v = tf.where(present, values, tf.zerosLike(values));
  return { sums: tf.sum(v, 1) as tf.Tensor1D, counts: tf.sum(tf.cast(present, 'float32'), 1) as tf.Tensor1D };
}

const tokenMean: LossAggregation = {
  name: 'token-mean',
  description: 'Σ m·v / Σ m over all tokens of the batch (DAPO token-level loss)',
  aggregate(values, present, o) {
    return tf.tidy(() => {
      const { sums, counts } = rowSums(values, present);
      return tf.div(tf.sum(sums), denominator(tf.sum(counts), o.totalTokens)) as tf.Scalar;
    });
  },
};

const seqMeanTokenMean: LossAggregation = {
  name: 'seq-mean-token-mean',
  description: 'mean over sequences of the mean over their tokens (original GRPO, DeepSeekMath eq. 3)',
  aggregate(values, present, o) {
    return tf.tidy(() => {
      const { sums, counts } = rowSums(values, present);
      const perSeq = tf.div(sums, tf.maximum(counts, 1));
      const nonEmpty = tf.sum(tf.cast(tf.greater(counts, 0), 'float32')) as tf.Scalar;
      return tf.div(tf.sum(perSeq), denominator(nonEmpty, o.totalSequences)) as tf.Scalar;
    });
  },
};

const seqMeanTokenSumNorm: LossAggregation = {
  name: 'seq-mean-token-sum-norm',
  description: 'mean over sequences of Σ_t m·v / L with a constant L (Dr. GRPO)',
  aggregate(values, present, o) {
    const L = o.normLength ?? values.shape[1];
    return tf.tidy(() => {
      const { sums, counts } = rowSums(values, present);
      const nonEmpty = tf.sum(tf.cast(tf.greater(counts, 0), 'float32')) as tf.Scalar;
      return tf.div(tf.div(tf.sum(sums), L), denominator(nonEmpty, o.totalSequences)) as tf.Scalar;
    });
  },
};

const aggregations = {
  'token-mean': tokenMean,
  'seq-mean-token-mean': seqMeanTokenMean,
  'seq-mean-token-sum-norm': seqMeanTokenSumNorm,
};

export type AggregationName = keyof typeof aggregations;

/** The loss aggregations by name. */
export const LOSS_AGGREGATIONS: Readonly<Record<AggregationName, LossAggregation>> = Object.freeze(aggregations);

/** The aggregation called `name`; an unknown name is a KitError listing the valid ones. */
export function getAggregation(name: string): LossAggregation {
  if (!Object.prototype.hasOwnProperty.call(LOSS_AGGREGATIONS, name)) {
    throw new KitError(`unknown loss aggregation '${name}'; valid: ${Object.keys(LOSS_AGGREGATIONS).join(', ')}`);
  }
  return LOSS_AGGREGATIONS[name as AggregationName];
}

/** Checks the numeric aggregation options; `where` names the calling function in the message. */
export function checkAggregationOptions(o: AggregationOptions, where: string): void {
  const positive = (v: number | undefined, name: string) =>
    check(v === undefined || (Number.isFinite(v) && v > 0), () => `${where}: ${name} must be a finite number > 0, got ${v}`);
  positive(o.normLength, 'normLength');
  positive(o.totalTokens, 'totalTokens');
  positive(o.totalSequences, 'totalSequences');
}

/**
 * Aggregates per-token values [B, T] under mask [B, T] (nonzero = the token counts) with the named aggregation.
 * Differentiable w.r.t. values. Returns a scalar.
 */
export function aggregateLoss(name: string, values: tf.Tensor, mask: tf.Tensor, options: AggregationOptions = {}): tf.Scalar {
  const agg = getAggregation(name);
  check(values.rank === 2, () => `aggregateLoss: values must be [B, T], got [${values.shape}]`);
  check(
    mask.rank === 2 && mask.shape[0] === values.shape[0] && mask.shape[1] === values.shape[1],
    () => `aggregateLoss: mask must be [${values.shape}] like values, got [${mask.shape}]`,
  );
  checkAggregationOptions(options, 'aggregateLoss');
  return tf.tidy(() => agg.aggregate(tf.cast(values, 'float32') as tf.Tensor2D, tf.notEqual(mask, 0) as tf.Tensor2D, options));
}
