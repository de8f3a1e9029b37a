// The RL run, top to bottom (nanochat / TRL style): for each step, prompts → rollout (hierarchical policy) → rewards
// (the task's verifier) → group advantages → GRPO update of the phase's parameters → metrics line → checkpoint.
// Every random stream is derived from (seed, step), so a run killed at any moment and resumed from its last
// checkpoint writes exactly the metrics an uninterrupted run writes.
import * as tf from '@tensorflow/tfjs';
import * as path from 'node:path';
import { controllerOptions, ExperimentConfig, withConfigDefaults } from '../config';
import { evaluate, EvalResult, evaluateSets } from '../eval/evaluate';
import { EvalJournal, evalJournalFileOf, removeEvalJournal } from '../eval/partial';
import { KitError } from '../errors';
import { ONE_RECORD_PER_LINE, writeJsonAtomic } from '../io/atomic';
import { packedFilesIn } from '../io/packed';
import { startPhase } from '../io/rss';
import { loadHfConfig, requireModelFolder } from '../lm/config';
import { loadModelOnBackend } from '../backend';
import { planFor, runningBackend } from '../plan/gather';
import { planRefusal, RunPlan } from '../plan/run-plan';
import { Decoder } from '../lm/model';
import { loadTokenizer, Tokenizer } from '../lm/tokenizer';
import { createController, isLearnedController } from '../policy/registry';
import { TampoController } from '../policy/tampo';
import { TemperatureController } from '../policy/types';
import { Rng } from '../rng';
import { mean } from '../stats';
import { problemPromptIds } from '../tasks/prompt';
import { modelDirFor, taskFromConfig } from '../tasks/registry';
import { Problem, Task } from '../tasks/types';
import { loadCheckpoint, saveCheckpoint } from '../train/checkpoint';
import { Progress } from '../train/progress';
import { MetricsLog, openRunDir } from '../train/run-dir';
import { computeAdvantages } from './grpo/advantages';
import { createParamGroup, disposeParamGroup, ParamGroup } from './grpo/optim';
import {
  grpoUpdate,
  usesRecordedHeadInputs,
  microBatches,
  PhiDiagnostics,
  phiGradientDiagnostics,
  rolloutForward,
  UpdateContext,
  UpdateMetrics,
} from './grpo-step';
import { tokenLogp } from '../lm/sampling';
import { chunkedRollout, completionIds, Rollout, sliceRollout } from './rollout';
import { phaseAt, runTrainsTheta, stepUpdates, UpdatePhase } from './schedule';

export interface Run {
  cfg: ExperimentConfig;
  dir: string;
  model: Decoder;
  reference: Decoder | null;
  tok: Tokenizer;
  task: Task;
  controller: TemperatureController;
  theta: ParamGroup;
  phi: ParamGroup | null;
  log: MetricsLog;
  /** Steps already done (from the checkpoint). */
  step: number;
  /** The fixed training pool when cfg.task.trainPool > 0 (made on first use). */
  pool?: Problem[];
  /** The run's memory and device plan (src/plan/run-plan.ts): its evaluation chunks and KV budget are used here. */
  plan: RunPlan;
}

function tau0Of(cfg: ExperimentConfig): number {
  return controllerOptions(cfg).tau0;
}

/** The run's temperature controller, freshly initialised from (cfg.controller, cfg.seed). */
export function controllerFor(cfg: ExperimentConfig, hiddenSize: number): TemperatureController {
  const { name, ...rest } = cfg.controller;
  return createController(name, rest, hiddenSize, new Rng(cfg.seed).fork('controller-init').nextUint32());
}

