// The experiment config: one typed object, every field with its default, meaning and source, named presets, and a
// merge that rejects unknown keys, wrong types and impossible values with a message saying what is valid. The resolved
// config is written into every run folder (config.json).
//
// Sources: "paper" = Introspective LLM (arXiv 2602.13035) as summarised in docs/method.md; "ours" = a
// choice of this kit where the paper gives no number (all such values are options).
import { KitError } from './errors';
import { readDataFile } from './io/data-file';
import { DEFAULT_INSTRUCTION } from './tasks/benchmark-task';
import type { TaskConfig } from './tasks/types';
import { CONTROLLER_DOCS, ControllerConfig, DEFAULT_CONTROLLER_CONFIG, resolveControllerConfig } from './policy/config';

export type ScheduleMode = 'alternate' | 'sequential' | 'joint' | 'temperature-only' | 'token-only';
export const SCHEDULE_MODES: readonly ScheduleMode[] = ['alternate', 'sequential', 'joint', 'temperature-only', 'token-only'];

// Each key's meaning and source: CONFIG_DOCS next to the defaults (BASE) below; `introllm config` prints every key with its
// value, description and where the value came from.
export interface ExperimentConfig {
  seed: number;
  model: {
    dir: string;
  };
  task: TaskConfig;
  rollout: {
    promptsPerStep: number;
    groupSize: number;
    maxNewTokens: number;
    chunkRows: number | 'auto';
  };
  controller: { name: string } & Partial<ControllerConfig>;
  grpo: {
    advantage: string;
    scaleByStd: boolean;
    clipLow: number;
    clipHigh: number;
    klCoef: number;
    aggregation: string;
    epochs: number;
    tempEpochs: number;
    maxGradNorm: number;
    phiDiagnostics: boolean;
    microBatchRows: number | 'auto';
  };
  optim: {
    lrToken: number;
    lrTemp: number;
  };
  schedule: {
    mode: ScheduleMode;
    tokenSteps: number;
    tempSteps: number;
  };
  train: {
    steps: number;
    checkpointEvery: number;
  };
  eval: {
    problems: number;
    k: number;
    maxNewTokens: number;
    split: string;
    chunkRows: number | 'auto';
    kvBudgetBytes: number | 'auto';
  };
  device: {
    memory: string | number;
    thetaAdam: string;
    gemm: string;
    webgpuPoolMB: number;
    threads: number | 'auto';
  };
}

const BASE: ExperimentConfig = {
  seed: 0,
  model: { dir: 'data/models/tiny-guess' },
  task: {
    name: 'guess',
    difficulty: 1,
    optimalTau: [0.6, 1.4],
    trainPool: 0,
    trainBenchmark: 'math_train',
    evalBenchmarks: ['math500'],
    dataDir: '',
    chatTemplate: true,
    instruction: DEFAULT_INSTRUCTION,
  },
  rollout: { promptsPerStep: 4, groupSize: 16, maxNewTokens: 64, chunkRows: 'auto' },
  controller: { name: 'introllm' },
  grpo: {
    advantage: 'grpo',
    scaleByStd: true,
    clipLow: 0.2,
    clipHigh: 0.28,
    klCoef: 0,
    aggregation: 'token-mean',
    epochs: 1,
    tempEpochs: 5,
    maxGradNorm: 1.0,
    phiDiagnostics: false,
    microBatchRows: 'auto',
  },
  // Chosen on the validation split (introllm select): lrToken in results/selection/tiny/lr-token (1e-4 of 3e-5 … 3e-3),
  // then lrTemp at that lrToken, the sequential schedule, the [0.4, 1.6] range and the mean evaluation action in
  // results/selection/tiny/lr-temp (1e-2 of 1e-3, 3e-3, 1e-2, 3e-2).
  optim: { lrToken: 1e-4, lrTemp: 1e-2 },
  // 'sequential' chosen on the validation split among the schedules that give θ the baselines' updates and rollouts
  // (results/selection/tiny/schedule: sequential 20.4%, joint 20.3%); alternate and the others are ablations.
  schedule: { mode: 'sequential', tokenSteps: 1, tempSteps: 1 },
  train: { steps: 40, checkpointEvery: 1 },
  eval: { problems: 400, k: 4, maxNewTokens: 64, split: 'test', chunkRows: 'auto', kvBudgetBytes: 'auto' },
  // Memory and device: resolved once per run by the plan (src/plan/run-plan.ts, `introllm plan`).
  device: { memory: 'auto', thetaAdam: 'auto', gemm: 'auto', webgpuPoolMB: 1024, threads: 'auto' },
};

