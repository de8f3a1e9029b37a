// Final-accuracy figures (paper: "the learned temperature policy beats fixed and heuristic baselines"; Avg@k and
// Pass@k tables; the ablations of gate, head, τ range, schedule, head input and group size; the fixed-τ sweep of a
// base model). Every score is shown in percent, as every table of the kit shows it, with asymmetric 95% CI whiskers
// taken from the data (summary.json's bootstrap over seeds, then problems); a bar whose CI was not recorded gets a
// zero-length whisker, and a series with no CI at all gets none. Where a before-RL evaluation exists (summary.json's
// `before_rl`: the base model at τ = 1 on the same problems) the figures draw it as a dashed reference, and each
// title names the testbed and n (src/plots/context.ts). An ablation grid is shown as what its text argues from: each
// variant's paired difference to the grid's default (points, 95% CI), the default marked.
import { KitError } from '../errors';
import { contextLine, FigureContext, toPercent, toPercentCi } from './context';
import { axis, baseLayout, methodColor, num, titleMargin, titleText, withAlpha } from './style';
import type { AblationTable, Figure, PlotTrace, Summary } from './types';

const SERIES_COLORS = ['#4c72b0', '#dd8452', '#55a868', '#c44e52', '#8172b3', '#937860'];
const BEFORE_RL_COLOR = '#555555';

/** Plotly error bars for values with [lo, hi] intervals (null interval: no whisker). */
export function errorBars(values: readonly number[], cis: readonly ([number, number] | null | undefined)[]): Record<string, unknown> {
  const has = cis.some((c) => Array.isArray(c));
  return {
    type: 'data',
    symmetric: false,
    visible: has,
    thickness: 1.5,
    width: 4,
    array: values.map((v, i) => {
      const c = cis[i];
      return c ? (num(c[1] - v) ?? 0) : 0;
    }),
    arrayminus: values.map((v, i) => {
      const c = cis[i];
      return c ? (num(v - c[0]) ?? 0) : 0;
    }),
  };
}

function methodNames(summary: Summary, wanted?: readonly string[]): string[] {
  if (!summary || typeof summary.methods !== 'object' || summary.methods === null) throw new KitError('summary: expected {"methods": {...}}');
  const present = Object.keys(summary.methods);
  if (!wanted) return present;
  const missing = wanted.filter((m) => !present.includes(m));
  if (missing.length > 0) throw new KitError(`summary has no method(s) ${missing.join(', ')}; present: ${present.join(', ')}`);
  return [...wanted];
}

/** The k values recorded in pass_at_k across methods, sorted numerically. */
export function passKs(summary: Summary): string[] {
  const ks = new Set<string>();
  for (const m of Object.values(summary.methods)) for (const k of Object.keys(m.pass_at_k ?? {})) ks.add(k);
  return [...ks].sort((a, b) => Number(a) - Number(b));
}

/** summary.json's `before_rl`: the base model's scores before any RL on the same problems (fractions). */
export interface BeforeRl {
  accuracy: number;
  ci95?: [number, number];
  pass_at_k?: Record<string, number>;
  pass_ci95?: Record<string, [number, number]>;
}

/** The summary's before-RL evaluation, or null when it has none. */
export function beforeRlOf(summary: Summary): BeforeRl | null {
  const b = summary.before_rl as BeforeRl | undefined;
  return b && typeof b.accuracy === 'number' ? b : null;
}

/** One bar series of the accuracy figure, in percent: a score per method with its CI, and the before-RL value. */
export interface ScoreSeries {
  name: string;
  /** 'avg' (Avg@k, the accuracy) or the k of Pass@k. */
  key: string;
  values: number[];
  cis: ([number, number] | null)[];
  before: { value: number; ci: [number, number] | null } | null;
}

/**
 * The accuracy figure's data, in percent: Avg@k per method, then Pass@k for each of `ks`, each with its CIs and, where
 * `before` is given, the before-RL value of the same score. `k` names the accuracy (Avg@k); default: the largest k.
 */
