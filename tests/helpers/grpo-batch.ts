// The batch and the policies the GRPO update tests share (micro-batches, recorded head inputs): four prompt groups of
// two rows whose prompts have different lengths (left padding differs per row), their advantages, and a tiny policy
// with its update context.
import * as tf from '@tensorflow/tfjs';
import { ExperimentConfig } from '../../src/config';
import { Decoder } from '../../src/lm/model';
import { createController } from '../../src/policy/registry';
import { createParamGroup } from '../../src/rl/grpo/optim';
import { UpdateContext } from '../../src/rl/grpo-step';
import { tinyConfig } from './kit';

export const EOS = 2;
export const PAD = 0;
export const PROMPTS = [
  [1, 5, 6, 7],
  [1, 5, 6, 7],
  [1, 8, 9],
  [1, 8, 9],
  [1, 4],
  [1, 4],
  [1, 9, 9, 9, 3],
  [1, 9, 9, 9, 3],
];
export const GROUPS = Int32Array.from(PROMPTS.map((_, i) => Math.floor(i / 2)));
export const ADV = Float32Array.from([1, -1, 0.5, -0.5, -1, 1, 2, -2]);

export function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

/** Copies of the variables' values. */
export const snap = (vs: tf.Variable[]) => vs.map((v) => v.dataSync().slice());

/**
 * A tiny qwen3 policy (same seeds every call) with a learned controller and its update context. Adam with ε = 1: for
 * gradients ≪ 1 its first step is −lr·g/(|g| + 1) ≈ −lr·g, so the weights after a step compare the gradients themselves
 * (with ε = 1e-8 a gradient at rounding level would turn into a full ±lr step of either sign).
 */
export function updatePolicy(cfg: ExperimentConfig, o: { controller?: string; onHost?: boolean; reference?: boolean } = {}) {
  const model = Decoder.random(tinyConfig('qwen3'), 4, { std: 0.3 });
  const ctl = createController(o.controller ?? 'introllm', { headInitConcentration: 4 }, model.cfg.hiddenSize, 9);
  const adam = { learningRate: 1, epsilon: 1 };
  const theta = createParamGroup('theta', model.variables(), adam, { onHost: o.onHost });
  const phi = createParamGroup('phi', ctl.variables(), adam);
  const reference = o.reference ? Decoder.random(tinyConfig('qwen3'), 5, { std: 0.3 }) : null;
  const ctx: UpdateContext = { model, controller: ctl, theta, phi, reference, cfg, tau0: 1 };
  return {
    model,
    ctl,
    ctx,
    dispose: () => {
      ctl.dispose();
      model.dispose();
      reference?.dispose();
    },
  };
}