/** A description for every key of BASE (a leaf: its meaning, and where its default comes from). */
type Docs<T> = { [K in keyof T]-?: T[K] extends unknown[] ? string : T[K] extends object ? Docs<T[K]> : string };

/** What each key means and where its default comes from (the controller's options: CONTROLLER_DOCS in
 *  src/policy/config.ts). */
export const CONFIG_DOCS: Docs<Omit<ExperimentConfig, 'controller'>> & { controller: { name: string } } = {
  seed: 'Base seed; every random stream of a run is derived from it and the step (so a resumed run repeats exactly).',
  model: {
    dir:
      'HF folder of the token policy (config.json + safetensors + tokenizer). Ours: the tiny SFT model in data/. ' +
      "For task 'known-answer' the folder under which the task writes its constructed model (one subfolder per " +
      'rule).',
  },
  task: {
    name:
      "The task: a synthetic one ('guess', the default testbed; 'countdown', 'arithmetic', …), 'known-answer' " +
      "(made from the task keys below) or 'benchmark' for the JSONL files in data/.",
    difficulty: "Difficulty knob of the synthetic task (for 'known-answer': K, the scored positions of a completion).",
    optimalTau:
      "For name = 'known-answer': the optimal temperature τ*_k of each token class (1 to 3 classes), known in " +
      "closed form by construction (src/tasks/known-answer.ts). Ours: 0.6 and 1.4, one on each side of the head's" +
      ' start at 1.0.',
    trainPool:
      'Size of a fixed pool of training problems that every step draws its prompts from; 0 = fresh problems every' +
      ' step (the synthetic tasks are unlimited). Ours: 0.',
    trainBenchmark: "For name = 'benchmark': training file stem in data/ (e.g. 'math_train').",
    evalBenchmarks: "For name = 'benchmark': evaluation file stems in data/, each reported separately.",
    dataDir: "For name = 'benchmark': folder of the JSONL files ('' = the kit's data/; any `<name>.jsonl` there is a " + 'set).',
    chatTemplate: "For name = 'benchmark': render prompts with the tokenizer's chat template (false for base models).",
    instruction: 'For name = \'benchmark\': the instruction appended to every problem. Ours: the common "boxed" math prompt.',
  },
  rollout: {
    promptsPerStep: 'Distinct prompts per RL step. Ours.',
    groupSize: 'G: samples per prompt (the GRPO group). Paper: not known; ours: 16 (≥ 2 needed for a group baseline).',
    maxNewTokens: 'Generation length limit (tokens).',
    chunkRows:
      "Rows generated together in a rollout chunk (a number, or 'auto': the largest that fits the device, chosen by " +
      "the run's plan, src/plan/run-plan.ts; whole groups where one fits). Ours: auto. With fewer rows than the batch " +
      'each chunk samples from its own random streams, so the tokens drawn depend on this number (plan.json records it; ' +
      'set it to reproduce a run on another device).',
  },
  controller: {
    name:
      "The temperature controller: 'introllm' (and its ablations 'introllm-nogate', 'introllm-categorical', " +
      "'introllm-gaussian', 'introllm-features'), 'fixed', 'edt', 'ead' or 'tampo'; `--method` sets it with the " +
      'schedule that trains it. Every other controller.* key is an option of the controllers ' +
      '(src/policy/config.ts).',
  },
  grpo: {
    advantage: "Advantage estimator: 'grpo' (group-normalised, paper) or 'rloo'.",
    scaleByStd: "Divide by the group std (paper's GRPO: true; Dr. GRPO: false).",
    clipLow: "PPO clip range ε_low (DAPO's clip-higher uses 0.2 / 0.28). Paper: not known; ours: 0.2.",
    clipHigh: "PPO clip range ε_high (DAPO's clip-higher). Paper: not known; ours: 0.28.",
    klCoef: 'KL coefficient to the frozen initial policy (k3 estimator); 0 = off. Paper: not known; ours: 0.',
    aggregation: "Loss aggregation: 'token-mean' | 'seq-mean-token-mean' | 'seq-mean-token-sum-norm'. Ours: token-mean.",
    epochs: 'Optimisation epochs over each rollout batch (with stored old log-probs). Ours: 1.',
    tempEpochs:
      'Optimisation passes of the temperature head φ over each rollout batch in a temperature step (θ frozen, so ' +
      'its forward is computed once and reused; each pass is one Adam step of φ). Paper: not known; ours: 1.',
    maxGradNorm: 'Global gradient-norm clip per parameter group; 0 = off. Ours: 1.0.',
    phiDiagnostics:
      "Record the φ gradient's signal-to-noise at every step that trains φ (diag/* in metrics.jsonl: the cosine " +
      "between the gradients of the batch's two halves, the high-entropy tokens' share; src/rl/grpo-step.ts). " +
      'Costs four more backward passes through the head per step. Ours: off (the instruments study turns it on).',
    microBatchRows:
      "Rows per GRPO update micro-batch (a number, or 'auto': the largest divisor of the batch whose forward and " +
      "backward fit the device, chosen by the run's plan). Ours: auto. Gradients are accumulated over the micro-batches " +
      "with the whole batch's loss normalisation, so the update equals the one-batch update to float rounding.",
  },
  optim: {
    lrToken: 'Adam learning rate of the token policy θ. Ours.',
    lrTemp: 'Adam learning rate of the temperature head φ (a small fresh head learns faster than the LM). Ours.',
  },
  schedule: {
    mode:
      "'alternate' = coordinate ascent over steps: tokenSteps steps on θ with φ frozen, then tempSteps on φ with " +
      "θ frozen (θ trains on half the steps at blocks of 1). 'sequential': coordinate ascent on the same " +
      "rollouts: every step's batch updates φ (θ frozen, tempEpochs passes) and then θ (φ frozen, epochs passes)," +
      " so θ gets exactly the baselines' updates and rollouts. φ goes first: its ratio's h_t then comes from the " +
      "θ that sampled the batch, and θ's loss reads the recorded τ_t, which φ's update does not change, so both " +
      "importance ratios are exact without a second forward pass. 'joint': both every step, in one combined " +
      "update. 'temperature-only': θ frozen throughout (cheap adaptation of a large model). 'token-only': φ never" +
      ' trained (the baselines with a fixed or heuristic controller).',
    tokenSteps: "Block length of 'alternate' on θ (steps with φ frozen). Paper: not known; ours: 1 (alternate every step).",
    tempSteps: "Block length of 'alternate' on φ (steps with θ frozen). Paper: not known; ours: 1.",
  },
  train: {
    steps: 'RL steps: each samples one batch of rollouts and makes the updates the schedule gives it.',
    checkpointEvery: 'Save a checkpoint every this many steps (1 = every step: a killed run loses nothing).',
  },
  eval: {
    problems:
      "Held-out problems: for a synthetic task the size of its test set (0 = no evaluation); for 'benchmark' the " +
      'first N problems of each evaluation benchmark (0 = all of them).',
    k: 'Samples per problem for Avg@k / Pass@k.',
    maxNewTokens: 'Generation length limit at evaluation.',
    split:
      "Which problems `train` and `eval` score: 'test' (held-out, the reported numbers) or 'validation' (a slice " +
      'of the training distribution that training never draws; for choosing hyperparameters: `introllm select`).',
    chunkRows:
      "Evaluation rows generated together (a number, or 'auto': up to 64, fewer where the device does not hold " +
      "them; whole problems where a chunk holds one). Chosen by the run's plan. Ours: auto (64 for the kit's models).",
    kvBudgetBytes:
      'KV-cache bytes an evaluation chunk may take; a chunk gets fewer rows where its longest prompt needs more (a ' +
      "number, or 'auto': on wasm 768 MiB, three quarters of the heap's working room; elsewhere what the device has " +
      "left after the weights, θ's optimiser state and the chunk's activations). Chosen by the run's plan. Ours: auto.",
  },
  device: {
    memory:
      "The device the run plans for: 'auto' (this machine's memory on the CPU backends; on webgpu the adapter's " +
      "name when it names a known card, else set this), 'cpu', 'h100' (80 GB), 'h200' (141 GB), or a number of GB. " +
      '`introllm plan --device` sets it for a plan. Ours: auto.',
    thetaAdam:
      "Where θ's gradients and Adam's moments live: 'auto' (the plan decides: on the device when the run fits so, " +
      "else host memory), 'device', or 'host' (HostAdam, src/rl/grpo/host-adam.ts, fed by a streamed backward " +
      'pass). Was the environment variable INTROLLM_THETA_ADAM. Ours: auto.',
    gemm:
      "wasm matMul route (src/lm/kernels/gemm.ts): 'auto' (the plan: 'batched', or 'all' when the heap holds the " +
      "weights only without XNNPACK's packed copies), 'batched' (the kit's kernel for batched products, XNNPACK " +
      "for 2-D ones), 'all' (the kit's kernel for every product) or 'tfjs' (tfjs's kernels). Was INTROLLM_GEMM. " +
      'Ours: auto.',
    webgpuPoolMB:
      'webgpu: MiB of freed GPU buffers kept for reuse; beyond it they are destroyed (src/webgpu-node.ts). The plan ' +
      'reserves it on the device. Was INTROLLM_WEBGPU_POOL_MB. Ours: 1024.',
    threads:
      "Threads of the kit's matMul on wasm and cpu (src/lm/kernels/gemm-threads.ts): 'auto' (every core of this " +
      'machine) or a number; 1 = the calling thread only. A large product is split by its output among worker ' +
      "threads, bit-identical to one thread: the kit's own kernel's, and on wasm XNNPACK's 2-D products of many rows " +
      '(each worker runs its own copy of the backend module); the rest of the backend runs on one thread. Ours: auto.',
  },
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
    task: {
      name: 'benchmark',
      trainBenchmark: 'math_train',
      evalBenchmarks: ['aime24', 'amc23', 'math500', 'minerva_math', 'olympiadbench', 'omni_math_rule'],
    },
    rollout: { promptsPerStep: 32, groupSize: 8, maxNewTokens: 4096 },
    optim: { lrToken: 1e-6, lrTemp: 1e-4 },
    train: { steps: 500, checkpointEvery: 10 },
    eval: { problems: 0, k: 8, maxNewTokens: 8192 },
  },
  /** The paper's experiment cut to what one GPU finishes in hours: `paper`'s task, prompts, benchmarks, k and learning
   *  rates on a smaller model, shorter completions, fewer steps and the benchmarks' first 30 problems. `introllm plan
   *  --preset paper-lite --device h100` estimates one run at about 2.8 h on an H100 or an H200 (docs/presets.md). Each
   *  value's reason is on its line; every other key is `paper`'s or the kit's default. */
  'paper-lite': {
    // Qwen3-0.6B, the smallest Qwen3: an RL step in 95 s against Qwen3-1.7B's 3.7 min by the plan's estimate (the
    // paper's model also fits an H100 and an H200 at these sizes, about 6.4 h a run: --set model.dir=models/Qwen3-1.7B).
    model: { dir: 'models/Qwen3-0.6B' },
    // As `paper`: MATH train, and the paper's six in-domain benchmarks, each reported on its own.
    task: {
      name: 'benchmark',
      trainBenchmark: 'math_train',
      evalBenchmarks: ['aime24', 'amc23', 'math500', 'minerva_math', 'olympiadbench', 'omni_math_rule'],
    },
    // 8 prompts × 8 samples: `paper`'s group of 8 (so advantages are as noisy as there), a quarter of its prompts;
    // 1024 new tokens, a quarter of `paper`'s: the rollout's KV cache and the update's logits scale with it.
    rollout: { promptsPerStep: 8, groupSize: 8, maxNewTokens: 1024 },
    // As `paper`, so that paper-lite differs from it only in size.
    optim: { lrToken: 1e-6, lrTemp: 1e-4 },
    // 100 steps (800 of MATH train's 7,470 problems): about 95 s each on an H100 or H200 by the plan's estimate;
    // a checkpoint every 10 steps as `paper` (θ and Adam's moments: about 7 GB on Qwen3-0.6B).
    train: { steps: 100, checkpointEvery: 10 },
    // The first 30 problems of each benchmark (all of AIME24's 30; 180 in all), Avg@8 / Pass@8 as the paper, scored at
    // the training length: about 10 min by the plan's estimate.
    eval: { problems: 30, k: 8, maxNewTokens: 1024 },
  },
};