export function scoreSeries(summary: Summary, methods: readonly string[], ks: readonly string[], before: BeforeRl | null, k?: string): ScoreSeries[] {
  const rows = methods.map((m) => summary.methods[m]);
  const avgK = k ?? passKs(summary).at(-1) ?? 'k';
  const out: ScoreSeries[] = [
    {
      name: `accuracy (Avg@${avgK})`,
      key: 'avg',
      values: rows.map((r) => toPercent(r.accuracy)),
      cis: rows.map((r) => toPercentCi(r.ci95)),
      before: before ? { value: toPercent(before.accuracy), ci: toPercentCi(before.ci95) } : null,
    },
  ];
  for (const kk of ks) {
    const b = before?.pass_at_k?.[kk];
    out.push({
      name: `Pass@${kk}`,
      key: kk,
      values: rows.map((r) => toPercent(r.pass_at_k?.[kk] ?? NaN)),
      cis: rows.map((r) => toPercentCi(r.pass_ci95?.[kk])),
      before: typeof b === 'number' ? { value: toPercent(b), ci: toPercentCi(before?.pass_ci95?.[kk]) } : null,
    });
  }
  return out;
}

/**
 * A dashed horizontal reference across the plot at `y`, drawn over the bars in a darker shade of `color` (so it shows
 * on a bar of that colour), with a light band for its CI behind the bars; in the legend as `name`.
 */
function referenceShapes(y: number, ci: [number, number] | null, color: string, name: string): Record<string, unknown>[] {
  const shapes: Record<string, unknown>[] = [];
  if (ci)
    shapes.push({ type: 'rect', xref: 'paper', x0: 0, x1: 1, y0: ci[0], y1: ci[1], fillcolor: withAlpha(color, 0.12), line: { width: 0 }, layer: 'below' });
  shapes.push({
    type: 'line',
    xref: 'paper',
    x0: 0,
    x1: 1,
    y0: y,
    y1: y,
    layer: 'above',
    line: { color: darker(color), width: 2.5, dash: 'dash' },
    showlegend: true,
    name,
    legendgroup: name,
  });
  return shapes;
}

/** An axis range [lo, hi] that holds every finite value given, with `pad` of the span added on each side. */
export function paddedRange(values: readonly (number | null | undefined)[], pad = 0.08): [number, number] | null {
  const v = values.filter((x): x is number => typeof x === 'number' && Number.isFinite(x));
  if (v.length === 0) return null;
  const lo = Math.min(...v);
  const hi = Math.max(...v);
  const span = hi > lo ? hi - lo : Math.max(1, Math.abs(hi));
  return [lo - pad * span, hi + pad * span];
}

/** '#rrggbb' at 55% of its brightness. */
function darker(hex: string): string {
  const v = Number.parseInt(hex.slice(1), 16);
  const c = [(v >> 16) & 255, (v >> 8) & 255, v & 255].map((x) =>
    Math.round(0.55 * x)
      .toString(16)
      .padStart(2, '0'),
  );
  return `#${c.join('')}`;
}

export interface AccuracyOptions {
  /** Methods and their order (default: summary order). */
  methods?: readonly string[];
  /** Which Pass@k to show next to the accuracy (default: all recorded k but 1, since Pass@1 equals the accuracy). */
  ks?: readonly string[];
  title?: string;
  /** The testbed and n, named under the title. */
  context?: FigureContext;
  /** The before-RL reference (default: the summary's `before_rl`; null: none). */
  beforeRl?: BeforeRl | null;
}

/**
 * Grouped bars (percent): x = methods, one bar series for the accuracy (Avg@k) and one per Pass@k, each with its 95%
 * CI, and for each series the before-RL value as a dashed line in its colour with its CI as a band.
 */
