// Temperature against uncertainty and against token type (paper, interpretability: the learned policy "explores
// where reasoning is uncertain"; high τ at uncertain pivots, low τ for arithmetic and the final answer).
//   tauEntropyFigure: the mean τ_t in entropy bins that each hold about a tenth of the tokens (most tokens of a
//     confident model sit at H ≈ 0, where a scatter of every token is one overplotted column), with a bootstrap 95% CI
//     over problems per bin, on a log entropy axis, and each group's Spearman ρ (with its CI) in the legend and the
//     learned policy's in the title;
//   tauByClassFigure: τ per token class (src/plots/token-class.ts) per method, as bars of the mean with its bootstrap CI
//     over problems or as box plots, each class labelled with its token count and classes with too few tokens left out.
// Methods whose τ never changes (fixed τ) have nothing to show in either view and are named under the title instead.
import { KitError } from '../errors';
import { errorBars } from './accuracy';
import { FigureContext, testbedLabel } from './context';
import {
  quantileEdges,
  tauByClass,
  tauByEntropyBin,
  tauEntropyCorrelation,
  type BootstrapOptions,
  type ClassStat,
  type EntropyBinStat,
  type Estimate,
  type TauEntropyCorrelation,
} from './interpret';
import { axis, baseLayout, methodColor, num, titleMargin, titleText, withAlpha } from './style';
import { classifyTokens, TOKEN_CLASSES, type TokenClass } from './token-class';
import type { Figure, MethodTraces, PlotTrace, TokenTrace } from './types';

/** Whether every finite τ of the traces is the same value (a fixed-τ method): nothing to plot against H or class. */
export function constantTau(traces: readonly TokenTrace[]): boolean {
  let first: number | null = null;
  for (const t of traces) {
    for (const v of t.tau) {
      if (!Number.isFinite(v)) continue;
      if (first === null) first = v;
      else if (Math.abs(v - first) > 1e-9) return false;
    }
  }
  return true;
}

/** "ρ = −0.07 [−0.12, −0.02]" (a true minus sign), or "ρ undefined" when the estimate is NaN. */
export function rhoText(e: Estimate, symbol = 'ρ'): string {
  if (!Number.isFinite(e.value)) return `${symbol} undefined`;
  const f = (x: number) => `${x < 0 ? '−' : ''}${Math.abs(x).toFixed(2)}`;
  return Number.isFinite(e.lo) ? `${symbol} = ${f(e.value)} [${f(e.lo)}, ${f(e.hi)}]` : `${symbol} = ${f(e.value)}`;
}

/** "48 completions, 1 698 tokens" for one group, or the range over several: "48 completions, 1 650–1 770 tokens". */
export function traceCountText(groups: readonly { traces: readonly TokenTrace[] }[]): string {
  if (groups.length === 0) return '';
  const fmt = (n: number) => n.toLocaleString('en-US').replace(/,/g, ' ');
  const range = (xs: number[]) => (Math.min(...xs) === Math.max(...xs) ? fmt(xs[0]) : `${fmt(Math.min(...xs))}–${fmt(Math.max(...xs))}`);
  const completions = groups.map((g) => g.traces.length);
  const tokens = groups.map((g) => g.traces.reduce((s, t) => s + t.text.length, 0));
  return `${range(completions)} completions, ${range(tokens)} tokens`;
}

export interface TauEntropyOptions extends BootstrapOptions {
  /** 'method' (default): one line per method; 'correctness': correct vs wrong completions (per method if several). */
  colorBy?: 'method' | 'correctness';
  /** Entropy bins, each holding about the same share of the pooled tokens (default 10). */
  bins?: number;
  title?: string;
  /** The testbed (named under the title; n is counted from the traces). */
  context?: FigureContext;
  /** Each group's τ–entropy correlation, when already computed (summary.json's `interpretability`); else computed here. */
  correlations?: Record<string, TauEntropyCorrelation>;
}

