// The reproduction pipeline (`npm run reproduce`): trains IntroLLM and the baselines (fixed τ at two values, EDT, EAD,
// TAMPO) over several seeds, evaluates each on held-out problems, and writes config.json,
// manifest.json, runs/<method>/seed-<s>/ (each a resumable train run), summary.json, table.md and figures, into a
// run folder (default runs/<preset>/, git-ignored; the committed reference is results/<preset>/, see commands/reproduce.ts).
// Re-running the command resumes: finished runs are kept, unfinished ones resume from their checkpoints.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ConfigOverride, ExperimentConfig, resolveConfig, resolveConfigSources, setOverrides } from '../config';
import { planFor } from '../plan/gather';
import { formatPlan, planRefusal, RunPlan } from '../plan/run-plan';
import { isLearnedController } from '../policy/registry';
import { modelDirFor } from '../tasks/registry';
import { runBudget, runTrainsTheta } from '../rl/schedule';
import { KitError } from '../errors';
import { requireModelFolder } from '../lm/config';
import { writeFileAtomic, writeJsonAtomic } from '../io/atomic';
import { Rng } from '../rng';
import { EvalResult } from '../eval/evaluate';
import { mean } from '../stats';
import { Interpretability, interpretabilityOf, seedTraces, writeReproductionFigures } from './figures';
import { Job } from './jobs';
import { Launcher, localLauncher } from './launcher';
import { gitState, manifest } from './manifest';
import { methodOverride } from './methods';
import { evalFileOf, readEval, readEvalFile, readRunConfig, runDirOf } from './run-files';
import { runRequestFileOf, writeRunRequest } from './run-request';
import { comparisonTables, MethodSummary, PairedDifference, pairedDifference, reportedKs, SeedEval, signedPoints, summariseMethod } from './summary';

export { readEval, runDirOf };

export const DEFAULT_METHODS = ['introllm', 'fixed-0.6', 'fixed-1.0', 'edt', 'ead', 'tampo'];

/** The folder (under a reproduction's) and method of the base model's evaluation before any RL. */
export const BEFORE_RL = 'before-rl';
const BEFORE_RL_METHOD = 'fixed-1.0';

/** The before-RL evaluation of sampling seed `seed` (written by `introllm eval`), or null when it is not there yet.
 *  `method`: fixed-1.0 (the base model, `before_rl`) or introllm (its head as initialised, the start of `head`). */
export function readBeforeRl(out: string, seed: number, method = BEFORE_RL_METHOD): EvalResult | null {
  const e = readEvalFile(evalFileOf(path.join(out, BEFORE_RL), method, seed));
  return e && Array.isArray(e.problems) ? e : null;
}

/** The before-RL evaluations of `method` that exist, one per seed. */
function beforeRlEvals(out: string, seeds: number[], method = BEFORE_RL_METHOD): { seed: number; eval: EvalResult }[] {
  return seeds.flatMap((s) => {
    const e = readBeforeRl(out, s, method);
    return e ? [{ seed: s, eval: e }] : [];
  });
}

/** The methods the before-RL job evaluates: the base model at τ = 1, and IntroLLM's untrained head when it is compared. */
function beforeRlMethods(methods: string[]): string[] {
  return methods.includes('introllm') ? [BEFORE_RL_METHOD, 'introllm'] : [BEFORE_RL_METHOD];
}

export interface ReproducePreset {
  /** The train preset (src/config.ts PRESETS) every run uses. */
  trainPreset: string;
  seeds: number[];
  methods: string[];
}