export function accuracyFigure(summary: Summary, options: AccuracyOptions = {}): Figure {
  const methods = methodNames(summary, options.methods);
  const ks = options.ks ? [...options.ks] : passKs(summary).filter((k) => k !== '1'); // Pass@1 is the accuracy itself
  const before = options.beforeRl === undefined ? beforeRlOf(summary) : options.beforeRl;
  const series = scoreSeries(summary, methods, ks, before);
  const data: PlotTrace[] = [];
  const shapes: Record<string, unknown>[] = [];
  series.forEach((s, i) => {
    const color = SERIES_COLORS[i % SERIES_COLORS.length];
    data.push({
      type: 'bar',
      name: s.name,
      x: methods,
      y: s.values.map(num),
      marker: { color },
      error_y: errorBars(s.values, s.cis),
      hovertemplate: `%{x}: %{y:.1f}%<extra>${s.name}</extra>`,
    });
    if (s.before) shapes.push(...referenceShapes(s.before.value, s.before.ci, color, `before RL: ${s.name} ${s.before.value.toFixed(1)}%`));
  });
  const title = titleText(
    options.title ?? `Held-out ${series.map((s) => s.name).join(' and ')} per method after RL`,
    contextLine(options.context),
    `95% CI: bootstrap over seeds, then problems${before ? '; dashed: before RL (the base model at τ = 1, same problems), band: its CI' : ''}`,
  );
  return {
    data,
    layout: baseLayout(title, {
      barmode: 'group',
      xaxis: axis('method', { showgrid: false }),
      width: 950,
      height: 540,
      shapes,
      yaxis: axis('score (%)', {
        range: [0, paddedRange([0, ...series.flatMap((x) => [...x.values, ...x.cis.map((c) => c?.[1]), x.before?.value, x.before?.ci?.[1]])], 0.05)![1]],
      }),
      margin: { l: 70, r: 30, t: titleMargin(title), b: 60 },
    }),
  };
}

/**
 * Runs on several benchmarks: x = each benchmark then "average" (the unweighted mean, the headline), one bar series
 * per method with its 95% CIs, in percent. Null when no method has per-benchmark results (synthetic tasks).
 */
export function benchmarkAccuracyFigure(
  summary: Summary,
  options: { methods?: readonly string[]; title?: string; context?: FigureContext } = {},
): Figure | null {
  const methods = methodNames(summary, options.methods).filter((m) => summary.methods[m].per_benchmark);
  if (methods.length === 0) return null;
  const sets = Object.keys(summary.methods[methods[0]].per_benchmark!);
  const x = [...sets, 'average'];
  const data: PlotTrace[] = methods.map((m) => {
    const r = summary.methods[m];
    const cells = [...sets.map((s) => r.per_benchmark![s] ?? { accuracy: NaN, ci95: null }), { accuracy: r.accuracy, ci95: r.ci95 }];
    const v = cells.map((c) => toPercent(c.accuracy));
    return {
      type: 'bar',
      name: m,
      x,
      y: v.map(num),
      marker: { color: methodColor(m) },
      error_y: errorBars(
        v,
        cells.map((c) => toPercentCi(c.ci95 as [number, number] | null)),
      ),
      hovertemplate: `%{x}: %{y:.1f}%<extra>${m}</extra>`,
    };
  });
  const title = titleText(options.title ?? 'Accuracy (Avg@k) per benchmark and their unweighted mean (95% CI)', contextLine(options.context));
  return {
    data,
    layout: baseLayout(title, {
      barmode: 'group',
      xaxis: axis('benchmark', { showgrid: false }),
      yaxis: axis('accuracy, Avg@k (%)', { rangemode: 'tozero' }),
      width: 1000,
      height: 500,
      margin: { l: 70, r: 30, t: titleMargin(title), b: 60 },
    }),
  };
}

/**
 * Pass@k per method with its CIs (percent), and the before-RL model's as a grey series where there is one. With three
 * or more k: k on a log axis, one line per method (the "Pass@k curves against baselines" view). With fewer, a line
 * between two points would suggest a curve that was not measured: each k is a group of markers, one per method.
 */
