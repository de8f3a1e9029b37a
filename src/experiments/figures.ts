// The figures and interpretability numbers of a reproduction, built from its run folders: training curves with
// bands over seeds, accuracy and Pass@k with CIs (in percent, the before-RL model as a reference), τ against entropy
// (binned means with CIs, Spearman ρ), τ by token class (with n), and a learned policy's completions coloured by τ
// (docs/method.md#interpretability-claims). Every title names the testbed and n (src/plots/context.ts). Written as
// one offline HTML page (figures/index.html) and, where Chromium is available, one PNG per figure. A τ sweep's folder
// (`introllm eval --out`) gets its own figure (writeSweepFigure).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { EvalResult } from '../eval/evaluate';
import { writeFileAtomic } from '../io/atomic';
import { resolveControllerConfig } from '../policy/config';
import {
  ablationFigure,
  AblationTable,
  accuracyFigure,
  benchmarkAccuracyFigure,
  constantTau,
  Figure,
  FigureContext,
  galleryHtml,
  passAtKCurveFigure,
  pickTraces,
  renderPng,
  RunMetrics,
  Summary,
  tauByClass,
  tauByClassFigure,
  tauEntropyCorrelation,
  tauEntropyFigure,
  tauSweepFigure,
  tauTraceFigure,
  testbedLabel,
  tokensToHtml,
  trainingCurvesFigure,
  writeFigureHtml,
} from '../plots';
import { ClassConsistency, classConsistencyBySeed } from '../plots/seed-consistency';
import { classifyTokens, TOKEN_CLASSES, TokenClass } from '../plots/token-class';
import type { TokenTrace } from '../plots/types';
import { figureContextOf } from './figure-context';
import { evalFileOf, readEval, readEvalFile, readMetrics, readRunConfig } from './run-files';

export interface FigureInputs {
  out: string;
  /** Labels of the compared methods/variants, and the run folder of (label, seed). */
  labels: string[];
  seeds: number[];
  runDir: (label: string, seed: number) => string;
  /** summary.json's methods, and its `before_rl` where there is one (drawn as the reference). */
  summary: Summary;
  title: string;
  /** The testbed and n (default: read from the first run's config and evaluation). */
  context?: FigureContext;
}

export interface Interpretability {
  tau_entropy: ReturnType<typeof tauEntropyCorrelation>;
  tau_by_class: ReturnType<typeof tauByClass>;
  /** τ by class per seed, against each seed's own mean τ: whether the pooled pattern is one rule in every seed. */
  tau_by_class_seeds: Record<TokenClass, ClassConsistency>;
}

type Traces = NonNullable<EvalResult['traces']>;

/** One seed's evaluation traces with each problem id prefixed by the seed, so that pooled seeds keep their problems
 *  apart in the problem-level CIs. */
export function seedTraces(seed: number, traces: Traces | undefined): Traces {
  return (traces ?? []).map((tr) => ({ ...tr, problemId: `${seed}:${tr.problemId}` }));
}

/** summary.json's interpretability numbers of a set of traces: τ–entropy correlation and τ by token class, with CIs. */
export function interpretabilityOf(traces: Traces): Interpretability {
  return {
    tau_entropy: tauEntropyCorrelation(traces, { seed: 0 }),
    tau_by_class: tauByClass(traces, { seed: 0 }),
    tau_by_class_seeds: classConsistencyBySeed(traces, TOKEN_CLASSES, classifyTokens, (t) => t.problemId.split(':')[0], { seed: 0 }),
  };
}

/** The head's τ range of a run config (the colour scale of the trace figure), or null when the config has none. */
function tauRangeOfConfig(cfg: { controller?: { name?: string } & Record<string, unknown> } | null): [number, number] | null {
  if (!cfg?.controller) return null;
  try {
    const { name: _name, ...rest } = cfg.controller;
    const c = resolveControllerConfig(rest);
    return [c.tauMin, c.tauMax];
  } catch {
    return null;
  }
}

/** The method whose completions the trace figure shows: IntroLLM when it is there, else the first whose τ varies. */
export function traceMethodOf(traces: readonly { method: string; traces: readonly TokenTrace[] }[]): string | null {
  const varying = traces.filter((t) => t.traces.length > 0 && !constantTau(t.traces));
  return (varying.find((t) => t.method === 'introllm') ?? varying[0])?.method ?? null;
}

/**
 * The τ-coloured completions of one learned policy: `count` of the traces its first evaluated seed kept (half correct,
 * half wrong where there are both), coloured on the head's τ range. Null when no method's τ varies.
 */
