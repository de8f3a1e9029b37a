// Final-accuracy figures (paper: "the learned temperature policy beats fixed and heuristic baselines"; Avg@k and
// Pass@k tables; the ablations of gate, head, τ range, schedule, head input and group size). Bars carry asymmetric
// 95% CI error bars taken from the data (bootstrap over problems, as summary.json records them); a bar whose CI was
// not recorded gets a zero-length whisker, and a series with no CI at all gets none.
import { KitError } from '../errors';
import { axis, baseLayout, methodColor, num } from './style';
import type { AblationTable, Figure, PlotTrace, Summary } from './types';

const SERIES_COLORS = ['#4c72b0', '#dd8452', '#55a868', '#c44e52', '#8172b3', '#937860'];

/** Plotly error bars for values with [lo, hi] intervals (null interval: no whisker). */
export function errorBars(values: readonly number[], cis: readonly ([number, number] | null | undefined)[]): Record<string, unknown> {
  const has = cis.some((c) => Array.isArray(c));
  return {
    type: 'data', symmetric: false, visible: has, thickness: 1.5, width: 4,
    array: values.map((v, i) => { const c = cis[i]; return c ? num(c[1] - v) ?? 0 : 0; }),
    arrayminus: values.map((v, i) => { const c = cis[i]; return c ? num(v - c[0]) ?? 0 : 0; }),
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

export interface AccuracyOptions {
  /** Methods and their order (default: summary order). */
  methods?: readonly string[];
  /** Which Pass@k to show next to the accuracy (default: all recorded k but 1, since Pass@1 equals the accuracy). */
  ks?: readonly string[];
  title?: string;
}

/**
 * Grouped bars: x = methods, one bar series for the accuracy (Avg@k) and one per Pass@k, each with its 95% CI.
 */
export function accuracyFigure(summary: Summary, options: AccuracyOptions = {}): Figure {
  const methods = methodNames(summary, options.methods);
  const ks = options.ks ? [...options.ks] : passKs(summary).filter((k) => k !== '1'); // Pass@1 is the accuracy itself
  const rows = methods.map((m) => summary.methods[m]);
  const acc = rows.map((r) => r.accuracy);
  const data: PlotTrace[] = [{
    type: 'bar', name: 'accuracy (Avg@k)', x: methods, y: acc.map(num), marker: { color: SERIES_COLORS[0] },
    error_y: errorBars(acc, rows.map((r) => r.ci95)), hovertemplate: '%{x}: %{y:.4f}<extra>accuracy</extra>',
  }];
  ks.forEach((k, i) => {
    const v = rows.map((r) => r.pass_at_k?.[k] ?? NaN);
    data.push({
      type: 'bar', name: `Pass@${k}`, x: methods, y: v.map(num), marker: { color: SERIES_COLORS[(i + 1) % SERIES_COLORS.length] },
      error_y: errorBars(v, rows.map((r) => r.pass_ci95?.[k])), hovertemplate: `%{x}: %{y:.4f}<extra>Pass@${k}</extra>`,
    });
  });
  return {
    data,
    layout: baseLayout(options.title ?? 'Final accuracy and Pass@k per method (95% bootstrap CI over problems)', {
      barmode: 'group', xaxis: axis('method', { showgrid: false }), yaxis: axis('score', { rangemode: 'tozero' }), width: 900, height: 500,
    }),
  };
}

/**
 * Runs on several benchmarks: x = each benchmark then "average" (the unweighted mean, the headline), one bar series
 * per method with its 95% CIs. Null when no method has per-benchmark results (synthetic tasks).
 */
export function benchmarkAccuracyFigure(summary: Summary, options: { methods?: readonly string[]; title?: string } = {}): Figure | null {
  const methods = methodNames(summary, options.methods).filter((m) => summary.methods[m].per_benchmark);
  if (methods.length === 0) return null;
  const sets = Object.keys(summary.methods[methods[0]].per_benchmark!);
  const x = [...sets, 'average'];
  const data: PlotTrace[] = methods.map((m) => {
    const r = summary.methods[m];
    const cells = [...sets.map((s) => r.per_benchmark![s] ?? { accuracy: NaN, ci95: null }), { accuracy: r.accuracy, ci95: r.ci95 }];
    const v = cells.map((c) => c.accuracy);
    return {
      type: 'bar', name: m, x, y: v.map(num), marker: { color: methodColor(m) },
      error_y: errorBars(v, cells.map((c) => c.ci95 as [number, number] | null)), hovertemplate: `%{x}: %{y:.4f}<extra>${m}</extra>`,
    };
  });
  return {
    data,
    layout: baseLayout(options.title ?? 'Accuracy (Avg@k) per benchmark and their unweighted mean (95% CI)', {
      barmode: 'group', xaxis: axis('benchmark', { showgrid: false }), yaxis: axis('accuracy (Avg@k)', { rangemode: 'tozero' }), width: 1000, height: 500,
    }),
  };
}

/** Pass@k against k, one line per method with its CIs (where recorded): the "Pass@k curves against baselines" view. */
export function passAtKCurveFigure(summary: Summary, options: { methods?: readonly string[]; title?: string } = {}): Figure {
  const methods = methodNames(summary, options.methods);
  const ks = passKs(summary);
  const data: PlotTrace[] = methods.map((m) => {
    const r = summary.methods[m];
    const v = ks.map((k) => r.pass_at_k?.[k] ?? NaN);
    return {
      type: 'scatter', mode: 'lines+markers', name: m, x: ks.map(Number), y: v.map(num), line: { color: methodColor(m) },
      error_y: errorBars(v, ks.map((k) => r.pass_ci95?.[k])),
    };
  });
  return {
    data,
    layout: baseLayout(options.title ?? 'Pass@k per method', {
      xaxis: axis('k', { type: 'log', tickvals: ks.map(Number) }), yaxis: axis('Pass@k', { rangemode: 'tozero' }), width: 800, height: 500,
    }),
  };
}

/**
 * Ablation bars: x = variants in table order, accuracy and each Pass@k (k > 1 by default: Pass@1 equals the accuracy)
 * with their CIs where the table has them.
 */
export function ablationFigure(table: AblationTable, options: { ks?: readonly string[]; title?: string } = {}): Figure {
  if (!table || !Array.isArray(table.rows)) throw new KitError('ablation table: expected {grid, rows: [...]}');
  const variants = table.rows.map((r) => r.variant);
  const acc = table.rows.map((r) => r.accuracy);
  const ks = options.ks ? [...options.ks]
    : [...new Set(table.rows.flatMap((r) => Object.keys(r.pass_at_k ?? {})))].filter((k) => k !== '1').sort((a, b) => Number(a) - Number(b));
  const data: PlotTrace[] = [{
    type: 'bar', name: 'accuracy', x: variants, y: acc.map(num), marker: { color: SERIES_COLORS[0] },
    error_y: errorBars(acc, table.rows.map((r) => r.ci95)),
  }];
  ks.forEach((k, i) => {
    const v = table.rows.map((r) => r.pass_at_k?.[k] ?? NaN);
    data.push({
      type: 'bar', name: `Pass@${k}`, x: variants, y: v.map(num),
      marker: { color: SERIES_COLORS[(i + 1) % SERIES_COLORS.length] }, error_y: errorBars(v, table.rows.map((r) => r.pass_ci95?.[k])),
    });
  });
  return {
    data,
    layout: baseLayout(options.title ?? `Ablation: ${table.grid} (accuracy with 95% CI)`, {
      barmode: 'group', xaxis: axis('variant', { showgrid: false }), yaxis: axis('score', { rangemode: 'tozero' }), width: 800, height: 480,
    }),
  };
}