/** Opens (or resumes) the run in `dir`, with its plan (made here when not given: planFor on the running backend). */
export async function openRun(cfg: ExperimentConfig, dir: string, plan?: RunPlan): Promise<Run> {
  // Everything that can be wrong with the task, its files or the tokenizer fails here, before a run folder exists.
  const task = taskFromConfig(cfg.task);
  const modelDir = modelDirFor(cfg);
  requireModelFolder(modelDir);
  const tok = await loadTokenizer(modelDir);
  if (tok.eosId === null) throw new KitError(`${modelDir}: the tokenizer has no eos_token; rollouts need one to stop`);
  checkTaskPrompts(cfg, task, tok, { training: true });
  const packed = packedFilesIn(dir);
  if (packed.length > 0) {
    throw new KitError(
      `${dir}: a finished, packed run (${packed.join(', ')}); it is not trained into. Restore it with ` +
        `\`introllm pack --unpack ${dir}\`, or choose another --out`,
    );
  }
  // The plan decides the backend, the matMul route and where θ's optimiser state lives (thetaOnHost: host memory).
  const runPlan = plan ?? planFor(cfg, { backend: runningBackend(), modelDir });
  const refusal = planRefusal(runPlan);
  if (refusal) throw new KitError(`${dir}: ${refusal}`);
  const { model, thetaOnHost } = loadModelOnBackend(modelDir, { trainable: true, plan: runPlan });
  const resumed = openRunDir(dir, cfg, { fillMissing: withConfigDefaults });
  const reference = cfg.grpo.klCoef > 0 ? loadModelOnBackend(modelDir, { trainable: false, plan: runPlan }).model : null;
  const controller = controllerFor(cfg, model.cfg.hiddenSize);
  const theta = createParamGroup('theta', model.variables(), { learningRate: cfg.optim.lrToken }, { onHost: thetaOnHost });
  const phi = controller.learned ? createParamGroup('phi', controller.variables(), { learningRate: cfg.optim.lrTemp }) : null;
  const run: Run = {
    cfg,
    dir,
    model,
    reference,
    tok,
    task,
    controller,
    theta,
    phi,
    log: new MetricsLog(path.join(dir, 'metrics.jsonl')),
    step: 0,
    plan: runPlan,
  };
  if (resumed) {
    const st = await loadCheckpoint(dir, { variables: checkpointVariables(run), optimizers: groups(run) });
    if (st) {
      run.step = st.step as number;
      controller.loadState(st.controller);
    }
    run.log.truncateAfter(run.step);
    run.log.requireSteps(run.step);
  }
  return run;
}

/**
 * The finite sets of a task (the benchmark files: the training set when `training`, and the evaluation sets) must be
 * non-empty, render (chat template), and fit the model's positions with the generation limit: fail before any work.
 * config.json alone gives the context length, so no weights are loaded.
 */
export function checkTaskPrompts(cfg: ExperimentConfig, task: Task, tok: Tokenizer, o: { training: boolean }): void {
  const training = o.training ? task.trainingSet?.() : undefined;
  if (training?.length === 0) throw new KitError(`task '${task.name}': the training set '${cfg.task.trainBenchmark}' is empty`);
  const { maxPositions } = loadHfConfig(modelDirFor(cfg));
  if (training) checkPromptLengths(tok, task, training, cfg.task.trainBenchmark, cfg.rollout.maxNewTokens, 'rollout.maxNewTokens', maxPositions);
  for (const s of task.evalSets?.(cfg.eval.problems) ?? [])
    checkPromptLengths(tok, task, s.problems, s.name, cfg.eval.maxNewTokens, 'eval.maxNewTokens', maxPositions);
}

/** Every prompt of a finite set plus the generation limit must fit the model's positions: fail now, not mid-run. */
function checkPromptLengths(tok: Tokenizer, task: Task, problems: Problem[], set: string, maxNew: number, key: string, maxPositions: number): void {
  let worst = 0;
  let worstId = '';
  for (const p of problems) {
    const n = problemPromptIds(tok, p, task).length;
    if (n > worst) [worst, worstId] = [n, p.id];
  }
  if (worst + maxNew > maxPositions) {
    throw new KitError(
      `${set}: problem '${worstId}' has a ${worst}-token prompt; with ${key} = ${maxNew} that is ${worst + maxNew} positions, more than the model's max_position_embeddings ${maxPositions}. ${key === 'eval.maxNewTokens' ? 'Lower it, evaluate fewer problems (eval.problems)' : 'Lower it, train on a file without such problems (task.trainBenchmark, task.dataDir)'}, or use a model with a longer context`,
    );
  }
}

function checkpointVariables(run: Run): Record<string, readonly tf.Variable[]> {
  return { theta: run.model.variables(), phi: run.controller.variables() };
}

function groups(run: Run): ParamGroup[] {
  return run.phi ? [run.theta, run.phi] : [run.theta];
}

export async function saveRun(run: Run): Promise<void> {
  await saveCheckpoint(run.dir, {
    variables: checkpointVariables(run),
    optimizers: groups(run),
    state: { step: run.step, controller: run.controller.state() },
  });
}

/**
 * The prompts of RL step `step`: a pure function of (seed, step). A finite training set (benchmark files) is walked in
 * epochs, each a fresh seeded permutation, so every problem is used once per epoch; a synthetic task draws fresh
 * problems every step, or from a fixed pool when cfg.task.trainPool > 0.
 */