export const REPRODUCE_PRESETS: Record<string, ReproducePreset> = {
  /** CI: every method and the whole pipeline in about a minute; the numbers mean nothing. */
  smoke: { trainPreset: 'smoke', seeds: [0, 1], methods: DEFAULT_METHODS },
  /** The default: the guess testbed's SFT model (src/tasks/guess.ts), 3 seeds. */
  tiny: { trainPreset: 'tiny', seeds: [0, 1, 2], methods: DEFAULT_METHODS },
  /** A first look (under 10 minutes on 2 cores): IntroLLM against τ = 1 and EDT, 2 seeds, the quick train preset. */
  quick: { trainPreset: 'quick', seeds: [0, 1], methods: ['introllm', 'fixed-1.0', 'edt'] },
  /** The first default: Countdown search traces and their 201k-parameter model (reference: results/countdown). */
  countdown: { trainPreset: 'countdown', seeds: [0, 1, 2], methods: DEFAULT_METHODS },
  small: { trainPreset: 'small', seeds: [0, 1, 2], methods: DEFAULT_METHODS },
  /** A local HF model (e.g. Qwen3-1.7B under models/) on MATH train; meant for a GPU. */
  paper: { trainPreset: 'paper', seeds: [0, 1, 2], methods: DEFAULT_METHODS },
  /** The same, cut to hours per run on one GPU (Qwen3-0.6B, 100 steps, 30 problems per benchmark). */
  'paper-lite': { trainPreset: 'paper-lite', seeds: [0, 1, 2], methods: DEFAULT_METHODS },
};

/** A manifest's record of the plans: the device, backend and, per variant, where θ's state lives, chunk sizes and peak. */
function planSummary(plans: Record<string, RunPlan>): Record<string, unknown> {
  const any = Object.values(plans)[0];
  return {
    device: any.device.name,
    device_bytes: any.device_bytes,
    backend: any.backend,
    variants: Object.fromEntries(
      Object.entries(plans).map(([label, p]) => [
        label,
        {
          theta_state: p.theta_state,
          rollout_rows: p.rollout_rows,
          update_rows: p.update_rows,
          eval_rows: p.eval_rows,
          eval_kv_budget_bytes: p.eval_kv_budget_bytes,
          peak_bytes: p.peak_bytes,
          jobs: p.jobs,
        },
      ]),
    ),
  };
}

export interface ReproduceOptions {
  preset: string;
  out?: string;
  /** Runs at a time; default: up to 2 (one per core), fewer where the runs' plans say memory holds fewer (defaultJobs). */
  jobs?: number;
  backend?: string;
  /** --set key=value overrides applied to every run. */
  sets: string[];
  /** A config file (JSON or YAML) every run resolves after the preset, before the method and --set values. */
  configFile?: string;
  methods?: string[];
  seeds?: number[];
  /** Instead of `methods`: labelled variants, each a method plus its own --set overrides (the ablation grids). */
  variants?: Variant[];
  /** An ablation grid: the variant every other is paired against in summary.json's `vs_default` (its default). */
  defaultVariant?: string;
  /** Where the runs execute (src/experiments/launcher.ts); default: child processes on this machine. */
  launcher?: Launcher;
  log: (line: string) => void;
  /** The planner (tests: a fixed machine); default planFor. */
  planFor?: typeof planFor;
}

/** One row of a comparison: a label (folder and table name), a method, and overrides of its config. */
export interface Variant {
  label: string;
  method: string;
  sets: string[];
}

export interface ReproduceResult {
  out: string;
  summary: { methods: Record<string, MethodSummary> };
  comparisons: Comparisons;
  figures: string[];
  table: string;
  failed: string[];
  /** Runs a cluster still has queued or running (a detached or Kubernetes launch): no summary was written yet. */
  pending: string[];
}

/**
 * Runs at a time by default: each run's plan says how many of it this machine holds (one per core up to 2, and no
 * more than 80% of the machine's memory and the device hold: two 0.6B runs that train θ need 22 GB, and would be
 * killed on a 24 GB machine); the fewest of them. Says so when memory lowers it.
 */
