// The prefill of a KV cache: a batch of left-padded prompts through the decoder's full forward, each layer's keys and
// values written into the cache, with the rows that repeat an earlier row computed once (the G samples of a GRPO
// group, the k samples of an evaluated problem share one prompt). Decoder.prefill calls this; the forward itself and
// the decoding steps that follow are in src/lm/model.ts.
import * as tf from '@tensorflow/tfjs';
import { check } from '../errors';
import type { Decoder, ForwardOutput, KVCache } from './model';
import { gatherRows } from './ops';

/**
 * Runs the (left-padded) prompts through `model` and fills the empty `cache`. ids [B, P]; mask [B, P] (default all
 * ones). Returns logits [B, P, V] and hidden [B, P, d] of the prompt positions, or with `lastOnly` of the last one
 * ([B, 1, V], [B, 1, d]; what a rollout needs, without a [B, P, V] tensor). With `share` (the model's
 * execution.sharePrefill), repeated rows are computed once and copied.
 */
export function prefill(
  model: Decoder,
  cache: KVCache,
  ids: tf.Tensor2D,
  mask: ArrayLike<number> | undefined,
  opts: { lastOnly?: boolean; share: boolean },
): ForwardOutput {
  const [B, P] = ids.shape;
  check(cache.length === 0, 'prefill: the cache is not empty');
  check(B === cache.batch, () => `prefill: ids has ${B} rows, the cache ${cache.batch}`);
  check(P <= cache.maxLen, () => `prefill: prompt length ${P} exceeds the cache length ${cache.maxLen}`);
  const m = mask ?? new Float32Array(B * P).fill(1);
  // Rows that repeat an earlier row are computed once and copied: every op treats rows independently, so the copies
  // equal their own prefill to the bit (tests/lm/model.test.ts), at 1/G of the cost.
  const rows = opts.share ? uniqueRows(ids.dataSync() as Int32Array, m, B, P) : null;
  const shared = rows !== null && rows.unique.length < B;
  const uIds = shared ? (tf.gather(ids, rows.unique) as tf.Tensor2D) : ids;
  const uMask = shared ? rows.unique.flatMap((b) => Array.from({ length: P }, (_, t) => m[b * P + t])) : m;
  const expand = (x: tf.Tensor) => (shared ? gatherRows(x, rows.rowOf) : x);
  const ks: tf.Tensor[] = [];
  const vs: tf.Tensor[] = [];
  const extra = cache.maxLen - P;
  const uOut = model.forward(
    uIds,
    uMask,
    (_l, kT, v) => {
      ks.push(
        tf.keep(
          expand(
            tf.pad(kT, [
              [0, 0],
              [0, 0],
              [0, 0],
              [0, extra],
            ]),
          ),
        ),
      );
      vs.push(
        tf.keep(
          expand(
            tf.pad(v, [
              [0, 0],
              [0, 0],
              [0, extra],
              [0, 0],
            ]),
          ),
        ),
      );
    },
    { headFrom: opts.lastOnly ? P - 1 : 0 },
  );
  const out = shared ? { logits: expand(uOut.logits), hidden: expand(uOut.hidden) } : uOut;
  cache.k = ks;
  cache.v = vs;
  cache.length = P;
  for (let b = 0; b < B; b++) {
    let n = 0;
    for (let t = 0; t < P; t++) {
      cache.valid[b * cache.maxLen + t] = m[b * P + t] ? 1 : 0;
      if (m[b * P + t]) n++;
    }
    cache.nextPos[b] = n;
  }
  return out;
}

/**
 * The distinct rows of a left-padded batch (ids and mask) in first-seen order, and for every row the index of its
 * distinct row.
 */
export function uniqueRows(ids: ArrayLike<number>, mask: ArrayLike<number>, B: number, P: number): { unique: number[]; rowOf: Int32Array } {
  const seen = new Map<string, number>();
  const unique: number[] = [];
  const rowOf = new Int32Array(B);
  for (let b = 0; b < B; b++) {
    let key = '';
    for (let t = 0; t < P; t++) key += `${mask[b * P + t] ? ids[b * P + t] : -1},`;
    let u = seen.get(key);
    if (u === undefined) {
      u = unique.length;
      seen.set(key, u);
      unique.push(b);
    }
    rowOf[b] = u;
  }
  return { unique, rowOf };
}