export function tauTraceFigureOf(
  runs: readonly { method: string; seed: number; traces: readonly TokenTrace[]; range: [number, number] | null }[],
  context: FigureContext,
  count = 4,
): Figure | null {
  const method = traceMethodOf(runs.map((r) => ({ method: r.method, traces: r.traces })));
  const run = runs.find((r) => r.method === method && r.traces.length > 0);
  if (!run) return null;
  const picked = pickTraces(run.traces, count);
  const right = picked.filter((t) => t.correct).length;
  const range = run.range ?? undefined;
  return tauTraceFigure(picked, {
    tauRange: range,
    maxColumns: 48,
    title: `${run.method} after RL: each generated token coloured by its temperature τ_t`,
    subtitle: [
      [
        testbedLabel(context),
        `seed ${run.seed}: ${picked.length} of the ${run.traces.length} completions kept as traces (${right} correct, ${picked.length - right} wrong)`,
      ]
        .filter(Boolean)
        .join(' · '),
      `colour: τ on ${range ? `the head's range [${range[0]}, ${range[1]}]` : 'the range of these tokens'} (blue low, red high); bold: the gate fired (τ resampled); ↵ line break, · space`,
    ],
  });
}

/** Builds every figure, writes them, and returns the interpretability numbers per method (for summary.json). */
export async function writeReproductionFigures(
  x: FigureInputs,
): Promise<{ files: string[]; pngSkipped: string | null; interpretability: Record<string, Interpretability> }> {
  const runs: RunMetrics[] = [];
  const traces: { method: string; traces: Traces }[] = [];
  const firstTraces: { method: string; seed: number; traces: Traces; range: [number, number] | null }[] = [];
  let measured: { problems?: number; k?: number } = {};
  let firstConfig: ReturnType<typeof readRunConfig> = null;
  for (const label of x.labels) {
    const t: EvalResult['traces'] = [];
    for (const seed of x.seeds) {
      runs.push({ method: label, seed, metrics: readMetrics(x.runDir(label, seed)) ?? [] });
      const e = readEval(x.runDir(label, seed));
      if (!e) continue;
      t.push(...seedTraces(seed, e.traces));
      firstConfig ??= readRunConfig(x.runDir(label, seed));
      if (measured.problems === undefined && Array.isArray(e.problems)) measured = { problems: e.problems.length, k: e.report?.k };
      if (!firstTraces.some((f) => f.method === label) && e.traces?.length) {
        firstTraces.push({ method: label, seed, traces: e.traces, range: tauRangeOfConfig(readRunConfig(x.runDir(label, seed)) as never) });
      }
    }
    traces.push({ method: label, traces: t });
  }
  const context = x.context ?? figureContextOf(firstConfig, x.seeds, measured);
  const interpretability: Record<string, Interpretability> = {};
  for (const t of traces) {
    if (!t.traces.length) continue;
    interpretability[t.method] = interpretabilityOf(t.traces);
  }
  const correlations = Object.fromEntries(Object.entries(interpretability).map(([m, i]) => [m, i.tau_entropy]));
  // Training curves: the held-out n is not theirs to name.
  const { problems: _p, k: _k, ...trainContext } = context;
  const trace = tauTraceFigureOf(firstTraces, context);
  const figs: { name: string; title: string; fig: Figure }[] = [
    {
      name: 'training-reward',
      title: 'Training reward per step (mean over seeds, band: min–max)',
      fig: trainingCurvesFigure(runs, { metrics: 'train/reward_mean', smoothing: 0.8, context: trainContext }),
    },
    {
      name: 'training-tau-gate',
      title: 'Mean τ and gate rate over training',
      fig: trainingCurvesFigure(runs, { metrics: ['policy/tau_mean', 'policy/gate_rate'], smoothing: 0.8, context: trainContext }),
    },
    { name: 'accuracy', title: 'Held-out accuracy and Pass@k with 95% CIs', fig: accuracyFigure(x.summary, { context }) },
    { name: 'pass-at-k', title: 'Pass@k', fig: passAtKCurveFigure(x.summary, { context }) },
    ...perBenchmark(x.summary, context),
    { name: 'tau-entropy', title: 'τ_t against the token entropy H_t (evaluation samples)', fig: tauEntropyFigure(traces, { context, correlations, seed: 0 }) },
    { name: 'tau-by-class', title: 'τ by token class', fig: tauByClassFigure(traces, { context, seed: 0 }) },
    ...(trace ? [{ name: 'tau-trace', title: "A learned policy's completions coloured by τ", fig: trace }] : []),
  ];
  const dir = path.join(x.out, 'figures');
  fs.mkdirSync(dir, { recursive: true });
  const samples = traces
    .filter((t) => t.traces.length)
    .slice(0, 3)
    .map((t) => ({ title: `A ${t.method} sample coloured by τ`, html: tokensToHtml(t.traces[0], { caption: true }) }));
  const page = path.join(dir, 'index.html');
  writeFileAtomic(page, galleryHtml(figs, x.title, samples, page));
  const png = await renderPng(figs.map((f) => ({ file: path.join(dir, `${f.name}.png`), fig: f.fig })));
  return { files: [page, ...png.rendered], pngSkipped: png.skipped, interpretability };
}