export function defaultJobs(plans: RunPlan[], log: (line: string) => void, cores = os.cpus().length): number {
  const byCores = Math.max(1, Math.min(2, cores));
  const worst = plans.reduce((a, p) => (p.jobs < a.jobs || (p.jobs === a.jobs && p.host_bytes_per_run > a.host_bytes_per_run) ? p : a));
  const jobs = Math.min(byCores, worst.jobs);
  if (jobs < byCores) {
    const gpu = worst.device.kind === 'gpu' && worst.peak_bytes * byCores > worst.limit_bytes;
    log(
      `reproduce: ${jobs} run${jobs === 1 ? '' : 's'} at a time, not ${byCores}: ${
        gpu
          ? `a run's plan peaks at ${(worst.peak_bytes / 1e9).toFixed(1)} GB of the ${worst.device.name}'s ${(worst.limit_bytes / 1e9).toFixed(1)} GB`
          : `a run needs about ${(worst.host_bytes_per_run / 1e9).toFixed(1)} GB (weights${worst.theta_state !== 'none' ? ", and θ's gradients and Adam's moments" : ''}) of this machine's ${(worst.device_bytes / 1e9).toFixed(1)} GB`
      } (--jobs overrides)`,
    );
  }
  return jobs;
}

export async function reproduce(o: ReproduceOptions): Promise<ReproduceResult> {
  const p = REPRODUCE_PRESETS[o.preset];
  if (!p) throw new KitError(`unknown reproduce preset '${o.preset}'; valid: ${Object.keys(REPRODUCE_PRESETS).join(', ')}`);
  const variants: Variant[] = o.variants ?? (o.methods ?? p.methods).map((m) => ({ label: m, method: m, sets: [] }));
  const methods = variants.map((v) => v.label);
  const seeds = o.seeds ?? p.seeds;
  const out = o.out ?? path.join('runs', o.preset);
  const t0 = Date.now();
  // Resolve every run's config up front, so a bad --set fails before hours of training.
  const setsOf = (v: Variant) => [...o.sets, ...v.sets];
  const methodLayer = (v: Variant): ConfigOverride => ({ source: `method ${v.method}`, kind: 'method', value: methodOverride(v.method) });
  const configs = Object.fromEntries(
    variants.map((v) => [
      v.label,
      resolveConfig({
        preset: p.trainPreset,
        configFile: o.configFile,
        overrides: [methodLayer(v), ...setOverrides(setsOf(v))],
      }),
    ]),
  );
  // One run's config, layered as `train --method --seed --set` layers them; the run is handed exactly this.
  const runConfig = (v: Variant, seed: number) =>
    resolveConfigSources({
      preset: p.trainPreset,
      configFile: o.configFile,
      overrides: [methodLayer(v), { source: `seed ${seed} of the study's seeds`, value: { seed } }, ...setOverrides(setsOf(v))],
    });
  // The before-RL evaluation reads the same config file (its path as given, relative to the working directory like
  // --out) and resolves each of its methods itself.
  const configArgs = o.configFile !== undefined ? ['--config', o.configFile] : [];
  const modelDir = modelDirFor(configs[methods[0]]);
  requireModelFolder(modelDir);
  const launcher = o.launcher ?? localLauncher;
  // Each variant's memory and device plan, made before anything runs: printed (the largest), recorded in config.json
  // and the manifest, and a run it says cannot fit is refused here. A cluster's nodes are planned for only when
  // device.memory names their device (this machine says nothing about them).
  const planned = launcher.name === 'local' || Object.values(configs).some((c) => c.device.memory !== 'auto');
  const plans: Record<string, RunPlan> = planned
    ? Object.fromEntries(variants.map((v) => [v.label, (o.planFor ?? planFor)(configs[v.label], { backend: { requested: o.backend }, modelDir })]))
    : {};
  const planList = Object.values(plans);
  if (planList.length) {
    const largest = planList.reduce((a, b) => (b.peak_bytes > a.peak_bytes ? b : a));
    o.log(
      `reproduce ${o.preset}: plan${planList.length > 1 ? ` (the largest of the ${planList.length} variants'; each is in ${path.join(out, 'config.json')})` : ''}\n${formatPlan(largest).replace(/^/gm, '  ')}`,
    );
    const refused = variants.flatMap((v) => {
      const r = planRefusal(plans[v.label]);
      return r ? [`${v.label}: ${r}`] : [];
    });
    if (refused.length) throw new KitError(refused.join('\n'));
  } else {
    o.log(`reproduce ${o.preset}: no plan for the ${launcher.name} nodes (set device.memory, e.g. --set device.memory=h100, to plan for their device)`);
  }
  fs.mkdirSync(out, { recursive: true });
  writeJsonAtomic(path.join(out, 'config.json'), {
    preset: o.preset,
    train_preset: p.trainPreset,
    variants,
    seeds,
    sets: o.sets,
    ...(o.configFile !== undefined ? { config_file: o.configFile } : {}),
    runs: configs,
    ...(planList.length ? { plans } : {}),
  });
  // On a cluster the scheduler places the runs: this machine's cores and memory say nothing there (0: no throttle).
  const width = o.jobs ?? (launcher.name === 'local' ? defaultJobs(planList, o.log) : 0);
  // Runs side by side on this machine share its cores: each is told its share (its matMul threads follow from it,
  // device.threads 'auto'), so that w runs do not each start a thread per core.
  const coresArgs = width > 0 ? ['--cores', String(Math.max(1, Math.floor(os.cpus().length / width)))] : [];
  const jobs: Job[] = [];
  for (const v of variants) {
    for (const s of seeds) {
      const dir = runDirOf(out, v.label, s);
      if (readEval(dir)) continue;
      // The run's resolved config goes into the study folder (shared storage on a cluster); the child reads only it.
      const request = writeRunRequest(runRequestFileOf(out, v.label, s), runConfig(v, s));
      jobs.push({
        name: `${v.label} seed ${s}`,
        done: () => readEval(dir) !== null,
        args: ['train', '--config', request, '--out', dir, ...coresArgs, ...(o.backend ? ['--backend', o.backend] : [])],
      });
    }
  }
  // The base model before RL, on the same held-out problems, k and sampling seeds (summary: before_rl, vs_before_rl).
  const before = beforeRlMethods(variants.map((v) => v.method));
  if (seeds.some((s) => before.some((m) => !readBeforeRl(out, s, m)))) {
    jobs.push({
      name: 'before RL (the base model at τ = 1)',
      done: () => seeds.every((s) => before.every((m) => readBeforeRl(out, s, m))),
      args: [
        'eval',
        '--preset',
        p.trainPreset,
        ...configArgs,
        '--methods',
        before.join(','),
        '--seeds',
        seeds.join(','),
        '--out',
        path.join(out, BEFORE_RL),
        ...o.sets.flatMap((x) => ['--set', x]),
        ...(o.backend ? ['--backend', o.backend] : []),
      ],
    });
  }
  o.log(
    `reproduce ${o.preset}: ${methods.length} methods × ${seeds.length} seeds, ${jobs.length} runs to do, ${width ? `${width} at a time` : 'all at once'}${launcher.name === 'local' ? '' : ` on ${launcher.name}`} → ${out}`,
  );
  const launched = await launcher.launch(jobs, { out, width, label: `${o.preset}-${path.basename(path.resolve(out))}`, log: o.log });
  for (const f of launched.failed) o.log(`${f.name} failed${f.log ? ` (${f.reason}; log ${f.log})` : ''}:\n  ${f.tail.join('\n  ')}`);
  // A resumed reproduction adds a session: the manifest keeps the commit, wall time and runs of every invocation.
  const recordSession = () => {
    const manifestFile = path.join(out, 'manifest.json');
    let sessions: unknown[] = [];
    try {
      sessions = (JSON.parse(fs.readFileSync(manifestFile, 'utf8')) as { sessions?: unknown[] }).sessions ?? [];
    } catch {
      sessions = [];
    }
    sessions.push({
      started: new Date(t0).toISOString(),
      ...gitState(),
      wall_time_s: (Date.now() - t0) / 1000,
      jobs: width,
      ...launched.session,
      ...(planList.length ? { plan: planSummary(plans) } : {}),
      runs: launched.runs,
    });
    writeJsonAtomic(manifestFile, manifest({ preset: o.preset, sessions }));
  };
  const failed = launched.failed.map((f) => f.name);
  if (!launched.settled) {
    if (!launched.session.dry_run) recordSession(); // a dry run writes nothing of its own
    return { out, summary: { methods: {} }, comparisons: {}, figures: [], table: '', failed, pending: launched.pending };
  }
  const {
    summary,
    comparisons: cmp,
    table,
    figures,
  } = await summariseReproduction(out, methods, seeds, configs[methods[0]].eval.k, o.preset, o.log, { defaultVariant: o.defaultVariant });
  recordSession();
  return { out, summary, comparisons: cmp, table, figures, failed, pending: [] };
}

