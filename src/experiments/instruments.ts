// The instruments study (`introllm instruments`): why does, or doesn't, the temperature head learn on a testbed? Five
// measurements, all on the validation split (never the test problems), each with 95% CIs:
//
//   temperature_only    IntroLLM's head trained alone (θ frozen: the base model) with a large φ budget, evaluated at
//                       half and at all of it (if the two agree, more φ updates would not change the answer), paired
//                       with the best fixed τ and with the probes that lie inside the head's τ range;
//   behaviour_cloning   the best in-range probe cloned into the head by maximum likelihood on its decisions along its
//                       own rollouts of training problems: evaluated deterministically (can the head express the
//                       rule?) and sampling (does the rule keep its gain under the head's sampling noise?);
//   headroom_after_rl   the probes and fixed τ again on an RL-trained θ (seed 0 of each method of a reproduction):
//                       does per-token headroom survive RL?
//   theta_at_fixed_tau  IntroLLM's trained θ (every seed) at fixed τ 0.6 and 1.0 and with its head deterministic and
//                       sampling: θ's quality apart from the cost of sampled τ;
//   phi_snr             the φ gradient's signal-to-noise over training (the cosine between the gradients of two halves
//                       of each batch, src/rl/grpo-step.ts) on this testbed and on the known-answer task, and the share of
//                       the gradient from the highest-entropy tokens.
//
// Every evaluation is a file under `out/evals/<label>/seed-<s>.json`, written atomically when done, and every training
// run a resumable run folder under `out/runs/`, so a killed study resumes where it stopped.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { loadModelOnBackend } from '../backend';
import { controllerOptions, ExperimentConfig, resolveConfig, setOverrides } from '../config';
import { EvalResult } from '../eval/evaluate';
import { KitError } from '../errors';
import { writeJsonAtomic } from '../io/atomic';
import { readResultText } from '../io/packed';
import { loadHfConfig } from '../lm/config';
import { Decoder } from '../lm/model';
import { loadTokenizer, Tokenizer } from '../lm/tokenizer';
import { deltaBarsFigure, DeltaRow, NamedFigure, phiSnrFigure, writeFigures } from '../plots';
import { createProbe, PROBES, probesInRange, tapDecoder } from '../policy/probe';
import { TemperatureController } from '../policy/types';
import { Rng } from '../rng';
import { rolloutForward } from '../rl/grpo-step';
import { rollout } from '../rl/rollout';
import { problemPromptIds } from '../rl/sft';
import { closeRun, controllerFor, evaluatePolicy, openRun, trainRun } from '../rl/trainer';
import { loadCheckpoint } from '../train/checkpoint';
import { modelDirFor, taskFromConfig } from '../tasks/registry';
import { Task } from '../tasks/types';
import { methodOverride } from './methods';
import { readEvalFile, readMetrics, readRunConfig, runDirOf } from './run-files';
import { pairedDifference, SeedEval, summariseMethod } from './summary';

export const INSTRUMENT_PARTS = ['temperature_only', 'behaviour_cloning', 'headroom_after_rl', 'theta_at_fixed_tau', 'phi_snr'] as const;
export type InstrumentPart = (typeof INSTRUMENT_PARTS)[number];

export interface InstrumentsOptions {
  preset: string;
  out: string;
  parts: InstrumentPart[];
  seeds: number[];
  /** Validation problems and samples per problem of every evaluation. */
  problems: number;
  k: number;
  /** RL steps of the temperature-only runs (its φ budget is steps × grpo.tempEpochs). */
  tempSteps: number;
  /** A finished reproduction folder with its runs' checkpoints (headroom_after_rl, theta_at_fixed_tau). */
  trained: string;
  /** Methods of `trained` whose seed-0 θ headroom_after_rl measures. */
  trainedMethods: string[];
  /** `key=value` overrides of the preset (as --set), for every run and evaluation. */
  sets: string[];
  /** A config file (JSON or YAML) resolved after the preset, before the method and `sets`, for every run and evaluation. */
  configFile?: string;
  /** Render the figures as PNG too (needs a Chromium; default true). */
  png?: boolean;
  log?: (line: string) => void;
}

interface Ctx {
  o: InstrumentsOptions;
  log: (line: string) => void;
  task: Task;
  tok: Tokenizer;
  /** The preset's config (validation split, the study's problems and k) for a method and seed. */
  cfgOf(method: string, seed: number, extra?: string[]): ExperimentConfig;
}

type Estimate = { value: number; ci95: [number, number] };

