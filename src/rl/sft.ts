// Supervised warm-up on a synthetic task's worked traces, so that a tiny model trained from scratch here reaches
// non-trivial accuracy before RL (the paper starts RL from pretrained Qwen3 models; we have none on a CPU). Loss:
// next-token cross-entropy on the solution and EOS only (the prompt is context). Resumable like the RL runs.
import * as tf from '@tensorflow/tfjs';
import { KitError } from '../errors';
import { Decoder } from '../lm/model';
import { Tokenizer } from '../lm/tokenizer';
import { Rng } from '../rng';
import { encodePrompt } from '../tasks/prompt';
import { Problem, Task } from '../tasks/types';
import { applyGroupGradients, clipByGlobalNorm, ParamGroup } from './grpo/optim';

// Prompt encoding lives below src/rl and src/eval (both use it); re-exported here, where it was.
export { encodePrompt, problemPromptIds } from '../tasks/prompt';

export interface SftOptions {
  difficulty: number;
  batch: number;
  steps: number;
  lr: number;
  /** Linear warm-up steps, then cosine decay to 10% of lr. */
  warmupSteps: number;
  maxGradNorm: number;
}

/** [BOS] prompt solution [EOS] as ids, and a 0/1 target mask that covers the solution and EOS. */
export function encodeExample(tok: Tokenizer, p: Problem): { ids: number[]; target: number[] } {
  const prompt = encodePrompt(tok, p.prompt);
  const solution = [...tok.encode(p.solution), ...(tok.eosId !== null ? [tok.eosId] : [])];
  return { ids: [...prompt, ...solution], target: [...prompt.map(() => 0), ...solution.map(() => 1)] };
}

export function learningRate(o: SftOptions, step: number): number {
  if (step < o.warmupSteps) return (o.lr * (step + 1)) / o.warmupSteps;
  const p = (step - o.warmupSteps) / Math.max(1, o.steps - o.warmupSteps);
  return o.lr * (0.1 + 0.9 * 0.5 * (1 + Math.cos(Math.PI * Math.min(1, p))));
}

/** The problems of SFT step `step` (a pure function of the seed and the step, so resumed runs see the same data). */
export function sftBatch(task: Task, seed: number, step: number, o: SftOptions): Problem[] {
  return task.generate(new Rng(seed).fork(`sft:${step}`), 'train', o.batch, o.difficulty);
}

/**
 * One SFT step on `problems`: right-padded batch, masked cross-entropy, clipped gradients, Adam. Returns the mean
 * loss per target token and the gradient norm.
 */
export function sftStep(
  model: Decoder,
  group: ParamGroup,
  tok: Tokenizer,
  problems: Problem[],
  maxGradNorm: number,
): { loss: number; gradNorm: number; tokens: number } {
  const ex = problems.map((p) => encodeExample(tok, p));
  const L = Math.max(...ex.map((e) => e.ids.length)) - 1;
  if (L + 1 > model.cfg.maxPositions) throw new KitError(`sft: an example has ${L + 1} tokens, more than max_position_embeddings ${model.cfg.maxPositions}`);
  const B = ex.length;
  const inp = new Int32Array(B * L).fill(tok.padId);
  const tgt = new Int32Array(B * L);
  const w = new Float32Array(B * L);
  const attn = new Float32Array(B * L);
  ex.forEach((e, b) => {
    for (let t = 0; t < e.ids.length - 1; t++) {
      inp[b * L + t] = e.ids[t];
      attn[b * L + t] = 1;
      tgt[b * L + t] = e.ids[t + 1];
      w[b * L + t] = e.target[t + 1];
    }
  });
  const tokens = w.reduce((a, x) => a + x, 0);
  const { loss, grads } = tf.tidy(() => {
    const ids = tf.tensor2d(inp, [B, L], 'int32');
    const { value, grads } = tf.variableGrads(() => {
      const logits = model.forward(ids, attn).logits;
      const lp = tf.logSoftmax(logits);
      const picked = tf.sum(tf.mul(lp, tf.oneHot(tf.tensor2d(tgt, [B, L], 'int32'), model.cfg.vocabSize)), -1);
      return tf.div(tf.neg(tf.sum(tf.mul(picked, tf.tensor2d(w, [B, L])))), tokens) as tf.Scalar;
    }, group.variables as tf.Variable[]);
    return { loss: value, grads };
  });
  const lossNum = loss.dataSync()[0];
  const clipped = clipByGlobalNorm(grads, maxGradNorm);
  if (Number.isFinite(clipped.norm)) applyGroupGradients(group, clipped.grads);
  tf.dispose([loss, ...Object.values(grads), ...Object.values(clipped.grads)]);
  return { loss: lossNum, gradNorm: clipped.norm, tokens };
}
