// The figures and interpretability numbers of a reproduction, built from its run folders: training curves with
// bands over seeds, accuracy and Pass@k with CIs, τ against entropy, τ by token class, and a sample's tokens coloured
// by τ (docs/method.md#interpretability-claims). Written as one offline HTML page (figures/index.html) and, where
// Chromium is available, one PNG per figure.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { EvalResult } from '../eval/evaluate';
import { writeFileAtomic } from '../io/atomic';
import {
  accuracyFigure, benchmarkAccuracyFigure, Figure, galleryHtml, passAtKCurveFigure, renderPng, RunMetrics, Summary, tauByClass, tauByClassFigure,
  tauEntropyCorrelation, tauEntropyFigure, tokensToHtml, trainingCurvesFigure,
} from '../plots';
import { ClassConsistency, classConsistencyBySeed } from '../plots/seed-consistency';
import { classifyTokens, TOKEN_CLASSES, TokenClass } from '../plots/token-class';
import { readEval, readMetrics } from './run-files';

export interface FigureInputs {
  out: string;
  /** Labels of the compared methods/variants, and the run folder of (label, seed). */
  labels: string[];
  seeds: number[];
  runDir: (label: string, seed: number) => string;
  summary: Summary;
  title: string;
}

export interface Interpretability {
  tau_entropy: ReturnType<typeof tauEntropyCorrelation>;
  tau_by_class: ReturnType<typeof tauByClass>;
  /** τ by class per seed, against each seed's own mean τ: whether the pooled pattern is one rule in every seed. */
  tau_by_class_seeds: Record<TokenClass, ClassConsistency>;
}

function perBenchmark(summary: FigureInputs['summary']): { name: string; title: string; fig: Figure }[] {
  const fig = benchmarkAccuracyFigure(summary);
  return fig ? [{ name: 'accuracy-per-benchmark', title: 'Accuracy per benchmark and the average', fig }] : [];
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

/** Builds every figure, writes them, and returns the interpretability numbers per method (for summary.json). */
export async function writeReproductionFigures(x: FigureInputs): Promise<{ files: string[]; pngSkipped: string | null; interpretability: Record<string, Interpretability> }> {
  const runs: RunMetrics[] = [];
  const traces: { method: string; traces: Traces }[] = [];
  for (const label of x.labels) {
    const t: EvalResult['traces'] = [];
    for (const seed of x.seeds) {
      runs.push({ method: label, seed, metrics: readMetrics(x.runDir(label, seed)) ?? [] });
      const e = readEval(x.runDir(label, seed));
      if (e) t.push(...seedTraces(seed, e.traces));
    }
    traces.push({ method: label, traces: t });
  }
  const figs: { name: string; title: string; fig: Figure }[] = [
    { name: 'training-reward', title: 'Training reward per step (mean over seeds, band: min–max)', fig: trainingCurvesFigure(runs, { metrics: 'train/reward_mean', smoothing: 0.8 }) },
    { name: 'training-tau-gate', title: 'Mean τ and gate rate over training', fig: trainingCurvesFigure(runs, { metrics: ['policy/tau_mean', 'policy/gate_rate'], smoothing: 0.8 }) },
    { name: 'accuracy', title: 'Held-out accuracy and Pass@k with 95% CIs', fig: accuracyFigure(x.summary, { title: 'Held-out accuracy and Pass@k (95% CI: bootstrap over seeds, then problems)' }) },
    { name: 'pass-at-k', title: 'Pass@k', fig: passAtKCurveFigure(x.summary) },
    ...perBenchmark(x.summary),
    { name: 'tau-entropy', title: 'τ_t against the token entropy H_t (evaluation samples)', fig: tauEntropyFigure(traces) },
    { name: 'tau-by-class', title: 'τ by token class', fig: tauByClassFigure(traces) },
  ];
  const dir = path.join(x.out, 'figures');
  fs.mkdirSync(dir, { recursive: true });
  const samples = traces.filter((t) => t.traces.length).slice(0, 3).map((t) => ({ title: `A ${t.method} sample coloured by τ`, html: tokensToHtml(t.traces[0], { caption: true }) }));
  const page = path.join(dir, 'index.html');
  writeFileAtomic(page, galleryHtml(figs, x.title, samples, page));
  const png = await renderPng(figs.map((f) => ({ file: path.join(dir, `${f.name}.png`), fig: f.fig })));
  const interpretability: Record<string, Interpretability> = {};
  for (const t of traces) {
    if (!t.traces.length) continue;
    interpretability[t.method] = interpretabilityOf(t.traces);
  }
  return { files: [page, ...png.rendered], pngSkipped: png.skipped, interpretability };
}