export function passAtKCurveFigure(
  summary: Summary,
  options: { methods?: readonly string[]; title?: string; context?: FigureContext; beforeRl?: BeforeRl | null } = {},
): Figure {
  const methods = methodNames(summary, options.methods);
  const ks = passKs(summary);
  const curve = ks.length >= 3;
  const before = options.beforeRl === undefined ? beforeRlOf(summary) : options.beforeRl;
  const x = curve ? ks.map(Number) : ks.map((k) => (k === '1' ? 'Pass@1 (= Avg@k, the accuracy)' : `Pass@${k}`));
  const rows: { name: string; color: string; pass?: Record<string, number>; ci?: Record<string, [number, number]>; symbol: string }[] = methods.map((m) => ({
    name: m,
    color: methodColor(m),
    pass: summary.methods[m].pass_at_k,
    ci: summary.methods[m].pass_ci95,
    symbol: 'circle',
  }));
  if (before?.pass_at_k)
    rows.push({ name: 'before RL (base model, τ = 1)', color: BEFORE_RL_COLOR, pass: before.pass_at_k, ci: before.pass_ci95, symbol: 'diamond-open' });
  const data: PlotTrace[] = rows.map((r) => {
    const v = ks.map((k) => toPercent(r.pass?.[k] ?? NaN));
    return {
      type: 'scatter',
      mode: curve ? 'lines+markers' : 'markers',
      name: r.name,
      x,
      y: v.map(num),
      line: { color: r.color },
      marker: { color: r.color, size: 9, symbol: r.symbol, line: { width: r.symbol.endsWith('open') ? 2 : 0, color: r.color } },
      error_y: errorBars(
        v,
        ks.map((k) => toPercentCi(r.ci?.[k])),
      ),
      hovertemplate: `${r.name}: %{y:.1f}%<extra></extra>`,
    };
  });
  const title = titleText(
    options.title ?? 'Pass@k per method (95% CI)',
    contextLine(options.context),
    curve ? '' : `only k = ${ks.join(' and ')} were measured: markers, no curve`,
  );
  return {
    data,
    layout: baseLayout(title, {
      xaxis: curve ? axis('k', { type: 'log', tickvals: ks.map(Number) }) : axis('', { showgrid: false }),
      yaxis: axis('Pass@k (%)', { rangemode: 'tozero' }),
      width: 850,
      height: 520,
      margin: { l: 70, r: 30, t: titleMargin(title), b: 60 },
      ...(curve ? {} : { scattermode: 'group', scattergap: 0.35 }),
    }),
  };
}

/** One bar of the ablation figure: a variant's accuracy (percent) and its paired difference to the default (points). */
export interface AblationDeltaRow {
  variant: string;
  isDefault: boolean;
  /** Avg@k in percent. */
  accuracy: number;
  /** Variant minus default in points, with its paired 95% CI; 0 and null for the default itself, null where not recorded. */
  delta: number | null;
  ci: [number, number] | null;
  /** Smallest difference detectable at 80% power, in points (null where not recorded). */
  mde80: number | null;
}

/**
 * The ablation figure's data: each row of the table in order, the default's Δ = 0, every other variant's `vs_default`
 * (fractions in the table) in points. Throws when the table names no default or the default is not one of its rows.
 */
export function ablationDeltaRows(table: AblationTable): AblationDeltaRow[] {
  const def = table.default_variant;
  if (!def) throw new KitError(`ablation table '${table.grid}': no default_variant to take differences against`);
  if (!table.rows.some((r) => r.variant === def))
    throw new KitError(`ablation table '${table.grid}': the default '${def}' is not one of its rows (${table.rows.map((r) => r.variant).join(', ')})`);
  return table.rows.map((r) => {
    const isDefault = r.variant === def;
    const d = r.vs_default;
    return {
      variant: r.variant,
      isDefault,
      accuracy: toPercent(r.accuracy),
      delta: isDefault ? 0 : d ? toPercent(d.diff) : null,
      ci: isDefault ? null : toPercentCi(d?.ci95),
      mde80: !isDefault && d ? toPercent(d.mde80) : null,
    };
  });
}