interface Group {
  label: string;
  method: string;
  color: string;
  traces: readonly TokenTrace[];
}

function groupsOf(input: readonly MethodTraces[], colorBy: 'method' | 'correctness'): Group[] {
  const groups: Group[] = [];
  for (const m of input) {
    if (colorBy === 'method') {
      groups.push({ label: m.method, method: m.method, color: methodColor(m.method), traces: m.traces });
      continue;
    }
    const prefix = input.length > 1 ? `${m.method}, ` : '';
    groups.push({
      label: `${prefix}correct`,
      method: m.method,
      color: input.length > 1 ? methodColor(m.method) : '#2ca02c',
      traces: m.traces.filter((t) => t.correct),
    });
    groups.push({
      label: `${prefix}wrong`,
      method: m.method,
      color: input.length > 1 ? withAlpha(methodColor(m.method), 0.55) : '#d62728',
      traces: m.traces.filter((t) => !t.correct),
    });
  }
  return groups.filter((g) => g.traces.some((t) => t.text.length > 0));
}

/** The finite entropies of tokens whose τ is finite, over all groups (what the bins are cut from). */
function pooledEntropies(groups: readonly Group[]): number[] {
  const out: number[] = [];
  for (const g of groups)
    for (const t of g.traces)
      t.entropy.forEach((h, k) => {
        if (Number.isFinite(h) && Number.isFinite(t.tau[k])) out.push(h);
      });
  return out;
}

/** Each group's mean τ per shared entropy bin (quantile bins of the pooled entropies), and the edges. */
export function tauEntropyBins(
  groups: readonly { label: string; traces: readonly TokenTrace[] }[],
  bins: number,
  options: BootstrapOptions = {},
): { edges: number[]; perGroup: { label: string; bins: EntropyBinStat[] }[] } {
  const edges = quantileEdges(pooledEntropies(groups as Group[]), bins);
  return { edges, perGroup: groups.map((g) => ({ label: g.label, bins: tauByEntropyBin(g.traces, edges, options) })) };
}

/**
 * Mean τ_t per entropy bin for each group, with 95% CI whiskers over problems, at each bin's mean entropy on a log
 * axis; groups whose τ is constant are left out and named. See the file comment.
 */
export function tauEntropyFigure(input: readonly MethodTraces[], options: TauEntropyOptions = {}): Figure {
  const colorBy = options.colorBy ?? 'method';
  const bins = options.bins ?? 10;
  if (!Number.isInteger(bins) || bins < 1) throw new KitError(`bins must be a positive integer, got ${bins}`);
  const all = groupsOf(input, colorBy);
  const constant = all.filter((g) => constantTau(g.traces));
  const groups = all.filter((g) => !constantTau(g.traces));
  const { edges, perGroup } = tauEntropyBins(groups, bins, options);
  const corr = (g: Group) => options.correlations?.[g.label] ?? tauEntropyCorrelation(g.traces, options);
  const rho = new Map(groups.map((g) => [g.label, corr(g)]));
  const data: PlotTrace[] = groups.map((g, i) => {
    const b = perGroup[i].bins.filter((s) => s.count > 0);
    const y = b.map((s) => s.value);
    return {
      type: 'scatter',
      mode: 'lines+markers',
      name: `${g.label} (Spearman ${rhoText(rho.get(g.label)!.spearman)})`,
      x: b.map((s) => Math.max(s.entropyMean, 1e-6)),
      y: y.map(num),
      line: { color: g.color, width: 2 },
      marker: { color: g.color, size: 7 },
      error_y: {
        ...errorBars(
          y,
          b.map((s) => (Number.isFinite(s.lo) ? ([s.lo, s.hi] as [number, number]) : null)),
        ),
        color: g.color,
      },
      customdata: b.map((s) => [s.from, s.to, s.count, s.problems]),
      hovertemplate: `${g.label}<br>H in [%{customdata[0]:.3g}, %{customdata[1]:.3g}] nats, mean %{x:.3g}<br>mean τ %{y:.3f} over %{customdata[2]} tokens of %{customdata[3]} problems<extra></extra>`,
    };
  });
  const learned = groups.find((g) => g.method === 'introllm' && colorBy === 'method') ?? (groups.length === 1 ? groups[0] : undefined);
  const head = learned ? `: ${learned.label} Spearman ${rhoText(rho.get(learned.label)!.spearman)}` : '';
  const n = traceCountText(groups);
  const title = titleText(
    options.title ?? `τ_t against token entropy H_t${head}`,
    [testbedLabel(options.context ?? {}), n ? `evaluation traces: ${n}${groups.length > 1 ? ' per method' : ''}` : ''].filter(Boolean).join(' · '),
    `mean τ in ${Math.max(0, edges.length - 1)} entropy bins of about equal token counts, 95% CI and Spearman ρ's CI over problems`,
    constant.length ? `not shown (τ constant): ${constant.map((g) => g.label).join(', ')}` : '',
  );
  return {
    data,
    layout: baseLayout(title, {
      xaxis: axis("token entropy H_t (nats, log scale; each point at its bin's mean)", { type: 'log' }),
      yaxis: axis('mean τ_t'),
      width: 950,
      height: 600,
      hovermode: 'closest',
      legend: { orientation: 'h', x: 0, y: -0.18 },
      margin: { l: 70, r: 30, t: titleMargin(title), b: 140 },
    }),
  };
}

