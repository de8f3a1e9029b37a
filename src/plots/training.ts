// Training curves (paper: accuracy against baselines over training; "temperature adapts over training": mean τ and
// gate rate over training steps). One line per method = the mean over its seeds at each step, with a shaded band
// over seeds: by default min–max (the honest choice for the 2–5 seeds a CPU budget allows), or mean ± one standard
// error (sample standard deviation / √n). Optional EMA smoothing is applied to each seed's series before the seed
// aggregation. Any numeric metrics.jsonl key can be plotted; several keys give stacked panels sharing the step axis.
import { KitError } from '../errors';
import { ema, mean, sampleStd } from './stats';
import { contextLine, FigureContext } from './context';
import { axis, baseLayout, methodColor, titleMargin, titleText, withAlpha } from './style';
import type { Figure, PlotTrace, RunMetrics } from './types';

export type BandKind = 'minmax' | 'stderr' | 'none';

export interface TrainingCurveOptions {
  /** Metric key(s) of metrics.jsonl (default 'train/reward_mean'); several keys give one panel each, top to bottom. */
  metrics?: string | readonly string[];
  /** EMA smoothing weight in [0, 1) applied per seed (default 0: none). */
  smoothing?: number;
  /** Band over seeds (default 'minmax'). */
  band?: BandKind;
  /** Methods to show, in this order (default: all, in order of first appearance). */
  methods?: readonly string[];
  title?: string;
  /** The testbed and n, named under the default title. */
  context?: FigureContext;
}

/** A method's curve: at each step, the seeds that logged a finite value, their mean and the band bounds. */
export interface SeedAggregate {
  steps: number[];
  mean: number[];
  lo: number[];
  hi: number[];
  /** Seeds contributing at each step. */
  n: number[];
}

const LABELS: Record<string, string> = {
  'train/reward_mean': 'mean reward',
  'train/accuracy': 'training accuracy',
  'train/length_mean': 'mean completion length (tokens)',
  'policy/tau_mean': 'mean τ',
  'policy/tau_std': 'std of τ',
  'policy/gate_rate': 'gate rate: P(new τ)', // short: a long title spills out of a stacked panel
  'policy/entropy_mean': 'mean token entropy H_t (nats)',
  'loss_token/clip_fraction': 'token-loss clip fraction',
  'grad/theta_norm': '‖∇θ‖ (token policy)',
  'grad/phi_norm': '‖∇φ‖ (temperature policy)',
  'time/rollout_ms': 'rollout time (ms)',
  'time/controller_ms': 'controller time (ms)',
  'time/update_ms': 'update time (ms)',
};

/** A readable axis label for a metrics.jsonl key (the key itself when unknown). */
export function metricLabel(key: string): string {
  return LABELS[key] ?? key;
}

/** One seed's (step, value) series for `metric`: finite values only, sorted by step, the last line winning a repeated step. */
export function metricSeries(run: RunMetrics, metric: string): { steps: number[]; values: number[] } {
  const byStep = new Map<number, number>();
  for (const r of run.metrics) {
    const v = r[metric];
    if (typeof v === 'number' && Number.isFinite(v) && Number.isFinite(r.step)) byStep.set(r.step, v);
  }
  const steps = [...byStep.keys()].sort((a, b) => a - b);
  return { steps, values: steps.map((s) => byStep.get(s)!) };
}

/** Mean over seeds and band bounds at every step any seed logged (see the file comment for the band kinds). */
export function aggregateSeeds(runs: readonly RunMetrics[], metric: string, smoothing = 0, band: BandKind = 'minmax'): SeedAggregate {
  const perStep = new Map<number, number[]>();
  for (const run of runs) {
    const s = metricSeries(run, metric);
    const v = ema(s.values, smoothing);
    s.steps.forEach((step, i) => {
      const list = perStep.get(step);
      if (list) list.push(v[i]);
      else perStep.set(step, [v[i]]);
    });
  }
  const out: SeedAggregate = { steps: [], mean: [], lo: [], hi: [], n: [] };
  for (const step of [...perStep.keys()].sort((a, b) => a - b)) {
    const vs = perStep.get(step)!;
    const m = mean(vs);
    let lo = m;
    let hi = m;
    if (band === 'minmax') {
      lo = Math.min(...vs);
      hi = Math.max(...vs);
    } else if (band === 'stderr') {
      const se = sampleStd(vs) / Math.sqrt(vs.length);
      lo = m - se;
      hi = m + se;
    }
    out.steps.push(step);
    out.mean.push(m);
    out.lo.push(lo);
    out.hi.push(hi);
    out.n.push(vs.length);
  }
  return out;
}