function typeName(v: unknown): string {
  return Array.isArray(v) ? 'array' : v === null ? 'null' : typeof v;
}

/** Where a config value came from: the kit's default, a preset, a config file, a `--method`, a `--set`, or code. */
export type ConfigSourceKind = 'default' | 'preset' | 'file' | 'method' | 'set' | 'override';

export interface ConfigSource {
  kind: ConfigSourceKind;
  /** e.g. 'default', 'preset tiny', 'configs/x.yaml:7', '--method fixed-0.6', '--set rollout.groupSize=8'. */
  label: string;
}

/** One layer merged over the config: `source` names it in errors (and in `introllm config`). */
export interface ConfigOverride {
  source: string;
  value: unknown;
  /** What kind of source it is (default 'override'; `--set` values: 'set', methods: 'method'). */
  kind?: ConfigSourceKind;
}

interface Layer {
  kind: ConfigSourceKind;
  label: string;
  /** The label of one key of this layer (a file's: `file:line`). */
  at?: (keyPath: string[]) => string;
  /** The source recorded for a key this layer sets, where it is not the layer itself (a file with `sources`). */
  sourceOf?: (keyPath: string[]) => ConfigSource;
}

/**
 * Merges `over` into `base` (a plain object tree); keys and types must exist in `schema`. `where` is the key path.
 * Every leaf set is recorded in `sources` (dotted key → source).
 */
