// The experiment config: one typed object, every field with its default, meaning and source, named presets, and a
// merge that rejects unknown keys, wrong types and impossible values with a message saying what is valid. The resolved
// config is written into every run folder (config.json).
//
// Sources: "paper" = Introspective LLM (arXiv 2602.13035) as summarised in ../shared/docs/paper-notes.md; "ours" = a
// choice of this kit where the paper gives no number (all such values are options).
import * as fs from 'node:fs';
import { KitError } from './errors';
import { DEFAULT_INSTRUCTION } from './tasks/benchmark-task';
import { ControllerConfig, DEFAULT_CONTROLLER_CONFIG, resolveControllerConfig } from './policy/config';

export type ScheduleMode = 'alternate' | 'sequential' | 'joint' | 'temperature-only' | 'token-only';
export const SCHEDULE_MODES: readonly ScheduleMode[] = ['alternate', 'sequential', 'joint', 'temperature-only', 'token-only'];

export interface ExperimentConfig {
  /** Base seed; every random stream of a run is derived from it and the step (so a resumed run repeats exactly). */
  seed: number;
  model: {
    /** HF folder of the token policy (config.json + safetensors + tokenizer). Ours: the tiny SFT model in data/. For
     *  task 'known-answer' the folder under which the task writes its constructed model (one subfolder per rule). */
    dir: string;
  };
  task: {
    /** Synthetic task name ('countdown', 'arithmetic') or 'benchmark' for the JSONL files in data/. */
    name: string;
    /** Difficulty knob of the synthetic task (for 'known-answer': K, the scored positions of a completion). */
    difficulty: number;
    /** For name = 'known-answer': the optimal temperature τ*_k of each token class (1 to 3 classes), known in closed form
     *  by construction (src/tasks/known-answer.ts). Ours: 0.6 and 1.4, one on each side of the head's start at 1.0. */
    optimalTau: number[];
    /** Size of a fixed pool of training problems that every step draws its prompts from; 0 = fresh problems every
     *  step (the synthetic tasks are unlimited). Ours: 0. */
    trainPool: number;
    /** For name = 'benchmark': training file stem in data/ (e.g. 'math_train'). */
    trainBenchmark: string;
    /** For name = 'benchmark': evaluation file stems in data/, each reported separately. */
    evalBenchmarks: string[];
    /** For name = 'benchmark': folder of the JSONL files ('' = the kit's data/; any `<name>.jsonl` there is a set). */
    dataDir: string;
    /** For name = 'benchmark': render prompts with the tokenizer's chat template (false for base models). */
    chatTemplate: boolean;
    /** For name = 'benchmark': the instruction appended to every problem. Ours: the common "boxed" math prompt. */
    instruction: string;
  };
  rollout: {
    /** Distinct prompts per RL step. Ours. */
    promptsPerStep: number;
    /** G: samples per prompt (the GRPO group). Paper: not known; ours: 4 (≥ 2 needed for a group baseline). */
    groupSize: number;
    /** Generation length limit (tokens). */
    maxNewTokens: number;
  };
  /** The temperature controller (name + its options; see src/policy/config.ts for every field). */
  controller: { name: string } & Partial<ControllerConfig>;
  grpo: {
    /** Advantage estimator: 'grpo' (group-normalised, paper) or 'rloo'. */
    advantage: string;
    /** Divide by the group std (paper's GRPO: true; Dr. GRPO: false). */
    scaleByStd: boolean;
    /** PPO clip range ε_low / ε_high (DAPO's clip-higher uses 0.2 / 0.28). Paper: not known; ours: 0.2 / 0.28. */
    clipLow: number;
    clipHigh: number;
    /** KL coefficient to the frozen initial policy (k3 estimator); 0 = off. Paper: not known; ours: 0. */
    klCoef: number;
    /** Loss aggregation: 'token-mean' | 'seq-mean-token-mean' | 'seq-mean-token-sum-norm'. Ours: token-mean. */
    aggregation: string;
    /** Optimisation epochs over each rollout batch (with stored old log-probs). Ours: 1. */
    epochs: number;
    /** Optimisation passes of the temperature head φ over each rollout batch in a temperature step (θ frozen, so its
     *  forward is computed once and reused; each pass is one Adam step of φ). Paper: not known; ours: 1. */
    tempEpochs: number;
    /** Global gradient-norm clip per parameter group; 0 = off. Ours: 1.0. */
    maxGradNorm: number;
    /** Record the φ gradient's signal-to-noise at every step that trains φ (diag/* in metrics.jsonl: the cosine between
     *  the gradients of the batch's two halves, the high-entropy tokens' share; src/rl/grpo-step.ts). Costs four more
     *  backward passes through the head per step. Ours: off (the instruments study turns it on). */
    phiDiagnostics: boolean;
  };
  optim: {
    /** Adam learning rate of the token policy θ. Ours. */
    lrToken: number;
    /** Adam learning rate of the temperature head φ (a small fresh head learns faster than the LM). Ours. */
    lrTemp: number;
  };
  schedule: {
    /** 'alternate' = coordinate ascent over steps: tokenSteps steps on θ with φ frozen, then tempSteps on φ with θ frozen
     *  (θ trains on half the steps at blocks of 1).
     *  'sequential': coordinate ascent on the same rollouts: every step's batch updates φ (θ frozen, tempEpochs passes)
     *  and then θ (φ frozen, epochs passes), so θ gets exactly the baselines' updates and rollouts. φ goes first: its
     *  ratio's h_t then comes from the θ that sampled the batch, and θ's loss reads the recorded τ_t, which φ's update
     *  does not change, so both importance ratios are exact without a second forward pass.
     *  'joint': both every step, in one combined update. 'temperature-only': θ frozen throughout (cheap adaptation of a large model).
     *  'token-only': φ never trained (the baselines with a fixed or heuristic controller). */
    mode: ScheduleMode;
    /** Block lengths of 'alternate'. Paper: not known; ours: 1 and 1 (alternate every step). */
    tokenSteps: number;
    tempSteps: number;
  };
  train: {
    /** RL steps. */
    steps: number;
    /** Save a checkpoint every this many steps (1 = every step: a killed run loses nothing). */
    checkpointEvery: number;
  };
  eval: {
    /** Held-out problems: for a synthetic task the size of its test set (0 = no evaluation); for 'benchmark' the first
     *  N problems of each evaluation benchmark (0 = all of them). */
    problems: number;
    /** Samples per problem for Avg@k / Pass@k. */
    k: number;
    /** Generation length limit at evaluation. */
    maxNewTokens: number;
    /** Which problems `train` and `eval` score: 'test' (held-out, the reported numbers) or 'validation' (a slice of the
     *  training distribution that training never draws; for choosing hyperparameters: `introllm select`). */
    split: string;
  };
}