/** Every evaluation's config: the preset, the config file, the method, the study's sets, the validation split and its size. */
function studyConfig(o: InstrumentsOptions, method: string, seed: number, extra: string[] = []): ExperimentConfig {
  return resolveConfig({
    preset: o.preset,
    configFile: o.configFile,
    overrides: [
      { source: `method ${method}`, kind: 'method', value: methodOverride(method) },
      ...setOverrides([...o.sets, ...extra]),
      { source: 'instruments', value: { seed, eval: { split: 'validation', problems: o.problems, k: o.k } } },
    ],
  });
}

/** An evaluation, kept in `out/evals/<label>/seed-<s>.json` (made by `make` when missing). */
async function cachedEval(c: Ctx, label: string, seed: number, make: () => EvalResult | Promise<EvalResult>): Promise<SeedEval> {
  const file = path.join(c.o.out, 'evals', label, `seed-${seed}.json`);
  const kept = readEvalFile(file);
  if (kept) return { seed, eval: kept };
  const t0 = performance.now();
  const ev = await make();
  const kept2: EvalResult = { ...ev, traces: [] }; // token traces are not needed here, and large
  writeJsonAtomic(file, kept2);
  c.log(`instruments: ${label} seed ${seed}: ${(100 * ev.report.avg.value).toFixed(1)}% (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
  return { seed, eval: kept2 };
}

/** Evaluates a controller (a registry method, or a probe when `probe` names one) with `model` on the validation split. */
function evalWith(c: Ctx, model: Decoder, cfg: ExperimentConfig, controller: TemperatureController | null, probe?: string): EvalResult {
  if (probe) {
    const p = createProbe(probe, (id) => c.tok.decode([id], { keepSpecial: true }));
    return evaluatePolicy(tapDecoder(model, p), c.tok, p, c.task, cfg, 0, 'validation');
  }
  const own = controller ?? controllerFor(cfg, model.cfg.hiddenSize);
  try {
    return evaluatePolicy(model, c.tok, own, c.task, cfg, 0, 'validation');
  } finally {
    if (!controller) own.dispose();
  }
}

/** Mean and 95% CI over (seed, problem) of a method's validation accuracy. */
function estimate(evals: SeedEval[]): Estimate {
  const s = summariseMethod(evals, [1], new Rng(0).fork('instruments:estimate'));
  return { value: s.accuracy, ci95: s.ci95 };
}

function diff(a: SeedEval[], b: SeedEval[], key: string): { diff: number; ci95: [number, number] } {
  const d = pairedDifference(a, b, new Rng(0).fork(`instruments:${key}`));
  return { diff: d.diff, ci95: d.ci95 };
}

/** The fixed τ of the study's grid inside the head's range, and the in-range probes, evaluated on `model`. */
async function references(
  c: Ctx,
  model: Decoder,
  prefix: string,
  seeds: number[],
): Promise<{ fixed: Record<string, SeedEval[]>; probes: Record<string, SeedEval[]>; best: string }> {
  const { tauMin, tauMax } = controllerOptions(c.cfgOf('introllm', 0));
  // The fixed τ around the base model's best (1.0 on validation and test: results/headroom/tiny, results/tau-sweep/tiny).
  const taus = [0.8, 1.0, 1.2].filter((t) => t >= tauMin && t <= tauMax);
  const fixed: Record<string, SeedEval[]> = {};
  for (const t of taus) {
    const m = `fixed-${t.toFixed(1)}`;
    fixed[m] = [];
    for (const s of seeds) fixed[m].push(await cachedEval(c, `${prefix}${m}`, s, () => evalWith(c, model, c.cfgOf(m, s), null)));
  }
  const probes: Record<string, SeedEval[]> = {};
  for (const p of probesInRange(tauMin, tauMax)) {
    probes[p] = [];
    for (const s of seeds) probes[p].push(await cachedEval(c, `${prefix}probe-${p}`, s, () => evalWith(c, model, c.cfgOf('fixed-1.0', s), null, p)));
  }
  // The best fixed τ by validation accuracy (the first on a tie).
  let best = Object.keys(fixed)[0];
  for (const m of Object.keys(fixed)) if (estimate(fixed[m]).value > estimate(fixed[best]).value) best = m;
  return { fixed, probes, best };
}

function table(
  rows: Record<string, SeedEval[]>,
  best: SeedEval[],
  bestName: string,
  key: string,
): Record<string, Estimate & { diff_vs_best_fixed: { diff: number; ci95: [number, number] } | null }> {
  return Object.fromEntries(
    Object.entries(rows).map(([m, e]) => [m, { ...estimate(e), diff_vs_best_fixed: m === bestName ? null : diff(e, best, `${key}:${m}`) }]),
  );
}

/** A frozen copy of the preset's base model (θ), or of a trained run's θ (and its head) when `runDir` is given. */
async function modelOf(cfg: ExperimentConfig, runDir?: string, head?: TemperatureController): Promise<Decoder> {
  const { model } = loadModelOnBackend(modelDirFor(cfg), { trainable: true, theta: 'none' });
  if (runDir) {
    const st = await loadCheckpoint(runDir, { variables: { theta: model.variables(), ...(head ? { phi: head.variables() } : {}) }, optimizers: [] });
    if (!st) {
      model.dispose();
      throw new KitError(
        `${runDir}: no checkpoint (ckpt/) to read the trained θ from; these instruments need a reproduction made on this machine (checkpoints are not committed): run \`introllm reproduce\` first, or pass --trained DIR`,
      );
    }
  }
  return model;
}