export interface TauByClassOptions extends BootstrapOptions {
  /** 'box': distribution of τ over the tokens of a class; 'bar' (default): mean τ with a bootstrap 95% CI over problems. */
  kind?: 'box' | 'bar';
  /** A method's class with fewer tokens than this is not drawn (default 100); a class no method reaches is left out. */
  minTokens?: number;
  title?: string;
  /** The testbed (named under the title; n is counted from the traces). */
  context?: FigureContext;
}

/** Which classes a τ-by-class figure shows, with each class's axis label and the (method, class) pairs it leaves out. */
export interface ClassSelection {
  classes: TokenClass[];
  /** "digit<br>n = 812" (one method, or the same count for all) or "digit<br>n = 780–812" (the shown methods' range). */
  labels: string[];
  /** Per method: the classes it draws (count ≥ minTokens). */
  shown: Record<string, TokenClass[]>;
  /** Classes with tokens that no method draws, with their largest count. */
  omitted: { cls: TokenClass; count: number }[];
}

/** The selection of a τ-by-class figure from each method's token count per class (see ClassSelection). */
export function selectClasses(counts: readonly { method: string; count: Partial<Record<TokenClass, number>> }[], minTokens: number): ClassSelection {
  const shown: Record<string, TokenClass[]> = {};
  for (const m of counts) shown[m.method] = TOKEN_CLASSES.filter((c) => (m.count[c] ?? 0) >= minTokens && (m.count[c] ?? 0) > 0);
  const classes = TOKEN_CLASSES.filter((c) => counts.some((m) => shown[m.method].includes(c)));
  const fmt = (n: number) => n.toLocaleString('en-US').replace(/,/g, ' ');
  const labels = classes.map((c) => {
    const ns = counts.filter((m) => shown[m.method].includes(c)).map((m) => m.count[c] ?? 0);
    const lo = Math.min(...ns);
    const hi = Math.max(...ns);
    return `${c}<br>n = ${lo === hi ? fmt(lo) : `${fmt(lo)}–${fmt(hi)}`}`;
  });
  const omitted = TOKEN_CLASSES.filter((c) => !classes.includes(c) && counts.some((m) => (m.count[c] ?? 0) > 0)).map((c) => ({
    cls: c,
    count: Math.max(...counts.map((m) => m.count[c] ?? 0)),
  }));
  return { classes, labels, shown, omitted };
}

