// A rollout's recorded token log-probs against one full forward of the same rows (the tests of rollout() and of
// chunkedRollout() both check that decoding through the KV cache recorded what a forward pass computes).
import * as tf from '@tensorflow/tfjs';
import { expect } from 'vitest';
import { Decoder } from '../../src/lm/model';
import { tokenLogProbs } from '../../src/lm/sampling';
import { rolloutForward } from '../../src/rl/grpo-step';
import { Rollout } from '../../src/rl/rollout';

/**
 * Expects every generated token's recorded log π_θ(y_t | τ_t) to equal, within 1e-4, that of one forward of the
 * rollout at the recorded τ_t. Returns how many tokens were checked.
 */
export function expectRecordsMatchForward(model: Decoder, r: Rollout, padId: number): number {
  const T = r.tokens.length / r.batch;
  const at = (a: ArrayLike<number>, fill?: number) =>
    Array.from({ length: r.batch * r.steps }, (_, i) => {
      const j = Math.floor(i / r.steps) * T + (i % r.steps);
      return fill !== undefined && !r.mask[j] ? fill : a[j];
    });
  const logp = tf.tidy(() => {
    const fw = rolloutForward(model, r, padId);
    const tau = tf.tensor2d(at(r.tau, 1), [r.batch, r.steps]);
    const tokens = tf.tensor2d(at(r.tokens), [r.batch, r.steps], 'int32');
    return tokenLogProbs(fw.logits, tau, tokens).logp.arraySync() as number[][];
  });
  let checked = 0;
  for (let b = 0; b < r.batch; b++) {
    for (let t = 0; t < r.lengths[b]; t++, checked++) expect(Math.abs(logp[b][t] - r.logpTok[b * T + t])).toBeLessThan(1e-4);
  }
  return checked;
}