const BASE: ExperimentConfig = {
  seed: 0,
  model: { dir: 'data/models/tiny-guess' },
  task: { name: 'guess', difficulty: 1, optimalTau: [0.6, 1.4], trainPool: 0, trainBenchmark: 'math_train', evalBenchmarks: ['math500'], dataDir: '', chatTemplate: true, instruction: DEFAULT_INSTRUCTION },
  rollout: { promptsPerStep: 4, groupSize: 16, maxNewTokens: 64 },
  controller: { name: 'introllm' },
  grpo: { advantage: 'grpo', scaleByStd: true, clipLow: 0.2, clipHigh: 0.28, klCoef: 0, aggregation: 'token-mean', epochs: 1, tempEpochs: 5, maxGradNorm: 1.0, phiDiagnostics: false },
  // Chosen on the validation split (introllm select): lrToken in results/selection/tiny/lr-token (1e-4 of 3e-5 … 3e-3),
  // then lrTemp at that lrToken in results/selection/tiny/lr-temp (3e-3 of 1e-3, 3e-3, 1e-2).
  optim: { lrToken: 1e-4, lrTemp: 3e-3 },
  // 'sequential' chosen on the validation split among the schedules that give θ the baselines' updates and rollouts
  // (results/selection/tiny/schedule: sequential 20.4%, joint 20.3%); alternate and the others are ablations.
  schedule: { mode: 'sequential', tokenSteps: 1, tempSteps: 1 },
  train: { steps: 40, checkpointEvery: 1 },
  eval: { problems: 400, k: 4, maxNewTokens: 64, split: 'test' },
};

type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? (T[K] extends unknown[] ? T[K] : DeepPartial<T[K]>) : T[K] };

