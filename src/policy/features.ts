// Statistics of the token distribution at τ = 1: its entropy H_t (EDT's input, the x-axis of the paper's τ-vs-entropy
// view) and the input of the 'introllm-features' ablation (paper ablation "head input: hidden state vs token entropy
// only"). Our choice of features, since the paper's ablation input is not known to us beyond "token entropy":
//   [ H_t / ln V,  max_v p_t(v),  τ_{t−1},  log1p(t) / log1p(positionScale) ]
// all O(1), so that the small MLP needs no input normalisation.
import * as tf from '@tensorflow/tfjs';

export const NUM_FEATURES = 4;

/** Entropy (nats) of softmax(logits) per row. logits [N, V]. Returns [N]. */
export function tokenEntropy(logits: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => {
    const lp = tf.logSoftmax(logits);
    return tf.neg(tf.sum(tf.mul(tf.exp(lp), lp), -1)) as tf.Tensor1D;
  });
}

/** The 'introllm-features' head input. logits [N, V], prevTau [N], position [N]. Returns [N, NUM_FEATURES]. */
export function distributionFeatures(logits: tf.Tensor2D, prevTau: tf.Tensor1D, position: tf.Tensor1D, positionScale: number): tf.Tensor2D {
  return tf.tidy(() => {
    const V = logits.shape[1];
    const lp = tf.logSoftmax(logits);
    const entropy = tf.neg(tf.sum(tf.mul(tf.exp(lp), lp), -1));
    const top1 = tf.exp(tf.max(lp, -1));
    const pos = tf.div(tf.log1p(tf.relu(tf.cast(position, 'float32'))), Math.log1p(positionScale));
    return tf.stack([tf.div(entropy, Math.log(Math.max(V, 2))), top1, tf.cast(prevTau, 'float32'), pos], 1) as tf.Tensor2D;
  });
}