/** Methods in the requested order, or in order of first appearance. */
function methodOrder(runs: readonly RunMetrics[], wanted?: readonly string[]): string[] {
  const present = [...new Set(runs.map((r) => r.method))];
  if (!wanted) return present;
  const missing = wanted.filter((m) => !present.includes(m));
  if (missing.length > 0) throw new KitError(`training curves: no runs for method(s) ${missing.join(', ')}; present: ${present.join(', ')}`);
  return [...wanted];
}

/**
 * Training curves of one or more metrics for several methods × seeds. Per method and panel: a band trace (a closed
 * polygon: x = steps then steps reversed, y = upper bounds then lower bounds reversed, fill 'toself') when the band
 * is not 'none', then the mean line.
 */
export function trainingCurvesFigure(runs: readonly RunMetrics[], options: TrainingCurveOptions = {}): Figure {
  const metrics = typeof options.metrics === 'string' ? [options.metrics] : [...(options.metrics ?? ['train/reward_mean'])];
  if (metrics.length === 0) throw new KitError('training curves: need at least one metric');
  const band = options.band ?? 'minmax';
  const smoothing = options.smoothing ?? 0;
  const methods = methodOrder(runs, options.methods);
  const data: PlotTrace[] = [];
  const rows = metrics.length;
  const gap = rows > 1 ? 0.06 : 0;
  const h = (1 - gap * (rows - 1)) / rows;
  const layout: Record<string, unknown> = {};
  metrics.forEach((metric, i) => {
    const yname = i === 0 ? 'y' : `y${i + 1}`;
    const top = 1 - i * (h + gap);
    layout[i === 0 ? 'yaxis' : `yaxis${i + 1}`] = axis(metricLabel(metric), { domain: [Math.max(0, top - h), Math.min(1, top)], anchor: 'x' });
    for (const method of methods) {
      const agg = aggregateSeeds(
        runs.filter((r) => r.method === method),
        metric,
        smoothing,
        band,
      );
      if (agg.steps.length === 0) continue;
      const color = methodColor(method);
      if (band !== 'none') {
        data.push({
          type: 'scatter',
          name: `${method} ${band === 'minmax' ? 'min–max' : '±1 s.e.'}`,
          legendgroup: method,
          showlegend: false,
          x: [...agg.steps, ...[...agg.steps].reverse()],
          y: [...agg.hi, ...[...agg.lo].reverse()],
          fill: 'toself',
          fillcolor: withAlpha(color, 0.18),
          line: { width: 0 },
          mode: 'lines',
          hoverinfo: 'skip',
          yaxis: yname,
        });
      }
      data.push({
        type: 'scatter',
        mode: 'lines',
        name: method,
        legendgroup: method,
        showlegend: i === 0,
        x: agg.steps,
        y: agg.mean,
        customdata: agg.n,
        line: { color, width: 2 },
        yaxis: yname,
        hovertemplate: `${method}<br>step %{x}<br>%{y:.4g} (mean of %{customdata} seeds)<extra></extra>`,
      });
    }
  });
  const bandText = band === 'none' ? '' : band === 'minmax' ? '; band: min–max over seeds' : '; band: ±1 standard error over seeds';
  const smoothText = smoothing > 0 ? `; EMA smoothing ${smoothing}` : '';
  const main = metrics.length === 1 ? `${metricLabel(metrics[0])} over training` : 'Training curves';
  const title = options.title ?? titleText(main, contextLine(options.context), `mean over seeds${bandText}${smoothText}`);
  return {
    data,
    layout: baseLayout(title, {
      ...layout,
      ...(options.context ? { margin: { l: 70, r: 30, t: titleMargin(title), b: 60 } } : {}),
      xaxis: axis('training step', { anchor: rows === 1 ? 'y' : `y${rows}` }),
      height: 260 + 220 * rows,
      width: 900,
      hovermode: 'closest',
    }),
  };
}