function mergeChecked(
  base: Record<string, unknown>,
  over: unknown,
  schema: Record<string, unknown>,
  where: string[],
  layer: Layer,
  sources: Record<string, ConfigSource>,
): Record<string, unknown> {
  const at = (p: string[]) => (layer.at ? layer.at(p) : layer.label);
  const sourceOf = (p: string[]): ConfigSource => (layer.sourceOf ? layer.sourceOf(p) : { kind: layer.kind, label: at(p) });
  if (typeof over !== 'object' || over === null || Array.isArray(over)) {
    throw new KitError(`${at(where)}: ${where.join('.') || 'config'} must be an object, got ${typeName(over)}`);
  }
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const p = [...where, k];
    const key = p.join('.');
    // The controller section is open: its fields are checked by resolveControllerConfig.
    if (where.length === 1 && where[0] === 'controller') {
      out[k] = v;
      sources[key] = sourceOf(p);
      continue;
    }
    if (!(k in schema)) throw new KitError(`${at(p)}: unknown config key '${key}'; valid keys here: ${Object.keys(schema).join(', ')}`);
    const want = schema[k];
    if (typeof want === 'object' && want !== null && !Array.isArray(want)) {
      out[k] = mergeChecked(base[k] as Record<string, unknown>, v, want as Record<string, unknown>, p, layer, sources);
      continue;
    } else if (AUTO_OR_NUMBER.has(key) && (v === 'auto' || typeof v === 'number' || (key === 'device.memory' && typeof v === 'string'))) {
      // A number or 'auto' (resolved by the run's plan); checked by validateConfig.
    } else if (typeName(v) !== typeName(want)) {
      throw new KitError(`${at(p)}: config key '${key}' must be a ${typeName(want)}, got ${typeName(v)} ${JSON.stringify(v)}`);
    } else if (Array.isArray(want) && !(v as unknown[]).every((x) => typeof x === typeof want[0])) {
      throw new KitError(`${at(p)}: config key '${key}' must be an array of ${typeof want[0]}s`);
    }
    out[k] = v;
    sources[key] = sourceOf(p);
  }
  return out;
}