export function stepProblems(run: Pick<Run, 'cfg' | 'task' | 'pool'>, step: number): Problem[] {
  const c = run.cfg;
  const P = c.rollout.promptsPerStep;
  const finite = run.task.trainingSet?.();
  if (finite) {
    const orders = new Map<number, number[]>();
    const order = (epoch: number) => {
      if (!orders.has(epoch)) orders.set(epoch, new Rng(c.seed).fork(`epoch:${epoch}`).shuffle(finite.map((_, i) => i)));
      return orders.get(epoch)!;
    };
    return Array.from({ length: P }, (_, i) => {
      const pos = step * P + i;
      return finite[order(Math.floor(pos / finite.length))[pos % finite.length]];
    });
  }
  const rng = new Rng(c.seed).fork(`train:${step}`);
  if (c.task.trainPool === 0) return run.task.generate(rng, 'train', P, c.task.difficulty);
  run.pool ??= run.task.generate(new Rng(c.seed).fork('train-pool'), 'train', c.task.trainPool, c.task.difficulty);
  const order = rng.shuffle(run.pool.map((_, i) => i));
  return Array.from({ length: P }, (_, i) => run.pool![order[i % order.length]]);
}

/** Binary rewards of a rollout: row b is graded by the task's verifier against problem `groupsOf[b]`. */
export function scoreRollout(task: Pick<Task, 'verify'>, tok: Tokenizer, r: Rollout, problems: Problem[], groupsOf: Int32Array): Float32Array {
  const rewards = new Float32Array(r.batch);
  for (let b = 0; b < r.batch; b++) rewards[b] = task.verify(tok.decode(completionIds(r, b, tok.eosId!)), problems[groupsOf[b]]) ? 1 : 0;
  return rewards;
}

function tokenStats(r: Rollout): Record<string, number> {
  let n = 0,
    tau = 0,
    tau2 = 0,
    gate = 0,
    ent = 0;
  for (let i = 0; i < r.mask.length; i++) {
    if (!r.mask[i]) continue;
    n++;
    tau += r.tau[i];
    tau2 += r.tau[i] * r.tau[i];
    gate += r.gate[i];
    ent += r.entropy[i];
  }
  const m = tau / n;
  return {
    'policy/tau_mean': m,
    'policy/tau_std': Math.sqrt(Math.max(0, tau2 / n - m * m)),
    'policy/gate_rate': gate / n,
    'policy/entropy_mean': ent / n,
    'train/tokens': n,
  };
}

/**
 * Mean τ and gate rate of each token class of the task (Task.tokenClasses) over a rollout's generated tokens:
 * `tau_class/<name>`, `gate_class/<name>` and `tokens_class/<name>`. Empty for tasks without classes.
 */
export function classStats(task: Pick<Task, 'tokenClasses'>, tok: Tokenizer, r: Rollout, problems: Problem[], groupsOf: Int32Array): Record<string, number> {
  if (!task.tokenClasses) return {};
  const T = r.tau.length / r.batch;
  const acc = new Map<string, { n: number; tau: number; gate: number }>();
  for (let b = 0; b < r.batch; b++) {
    const ids = Array.from(r.tokens.subarray(b * T, b * T + r.lengths[b]));
    const classes = task.tokenClasses(
      problems[groupsOf[b]],
      ids.map((id) => tok.decode([id])),
    );
    classes.forEach((c, t) => {
      if (c === null || !r.mask[b * T + t]) return;
      const a = acc.get(c) ?? { n: 0, tau: 0, gate: 0 };
      a.n++;
      a.tau += r.tau[b * T + t];
      a.gate += r.gate[b * T + t];
      acc.set(c, a);
    });
  }
  const out: Record<string, number> = {};
  for (const [c, a] of [...acc].sort(([x], [y]) => x.localeCompare(y))) {
    out[`tau_class/${c}`] = a.tau / a.n;
    out[`gate_class/${c}`] = a.gate / a.n;
    out[`tokens_class/${c}`] = a.n;
  }
  return out;
}

function lossMetrics(prefix: string, m: UpdateMetrics['token']): Record<string, number | null> {
  if (!m) return {};
  return { [`${prefix}/loss`]: m.loss, [`${prefix}/clip_fraction`]: m.clipFraction, [`${prefix}/ratio_mean`]: m.ratioMean, [`${prefix}/kl`]: m.kl };
}