async function temperatureOnly(c: Ctx): Promise<Record<string, unknown>> {
  const base = await modelOf(c.cfgOf('fixed-1.0', 0));
  let refs;
  try {
    refs = await references(c, base, 'base/', c.o.seeds);
  } finally {
    base.dispose();
  }
  const half = Math.floor(c.o.tempSteps / 2);
  const at: Record<'half' | 'end', SeedEval[]> = { half: [], end: [] };
  for (const s of c.o.seeds) {
    const cfg = c.cfgOf('introllm', s, ['schedule.mode="temperature-only"', `train.steps=${c.o.tempSteps}`, 'grpo.phiDiagnostics=true']);
    const dir = path.join(c.o.out, 'runs', 'temperature-only', `seed-${s}`);
    const halfFile = path.join(c.o.out, 'evals', 'temperature-only-half', `seed-${s}.json`);
    const endFile = path.join(c.o.out, 'evals', 'temperature-only', `seed-${s}.json`);
    if (!readEvalFile(halfFile) || !readEvalFile(endFile)) {
      const run = await openRun(cfg, dir);
      try {
        if (run.step < half) {
          run.cfg = { ...cfg, train: { ...cfg.train, steps: half } };
          await trainRun(run);
          run.cfg = cfg;
        }
        if (!readEvalFile(halfFile) && run.step === half)
          await cachedEval(c, 'temperature-only-half', s, () => evaluatePolicy(run.model, c.tok, run.controller, c.task, cfg, run.step, 'validation'));
        await trainRun(run);
        await cachedEval(c, 'temperature-only', s, () => evaluatePolicy(run.model, c.tok, run.controller, c.task, cfg, run.step, 'validation'));
      } finally {
        closeRun(run);
      }
    }
    const h = readEvalFile(halfFile);
    if (h) at.half.push({ seed: s, eval: h });
    at.end.push({ seed: s, eval: readEvalFile(endFile)! });
  }
  const best = refs.fixed[refs.best];
  return {
    phi_updates: { half: half * c.cfgOf('introllm', 0).grpo.tempEpochs, end: c.o.tempSteps * c.cfgOf('introllm', 0).grpo.tempEpochs },
    accuracy: estimate(at.end),
    accuracy_at_half: at.half.length === at.end.length ? estimate(at.half) : null,
    end_vs_half: at.half.length === at.end.length ? diff(at.end, at.half, 'temp-only:end-half') : null,
    diff_vs_best_fixed: diff(at.end, best, 'temp-only:best'),
    best_fixed: refs.best,
    fixed: table(refs.fixed, best, refs.best, 'base-fixed'),
    probes_in_range: table(refs.probes, best, '', 'base-probe'),
    tau_mean: at.end.map((e) => e.eval.tauMean),
  };
}

/**
 * Clones a probe into a fresh head: the probe's τ decisions along its own rollouts of `rows` training problems (one
 * sample each) are the targets, and the head's log π_φ(gate open, z = the probe's τ) is maximised with Adam over the
 * tokens (the base model's h_t, frozen). Returns the fitted head and the mean |τ_head_mean − τ_probe| on those tokens.
 */