/** A signed number of points with one decimal: +1.2, −0.4 (a true minus sign). */
export function signedPointsText(x: number): string {
  return `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(1)}`;
}

export interface AblationFigureOptions {
  /** Absolute bars only (no default): which Pass@k to add (default all recorded but 1). */
  ks?: readonly string[];
  title?: string;
  context?: FigureContext;
  /** The before-RL model's Avg@k minus the default's (a fraction, e.g. −summary.vs_before_rl[default].diff): a dashed line. */
  beforeRlDelta?: number | null;
  /** The k of Avg@k, for the labels (default: the largest recorded k). */
  k?: string;
}

/**
 * Ablation bars. With a default variant and its paired differences (table.json's `default_variant` and `vs_default`):
 * x = variants in table order (each with its Avg@k under the name), bars = variant minus the default in points with the
 * paired 95% CI, the default marked at 0, and the before-RL model as a dashed line where given. Without a default
 * (older folders): each variant's accuracy and Pass@k in percent, with their CIs.
 */
export function ablationFigure(table: AblationTable, options: AblationFigureOptions = {}): Figure {
  if (!table || !Array.isArray(table.rows)) throw new KitError('ablation table: expected {grid, rows: [...]}');
  const recordedKs = [...new Set(table.rows.flatMap((r) => Object.keys(r.pass_at_k ?? {})))].sort((a, b) => Number(a) - Number(b));
  const k = options.k ?? recordedKs.at(-1) ?? 'k';
  const hasDelta = !!table.default_variant && table.rows.some((r) => r.variant === table.default_variant) && table.rows.some((r) => r.vs_default);
  if (!hasDelta) return ablationAbsoluteFigure(table, recordedKs, k, options);
  const rows = ablationDeltaRows(table);
  const deltaText = (r: AblationDeltaRow) =>
    r.isDefault
      ? 'the default'
      : r.delta === null
        ? 'Δ not paired'
        : `Δ ${signedPointsText(r.delta)}${r.ci ? ` [${signedPointsText(r.ci[0])}, ${signedPointsText(r.ci[1])}]` : ''}`;
  const labels = rows.map((r) => `${r.isDefault ? `<b>${r.variant}</b>` : r.variant}<br>Avg@${k} ${r.accuracy.toFixed(1)}%<br>${deltaText(r)}`);
  const others = rows.filter((r) => !r.isDefault);
  const color = (r: AblationDeltaRow) => (r.ci && r.ci[0] > 0 ? '#2ca02c' : r.ci && r.ci[1] < 0 ? '#d62728' : '#4c72b0');
  const data: PlotTrace[] = [
    {
      type: 'bar',
      name: `variant − default (Avg@${k} points, paired 95% CI)`,
      x: others.map((r) => labels[rows.indexOf(r)]),
      y: others.map((r) => num(r.delta)),
      marker: { color: others.map(color) },
      error_y: errorBars(
        others.map((r) => r.delta ?? NaN),
        others.map((r) => r.ci),
      ),
      showlegend: false, // colours: the subtitle
      customdata: others.map((r) => r.mde80),
      hovertemplate: '%{x}<br>Δ %{y:.1f} points<br>detectable at 80% power: %{customdata:.1f}<extra></extra>',
    },
  ];
  const def = rows.find((r) => r.isDefault)!;
  data.push({
    type: 'scatter',
    mode: 'markers',
    name: `the default (${def.variant}): Δ = 0 by definition`,
    x: [labels[rows.indexOf(def)]],
    y: [0],
    marker: { symbol: 'diamond', size: 14, color: '#222' },
    hoverinfo: 'skip',
  });
  const shapes: Record<string, unknown>[] = [];
  const b = options.beforeRlDelta;
  if (typeof b === 'number' && Number.isFinite(b)) {
    const name = `before RL (base model, τ = 1): ${signedPointsText(toPercent(b))} vs the default`;
    shapes.push(
      ...referenceShapes(toPercent(b), null, BEFORE_RL_COLOR, name).map((x) => ({
        ...x,
        label: { text: 'before RL', textposition: 'end', yanchor: 'bottom', font: { size: 12, color: '#333' } },
      })),
    );
  }
  const title = titleText(
    options.title ?? `Ablation '${table.grid}': each variant's Avg@${k} minus the default's (${def.variant})`,
    contextLine(options.context),
    'paired over seeds and problems, 95% CI; green: CI above 0, red: below 0, blue: includes 0',
  );
  return {
    data,
    layout: baseLayout(title, {
      xaxis: axis('', { showgrid: false, categoryorder: 'array', categoryarray: labels }),
      yaxis: axis(`Δ Avg@${k} vs the default (points)`, {
        zeroline: true,
        zerolinewidth: 2,
        zerolinecolor: '#444',
        range: paddedRange([0, ...rows.flatMap((r) => [r.delta, r.ci?.[0], r.ci?.[1]]), typeof b === 'number' ? toPercent(b) : null]),
      }),
      width: Math.max(760, 180 + 190 * rows.length),
      height: 580,
      shapes,
      showlegend: true,
      legend: { orientation: 'h', x: 0, y: -0.3 },
      margin: { l: 70, r: 30, t: titleMargin(title), b: 150 },
    }),
  };
}