/**
 * TAMPO's ℓ_k(i) for every row i of a rollout and candidate τ_k: the mean log-likelihood of the row's generated tokens
 * (EOS included) under softmax(logits / τ_k), from one forward pass over the rollout. Row-major [B, K].
 */
export function completionLogLikByTau(model: Decoder, r: Rollout, taus: readonly number[], padId: number, microRows = r.batch): Float32Array {
  const B = r.batch;
  const K = taus.length;
  const slices = microBatches(B, microRows);
  if (slices.length > 1) {
    // One micro-batch of rows at a time (each row's values depend on its own tokens only).
    const out = new Float32Array(B * K);
    for (const [b0, b1] of slices) out.set(completionLogLikByTau(model, sliceRollout(r, b0, b1), taus, padId), b0 * K);
    return out;
  }
  const T = r.steps;
  const Tfull = r.tokens.length / B;
  const ids = new Int32Array(B * T).fill(padId);
  const mask = new Float32Array(B * T);
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      if (!r.mask[b * Tfull + t]) continue;
      ids[b * T + t] = r.tokens[b * Tfull + t];
      mask[b * T + t] = 1;
    }
  }
  const out = new Float32Array(B * K);
  tf.tidy(() => {
    const { logits } = rolloutForward(model, r, padId);
    const tokens = tf.tensor2d(ids, [B, T], 'int32');
    const m = tf.tensor2d(mask, [B, T]);
    const len = tf.maximum(tf.sum(m, 1), 1);
    taus.forEach((tau, k) => {
      const logp = tokenLogp(logits, tf.fill([B, T], tau) as tf.Tensor2D, tokens);
      const meanLogp = tf.div(tf.sum(tf.mul(logp, m), 1), len).dataSync();
      for (let b = 0; b < B; b++) out[b * K + k] = meanLogp[b];
    });
  });
  return out;
}