function cloneProbe(
  c: Ctx,
  model: Decoder,
  cfg: ExperimentConfig,
  probe: string,
  rows: number,
  steps: number,
): { head: TemperatureController; fitError: number } {
  const co = controllerOptions(cfg);
  const problems = c.task.generate(new Rng(cfg.seed).fork('bc-problems'), 'train', rows, cfg.task.difficulty);
  const p = createProbe(probe, (id) => c.tok.decode([id], { keepSpecial: true }));
  const r = rollout(
    tapDecoder(model, p),
    p,
    {
      prompts: problems.map((pr) => problemPromptIds(c.tok, pr, c.task)),
      maxNewTokens: cfg.rollout.maxNewTokens,
      eosId: c.tok.eosId!,
      padId: c.tok.padId,
      tau0: co.tau0,
      trainStep: 0,
    },
    new Rng(cfg.seed).fork('bc-rollout'),
  );
  const head = controllerFor(cfg, model.cfg.hiddenSize);
  const Tfull = r.tau.length / r.batch;
  const idx: number[] = [];
  for (let b = 0; b < r.batch; b++) for (let t = 0; t < r.steps; t++) if (r.mask[b * Tfull + t]) idx.push(b * r.steps + t);
  // Targets at the range's ends (the in-range probes use τ_min and τ_max) are kept 2% inside it: a Beta fitted to z = 0
  // exactly would drive its shapes to ε; 2% of [0.4, 1.6] is 0.024 in τ.
  const zOf = (tau: number) => Math.min(Math.max((tau - co.tauMin) / (co.tauMax - co.tauMin), 0.02), 0.98);
  const z = new Float32Array(idx.length);
  idx.forEach((i, j) => (z[j] = zOf(r.tau[Math.floor(i / r.steps) * Tfull + (i % r.steps)])));
  const { hidden, logits } = tf.tidy(() => {
    const fw = rolloutForward(model, r, c.tok.padId);
    const N = r.batch * r.steps;
    const at = tf.tensor1d(Int32Array.from(idx), 'int32');
    return { hidden: tf.gather(tf.reshape(fw.hidden, [N, -1]), at) as tf.Tensor2D, logits: tf.gather(tf.reshape(fw.logits, [N, -1]), at) as tf.Tensor2D };
  });
  const n = idx.length;
  const inputs = { hidden, logits, prevTau: tf.fill([n], co.tau0) as tf.Tensor1D, position: tf.zeros([n]) as tf.Tensor1D };
  const gate = tf.ones([n]) as tf.Tensor1D;
  const zt = tf.tensor1d(z);
  const opt = tf.train.adam(3e-3);
  for (let i = 0; i < steps; i++) {
    const loss = opt.minimize(() => tf.neg(tf.mean(head.logProb(inputs, gate, zt))) as tf.Scalar, true, head.variables());
    loss?.dispose();
  }
  opt.dispose();
  // How closely the head's centre follows the probe on the fitted tokens (deterministic action, gate forced open).
  head.beginRollout({ trainStep: 0, batch: n, evaluation: false }, new Rng(0));
  const centre = (head as unknown as { headOutputs(x: typeof inputs): tf.Tensor2D }).headOutputs(inputs);
  const u = centre.arraySync();
  centre.dispose();
  let err = 0;
  u.forEach((row, j) => {
    const a = Math.log1p(Math.exp(row[1])) + co.epsilon;
    const b = Math.log1p(Math.exp(row[2])) + co.epsilon;
    err += Math.abs(co.tauMin + (a / (a + b)) * (co.tauMax - co.tauMin) - (co.tauMin + z[j] * (co.tauMax - co.tauMin)));
  });
  tf.dispose([hidden, logits, inputs.prevTau, inputs.position, gate, zt]);
  return { head, fitError: err / n };
}

async function behaviourCloning(c: Ctx): Promise<Record<string, unknown>> {
  const cfg0 = c.cfgOf('introllm', 0);
  if (cfg0.controller.name !== 'introllm') throw new KitError('behaviour cloning: needs the introllm head');
  const base = await modelOf(c.cfgOf('fixed-1.0', 0));
  try {
    const refs = await references(c, base, 'base/', c.o.seeds);
    const best = refs.fixed[refs.best];
    // The in-range probe with the highest validation accuracy.
    const probes = Object.keys(refs.probes);
    if (probes.length === 0) throw new KitError("behaviour cloning: no probe lies inside the head's τ range");
    let probe = probes[0];
    for (const p of probes) if (estimate(refs.probes[p]).value > estimate(refs.probes[probe]).value) probe = p;
    const out: Record<'mean' | 'sample', SeedEval[]> = { mean: [], sample: [] };
    const fit: number[] = [];
    for (const s of c.o.seeds) {
      const fitFile = path.join(c.o.out, 'evals', `bc-${probe}`, `fit-seed-${s}.json`);
      const need = ['mean', 'sample'].some((a) => !readEvalFile(path.join(c.o.out, 'evals', `bc-${probe}-${a}`, `seed-${s}.json`)));
      if (need) {
        const { head, fitError } = cloneProbe(c, base, c.cfgOf('introllm', s), probe, 512, 300);
        try {
          writeJsonAtomic(fitFile, { probe, fit_error_tau: fitError });
          for (const a of ['mean', 'sample'] as const) {
            const cfg = c.cfgOf('introllm', s, [`controller.evalAction="${a}"`]);
            // the cloned head acts with the configured evalAction: the same φ, another config
            const acting = controllerFor(cfg, base.cfg.hiddenSize);
            acting.variables().forEach((v, i) => v.assign(head.variables()[i]));
            try {
              out[a].push(await cachedEval(c, `bc-${probe}-${a}`, s, () => evaluatePolicy(base, c.tok, acting, c.task, cfg, 0, 'validation')));
            } finally {
              acting.dispose();
            }
          }
        } finally {
          head.dispose();
        }
      } else {
        for (const a of ['mean', 'sample'] as const)
          out[a].push({ seed: s, eval: readEvalFile(path.join(c.o.out, 'evals', `bc-${probe}-${a}`, `seed-${s}.json`))! });
      }
      const fitText = readResultText(fitFile); // plain, or packed by `introllm pack`
      if (fitText === null) throw new KitError(`${fitFile}: missing (the cloned head's fit record); delete evals/bc-${probe}-* to clone it again`);
      fit.push((JSON.parse(fitText) as { fit_error_tau: number }).fit_error_tau);
    }
    return {
      probe,
      rule: PROBES[probe],
      probe_accuracy: estimate(refs.probes[probe]),
      probe_diff_vs_best_fixed: diff(refs.probes[probe], best, 'bc:probe'),
      best_fixed: refs.best,
      deterministic: {
        ...estimate(out.mean),
        diff_vs_best_fixed: diff(out.mean, best, 'bc:mean'),
        diff_vs_probe: diff(out.mean, refs.probes[probe], 'bc:mean-probe'),
      },
      sampled: {
        ...estimate(out.sample),
        diff_vs_best_fixed: diff(out.sample, best, 'bc:sample'),
        diff_vs_probe: diff(out.sample, refs.probes[probe], 'bc:sample-probe'),
      },
      diff_vs_best_fixed: diff(out.sample, best, 'bc:headline'),
      fit_error_tau: fit,
    };
  } finally {
    base.dispose();
  }
}