/** The ablation figure of a table without paired differences: accuracy and Pass@k per variant in percent. */
function ablationAbsoluteFigure(table: AblationTable, recordedKs: string[], k: string, options: AblationFigureOptions): Figure {
  const variants = table.rows.map((r) => r.variant);
  const acc = table.rows.map((r) => toPercent(r.accuracy));
  const ks = options.ks ? [...options.ks] : recordedKs.filter((x) => x !== '1');
  const data: PlotTrace[] = [
    {
      type: 'bar',
      name: `accuracy (Avg@${k})`,
      x: variants,
      y: acc.map(num),
      marker: { color: SERIES_COLORS[0] },
      error_y: errorBars(
        acc,
        table.rows.map((r) => toPercentCi(r.ci95)),
      ),
      hovertemplate: '%{x}: %{y:.1f}%<extra></extra>',
    },
  ];
  ks.forEach((kk, i) => {
    const v = table.rows.map((r) => toPercent(r.pass_at_k?.[kk] ?? NaN));
    data.push({
      type: 'bar',
      name: `Pass@${kk}`,
      x: variants,
      y: v.map(num),
      hovertemplate: '%{x}: %{y:.1f}%<extra></extra>',
      marker: { color: SERIES_COLORS[(i + 1) % SERIES_COLORS.length] },
      error_y: errorBars(
        v,
        table.rows.map((r) => toPercentCi(r.pass_ci95?.[kk])),
      ),
    });
  });
  const title = titleText(
    options.title ?? `Ablation '${table.grid}' (95% CIs)`,
    contextLine(options.context),
    'no default variant among these runs: absolute scores, not paired differences',
  );
  return {
    data,
    layout: baseLayout(title, {
      barmode: 'group',
      xaxis: axis('variant', { showgrid: false }),
      yaxis: axis('score (%)', { rangemode: 'tozero' }),
      width: 800,
      height: 500,
      margin: { l: 70, r: 30, t: titleMargin(title), b: 60 },
    }),
  };
}

/** One point of a fixed-τ sweep (summary methods named fixed-<τ>), in percent. */
export interface TauSweepPoint {
  method: string;
  tau: number;
  accuracy: number;
  ci: [number, number] | null;
  pass: number | null;
  passCi: [number, number] | null;
}

