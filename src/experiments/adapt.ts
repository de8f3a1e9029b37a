// Helpers for adapting IntroLLM to a model the kit did not train (notebook 09, stories260K): text from a fixed
// temperature, a fixed-τ sweep of Avg@k with bootstrap CIs, and the run config of temperature-only GRPO on the
// `stories` task. Each is a few lines over the kit's own paths (rollout, evaluate, resolveConfig), so that the
// notebook shows the same code a script would run.
import { ExperimentConfig, resolveConfig } from '../config';
import { evaluate } from '../eval/evaluate';
import type { Interval } from '../eval/metrics';
import { Decoder } from '../lm/model';
import { Tokenizer } from '../lm/tokenizer';
import { createController } from '../policy/registry';
import { Rng } from '../rng';
import { completionIds, rollout } from '../rl/rollout';
import { encodePrompt } from '../rl/sft';
import type { Problem, Task } from '../tasks/types';

/** The continuation of `prompt` ([BOS] + prompt) sampled at a fixed τ (0 = greedy), decoded. */
export function generateText(model: Decoder, tok: Tokenizer, prompt: string, o: { tau: number; maxNewTokens: number; seed?: number }): string {
  const c = createController('fixed', { fixedTau: o.tau }, model.cfg.hiddenSize, 0);
  try {
    const r = rollout(
      model,
      c,
      { prompts: [encodePrompt(tok, prompt)], maxNewTokens: o.maxNewTokens, eosId: tok.eosId ?? -1, padId: tok.padId, tau0: 1, trainStep: 0 },
      new Rng(o.seed ?? 0),
    );
    return tok.decode(completionIds(r, 0, tok.eosId ?? -1));
  } finally {
    c.dispose();
  }
}

export interface SweepRow {
  tau: number;
  /** Avg@k over the problems, with its bootstrap 95% CI over problems. */
  avg: Interval;
  /** Generated tokens per sample. */
  meanLength: number;
}

/** Avg@k of a fixed temperature at each τ of `taus`, on the same problems and sampling seed. */
export function fixedTauSweep(
  model: Decoder,
  tok: Tokenizer,
  task: Task,
  problems: Problem[],
  taus: number[],
  o: { k: number; maxNewTokens: number; batchRows?: number },
  rng: Rng,
): SweepRow[] {
  return taus.map((tau) => {
    const c = createController('fixed', { fixedTau: tau }, model.cfg.hiddenSize, 0);
    try {
      const r = evaluate(
        model,
        tok,
        c,
        problems,
        task,
        { k: o.k, maxNewTokens: o.maxNewTokens, tau0: 1, batchRows: o.batchRows ?? 64 },
        rng.fork(`tau:${tau}`),
      );
      return { tau, avg: r.report.avg, meanLength: r.meanLength };
    } finally {
      c.dispose();
    }
  });
}

/** "0.633 [0.539, 0.719]". */
export function fmtInterval(i: Interval, digits = 3): string {
  return `${i.value.toFixed(digits)} [${i.lo.toFixed(digits)}, ${i.hi.toFixed(digits)}]`;
}

export interface StoriesRunOptions {
  modelDir: string;
  seed?: number;
  steps: number;
  promptsPerStep: number;
  groupSize: number;
  /** Continuation length in training and evaluation (128 tokens: long enough for greedy decoding to repeat itself). */
  maxNewTokens?: number;
  evalProblems: number;
  k: number;
  /** Adam learning rate of the head φ (θ is frozen). */
  lrTemp?: number;
}

/**
 * Temperature-only GRPO of the IntroLLM head on the `stories` task: the `tiny` preset with schedule.mode
 * 'temperature-only' (θ never updated), the folder's model, and the given sizes; one checkpoint at the end.
 */
export function storiesRunConfig(o: StoriesRunOptions): ExperimentConfig {
  const maxNewTokens = o.maxNewTokens ?? 128;
  return resolveConfig({
    preset: 'tiny',
    overrides: [
      {
        source: 'storiesRunConfig',
        value: {
          seed: o.seed ?? 0,
          model: { dir: o.modelDir },
          task: { name: 'stories' },
          controller: { name: 'introllm' },
          schedule: { mode: 'temperature-only' },
          rollout: { promptsPerStep: o.promptsPerStep, groupSize: o.groupSize, maxNewTokens },
          optim: { lrTemp: o.lrTemp ?? 3e-3 },
          train: { steps: o.steps, checkpointEvery: o.steps },
          eval: { problems: o.evalProblems, k: o.k, maxNewTokens },
        },
      },
    ],
  });
}