/**
 * summary.json, table.md and the figures of a reproduction folder, from its runs' eval.json and metrics.jsonl alone
 * (no training): the last step of `reproduce`, and `introllm figures` on a finished folder.
 */
export async function summariseReproduction(
  out: string,
  methods: string[],
  seeds: number[],
  k: number,
  preset: string,
  log: (line: string) => void,
  opts: { defaultVariant?: string } = {},
): Promise<{ summary: { methods: Record<string, MethodSummary> }; comparisons: Comparisons; table: string; figures: string[] }> {
  const ks = reportedKs(k);
  // Each run's eval.json, read once for the summary and the paired comparisons.
  const evals = new Map(
    methods.map((m) => [
      m,
      seeds.flatMap((s): SeedEval[] => {
        const e = readEval(runDirOf(out, m, s));
        return e ? [{ seed: s, eval: e }] : [];
      }),
    ]),
  );
  const summary: { methods: Record<string, MethodSummary> } = { methods: {} };
  for (const [m, e] of evals) if (e.length) summary.methods[m] = summariseMethod(e, ks, new Rng(0).fork(`summary:${m}`));
  // Each method's θ updates, φ updates and rollouts, from its runs' resolved config (the same for every seed).
  const budget = Object.fromEntries(
    Object.keys(summary.methods).flatMap((m) => {
      const cfg = readRunConfig(runDirOf(out, m, evals.get(m)![0].seed));
      return cfg ? [[m, runBudget(cfg, isLearnedController(cfg.controller.name))]] : [];
    }),
  );
  const cmp = comparisons(out, evals, seeds, ks, opts.defaultVariant);
  // The figures draw the before-RL model as their reference.
  const fig = await writeReproductionFigures({
    out,
    labels: Object.keys(summary.methods),
    seeds,
    runDir: (l, s) => runDirOf(out, l, s),
    summary: { ...summary, ...(cmp.before_rl ? { before_rl: cmp.before_rl } : {}) },
    title: `IntroLLM kit: ${preset} reproduction`,
  });
  if (fig.pngSkipped) log(`figures: HTML only (${fig.pngSkipped})`);
  const head = headMovement(out, seeds, evals.get('introllm') ?? [], fig.interpretability.introllm);
  writeJsonAtomic(path.join(out, 'summary.json'), { ...summary, budget, ...cmp, interpretability: fig.interpretability, ...(head ? { head } : {}) });
  // With several benchmarks the headline columns are the macro average; a second table has each benchmark.
  const table = [comparisonTables(summary.methods, k, budget), pairedTable(cmp, k)].filter(Boolean).join('\n\n');
  writeFileAtomic(path.join(out, 'table.md'), table + '\n');
  return { summary, comparisons: cmp, table, figures: fig.files };
}

