// The one temperature path of the kit: softmax(logits / τ_t) with a per-row τ, used both when sampling tokens and
// when computing the token log-probs for the loss (the low level of the hierarchical policy, π_θ(y_t | h_t, τ_t)).
// τ = 0 means argmax (greedy); it has no log-prob and is only accepted by sampleTokens.
import * as tf from '@tensorflow/tfjs';
import { check } from '../errors';
import { Rng } from '../rng';

/**
 * log softmax(logits / τ). logits [..., V]; tau a tensor broadcastable to logits without the last axis (e.g. [B] for
 * logits [B, V], [B, T] for [B, T, V]), all τ > 0. Returns [..., V].
 */
export function temperatureLogSoftmax(logits: tf.Tensor, tau: tf.Tensor): tf.Tensor {
  check(tau.rank === logits.rank - 1, () => `temperatureLogSoftmax: tau must have rank ${logits.rank - 1} for logits [${logits.shape}], got [${tau.shape}]`);
  return tf.tidy(() => tf.logSoftmax(tf.div(logits, tf.expandDims(tau, -1))));
}

/**
 * log π(y | τ) of chosen tokens and the entropy of softmax(logits / τ).
 * logits [B, T, V]; tau [B, T] (> 0); tokens [B, T] int32. Returns logp [B, T] and entropy [B, T].
 */
export function tokenLogProbs(logits: tf.Tensor3D, tau: tf.Tensor2D, tokens: tf.Tensor2D): { logp: tf.Tensor2D; entropy: tf.Tensor2D } {
  const [B, T, V] = logits.shape;
  check(tau.shape[0] === B && tau.shape[1] === T, () => `tokenLogProbs: tau must be [${B}, ${T}], got [${tau.shape}]`);
  check(
    tokens.shape[0] === B && tokens.shape[1] === T && tokens.dtype === 'int32',
    () => `tokenLogProbs: tokens must be int32 [${B}, ${T}], got ${tokens.dtype} [${tokens.shape}]`,
  );
  return tf.tidy(() => {
    const lp = temperatureLogSoftmax(logits, tau);
    const logp = pickTokens(lp, tokens);
    const entropy = tf.neg(tf.sum(tf.mul(tf.exp(lp), lp), -1)) as tf.Tensor2D;
    return { logp, entropy };
  });
}

/**
 * log π(y | τ) of the chosen tokens only, as the loss needs it: tokenLogProbs' logp, the same values and the same
 * gradient, without the entropy. Under a gradient tape it keeps two [B, T, V] tensors (logits / τ and the log-softmax)
 * where one-hot selection and the entropy kept about a dozen: with a 152k vocabulary each is 78 MB for 128 tokens, and
 * the streamed backward pass of a 0.6B model has only the wasm heap's last 1.9 GB to work in.
 */
export function tokenLogp(logits: tf.Tensor3D, tau: tf.Tensor2D, tokens: tf.Tensor2D): tf.Tensor2D {
  const [B, T] = logits.shape;
  check(tau.shape[0] === B && tau.shape[1] === T, () => `tokenLogp: tau must be [${B}, ${T}], got [${tau.shape}]`);
  check(
    tokens.shape[0] === B && tokens.shape[1] === T && tokens.dtype === 'int32',
    () => `tokenLogp: tokens must be int32 [${B}, ${T}], got ${tokens.dtype} [${tokens.shape}]`,
  );
  return tf.tidy(() => pickTokens(temperatureLogSoftmax(logits, tau), tokens));
}

/**
 * lp[b, t, tokens[b, t]] for lp [B, T, V], by a gather on the flattened tensor (exact: the old sum of lp ⊙ one-hot added
 * only zeros to it; the gradient puts dy at the token and zeros elsewhere, as that one did).
 */
function pickTokens(lp: tf.Tensor, tokens: tf.Tensor2D): tf.Tensor2D {
  const [B, T, V] = lp.shape;
  const at = tf.add(tf.mul(tf.range(0, B * T, 1, 'int32'), tf.scalar(V, 'int32')), tf.reshape(tokens, [B * T]));
  return tf.reshape(tf.gather(tf.reshape(lp, [B * T * V]), at), [B, T]) as tf.Tensor2D;
}

export interface SampledTokens {
  tokens: Int32Array; // [B]
  /** log π(token | τ) under the temperature used (0 for greedy rows). */
  logp: Float32Array; // [B]
  /** Entropy of softmax(logits / τ) (0 for greedy rows) and of softmax(logits) at τ = 1. */
  entropy: Float32Array; // [B]
  entropyT1: Float32Array; // [B]
}

/**
 * Samples one token per row at per-row temperatures, on the host with the kit's seeded RNG (one draw per row, so
 * results are reproducible on every backend). logits [B, V]; tau: B values ≥ 0.
 */
export function sampleTokens(logits: tf.Tensor2D, tau: ArrayLike<number>, rng: Rng): SampledTokens {
  const [B, V] = logits.shape;
  check(tau.length === B, () => `sampleTokens: got ${tau.length} temperatures for ${B} rows`);
  const safeTau = Float32Array.from(tau, (t) => (t > 0 ? t : 1));
  for (let b = 0; b < B; b++) check(tau[b] >= 0 && Number.isFinite(tau[b]), () => `sampleTokens: temperature of row ${b} is ${tau[b]}`);
  const [lpT, lp1] = tf.tidy(() => {
    const tauT = tf.tensor1d(safeTau);
    return [temperatureLogSoftmax(logits, tauT), tf.logSoftmax(logits)];
  });
  const a = lpT.dataSync() as Float32Array;
  const a1 = lp1.dataSync() as Float32Array;
  tf.dispose([lpT, lp1]);
  const out: SampledTokens = { tokens: new Int32Array(B), logp: new Float32Array(B), entropy: new Float32Array(B), entropyT1: new Float32Array(B) };
  for (let b = 0; b < B; b++) {
    const row = b * V;
    let h1 = 0;
    for (let v = 0; v < V; v++) h1 -= Math.exp(a1[row + v]) * a1[row + v];
    out.entropyT1[b] = h1;
    if (tau[b] === 0) {
      let best = 0;
      for (let v = 1; v < V; v++) if (a1[row + v] > a1[row + best]) best = v;
      out.tokens[b] = best;
      continue;
    }
    const u = rng.next();
    let acc = 0;
    let tok = V - 1;
    let h = 0;
    for (let v = 0; v < V; v++) {
      const p = Math.exp(a[row + v]);
      h -= p * a[row + v];
      if (tok === V - 1 && acc + p > u && acc <= u) tok = v;
      acc += p;
    }
    // Rounding can leave acc slightly below u; the last token with p > 0 then takes the remaining mass.
    if (acc <= u)
      for (let v = V - 1; v >= 0; v--)
        if (a[row + v] > -Infinity) {
          tok = v;
          break;
        }
    out.tokens[b] = tok;
    out.logp[b] = a[row + tok];
    out.entropy[b] = h;
  }
  return out;
}