function perBenchmark(summary: Summary, context: FigureContext): { name: string; title: string; fig: Figure }[] {
  const fig = benchmarkAccuracyFigure(summary, { context });
  return fig ? [{ name: 'accuracy-per-benchmark', title: 'Accuracy per benchmark and the average', fig }] : [];
}

/** Whether `dir` is an evaluation folder (`introllm eval --out`: summary.json with methods, and evals/). */
export function isEvalFolder(dir: string): boolean {
  return fs.existsSync(path.join(dir, 'summary.json')) && fs.existsSync(path.join(dir, 'evals')) && !fs.existsSync(path.join(dir, 'config.json'));
}

/**
 * figures/tau-sweep.png of an evaluation folder whose methods are fixed-τ (a τ sweep of a model without RL), from its
 * summary.json and the config its first evaluation file records; figures/tau-sweep.html where no PNG can be rendered.
 * Returns the files written and why PNG was skipped.
 */
export async function writeSweepFigure(dir: string): Promise<{ files: string[]; pngSkipped: string | null }> {
  const summary = JSON.parse(fs.readFileSync(path.join(dir, 'summary.json'), 'utf8')) as Summary & { seeds?: number[] };
  const methods = Object.keys(summary.methods);
  const seeds = summary.seeds ?? summary.methods[methods[0]]?.seeds ?? [];
  const first =
    methods.length && seeds.length
      ? (readEvalFile(evalFileOf(dir, methods[0], seeds[0])) as (EvalResult & { config?: Parameters<typeof figureContextOf>[0] }) | null)
      : null;
  const context = figureContextOf(first?.config ?? null, seeds, first ? { problems: first.problems?.length, k: first.report?.k } : {});
  const fig = tauSweepFigure(summary, { context });
  const out = path.join(dir, 'figures');
  fs.mkdirSync(out, { recursive: true });
  const png = await renderPng([{ file: path.join(out, 'tau-sweep.png'), fig }]);
  if (png.skipped === null) return { files: png.rendered, pngSkipped: null };
  // Without a browser the figure is an HTML page instead (a PNG-only folder stays free of pages where Chromium is).
  const page = path.join(out, 'tau-sweep.html');
  writeFigureHtml(page, fig, 'Fixed-τ sweep');
  return { files: [page], pngSkipped: png.skipped };
}

/** The figure context of a comparison folder (a reproduction or an ablation grid), read from `label`'s first evaluated run. */
export function folderContext(runDir: (label: string, seed: number) => string, label: string, seeds: readonly number[]): FigureContext {
  for (const seed of seeds) {
    const e = readEval(runDir(label, seed));
    if (e) return figureContextOf(readRunConfig(runDir(label, seed)), seeds, { problems: e.problems?.length, k: e.report?.k });
  }
  return figureContextOf(null, seeds);
}

/**
 * An ablation grid's default variant among the labels a folder holds: the one its table.json records, else the
 * grid's current default, else the one variant run without any --set of its own (the preset's configuration as it was
 * then); null when none of these is among `labels`.
 */
export function folderDefaultVariant(
  labels: readonly string[],
  recorded: string | undefined,
  gridDefault: string,
  variants: readonly { label: string; sets: readonly string[] }[] = [],
): string | null {
  if (recorded !== undefined && labels.includes(recorded)) return recorded;
  if (labels.includes(gridDefault)) return gridDefault;
  const plain = variants.filter((v) => v.sets.length === 0 && labels.includes(v.label));
  return plain.length === 1 ? plain[0].label : null;
}

/** figures/ablation.{html,png} of an ablation folder from its table (with `vs_default` where it has a default). */
export async function writeAblationFigure(
  out: string,
  table: AblationTable & { description?: string },
  options: { context?: FigureContext; beforeRlDelta?: number | null; pageTitle: string },
): Promise<{ files: string[]; pngSkipped: string | null }> {
  const fig = ablationFigure(table, { context: options.context, beforeRlDelta: options.beforeRlDelta });
  const page = path.join(out, 'figures', 'ablation.html');
  writeFileAtomic(page, galleryHtml([{ title: table.description ?? table.grid, fig }], options.pageTitle, [], page));
  const png = await renderPng([{ file: path.join(out, 'figures', 'ablation.png'), fig }]);
  return { files: [page, ...png.rendered], pngSkipped: png.skipped };
}