/** τ per token class, one trace per method whose τ varies (classes in TOKEN_CLASSES order; see TauByClassOptions). */
export function tauByClassFigure(input: readonly MethodTraces[], options: TauByClassOptions = {}): Figure {
  const kind = options.kind ?? 'bar';
  const minTokens = options.minTokens ?? 100;
  const constant = input.filter((m) => constantTau(m.traces) && m.traces.length > 0);
  const methods = input.filter((m) => !constantTau(m.traces));
  const perMethod = methods.map((m) => {
    const cls: TokenClass[] = [];
    const tau: number[] = [];
    for (const t of m.traces) {
      classifyTokens(t.text).forEach((c, k) => {
        if (Number.isFinite(t.tau[k])) {
          cls.push(c);
          tau.push(t.tau[k]);
        }
      });
    }
    const count: Partial<Record<TokenClass, number>> = {};
    for (const c of cls) count[c] = (count[c] ?? 0) + 1;
    return { method: m.method, cls, tau, count };
  });
  const sel = selectClasses(perMethod, minTokens);
  const labelOf = new Map(sel.classes.map((c, i) => [c, sel.labels[i]]));
  const data: PlotTrace[] = perMethod.map((m, i) => {
    const color = methodColor(m.method);
    const keep = sel.shown[m.method];
    if (kind === 'box') {
      const idx = m.cls.map((c, k) => (keep.includes(c) ? k : -1)).filter((k) => k >= 0);
      return {
        type: 'box',
        name: m.method,
        x: idx.map((k) => labelOf.get(m.cls[k])!),
        y: idx.map((k) => m.tau[k]),
        marker: { color },
        boxpoints: false,
        boxmean: true,
      };
    }
    const stats: Record<TokenClass, ClassStat> = tauByClass(methods[i].traces, options);
    const mean = sel.classes.map((c) => (keep.includes(c) ? stats[c].value : NaN));
    return {
      type: 'bar',
      name: m.method,
      x: sel.labels,
      y: mean.map(num),
      marker: { color },
      customdata: sel.classes.map((c) => [stats[c].count, stats[c].problems]),
      error_y: errorBars(
        mean,
        sel.classes.map((c) => (keep.includes(c) && Number.isFinite(stats[c].lo) ? ([stats[c].lo, stats[c].hi] as [number, number]) : null)),
      ),
      hovertemplate: `${m.method}<br>%{x}<br>mean τ %{y:.3f} over %{customdata[0]} tokens of %{customdata[1]} problems<extra></extra>`,
    };
  });
  const n = traceCountText(methods);
  const title = titleText(
    options.title ?? (kind === 'box' ? 'τ by token class' : 'Mean τ by token class (95% CI over problems)'),
    [testbedLabel(options.context ?? {}), n ? `evaluation traces: ${n}${methods.length > 1 ? ' per method' : ''}` : ''].filter(Boolean).join(' · '),
    `bars with fewer than ${minTokens} tokens are not drawn${sel.omitted.length ? `; classes left out: ${sel.omitted.map((o) => `${o.cls} (at most ${o.count})`).join(', ')}` : ''}`,
    constant.length ? `not shown (τ constant): ${constant.map((m) => m.method).join(', ')}` : '',
  );
  return {
    data,
    layout: baseLayout(title, {
      [kind === 'box' ? 'boxmode' : 'barmode']: 'group',
      xaxis: axis(`token class (n: its tokens in the traces${methods.length > 1 ? ', range over methods' : ''})`, {
        showgrid: false,
        categoryorder: 'array',
        categoryarray: sel.labels,
      }),
      yaxis: axis(kind === 'box' ? 'τ_t' : 'mean τ_t'),
      width: 950,
      height: 540,
      margin: { l: 70, r: 30, t: titleMargin(title), b: 90 },
    }),
  };
}