/** Keys whose value is a number or 'auto' (device.memory also a device name), resolved by the plan. */
const AUTO_OR_NUMBER = new Set(['rollout.chunkRows', 'grpo.microBatchRows', 'eval.chunkRows', 'eval.kvBudgetBytes', 'device.memory', 'device.threads']);

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

/** `--set key=value` strings as config layers, in order. */
export function setOverrides(sets: readonly string[]): ConfigOverride[] {
  return sets.map((s) => ({ source: `--set ${s}`, kind: 'set' as const, value: parseSetting(s) }));
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
  if (c.eval.split !== 'test' && c.eval.split !== 'validation')
    throw new KitError(`config key 'eval.split' must be 'test' or 'validation', got ${JSON.stringify(c.eval.split)}`);
  pos(c.optim.lrToken, 'optim.lrToken', false);
  pos(c.optim.lrTemp, 'optim.lrTemp', false);
  pos(c.schedule.tokenSteps, 'schedule.tokenSteps');
  pos(c.schedule.tempSteps, 'schedule.tempSteps');
  if (!(c.grpo.clipLow > 0 && c.grpo.clipLow < 1)) throw new KitError(`config key 'grpo.clipLow' must be in (0, 1), got ${c.grpo.clipLow}`);
  if (!(c.grpo.clipHigh > 0)) throw new KitError(`config key 'grpo.clipHigh' must be > 0, got ${c.grpo.clipHigh}`);
  if (c.grpo.klCoef < 0) throw new KitError(`config key 'grpo.klCoef' must be >= 0, got ${c.grpo.klCoef}`);
  if (c.grpo.maxGradNorm < 0) throw new KitError(`config key 'grpo.maxGradNorm' must be >= 0 (0 = off), got ${c.grpo.maxGradNorm}`);
  if (!Number.isInteger(c.task.trainPool) || c.task.trainPool < 0)
    throw new KitError(`config key 'task.trainPool' must be an integer >= 0 (0 = fresh problems every step), got ${c.task.trainPool}`);
  if (!Number.isInteger(c.eval.problems) || c.eval.problems < 0)
    throw new KitError(`config key 'eval.problems' must be an integer >= 0, got ${c.eval.problems}`);
  if (!(SCHEDULE_MODES as readonly string[]).includes(c.schedule.mode)) {
    throw new KitError(`config key 'schedule.mode' must be one of ${SCHEDULE_MODES.join(', ')}, got '${c.schedule.mode}'`);
  }
  const autoInt = (v: number | 'auto', key: string) => {
    if (v !== 'auto' && !(Number.isInteger(v) && v > 0))
      throw new KitError(`config key '${key}' must be a positive integer or 'auto', got ${JSON.stringify(v)}`);
  };
  autoInt(c.rollout.chunkRows, 'rollout.chunkRows');
  autoInt(c.grpo.microBatchRows, 'grpo.microBatchRows');
  autoInt(c.eval.chunkRows, 'eval.chunkRows');
  autoInt(c.device.threads, 'device.threads');
  if (c.eval.kvBudgetBytes !== 'auto' && !(typeof c.eval.kvBudgetBytes === 'number' && c.eval.kvBudgetBytes > 0)) {
    throw new KitError(`config key 'eval.kvBudgetBytes' must be a positive number of bytes or 'auto', got ${JSON.stringify(c.eval.kvBudgetBytes)}`);
  }
  const mem = c.device.memory;
  if (!(
    mem === 'auto' ||
    mem === 'cpu' ||
    mem === 'h100' ||
    mem === 'h200' ||
    (typeof mem === 'number' && mem > 0 && Number.isFinite(mem)) ||
    (typeof mem === 'string' && /^\d+(\.\d+)?$/.test(mem) && Number(mem) > 0)
  )) {
    throw new KitError(`config key 'device.memory' must be 'auto', 'cpu', 'h100', 'h200' or a number of GB, got ${JSON.stringify(mem)}`);
  }
  const oneOf = (v: string, key: string, valid: readonly string[]) => {
    if (!valid.includes(v)) throw new KitError(`config key '${key}' must be one of ${valid.join(', ')}, got ${JSON.stringify(v)}`);
  };
  oneOf(c.device.thetaAdam, 'device.thetaAdam', ['auto', 'device', 'host']);
  oneOf(c.device.gemm, 'device.gemm', ['auto', 'batched', 'all', 'tfjs']);
  if (!(c.device.webgpuPoolMB >= 0)) throw new KitError(`config key 'device.webgpuPoolMB' must be a number of MiB >= 0, got ${c.device.webgpuPoolMB}`);
  const { name, ...rest } = c.controller;
  if (typeof name !== 'string') throw new KitError(`config key 'controller.name' must be a string`);
  resolveControllerConfig(rest); // throws on unknown keys, wrong types, τ_min ≥ τ_max, …
}

