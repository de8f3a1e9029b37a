// Steps the notebooks narrate that need a model: a model folder or a random stand-in, one sequence's controller
// inputs, the IntroLLM head variants on them, several controllers evaluated alike, and samples at a fixed τ. Every
// folder, seed and size is a parameter: the notebooks pass them, so nothing here assumes the kit's default preset.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { loadModelOnBackend } from '../backend';
import { evaluate, EvalOptions, EvalResult, Grader } from '../eval/evaluate';
import { evaluateSamples, MetricReport } from '../eval/metrics';
import { parseHfConfig } from '../lm/config';
import { saveModel } from '../lm/load';
import { Decoder } from '../lm/model';
import { loadTokenizer, Tokenizer, writeCharTokenizer } from '../lm/tokenizer';
import { ControllerConfig } from '../policy/config';
import { HeadController } from '../policy/head-controller';
import { createController } from '../policy/registry';
import type { MethodTraces } from '../plots/types';
import { TauInputs } from '../policy/types';
import { completionIds, rollout } from '../rl/rollout';
import { encodePrompt } from '../rl/sft';
import { Rng } from '../rng';
import { mean } from '../stats';
import { Problem, SYNTHETIC_CHARSET, Task } from '../tasks/types';

/** The shape of the random stand-in model: a 4-layer qwen3 with d = 64 over the synthetic tasks' characters. */
export const RANDOM_MODEL_SHAPE = {
  model_type: 'qwen3',
  vocab_size: 4 + SYNTHETIC_CHARSET.length,
  hidden_size: 64,
  intermediate_size: 192,
  num_hidden_layers: 4,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  head_dim: 16,
  max_position_embeddings: 512,
  tie_word_embeddings: true,
  bos_token_id: 1,
  eos_token_id: 2,
};

/**
 * `dir` when it holds a model (config.json), else a fresh temporary folder with a random model of RANDOM_MODEL_SHAPE
 * (weights from `seed`) and a character tokenizer over SYNTHETIC_CHARSET, so a notebook runs before its model is
 * trained. `random` says which: a random model's outputs are noise.
 */
export async function modelOrRandom(dir: string, seed: number): Promise<{ dir: string; random: boolean }> {
  if (fs.existsSync(path.join(dir, 'config.json'))) return { dir, random: false };
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'introllm-random-'));
  const model = Decoder.random(parseHfConfig(RANDOM_MODEL_SHAPE), seed);
  try {
    await saveModel(tmp, model);
  } finally {
    model.dispose();
  }
  writeCharTokenizer(tmp, SYNTHETIC_CHARSET);
  return { dir: tmp, random: true };
}

/**
 * A controller's inputs for every position of one token sequence: h_t and the logits of a full forward pass, τ_{t-1} = 1
 * and the position t. The caller disposes the four tensors.
 */
export function tauInputsOf(model: Decoder, seq: readonly number[]): TauInputs {
  const n = seq.length;
  return tf.tidy(() => {
    const out = model.forward(tf.tensor2d([seq.slice()], [1, n], 'int32'));
    return { hidden: out.hidden.reshape([n, -1]), logits: out.logits.reshape([n, -1]), prevTau: tf.fill([n], 1.0), position: tf.range(0, n) };
  }) as unknown as TauInputs;
}

/**
 * Each named head controller (created with `seed`, its default options) acting once on `inputs` (the rng forked by its
 * name): its parameter count, head outputs, gate rate, τ range and number of distinct τ.
 */
export function headVariantSummary(names: readonly string[], inputs: TauInputs, hiddenSize: number, seed: number): Record<string, Record<string, number>> {
  const n = inputs.hidden.shape[0];
  return Object.fromEntries(
    names.map((name) => {
      const c = createController(name, {}, hiddenSize, seed) as HeadController;
      try {
        const d = c.act(inputs, new Rng(seed).fork(name));
        const u = c.headOutputs(inputs);
        const outputs = u.shape[1];
        u.dispose();
        return [
          name,
          {
            parameters: c.variables().reduce((s, v) => s + v.size, 0),
            'outputs u': outputs,
            'gate rate': +(d.gate.reduce((a, b) => a + b, 0) / n).toFixed(3),
            'τ min': +Math.min(...d.tau).toFixed(3),
            'τ max': +Math.max(...d.tau).toFixed(3),
            'distinct τ': new Set(d.tau).size,
          },
        ];
      } finally {
        c.dispose();
      }
    }),
  );
}