/** One RL step (0-based `step`): returns the metrics record written to metrics.jsonl. */
export function trainStep(run: Run, step: number): Record<string, unknown> & { step: number } {
  const c = run.cfg;
  const G = c.rollout.groupSize;
  const tau0 = tau0Of(c);
  const phase = phaseAt(step, c.schedule, run.controller.learned);
  const problems = stepProblems(run, step);
  const prompts = problems.flatMap((p) => {
    const ids = problemPromptIds(run.tok, p, run.task);
    return Array.from({ length: G }, () => ids);
  });
  const groupsOf = Int32Array.from(prompts.map((_, i) => Math.floor(i / G)));
  // A 'sequential' step is two updates on this batch: φ (θ frozen), then θ (φ frozen); other steps are one update.
  const updates: UpdatePhase[] = phase === 'sequential' ? ['temperature', 'token'] : [phase];
  const t0 = performance.now();
  const rolloutPhase = startPhase();
  // In chunks of the plan's rollout rows (one chunk: the whole batch), and below in the plan's update micro-batches.
  const r = chunkedRollout(
    run.model,
    run.controller,
    {
      prompts,
      maxNewTokens: c.rollout.maxNewTokens,
      eosId: run.tok.eosId!,
      padId: run.tok.padId,
      tau0,
      trainStep: step,
      groups: groupsOf,
      // A step with a θ-frozen update of φ keeps the head's inputs when the plan says they fit (no θ forward then).
      recordHeadInput: run.plan.head_inputs === 'recorded' && updates.includes('temperature'),
    },
    new Rng(c.seed).fork(`rollout:${step}`),
    run.plan.rollout_rows,
  );
  const microRows = run.plan.update_rows > 0 ? run.plan.update_rows : r.batch;
  const oneMicroBatch = microRows >= r.batch;
  const t1 = performance.now();
  const rolloutMem = rolloutPhase.end().peakRssMb;
  const rewards = scoreRollout(run.task, run.tok, r, problems, groupsOf);
  const adv = computeAdvantages(c.grpo.advantage, rewards, { groupSize: G, scaleByStd: c.grpo.scaleByStd });
  const T = r.tau.length / r.batch;
  const logLikByTau =
    run.controller instanceof TampoController ? completionLogLikByTau(run.model, r, run.controller.taus, run.tok.padId, microRows) : undefined;
  run.controller.observe?.({ rowTau: Float32Array.from({ length: r.batch }, (_, b) => r.tau[b * T]), reward: rewards, advantage: adv.advantages, logLikByTau });
  const t2 = performance.now();
  const updatePhase = startPhase();
  const ctx: UpdateContext = { model: run.model, controller: run.controller, theta: run.theta, phi: run.phi, reference: run.reference, cfg: c, tau0 };
  const upd: UpdateMetrics = { token: null, temperature: null, thetaGradNorm: null, phiGradNorm: null, skipped: false };
  let diag: PhiDiagnostics | null = null;
  for (const u of updates) {
    // A temperature update trains only the small head: it reads the head inputs the rollout recorded, or θ's forward
    // is computed once and reused by its passes (in micro-batches it is recomputed per micro-batch and pass: the whole
    // batch's logits are what does not fit).
    const epochs = u === 'temperature' ? c.grpo.tempEpochs : c.grpo.epochs;
    const diagnose = u === 'temperature' && c.grpo.phiDiagnostics && run.phi !== null;
    const frozen =
      oneMicroBatch && u === 'temperature' && !usesRecordedHeadInputs(r) && (epochs > 1 || diagnose)
        ? tf.tidy(() => rolloutForward(run.model, r, run.tok.padId))
        : undefined;
    if (diagnose) diag = phiGradientDiagnostics(ctx, r, adv.advantages, run.tok.padId, G, frozen ?? null, microRows);
    for (let e = 0; e < epochs; e++) {
      const m = grpoUpdate(ctx, r, adv.advantages, u, run.tok.padId, frozen, microRows);
      upd.token = m.token ?? upd.token;
      upd.temperature = m.temperature ?? upd.temperature;
      upd.thetaGradNorm = m.thetaGradNorm ?? upd.thetaGradNorm;
      upd.phiGradNorm = m.phiGradNorm ?? upd.phiGradNorm;
      upd.skipped ||= m.skipped;
    }
    if (frozen) tf.dispose([frozen.logits, frozen.hidden]);
  }
  const counts = stepUpdates(phase, c.grpo, run.phi !== null);
  const t3 = performance.now();
  const updateMem = updatePhase.end().peakRssMb;
  const lengths = Array.from(r.lengths);
  return {
    step: step + 1,
    phase,
    'train/reward_mean': mean(rewards),
    'train/accuracy': mean(rewards),
    'train/length_mean': mean(lengths),
    'train/finished_rate': mean(r.finished),
    'adv/zero_variance_groups': adv.stats.zeroVarianceFraction,
    ...tokenStats(r),
    ...classStats(run.task, run.tok, r, problems, groupsOf),
    ...lossMetrics('loss_token', upd.token),
    ...lossMetrics('loss_temp', upd.temperature),
    'grad/theta_norm': upd.thetaGradNorm,
    'grad/phi_norm': upd.phiGradNorm,
    'train/theta_updates': counts.theta,
    'train/phi_updates': counts.phi,
    'train/update_skipped': upd.skipped ? 1 : 0,
    ...(diag
      ? {
          'diag/phi_half_cosine': diag.halfCosine,
          'diag/phi_high_entropy_share': diag.highEntropyShare,
          'diag/high_entropy_threshold': diag.highEntropyThreshold,
          'diag/high_entropy_tokens': diag.highEntropyTokens,
          'diag/phi_grad_norm': diag.norm,
        }
      : {}),
    ...(run.controller.metrics?.() ?? {}),
    'time/rollout_ms': t1 - t0,
    'time/controller_ms': r.timings.controllerMs,
    'time/decode_ms': r.timings.decodeMs + r.timings.prefillMs,
    'time/reward_ms': t2 - t1,
    'time/update_ms': t3 - t2,
    // The process's peak resident set during the rollout and during the update (src/io/rss.ts).
    'mem/rollout_peak_rss_mb': rolloutMem,
    'mem/update_peak_rss_mb': updateMem,
  };
}

/** Runs the remaining steps with checkpoints; `onStep` sees each record (progress bars). */
export async function trainRun(run: Run, onStep?: (rec: Record<string, unknown> & { step: number }) => void): Promise<void> {
  const c = run.cfg;
  while (run.step < c.train.steps) {
    const rec = trainStep(run, run.step);
    run.step++;
    run.log.append(rec);
    if (run.step % c.train.checkpointEvery === 0 || run.step === c.train.steps) await saveRun(run);
    onStep?.(rec);
  }
}

/** How evaluatePolicy reports and keeps its progress. */
export interface PolicyEvalIo {
  /** A journal file (eval.partial.jsonl, src/eval/partial.ts): finished chunks are recorded there, and an evaluation
   *  killed part-way resumes from it when run again with the same config, step and split. The caller removes it once
   *  the final result is written (removeEvalJournal). */
  journal?: string;
  /** (problems finished, problems in all), at the start and after every chunk. */
  onProgress?: (done: number, total: number) => void;
}

