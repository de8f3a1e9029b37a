// Temperature against uncertainty and against token type (paper, interpretability: the learned policy "explores
// where reasoning is uncertain"; high τ at uncertain pivots, low τ for arithmetic and the final answer).
//   tauEntropyFigure: τ_t against the token entropy H_t, one point per token, coloured by method or by whether the
//     completion was correct, plus the mean τ in equal-width entropy bins (shared bins across groups);
//   tauByClassFigure: τ per token class (src/plots/token-class.ts) per method, as box plots of all tokens or as bars
//     of the mean with its bootstrap CI over problems (src/plots/interpret.ts).
import { KitError } from '../errors';
import { errorBars } from './accuracy';
import { tauByClass, type BootstrapOptions } from './interpret';
import { binnedMeans } from './stats';
import { axis, baseLayout, methodColor, num, withAlpha } from './style';
import { classifyTokens, TOKEN_CLASSES, type TokenClass } from './token-class';
import type { Figure, MethodTraces, PlotTrace, TokenTrace } from './types';

export interface TauEntropyOptions {
  /** 'method' (default): one colour per method; 'correctness': correct vs wrong completions (per method if several). */
  colorBy?: 'method' | 'correctness';
  /** Equal-width entropy bins for the mean curve (default 10; 0 = no curve). */
  bins?: number;
  /** At most this many points per group are drawn, by an even stride over the tokens (default 4000). */
  maxPoints?: number;
  title?: string;
}

interface Group { label: string; color: string; x: number[]; y: number[] }

function groupsOf(input: readonly MethodTraces[], colorBy: 'method' | 'correctness'): Group[] {
  const groups: Group[] = [];
  const add = (label: string, color: string, traces: readonly TokenTrace[]) => {
    const g: Group = { label, color, x: [], y: [] };
    for (const t of traces) {
      for (let k = 0; k < t.text.length; k++) {
        if (Number.isFinite(t.entropy[k]) && Number.isFinite(t.tau[k])) { g.x.push(t.entropy[k]); g.y.push(t.tau[k]); }
      }
    }
    if (g.x.length > 0) groups.push(g);
  };
  for (const m of input) {
    if (colorBy === 'method') { add(m.method, methodColor(m.method), m.traces); continue; }
    const prefix = input.length > 1 ? `${m.method}, ` : '';
    add(`${prefix}correct`, input.length > 1 ? methodColor(m.method) : '#2ca02c', m.traces.filter((t) => t.correct));
    add(`${prefix}wrong`, input.length > 1 ? withAlpha(methodColor(m.method), 0.45) : '#d62728', m.traces.filter((t) => !t.correct));
  }
  return groups;
}

/** Every `stride`-th element, stride = ceil(n / max): deterministic thinning of dense scatters. */
export function thin<T>(xs: readonly T[], max: number): T[] {
  const stride = Math.max(1, Math.ceil(xs.length / max));
  return stride === 1 ? [...xs] : xs.filter((_, i) => i % stride === 0);
}

/** Scatter of (H_t, τ_t) per group, then one binned-mean line per group; see TauEntropyOptions. */
export function tauEntropyFigure(input: readonly MethodTraces[], options: TauEntropyOptions = {}): Figure {
  const colorBy = options.colorBy ?? 'method';
  const bins = options.bins ?? 10;
  const maxPoints = options.maxPoints ?? 4000;
  if (!Number.isInteger(maxPoints) || maxPoints < 1) throw new KitError(`maxPoints must be a positive integer, got ${maxPoints}`);
  const groups = groupsOf(input, colorBy);
  const data: PlotTrace[] = [];
  for (const g of groups) {
    data.push({
      type: 'scatter', mode: 'markers', name: g.label, legendgroup: g.label, x: thin(g.x, maxPoints), y: thin(g.y, maxPoints),
      marker: { color: g.color, size: 4, opacity: 0.35 }, hovertemplate: `${g.label}<br>H=%{x:.3f} τ=%{y:.3f}<extra></extra>`,
    });
  }
  if (bins > 0 && groups.length > 0) {
    const all = groups.flatMap((g) => g.x);
    const range: [number, number] = [Math.min(...all), Math.max(...all)];
    for (const g of groups) {
      const b = binnedMeans(g.x, g.y, bins, range);
      data.push({
        type: 'scatter', mode: 'lines+markers', name: `${g.label}: mean τ per entropy bin`, legendgroup: g.label, x: b.center, y: b.mean,
        customdata: b.count, line: { color: g.color, width: 3 }, marker: { size: 7 },
        hovertemplate: `${g.label}<br>bin centre H=%{x:.3f}<br>mean τ=%{y:.3f} over %{customdata} tokens<extra></extra>`,
      });
    }
  }
  return {
    data,
    layout: baseLayout(options.title ?? 'Temperature τ_t against token entropy H_t', {
      xaxis: axis('token entropy H_t (nats)'), yaxis: axis('τ_t'), width: 850, height: 560, hovermode: 'closest',
    }),
  };
}

export interface TauByClassOptions extends BootstrapOptions {
  /** 'box' (default): distribution of τ over all tokens of a class; 'bar': mean τ with a bootstrap 95% CI. */
  kind?: 'box' | 'bar';
  title?: string;
}

/** τ per token class, one trace per method (classes in TOKEN_CLASSES order, only classes that occur). */
export function tauByClassFigure(input: readonly MethodTraces[], options: TauByClassOptions = {}): Figure {
  const kind = options.kind ?? 'box';
  const perMethod = input.map((m) => {
    const cls: TokenClass[] = [];
    const tau: number[] = [];
    for (const t of m.traces) {
      classifyTokens(t.text).forEach((c, k) => { if (Number.isFinite(t.tau[k])) { cls.push(c); tau.push(t.tau[k]); } });
    }
    return { method: m.method, cls, tau };
  });
  const present = TOKEN_CLASSES.filter((c) => perMethod.some((m) => m.cls.includes(c)));
  const data: PlotTrace[] = perMethod.map((m, i) => {
    const color = methodColor(m.method);
    if (kind === 'box') {
      return { type: 'box', name: m.method, x: m.cls, y: m.tau, marker: { color }, boxpoints: false, boxmean: true };
    }
    const stats = tauByClass(input[i].traces, options);
    const mean = present.map((c) => stats[c].value);
    return {
      type: 'bar', name: m.method, x: [...present], y: mean.map(num), marker: { color }, customdata: present.map((c) => stats[c].count),
      error_y: errorBars(mean, present.map((c) => (Number.isFinite(stats[c].lo) ? [stats[c].lo, stats[c].hi] as [number, number] : null))),
      hovertemplate: `${m.method}<br>%{x}: mean τ %{y:.3f} over %{customdata} tokens<extra></extra>`,
    };
  });
  return {
    data,
    layout: baseLayout(options.title ?? (kind === 'box' ? 'τ by token class' : 'Mean τ by token class (95% bootstrap CI over problems)'), {
      [kind === 'box' ? 'boxmode' : 'barmode']: 'group',
      xaxis: axis('token class', { showgrid: false, categoryorder: 'array', categoryarray: present }),
      yaxis: axis('τ_t'), width: 850, height: 500,
    }),
  };
}