/** A controller to evaluate: its registry name and options. */
export type ControllerSpec = Partial<ControllerConfig> & { name: string };

/**
 * Evaluates each labelled controller on the same problems alike: created with `seed`, sampled with a fresh
 * `Rng(seed).fork('eval')`, disposed after. Results keyed by label, in the order of `methods`.
 */
export function evaluateControllers(
  model: Decoder,
  tok: Tokenizer,
  methods: Record<string, ControllerSpec>,
  problems: Problem[],
  grader: Grader,
  o: EvalOptions,
  seed: number,
): Record<string, EvalResult> {
  const results: Record<string, EvalResult> = {};
  for (const [label, { name, ...opts }] of Object.entries(methods)) {
    const controller = createController(name, opts, model.cfg.hiddenSize, seed);
    try {
      results[label] = evaluate(model, tok, controller, problems, grader, o, new Rng(seed).fork('eval'));
    } finally {
      controller.dispose();
    }
  }
  return results;
}

/** What fixedTauSamples returns. */
export interface FixedTauSamples {
  /** The decoded completions, k consecutive ones per problem. */
  texts: string[];
  /** Per problem, its k samples' verdicts. */
  correct: boolean[][];
  /** Avg@k / Pass@k with bootstrap CIs over problems (Rng(seed)). */
  report: MetricReport;
  /** Mean entropy at τ over the generated tokens (nats). */
  entropyMean: number;
  /** Distinct completions among `texts`. */
  distinct: number;
  /** Completions that ended with EOS. */
  finished: number;
}

/**
 * k samples per problem at a fixed τ (the 'fixed' controller, created with `seed`; prompts as encodePrompt makes them),
 * graded by the task's verifier.
 */
export function fixedTauSamples(
  model: Decoder,
  tok: Tokenizer,
  task: Pick<Task, 'verify'>,
  problems: readonly Problem[],
  tau: number,
  o: { k: number; maxNewTokens: number; seed: number },
  rng: Rng,
): FixedTauSamples {
  const { k } = o;
  const fixed = createController('fixed', { fixedTau: tau }, model.cfg.hiddenSize, o.seed);
  try {
    const prompts = problems.flatMap((p) => Array.from({ length: k }, () => encodePrompt(tok, p.prompt)));
    const req = { prompts, maxNewTokens: o.maxNewTokens, eosId: tok.eosId!, padId: tok.padId, tau0: 1, trainStep: 0 };
    const r = rollout(model, fixed, req, rng);
    const texts = prompts.map((_, b) => tok.decode(completionIds(r, b, tok.eosId!)));
    const correct = problems.map((p, i) => texts.slice(i * k, i * k + k).map((t) => task.verify(t, p)));
    const used = Array.from(r.entropyTau).filter((_, i) => r.mask[i]);
    return {
      texts,
      correct,
      report: evaluateSamples(correct, k, new Rng(o.seed)),
      entropyMean: mean(used),
      distinct: new Set(texts).size,
      finished: Array.from(r.finished).filter(Boolean).length,
    };
  } finally {
    fixed.dispose();
  }
}

/**
 * The token traces of each labelled controller evaluated (evaluateControllers, `o.keepTraces` problems kept) with the
 * model and tokenizer of `modelDir`, which is loaded frozen and disposed after.
 */
export async function evaluateTraces(
  modelDir: string,
  methods: Record<string, ControllerSpec>,
  problems: Problem[],
  grader: Grader,
  o: EvalOptions,
  seed: number,
): Promise<MethodTraces[]> {
  const { model } = loadModelOnBackend(modelDir, { trainable: false });
  try {
    const results = evaluateControllers(model, await loadTokenizer(modelDir), methods, problems, grader, o, seed);
    return Object.entries(results).map(([method, r]) => ({ method, traces: r.traces }));
  } finally {
    model.dispose();
  }
}