/**
 * Held-out evaluation of a policy as `cfg.eval` specifies: Avg@k / Pass@k on the synthetic task's test split, or on
 * each evaluation benchmark (pooled `report`, and `sets` per benchmark). With split 'validation': on
 * validationProblems(task, cfg) instead (choosing hyperparameters, measuring headroom), never on test problems. The
 * sampling stream depends on cfg.seed only (each chunk of rows has its own, so a resumed evaluation draws the same).
 * `io.plan`: the run's plan (rows per chunk and KV budget).
 */
export function evaluatePolicy(
  model: Decoder,
  tok: Tokenizer,
  controller: TemperatureController,
  task: Task,
  cfg: ExperimentConfig,
  step: number,
  split = cfg.eval.split,
  io: PolicyEvalIo & { plan?: Pick<RunPlan, 'eval_rows_max' | 'eval_kv_budget_bytes'> } = {},
): EvalResult {
  // Rows per chunk and KV budget: the run's plan, or for an evaluation alone a plan of it (nothing trains).
  const p = io.plan ?? planFor(cfg, { backend: runningBackend(), modelConfig: model.cfg, evalOnly: true });
  const o = {
    k: cfg.eval.k,
    maxNewTokens: cfg.eval.maxNewTokens,
    tau0: tau0Of(cfg),
    batchRows: p.eval_rows_max,
    cacheBudgetBytes: p.eval_kv_budget_bytes,
    trainStep: step,
    keepTraces: 16,
    onProgress: io.onProgress,
  };
  // The journal is opened once the problems are made (arguments are evaluated in order): a config that cannot make
  // them fails without leaving a journal behind.
  const withJournal = () => ({ ...o, journal: io.journal ? EvalJournal.open(io.journal, { config: cfg, step, split }) : undefined });
  const rng = new Rng(cfg.seed).fork('eval');
  if (split === 'validation') return evaluate(model, tok, controller, validationProblems(task, cfg), task, withJournal(), rng);
  if (task.evalSets) return evaluateSets(model, tok, controller, task.evalSets(cfg.eval.problems), task, withJournal(), rng);
  // The held-out set does not depend on the run's seed: every method and seed is evaluated on the same problems.
  const problems = task.generate(new Rng(0).fork('eval-problems'), 'test', cfg.eval.problems, cfg.task.difficulty);
  return evaluate(model, tok, controller, problems, task, withJournal(), rng);
}

/**
 * The validation problems of a config: cfg.eval.problems problems of the task's 'validation' split (disjoint from
 * train and test; src/tasks/split.ts), the same for every method and seed. For the benchmark task, a seeded sample of
 * the training file.
 */
export function validationProblems(task: Task, cfg: ExperimentConfig): Problem[] {
  const n = cfg.eval.problems;
  if (n <= 0) throw new KitError(`validation: eval.problems must be > 0 (the number of validation problems), got ${n}`);
  const problems = task.generate(new Rng(0).fork('validation-problems'), 'validation', n, cfg.task.difficulty);
  if (problems.length < n) throw new KitError(`validation: the task has only ${problems.length} validation problems, fewer than eval.problems = ${n}`);
  return problems;
}

/**
 * Evaluates the run's current policy (evaluatePolicy) and writes eval.json. Finished chunks go to eval.partial.jsonl
 * as they come, so that a run killed while evaluating resumes its evaluation; the journal is removed once eval.json is
 * written. `onProgress`: see PolicyEvalIo.
 */
export function evaluateRun(run: Run, onProgress?: PolicyEvalIo['onProgress']): EvalResult {
  const file = path.join(run.dir, 'eval.json');
  const journal = evalJournalFileOf(file);
  const result = evaluatePolicy(run.model, run.tok, run.controller, run.task, run.cfg, run.step, run.cfg.eval.split, { plan: run.plan, journal, onProgress });
  writeJsonAtomic(file, { step: run.step, ...result }, ONE_RECORD_PER_LINE);
  removeEvalJournal(journal);
  return result;
}

/** Whether `train` evaluates after training: synthetic tasks when eval.problems > 0, benchmark sets always. */
export function evaluates(run: Run): boolean {
  return run.task.evalSets !== undefined || run.cfg.eval.problems > 0;
}

export function closeRun(run: Run): void {
  run.model.dispose();
  run.reference?.dispose();
  run.controller.dispose();
  disposeParamGroup(run.theta);
  if (run.phi) disposeParamGroup(run.phi);
}

export { Progress };