/** The config key a validation message is about (validateConfig's and resolveControllerConfig's wording), or null. */
function keyOfMessage(message: string): string | null {
  const key = /config key '([^']+)'/.exec(message)?.[1];
  if (key !== undefined) return key;
  const ctl = /^controller config: (?:unknown key '(\w+)'|need (?:0 < )?(\w+)|(\w+) must)/.exec(message);
  const k = ctl && (ctl[1] ?? ctl[2] ?? ctl[3]);
  return k ? `controller.${k}` : null;
}

/**
 * A config file: a partial config (the resolved config's shape) and optionally the preset it builds on. A file the
 * kit writes for a child run (src/experiments/run-request.ts) also has `sources`: where each value came from when the
 * parent resolved it (dotted key → { kind, label }).
 */
export interface ConfigFile {
  file: string;
  preset?: string;
  /** The partial config (without `preset` and `sources`). */
  value: Record<string, unknown>;
  /** The recorded source of each key (dotted), when the file has `sources`. */
  sources?: Record<string, ConfigSource>;
  /** `file:line` of a key path (`file` where the key is not in the file). */
  where(keyPath: (string | number)[]): string;
}

/** Reads a JSON or YAML config file; parse errors and a bad `preset` name the file and line. */
export function loadConfigFile(file: string): ConfigFile {
  const f = readDataFile(file, 'config file');
  const data = f.data;
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new KitError(`${file}: a config file holds a mapping of config keys (a partial config, and optionally 'preset'), got ${typeName(data)}`);
  }
  const { preset, sources, ...value } = data as Record<string, unknown>;
  if (preset !== undefined) {
    if (typeof preset !== 'string')
      throw new KitError(`${f.where(['preset'])}: 'preset' must be a preset name, got ${typeName(preset)} ${JSON.stringify(preset)}`);
    if (!(preset in PRESETS)) throw new KitError(`${f.where(['preset'])}: unknown preset '${preset}'; valid: ${Object.keys(PRESETS).join(', ')}`);
  }
  return {
    file,
    preset: preset as string | undefined,
    value,
    where: f.where,
    ...(sources !== undefined ? { sources: recordedSources(sources, f.where) } : {}),
  };
}