/** How IntroLLM's head looks at one point: τ by token class and τ–entropy correlation (with CIs) on the evaluation
 *  traces, and the mean τ and gate rate over every evaluated token (mean over seeds). */
export interface HeadSnapshot extends Interpretability {
  tau_mean: number;
  gate_rate: number;
  seeds: number[];
}

/**
 * summary.json's `head`: IntroLLM's temperature head before training (its initialisation on the base model, from the
 * before-RL job) and after (the trained runs), on the same held-out problems, so that how far it moved is read off
 * side by side. Null when either side is missing.
 */
function headMovement(out: string, seeds: number[], trained: SeedEval[], end: Interpretability | undefined): { start: HeadSnapshot; end: HeadSnapshot } | null {
  const startEvals = beforeRlEvals(out, seeds, 'introllm');
  if (!startEvals.length || !trained.length || !end) return null;
  const traces = startEvals.flatMap(({ seed, eval: e }) => seedTraces(seed, e.traces));
  if (!traces.length) return null;
  const snap = (evals: { seed: number; eval: Pick<EvalResult, 'tauMean' | 'gateRate'> }[], interp: Interpretability): HeadSnapshot => ({
    ...interp,
    tau_mean: mean(evals.map((e) => e.eval.tauMean)),
    gate_rate: mean(evals.map((e) => e.eval.gateRate)),
    seeds: evals.map((e) => e.seed),
  });
  return {
    start: snap(startEvals, interpretabilityOf(traces)),
    end: snap(trained, end),
  };
}

/** The paired comparisons of summary.json (see comparisons()). */
export interface Comparisons {
  before_rl?: {
    method: string;
    accuracy: number;
    ci95: [number, number];
    pass_at_k: Record<string, number>;
    pass_ci95: Record<string, [number, number]>;
    seeds: number[];
  };
  vs_before_rl?: Record<string, PairedDifference>;
  introllm_vs?: Record<string, PairedDifference>;
  /** An ablation grid's default variant (the preset's configuration) and every other variant minus it. */
  default_variant?: string;
  vs_default?: Record<string, PairedDifference>;
}