async function headroomAfterRl(c: Ctx): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const m of c.o.trainedMethods) {
    const dir = runDirOf(c.o.trained, m, 0);
    const runCfg = readRunConfig(dir);
    if (!runCfg) throw new KitError(`${dir}: no run (config.json) of method '${m}' in --trained ${c.o.trained}`);
    const model = await modelOf(runCfg, dir);
    try {
      const refs = await references(c, model, `rl-${m}/`, [0]);
      const best = refs.fixed[refs.best];
      out[m] = {
        best_fixed: refs.best,
        fixed: table(refs.fixed, best, refs.best, `rl-${m}-fixed`),
        probes_in_range: table(refs.probes, best, '', `rl-${m}-probe`),
      };
    } finally {
      model.dispose();
    }
  }
  return out;
}

async function thetaAtFixedTau(c: Ctx): Promise<Record<string, unknown>> {
  const rows: Record<string, SeedEval[]> = { 'fixed-0.6': [], 'fixed-1.0': [], 'head-mean': [], 'head-sample': [] };
  const plan: [string, string, 'mean' | 'sample' | null][] = [
    ['fixed-0.6', 'fixed-0.6', null],
    ['fixed-1.0', 'fixed-1.0', null],
    ['head-mean', 'introllm', 'mean'],
    ['head-sample', 'introllm', 'sample'],
  ];
  for (const s of c.o.seeds) {
    const dir = runDirOf(c.o.trained, 'introllm', s);
    const runCfg = readRunConfig(dir);
    if (!runCfg) throw new KitError(`${dir}: no IntroLLM run in --trained ${c.o.trained}`);
    for (const [label, method, action] of plan) {
      rows[label].push(
        await cachedEval(c, `introllm-theta/${label}`, s, async () => {
          const cfg = c.cfgOf(method, s);
          // The run's own head (its config, with the evaluation's action), loaded with θ from the run's checkpoint.
          const head = action
            ? controllerFor({ ...runCfg, controller: { ...runCfg.controller, evalAction: action } }, loadHfConfig(modelDirFor(runCfg)).hiddenSize)
            : null;
          const model = await modelOf(runCfg, dir, head ?? undefined);
          try {
            return evalWith(c, model, cfg, head);
          } finally {
            head?.dispose();
            model.dispose();
          }
        }),
      );
    }
  }
  const ref = rows['fixed-1.0'];
  return Object.fromEntries(
    Object.entries(rows).map(([k, e]) => [k, { ...estimate(e), diff_vs_fixed_1: k === 'fixed-1.0' ? null : diff(e, ref, `theta:${k}`) }]),
  );
}