const SOURCE_KINDS: readonly ConfigSourceKind[] = ['default', 'preset', 'file', 'method', 'set', 'override'];

/** A config file's `sources`: a mapping of dotted keys to { kind, label }; anything else names the file and field. */
function recordedSources(raw: unknown, where: (keyPath: (string | number)[]) => string): Record<string, ConfigSource> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new KitError(`${where(['sources'])}: 'sources' must map config keys to { kind, label }, got ${typeName(raw)}`);
  }
  const out: Record<string, ConfigSource> = {};
  for (const [key, s] of Object.entries(raw)) {
    const r = s as Record<string, unknown> | null;
    if (typeof r !== 'object' || r === null || Array.isArray(r) || !SOURCE_KINDS.includes(r.kind as ConfigSourceKind) || typeof r.label !== 'string') {
      throw new KitError(`${where(['sources', key])}: sources.${key} must be { kind: ${SOURCE_KINDS.join(' | ')}, label: string }, got ${JSON.stringify(s)}`);
    }
    out[key] = { kind: r.kind as ConfigSourceKind, label: r.label };
  }
  return out;
}

export interface ResolveOptions {
  /** The preset (default: the config file's `preset`, else none: the kit's defaults). */
  preset?: string;
  /** A JSON or YAML config file merged after the preset. */
  configFile?: string;
  /** Objects merged last (e.g. from --method and --set). */
  overrides?: ConfigOverride[];
}

export interface ResolvedConfig {
  config: ExperimentConfig;
  /** The preset applied (undefined: the kit's defaults alone). */
  preset?: string;
  /** Where each key set above the kit's defaults got its value (dotted key → source); unlisted keys are defaults. */
  sources: Record<string, ConfigSource>;
}

/**
 * A stored run config (a run folder's config.json) with the keys it lacks filled in from the kit's defaults: a run made
 * before a key existed ran as that key's default (each key is added with the default that keeps the earlier behaviour,
 * e.g. the plan's 'auto' keys), so resuming it compares like with like. Keys it has are kept as they are; anything that
 * is not a config object is returned unchanged.
 */
export function withConfigDefaults(stored: unknown): unknown {
  const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!isObj(stored) || !isObj(stored.rollout) || !isObj(stored.grpo)) return stored;
  const fill = (base: Record<string, unknown>, have: Record<string, unknown>, top: boolean): Record<string, unknown> => {
    const out: Record<string, unknown> = { ...have };
    for (const [k, v] of Object.entries(base)) {
      if (top && k === 'controller') continue; // the controller's options are resolved by the controller itself
      if (!(k in have)) out[k] = structuredClone(v);
      else if (isObj(v) && isObj(have[k])) out[k] = fill(v, have[k] as Record<string, unknown>, false);
    }
    return out;
  };
  return fill(BASE as unknown as Record<string, unknown>, stored, true);
}