/**
 * `before_rl` (the base model at τ = 1, no RL, same problems, k and sampling seeds) with each method's
 * `vs_before_rl`, and `introllm_vs` (IntroLLM minus each other method) or, for an ablation grid, `vs_default` (each
 * variant minus the grid's default), each difference paired over problems (pairedDifference). Fields are left out
 * where their runs are missing.
 */
function comparisons(out: string, evals: Map<string, SeedEval[]>, seeds: number[], ks: number[], defaultVariant?: string): Comparisons {
  const done = [...evals].filter(([, e]) => e.length > 0);
  const result: Comparisons = {};
  const before = beforeRlEvals(out, seeds);
  if (before.length > 0) {
    const b = summariseMethod(before, ks, new Rng(0).fork('summary:before-rl'));
    result.before_rl = {
      method: `${BEFORE_RL_METHOD}, no RL`,
      accuracy: b.accuracy,
      ci95: b.ci95,
      pass_at_k: b.pass_at_k,
      pass_ci95: b.pass_ci95,
      seeds: b.seeds,
    };
    result.vs_before_rl = Object.fromEntries(done.map(([m, e]) => [m, pairedDifference(e, before, new Rng(0).fork(`paired:${m}:before-rl`))]));
  }
  if (defaultVariant !== undefined) {
    const base = evals.get(defaultVariant);
    if (base?.length) {
      result.default_variant = defaultVariant;
      result.vs_default = Object.fromEntries(
        done.filter(([m]) => m !== defaultVariant).map(([m, e]) => [m, pairedDifference(e, base, new Rng(0).fork(`paired:${m}:${defaultVariant}`))]),
      );
    }
    return result;
  }
  const introllm = evals.get('introllm');
  if (introllm?.length) {
    result.introllm_vs = Object.fromEntries(
      done.filter(([m]) => m !== 'introllm').map(([m, e]) => [m, pairedDifference(introllm, e, new Rng(0).fork(`paired:introllm:${m}`))]),
    );
  }
  return result;
}

/** The paired differences as Markdown (percentage points), or '' when there are none. */
function pairedTable(cmp: Comparisons, k: number): string {
  const row = (name: string, d: PairedDifference) =>
    `| ${name} | ${signedPoints(d.diff)} | [${signedPoints(d.ci95[0])}, ${signedPoints(d.ci95[1])}] | ${d.ci95[0] > 0 ? 'above 0' : d.ci95[1] < 0 ? 'below 0' : 'includes 0'} | ${(100 * d.mde80).toFixed(1)} |`;
  const out: string[] = [];
  const before = cmp.before_rl;
  if (before && cmp.vs_before_rl) {
    out.push(
      `Before RL (the base model at τ = 1): Avg@${k} ${(100 * before.accuracy).toFixed(1)}% [${(100 * before.ci95[0]).toFixed(1)}, ${(100 * before.ci95[1]).toFixed(1)}]`,
      '',
      `| method − before RL | Avg@${k} points | paired 95% CI | CI | detectable (80% power) |`,
      '| --- | ---: | --- | --- | ---: |',
      ...Object.entries(cmp.vs_before_rl).map(([m, d]) => row(m, d)),
    );
  }
  if (cmp.vs_default && cmp.default_variant) {
    if (out.length) out.push('');
    out.push(
      `| variant − ${cmp.default_variant} (the default) | Avg@${k} points | paired 95% CI | CI | detectable (80% power) |`,
      '| --- | ---: | --- | --- | ---: |',
      ...Object.entries(cmp.vs_default).map(([m, d]) => row(m, d)),
    );
  }
  if (cmp.introllm_vs) {
    if (out.length) out.push('');
    out.push(
      `| introllm − method | Avg@${k} points | paired 95% CI | CI | detectable (80% power) |`,
      '| --- | ---: | --- | --- | ---: |',
      ...Object.entries(cmp.introllm_vs).map(([m, d]) => row(m, d)),
    );
  }
  return out.join('\n');
}