/** Mean and 95% bootstrap CI (over steps pooled across seeds) of a diag/* metric in run folders. */
function stepEstimate(dirs: string[], key: string, maxStep = Infinity): (Estimate & { steps: number }) | null {
  const vals = dirs.flatMap((d) =>
    (readMetrics(d) ?? [])
      .filter((m) => m.step <= maxStep)
      .map((m) => (m as Record<string, unknown>)[key])
      .filter((v): v is number => typeof v === 'number' && Number.isFinite(v)),
  );
  if (vals.length === 0) return null;
  const rng = new Rng(0).fork(`snr:${key}`);
  const means: number[] = [];
  for (let b = 0; b < 2000; b++) {
    let s = 0;
    for (let i = 0; i < vals.length; i++) s += vals[rng.int(vals.length)];
    means.push(s / vals.length);
  }
  means.sort((a, b) => a - b);
  return { value: vals.reduce((a, b) => a + b, 0) / vals.length, ci95: [means[50], means[1949]], steps: vals.length };
}

async function phiSnr(c: Ctx): Promise<Record<string, unknown>> {
  // The known-answer task with the same diagnostics, as the reference of a gradient with a signal.
  const kaDirs: string[] = [];
  for (const s of c.o.seeds) {
    const cfg = resolveConfig({
      preset: 'known-answer',
      overrides: [
        { source: 'method introllm', value: methodOverride('introllm') },
        { source: 'instruments', value: { seed: s, grpo: { phiDiagnostics: true }, eval: { problems: 0 } } },
      ],
    });
    const dir = path.join(c.o.out, 'runs', 'known-answer', `seed-${s}`);
    const run = await openRun(cfg, dir);
    try {
      await trainRun(run);
    } finally {
      closeRun(run);
    }
    kaDirs.push(dir);
  }
  const tiny = c.o.seeds.map((s) => path.join(c.o.out, 'runs', 'temperature-only', `seed-${s}`)).filter((d) => fs.existsSync(path.join(d, 'metrics.jsonl')));
  // Over the whole run, and over its first 20 steps: a head that has converged has a gradient of ~0 (its cosine
  // falls back to noise), so the early steps show whether there was a signal to follow.
  const of = (dirs: string[]) => ({
    half_batch_cosine: stepEstimate(dirs, 'diag/phi_half_cosine'),
    half_batch_cosine_first_20_steps: stepEstimate(dirs, 'diag/phi_half_cosine', 20),
    high_entropy_share: stepEstimate(dirs, 'diag/phi_high_entropy_share'),
    high_entropy_tokens: stepEstimate(dirs, 'diag/high_entropy_tokens'),
  });
  return { [c.o.preset]: tiny.length ? of(tiny) : null, 'known-answer': of(kaDirs), seeds: c.o.seeds };
}

/** Runs (or resumes) the chosen parts and merges them into `out/summary.json` (parts not run keep their last value). */
export async function runInstruments(o: InstrumentsOptions): Promise<Record<string, unknown>> {
  const log = o.log ?? ((l: string) => process.stderr.write(l + '\n'));
  const cfg0 = studyConfig(o, 'introllm', 0);
  const task = taskFromConfig(cfg0.task);
  const tok = await loadTokenizer(modelDirFor(cfg0));
  const c: Ctx = { o, log, task, tok, cfgOf: (m, s, extra = []) => studyConfig(o, m, s, extra) };
  const file = path.join(o.out, 'summary.json');
  // Re-read before every write: parts may run in separate processes on the same folder.
  const current = (): Record<string, unknown> => (fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : {});
  let summary = current();
  const parts: Record<InstrumentPart, (c: Ctx) => Promise<Record<string, unknown>>> = {
    temperature_only: temperatureOnly,
    behaviour_cloning: behaviourCloning,
    headroom_after_rl: headroomAfterRl,
    theta_at_fixed_tau: thetaAtFixedTau,
    phi_snr: phiSnr,
  };
  for (const p of o.parts) {
    log(`instruments: ${p}`);
    const value = await parts[p](c);
    summary = current();
    summary[p] = value;
    summary.meta = {
      preset: o.preset,
      split: 'validation',
      problems: o.problems,
      k: o.k,
      seeds: o.seeds,
      sets: o.sets,
      ...(o.configFile !== undefined ? { config_file: o.configFile } : {}),
      temp_steps: o.tempSteps,
      trained: o.trained,
    };
    writeJsonAtomic(file, summary);
  }
  const figs = await writeFigures(path.join(o.out, 'figures'), instrumentFigures(o.out, summary), o.png ?? true);
  if (figs.png.skipped && (o.png ?? true)) log(`instruments: HTML figures only (${figs.png.skipped})`);
  return summary;
}