/** Named presets: overrides of BASE. `smoke` runs in well under a minute on a 2-core CPU. */
export const PRESETS: Record<string, DeepPartial<ExperimentConfig>> = {
  smoke: { rollout: { promptsPerStep: 4, groupSize: 4, maxNewTokens: 96 }, train: { steps: 4 }, eval: { problems: 16, k: 2, maxNewTokens: 96 } },
  tiny: {},
  /** A first look in under 10 minutes: the tiny preset with half the steps and 200 held-out problems. */
  quick: { train: { steps: 20 }, eval: { problems: 200 } },
  /** The kit's first default (until the guess testbed): Countdown with written-out search traces and its 201k-parameter
   *  model. Its reference run, made with these settings, is results/countdown/. */
  countdown: {
    model: { dir: 'data/models/tiny-countdown' },
    task: { name: 'countdown', difficulty: 1 },
    rollout: { promptsPerStep: 8, groupSize: 4, maxNewTokens: 176 },
    grpo: { tempEpochs: 1 },
    optim: { lrToken: 3e-4, lrTemp: 1e-3 },
    train: { steps: 20 },
    eval: { problems: 100, k: 4, maxNewTokens: 176 },
  },
  /** The head's known-answer test (src/tasks/known-answer.ts): a constructed bigram model whose token classes have
   *  known optimal temperatures (task.optimalTau), θ frozen, only the temperature head trains. */
  'known-answer': {
    model: { dir: '.cache/known-answer' },
    task: { name: 'known-answer', difficulty: 2 },
    rollout: { promptsPerStep: 8, groupSize: 16, maxNewTokens: 2 },
    schedule: { mode: 'temperature-only' },
    train: { steps: 100, checkpointEvery: 25 },
    eval: { problems: 256, k: 4, maxNewTokens: 2 },
  },
  small: { rollout: { promptsPerStep: 16, groupSize: 8 }, train: { steps: 150 }, eval: { problems: 300, k: 8 } },
  paper: {
    model: { dir: 'models/Qwen3-1.7B' },
    task: { name: 'benchmark', trainBenchmark: 'math_train', evalBenchmarks: ['aime24', 'amc23', 'math500', 'minerva_math', 'olympiadbench', 'omni_math_rule'] },
    rollout: { promptsPerStep: 32, groupSize: 8, maxNewTokens: 4096 },
    optim: { lrToken: 1e-6, lrTemp: 1e-4 },
    train: { steps: 500, checkpointEvery: 10 },
    eval: { problems: 0, k: 8, maxNewTokens: 8192 },
  },
};

function typeName(v: unknown): string {
  return Array.isArray(v) ? 'array' : v === null ? 'null' : typeof v;
}

/** Merges `over` into `base` (a plain object tree); keys and types must exist in `schema`. `where` is the key path. */
function mergeChecked(base: Record<string, unknown>, over: unknown, schema: Record<string, unknown>, where: string, source: string): Record<string, unknown> {
  if (typeof over !== 'object' || over === null || Array.isArray(over)) {
    throw new KitError(`${source}: ${where || 'config'} must be an object, got ${typeName(over)}`);
  }
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const path = where ? `${where}.${k}` : k;
    // The controller section is open: its fields are checked by resolveControllerConfig.
    if (where === 'controller') {
      out[k] = v;
      continue;
    }
    if (!(k in schema)) throw new KitError(`${source}: unknown config key '${path}'; valid keys here: ${Object.keys(schema).join(', ')}`);
    const want = schema[k];
    if (typeof want === 'object' && want !== null && !Array.isArray(want)) {
      out[k] = mergeChecked(base[k] as Record<string, unknown>, v, want as Record<string, unknown>, path, source);
    } else if (typeName(v) !== typeName(want)) {
      throw new KitError(`${source}: config key '${path}' must be a ${typeName(want)}, got ${typeName(v)} ${JSON.stringify(v)}`);
    } else if (Array.isArray(want) && !(v as unknown[]).every((x) => typeof x === typeof want[0])) {
      throw new KitError(`${source}: config key '${path}' must be an array of ${typeof want[0]}s`);
    } else {
      out[k] = v;
    }
  }
  return out;
}

/** Parses `key=value` (value as JSON when it parses, else a string) into a nested object. */
export function parseSetting(setting: string): Record<string, unknown> {
  const eq = setting.indexOf('=');
  if (eq <= 0) throw new KitError(`--set '${setting}': expected key=value, e.g. rollout.groupSize=8`);
  const key = setting.slice(0, eq);
  const raw = setting.slice(eq + 1);
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    value = raw;
  }
  const root: Record<string, unknown> = {};
  let node = root;
  const parts = key.split('.');
  parts.slice(0, -1).forEach((p) => (node = node[p] = {} as Record<string, unknown>));
  node[parts[parts.length - 1]] = value;
  return root;
}