/** The fixed-τ methods of a sweep's summary (labels 'fixed-<τ>'), sorted by τ, in percent with Pass@`k` (default: the largest k). */
export function tauSweepPoints(summary: Summary, k?: string): TauSweepPoint[] {
  const kk =
    k ??
    passKs(summary)
      .filter((x) => x !== '1')
      .at(-1);
  return Object.entries(summary.methods)
    .flatMap(([method, m]) => {
      const hit = /^fixed-(\d+(?:\.\d+)?)$/.exec(method);
      if (!hit) return [];
      const pass = kk !== undefined ? m.pass_at_k?.[kk] : undefined;
      return [
        {
          method,
          tau: Number(hit[1]),
          accuracy: toPercent(m.accuracy),
          ci: toPercentCi(m.ci95),
          pass: typeof pass === 'number' ? toPercent(pass) : null,
          passCi: kk !== undefined ? toPercentCi(m.pass_ci95?.[kk]) : null,
        },
      ];
    })
    .sort((a, b) => a.tau - b.tau);
}

/**
 * A fixed-τ sweep of a model without RL (`introllm eval --methods fixed-0.2,…`): Avg@k and Pass@k against τ with 95%
 * CIs, joined by lines when there are three or more τ (a measured curve), the best τ by Avg@k marked.
 */
export function tauSweepFigure(summary: Summary, options: { title?: string; context?: FigureContext; k?: string } = {}): Figure {
  const pts = tauSweepPoints(summary, options.k);
  if (pts.length === 0) throw new KitError(`τ sweep: no fixed-<τ> methods in the summary (methods: ${Object.keys(summary.methods).join(', ')})`);
  const k =
    options.k ??
    passKs(summary)
      .filter((x) => x !== '1')
      .at(-1);
  const mode = pts.length >= 3 ? 'lines+markers' : 'markers';
  const x = pts.map((p) => p.tau);
  const avgName = `accuracy (Avg@${options.context?.k ?? k ?? 'k'})`;
  const data: PlotTrace[] = [
    {
      type: 'scatter',
      mode,
      name: avgName,
      x,
      y: pts.map((p) => num(p.accuracy)),
      line: { color: SERIES_COLORS[0], width: 2 },
      marker: { size: 8, color: SERIES_COLORS[0] },
      error_y: errorBars(
        pts.map((p) => p.accuracy),
        pts.map((p) => p.ci),
      ),
      hovertemplate: 'τ = %{x}: %{y:.1f}%<extra>Avg</extra>',
    },
  ];
  if (k !== undefined && pts.some((p) => p.pass !== null)) {
    data.push({
      type: 'scatter',
      mode,
      name: `Pass@${k}`,
      x,
      y: pts.map((p) => num(p.pass)),
      line: { color: SERIES_COLORS[1], width: 2 },
      marker: { size: 8, color: SERIES_COLORS[1] },
      error_y: errorBars(
        pts.map((p) => p.pass ?? NaN),
        pts.map((p) => p.passCi),
      ),
      hovertemplate: `τ = %{x}: %{y:.1f}%<extra>Pass@${k}</extra>`,
    });
  }
  const best = pts.reduce((a, b) => (b.accuracy > a.accuracy ? b : a));
  const title = titleText(
    options.title ?? 'Fixed-τ sweep of the base model (no RL)',
    contextLine(options.context),
    `95% CI: bootstrap over seeds, then problems; best Avg: τ = ${best.tau} (${best.accuracy.toFixed(1)}%)`,
  );
  return {
    data,
    layout: baseLayout(title, {
      xaxis: axis('sampling temperature τ (the same at every token)', { tickvals: x }),
      yaxis: axis('score (%)', { rangemode: 'tozero' }),
      width: 850,
      height: 520,
      margin: { l: 70, r: 30, t: titleMargin(title), b: 60 },
      shapes: [{ type: 'line', xref: 'x', yref: 'paper', x0: best.tau, x1: best.tau, y0: 0, y1: 1, line: { color: '#999', width: 1, dash: 'dot' } }],
    }),
  };
}