/** A figure per part that has run (figures/<part>.{html,png}). */
export function instrumentFigures(out: string, s: Record<string, unknown>): NamedFigure[] {
  type D = { diff: number; ci95: [number, number] } | null;
  type R = Record<string, { diff_vs_best_fixed?: D; diff_vs_fixed_1?: D }>;
  const meta = s.meta as { problems: number; k: number; seeds: number[] } | undefined;
  const where = meta ? `validation split, ${meta.problems} problems × ${meta.k}` : 'validation split';
  const rows = (r: R, key: 'diff_vs_best_fixed' | 'diff_vs_fixed_1', prefix = ''): DeltaRow[] =>
    Object.entries(r).map(([k, v]) => ({ label: `${prefix}${k}`, diff: v[key] ?? null }));
  const figs: NamedFigure[] = [];
  const t = s.temperature_only as { diff_vs_best_fixed: D; best_fixed: string; phi_updates: { end: number }; fixed: R; probes_in_range: R } | undefined;
  if (t) {
    figs.push({
      name: 'temperature_only',
      title: 'Temperature-only RL',
      fig: deltaBarsFigure(
        `Temperature-only RL (θ frozen, ${t.phi_updates.end} φ updates) against fixed τ and in-range probes`,
        `base model; ${where}; seeds ${meta?.seeds.join(', ') ?? ''}`,
        t.best_fixed,
        [
          { label: 'IntroLLM head, temperature-only', diff: t.diff_vs_best_fixed },
          ...rows(t.fixed, 'diff_vs_best_fixed'),
          ...rows(t.probes_in_range, 'diff_vs_best_fixed', 'probe-'),
        ],
      ),
    });
  }
  const b = s.behaviour_cloning as
    | { probe: string; best_fixed: string; probe_diff_vs_best_fixed: D; deterministic: { diff_vs_best_fixed: D }; sampled: { diff_vs_best_fixed: D } }
    | undefined;
  if (b) {
    figs.push({
      name: 'behaviour_cloning',
      title: 'Behaviour cloning',
      fig: deltaBarsFigure(`probe-${b.probe} cloned into the head`, `base model; ${where}`, b.best_fixed, [
        { label: `probe-${b.probe}`, diff: b.probe_diff_vs_best_fixed },
        { label: 'cloned head, deterministic', diff: b.deterministic.diff_vs_best_fixed },
        { label: 'cloned head, sampling', diff: b.sampled.diff_vs_best_fixed },
      ]),
    });
  }
  const h = s.headroom_after_rl as Record<string, { best_fixed: string; fixed: R; probes_in_range: R }> | undefined;
  if (h) {
    for (const [m, r] of Object.entries(h)) {
      figs.push({
        name: `headroom_after_rl-${m}`,
        title: `Headroom after RL (${m})`,
        fig: deltaBarsFigure(`Headroom on the RL-trained θ of ${m} (seed 0)`, where, r.best_fixed, [
          ...rows(r.fixed, 'diff_vs_best_fixed'),
          ...rows(r.probes_in_range, 'diff_vs_best_fixed', 'probe-'),
        ]),
      });
    }
  }
  const th = s.theta_at_fixed_tau as R | undefined;
  if (th)
    figs.push({
      name: 'theta_at_fixed_tau',
      title: 'IntroLLM θ at fixed τ',
      fig: deltaBarsFigure("IntroLLM's trained θ acting at fixed τ and with its head", `every seed; ${where}`, 'fixed-1.0', rows(th, 'diff_vs_fixed_1')),
    });
  if (s.phi_snr) {
    const curves = (['temperature-only', 'known-answer'] as const).flatMap((d) =>
      (meta?.seeds ?? []).flatMap((seed) => {
        const m = readMetrics(path.join(out, 'runs', d, `seed-${seed}`));
        return m ? [{ testbed: d === 'temperature-only' ? 'guess testbed (temperature-only)' : 'known-answer task', seed, metrics: m }] : [];
      }),
    );
    if (curves.length) figs.push({ name: 'phi_snr', title: 'φ gradient signal-to-noise', fig: phiSnrFigure(curves) });
  }
  return figs;
}