/** Checks the values that types cannot: ranges and combinations. */
export function validateConfig(c: ExperimentConfig): void {
  const pos = (v: number, key: string, int = true) => {
    if (!(v > 0) || (int && !Number.isInteger(v))) throw new KitError(`config key '${key}' must be a positive ${int ? 'integer' : 'number'}, got ${v}`);
  };
  if (!Number.isInteger(c.seed) || c.seed < 0) throw new KitError(`config key 'seed' must be a non-negative integer, got ${c.seed}`);
  if (!Number.isInteger(c.rollout.groupSize) || c.rollout.groupSize < 2) {
    throw new KitError(`config key 'rollout.groupSize' must be an integer >= 2 (GRPO needs a group to compare with), got ${c.rollout.groupSize}`);
  }
  pos(c.rollout.promptsPerStep, 'rollout.promptsPerStep');
  pos(c.rollout.maxNewTokens, 'rollout.maxNewTokens');
  pos(c.task.difficulty, 'task.difficulty');
  pos(c.train.steps, 'train.steps');
  pos(c.train.checkpointEvery, 'train.checkpointEvery');
  pos(c.grpo.epochs, 'grpo.epochs');
  pos(c.grpo.tempEpochs, 'grpo.tempEpochs');
  pos(c.eval.k, 'eval.k');
  pos(c.eval.maxNewTokens, 'eval.maxNewTokens');
  if (c.eval.split !== 'test' && c.eval.split !== 'validation') throw new KitError(`config key 'eval.split' must be 'test' or 'validation', got ${JSON.stringify(c.eval.split)}`);
  pos(c.optim.lrToken, 'optim.lrToken', false);
  pos(c.optim.lrTemp, 'optim.lrTemp', false);
  pos(c.schedule.tokenSteps, 'schedule.tokenSteps');
  pos(c.schedule.tempSteps, 'schedule.tempSteps');
  if (!(c.grpo.clipLow > 0 && c.grpo.clipLow < 1)) throw new KitError(`config key 'grpo.clipLow' must be in (0, 1), got ${c.grpo.clipLow}`);
  if (!(c.grpo.clipHigh > 0)) throw new KitError(`config key 'grpo.clipHigh' must be > 0, got ${c.grpo.clipHigh}`);
  if (c.grpo.klCoef < 0) throw new KitError(`config key 'grpo.klCoef' must be >= 0, got ${c.grpo.klCoef}`);
  if (c.grpo.maxGradNorm < 0) throw new KitError(`config key 'grpo.maxGradNorm' must be >= 0 (0 = off), got ${c.grpo.maxGradNorm}`);
  if (!Number.isInteger(c.task.trainPool) || c.task.trainPool < 0) throw new KitError(`config key 'task.trainPool' must be an integer >= 0 (0 = fresh problems every step), got ${c.task.trainPool}`);
  if (!Number.isInteger(c.eval.problems) || c.eval.problems < 0) throw new KitError(`config key 'eval.problems' must be an integer >= 0, got ${c.eval.problems}`);
  if (!(SCHEDULE_MODES as readonly string[]).includes(c.schedule.mode)) {
    throw new KitError(`config key 'schedule.mode' must be one of ${SCHEDULE_MODES.join(', ')}, got '${c.schedule.mode}'`);
  }
  const { name, ...rest } = c.controller;
  if (typeof name !== 'string') throw new KitError(`config key 'controller.name' must be a string`);
  resolveControllerConfig(rest); // throws on unknown keys, wrong types, τ_min ≥ τ_max, …
}

export interface ResolveOptions {
  preset?: string;
  /** A JSON config file merged after the preset. */
  configFile?: string;
  /** Objects merged last (e.g. from --set and --method). */
  overrides?: { source: string; value: unknown }[];
}

/** BASE ← preset ← config file ← overrides, each checked; then validated. */
export function resolveConfig(o: ResolveOptions = {}): ExperimentConfig {
  const schema = BASE as unknown as Record<string, unknown>;
  let cfg = structuredClone(BASE) as unknown as Record<string, unknown>;
  if (o.preset !== undefined) {
    const p = PRESETS[o.preset];
    if (!p) throw new KitError(`unknown preset '${o.preset}'; valid: ${Object.keys(PRESETS).join(', ')}`);
    cfg = mergeChecked(cfg, p, schema, '', `preset ${o.preset}`);
  }
  if (o.configFile !== undefined) {
    let raw: unknown;
    try {
      raw = JSON.parse(fs.readFileSync(o.configFile, 'utf8'));
    } catch (e) {
      throw new KitError(`${o.configFile}: cannot read the config (${(e as Error).message})`);
    }
    cfg = mergeChecked(cfg, raw, schema, '', o.configFile);
  }
  for (const ov of o.overrides ?? []) cfg = mergeChecked(cfg, ov.value, schema, '', ov.source);
  const c = cfg as unknown as ExperimentConfig;
  validateConfig(c);
  return c;
}

/** The controller's full option object (defaults filled in). */
export function controllerOptions(c: ExperimentConfig): ControllerConfig {
  const { name: _name, ...rest } = c.controller;
  return resolveControllerConfig(rest);
}

export { DEFAULT_CONTROLLER_CONFIG };