/** BASE ← preset ← config file ← overrides, each checked; then validated. Records each key's source. */
export function resolveConfigSources(o: ResolveOptions = {}): ResolvedConfig {
  const schema = BASE as unknown as Record<string, unknown>;
  let cfg = structuredClone(BASE) as unknown as Record<string, unknown>;
  const sources: Record<string, ConfigSource> = {};
  const file = o.configFile === undefined ? undefined : loadConfigFile(o.configFile);
  const preset = o.preset ?? file?.preset;
  if (preset !== undefined) {
    const p = PRESETS[preset];
    if (!p) throw new KitError(`unknown preset '${preset}'; valid: ${Object.keys(PRESETS).join(', ')}`);
    cfg = mergeChecked(cfg, p, schema, [], { kind: 'preset', label: `preset ${preset}` }, sources);
  }
  if (file) {
    // A key whose source the file records keeps it, with the file named; any other key's source is the file.
    const recorded = file.sources;
    const sourceOf =
      recorded &&
      ((p: string[]): ConfigSource => {
        const r = recorded[p.join('.')];
        return r ? { kind: r.kind, label: `${r.label} (via ${file.file})` } : { kind: 'file', label: file.where(p) };
      });
    cfg = mergeChecked(cfg, file.value, schema, [], { kind: 'file', label: file.file, at: (p) => file.where(p), ...(sourceOf ? { sourceOf } : {}) }, sources);
  }
  for (const ov of o.overrides ?? []) cfg = mergeChecked(cfg, ov.value, schema, [], { kind: ov.kind ?? 'override', label: ov.source }, sources);
  const c = cfg as unknown as ExperimentConfig;
  try {
    validateConfig(c);
  } catch (e) {
    // Name the source of the offending value (a file's line, a --set), as the merge's errors do.
    const key = e instanceof KitError ? keyOfMessage(e.message) : null;
    const src = key === null ? undefined : sources[key];
    if (src) throw new KitError(`${src.label}: ${(e as Error).message}`);
    throw e;
  }
  return { config: c, preset, sources };
}

/** BASE ← preset ← config file ← overrides, each checked; then validated. */
export function resolveConfig(o: ResolveOptions = {}): ExperimentConfig {
  return resolveConfigSources(o).config;
}

/** One key of a resolved config, as `introllm config` prints it. */
export interface ConfigKeyRow {
  key: string;
  value: unknown;
  source: ConfigSource;
  description: string;
}

/**
 * Every key of a resolved config in the defaults' order, each with its value, where the value came from and what the
 * key means; the controller section is complete (its options' defaults filled in, as a run resolves them).
 */
export function describeConfig(r: ResolvedConfig): ConfigKeyRow[] {
  const rows: ConfigKeyRow[] = [];
  const source = (key: string): ConfigSource => r.sources[key] ?? { kind: 'default', label: 'default' };
  const walk = (node: Record<string, unknown>, docs: Record<string, unknown>, prefix: string) => {
    for (const [k, v] of Object.entries(node)) {
      const key = prefix + k;
      if (key === 'controller') {
        const { name, ...options } = { name: (v as { name: string }).name, ...controllerOptions(r.config) };
        rows.push({ key: 'controller.name', value: name, source: source('controller.name'), description: CONFIG_DOCS.controller.name });
        for (const [ck, cv] of Object.entries(options)) {
          rows.push({ key: `controller.${ck}`, value: cv, source: source(`controller.${ck}`), description: CONTROLLER_DOCS[ck as keyof ControllerConfig] });
        }
      } else if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
        walk(v as Record<string, unknown>, docs[k] as Record<string, unknown>, `${key}.`);
      } else {
        rows.push({ key, value: v, source: source(key), description: docs[k] as string });
      }
    }
  };
  walk(r.config as unknown as Record<string, unknown>, CONFIG_DOCS as unknown as Record<string, unknown>, '');
  return rows;
}

/** The controller's full option object (defaults filled in). */
export function controllerOptions(c: ExperimentConfig): ControllerConfig {
  const { name: _name, ...rest } = c.controller;
  return resolveControllerConfig(rest);
}

export { DEFAULT_CONTROLLER_CONFIG };