/** The study's summary as Markdown: one short table per part that has run. */
export function instrumentsTable(s: Record<string, unknown>): string {
  type E = { value: number; ci95: [number, number] };
  type D = { diff: number; ci95: [number, number] } | null;
  const pct = (e: E) => `${(100 * e.value).toFixed(1)} [${(100 * e.ci95[0]).toFixed(1)}, ${(100 * e.ci95[1]).toFixed(1)}]`;
  const pts = (d: D) =>
    d ? `${d.diff >= 0 ? '+' : '−'}${Math.abs(100 * d.diff).toFixed(1)} [${(100 * d.ci95[0]).toFixed(1)}, ${(100 * d.ci95[1]).toFixed(1)}]` : '(reference)';
  const out: string[] = [];
  const rows = (title: string, r: Record<string, E & { diff_vs_best_fixed?: D; diff_vs_fixed_1?: D }>, key: 'diff_vs_best_fixed' | 'diff_vs_fixed_1') => {
    out.push(`| ${title} | Avg@k % [95% CI] | Δ points [paired 95% CI] |`, '| --- | --- | --- |');
    for (const [k, v] of Object.entries(r)) out.push(`| ${k} | ${pct(v)} | ${pts(v[key] ?? null)} |`);
    out.push('');
  };
  const t = s.temperature_only as
    | {
        accuracy: E;
        accuracy_at_half: E | null;
        end_vs_half: D;
        diff_vs_best_fixed: D;
        best_fixed: string;
        phi_updates: { half: number; end: number };
        fixed: Record<string, E & { diff_vs_best_fixed: D }>;
        probes_in_range: Record<string, E & { diff_vs_best_fixed: D }>;
      }
    | undefined;
  if (t) {
    out.push(
      `**temperature_only** (θ frozen; ${t.phi_updates.end} φ updates): ${pct(t.accuracy)}, Δ vs best fixed τ (${t.best_fixed}) ${pts(t.diff_vs_best_fixed)}; after ${t.phi_updates.half} updates ${t.accuracy_at_half ? pct(t.accuracy_at_half) : '–'} (end − half ${pts(t.end_vs_half)})`,
      '',
    );
    rows(
      'base model: fixed τ and in-range probes',
      { ...t.fixed, ...Object.fromEntries(Object.entries(t.probes_in_range).map(([k, v]) => [`probe-${k}`, v])) },
      'diff_vs_best_fixed',
    );
  }
  const b = s.behaviour_cloning as
    | {
        probe: string;
        probe_accuracy: E;
        probe_diff_vs_best_fixed: D;
        best_fixed: string;
        deterministic: E & { diff_vs_best_fixed: D; diff_vs_probe: D };
        sampled: E & { diff_vs_best_fixed: D; diff_vs_probe: D };
        fit_error_tau: number[];
      }
    | undefined;
  if (b) {
    out.push(
      `**behaviour_cloning** of probe-${b.probe} (mean |τ_head − τ_probe| on the fitted tokens: ${b.fit_error_tau.map((x) => x.toFixed(3)).join(', ')})`,
      '',
      `| | Avg@k % [95% CI] | Δ vs best fixed τ (${b.best_fixed}) | Δ vs the probe |`,
      '| --- | --- | --- | --- |',
      `| probe-${b.probe} | ${pct(b.probe_accuracy)} | ${pts(b.probe_diff_vs_best_fixed)} | |`,
      `| cloned head, deterministic | ${pct(b.deterministic)} | ${pts(b.deterministic.diff_vs_best_fixed)} | ${pts(b.deterministic.diff_vs_probe)} |`,
      `| cloned head, sampling | ${pct(b.sampled)} | ${pts(b.sampled.diff_vs_best_fixed)} | ${pts(b.sampled.diff_vs_probe)} |`,
      '',
    );
  }
  const h = s.headroom_after_rl as
    | Record<
        string,
        { best_fixed: string; fixed: Record<string, E & { diff_vs_best_fixed: D }>; probes_in_range: Record<string, E & { diff_vs_best_fixed: D }> }
      >
    | undefined;
  if (h) {
    for (const [m, r] of Object.entries(h)) {
      out.push(`**headroom_after_rl**, θ of ${m} seed 0 (best fixed τ ${r.best_fixed})`, '');
      rows('method', { ...r.fixed, ...Object.fromEntries(Object.entries(r.probes_in_range).map(([k, v]) => [`probe-${k}`, v])) }, 'diff_vs_best_fixed');
    }
  }
  const th = s.theta_at_fixed_tau as Record<string, E & { diff_vs_fixed_1: D }> | undefined;
  if (th) {
    out.push("**theta_at_fixed_tau**: IntroLLM's trained θ (every seed)", '');
    rows('acting with', th, 'diff_vs_fixed_1');
  }
  const snr = s.phi_snr as Record<string, Record<string, (E & { steps: number }) | null> | null> | undefined;
  if (snr) {
    out.push(
      '**phi_snr**: the φ gradient at each step that trains φ (mean over steps and seeds [95% CI])',
      '',
      '| testbed | half-batch cosine, first 20 steps | half-batch cosine, all steps | high-entropy share | high-entropy tokens |',
      '| --- | --- | --- | --- | --- |',
    );
    for (const [k, v] of Object.entries(snr)) {
      if (!v || Array.isArray(v)) continue;
      const f = (e: (E & { steps: number }) | null) =>
        e ? `${e.value.toFixed(3)} [${e.ci95[0].toFixed(3)}, ${e.ci95[1].toFixed(3)}] (${e.steps} steps)` : '–';
      out.push(`| ${k} | ${f(v.half_batch_cosine_first_20_steps)} | ${f(v.half_batch_cosine)} | ${f(v.high_entropy_share)} | ${f(v.high_entropy_tokens)} |`);
    }
    out.push('');
  }
  return out.join('\n');
}
