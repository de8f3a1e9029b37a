// Numbers behind the interpretability claims (paper: the learned temperature "explores where reasoning is
// uncertain": high τ at uncertain pivots, low τ for arithmetic and the final answer). Two summaries of evaluation
// token traces, each with a percentile-bootstrap 95% CI that resamples problems (all tokens of a problem move
// together, because tokens within a completion are not independent):
//   tauEntropyCorrelation: Pearson and Spearman r between τ_t and the token entropy H_t over all pooled tokens;
//   tauByClass: mean τ per token class (src/plots/token-class.ts) with token and problem counts.
// Traces with the same problemId count as one problem. Tokens whose τ or H is not finite are left out. A bootstrap
// resample whose statistic is undefined (e.g. τ constant) is dropped; `resamplesUsed` says how many remained.
import { KitError } from '../errors';
import { quantileSorted } from '../eval/metrics';
import { Rng } from '../rng';
import { argsort, pearson, spearman } from './stats';
import { classifyTokens, TOKEN_CLASSES, type TokenClass } from './token-class';
import type { TokenTrace } from './types';

export interface BootstrapOptions {
  /** Bootstrap resamples (default 1000). */
  resamples?: number;
  /** Seed of the kit's Rng used for resampling (default 0). */
  seed?: number;
  /** Confidence level (default 0.95). */
  level?: number;
}

/** A statistic with its percentile-bootstrap interval; NaN where undefined (no data, or a constant variable). */
export interface Estimate {
  value: number;
  lo: number;
  hi: number;
  resamplesUsed: number;
}

export interface TauEntropyCorrelation {
  tokens: number;
  problems: number;
  pearson: Estimate;
  spearman: Estimate;
}

export interface ClassStat extends Estimate {
  /** Tokens of this class over all problems. */
  count: number;
  /** Problems with at least one token of this class. */
  problems: number;
}

function opts(o: BootstrapOptions): Required<BootstrapOptions> {
  const r = { resamples: o.resamples ?? 1000, seed: o.seed ?? 0, level: o.level ?? 0.95 };
  if (!Number.isInteger(r.resamples) || r.resamples < 1) throw new KitError(`bootstrap: resamples must be a positive integer, got ${r.resamples}`);
  if (!(r.level > 0 && r.level < 1)) throw new KitError(`bootstrap: level must be in (0, 1), got ${r.level}`);
  return r;
}

function checkTrace(t: TokenTrace, i: number): void {
  const n = t.text.length;
  if (t.tau.length !== n || t.entropy.length !== n || t.gate.length !== n) {
    throw new KitError(`trace ${i} (${t.problemId}): text has ${n} tokens but tau ${t.tau.length}, entropy ${t.entropy.length}, gate ${t.gate.length}`);
  }
}

/** Problem ids in order of first appearance, and for each trace the index of its problem. */
function problemIndex(traces: readonly TokenTrace[]): { ids: string[]; of: number[] } {
  const ids: string[] = [];
  const seen = new Map<string, number>();
  const of = traces.map((t) => {
    let k = seen.get(t.problemId);
    if (k === undefined) {
      k = ids.length;
      seen.set(t.problemId, k);
      ids.push(t.problemId);
    }
    return k;
  });
  return { ids, of };
}

/** How many times each of `n` problems is drawn in one resample with replacement. */
function drawCounts(rng: Rng, n: number): Int32Array {
  const c = new Int32Array(n);
  for (let i = 0; i < n; i++) c[rng.int(n)]++;
  return c;
}

function interval(value: number, stats: number[], level: number): Estimate {
  const ok = stats.filter((s) => Number.isFinite(s)).sort((a, b) => a - b);
  if (ok.length === 0 || !Number.isFinite(value)) return { value, lo: NaN, hi: NaN, resamplesUsed: ok.length };
  return { value, lo: quantileSorted(ok, (1 - level) / 2), hi: quantileSorted(ok, (1 + level) / 2), resamplesUsed: ok.length };
}

/**
 * Pearson and Spearman correlation between τ_t and H_t over all tokens of all traces, with bootstrap CIs over
 * problems. The same seed gives the same intervals.
 */
export function tauEntropyCorrelation(traces: readonly TokenTrace[], options: BootstrapOptions = {}): TauEntropyCorrelation {
  const o = opts(options);
  traces.forEach(checkTrace);
  const { ids, of } = problemIndex(traces);
  const tau: number[] = [];
  const ent: number[] = [];
  const prob: number[] = [];
  traces.forEach((t, i) => {
    for (let k = 0; k < t.text.length; k++) {
      if (!Number.isFinite(t.tau[k]) || !Number.isFinite(t.entropy[k])) continue;
      tau.push(t.tau[k]);
      ent.push(t.entropy[k]);
      prob.push(of[i]);
    }
  });
  const orders = { x: argsort(ent), y: argsort(tau) };
  const valueP = pearson(ent, tau);
  const valueS = spearman(ent, tau, undefined, orders);
  const rng = new Rng(o.seed);
  const ps: number[] = [];
  const ss: number[] = [];
  const w = new Float64Array(tau.length);
  if (ids.length > 0 && tau.length > 0) {
    for (let b = 0; b < o.resamples; b++) {
      const c = drawCounts(rng, ids.length);
      for (let k = 0; k < w.length; k++) w[k] = c[prob[k]];
      ps.push(pearson(ent, tau, w));
      ss.push(spearman(ent, tau, w, orders));
    }
  }
  return { tokens: tau.length, problems: ids.length, pearson: interval(valueP, ps, o.level), spearman: interval(valueS, ss, o.level) };
}

/**
 * Mean τ per token class over all tokens of all traces, with a bootstrap CI over problems, the token count and the
 * number of problems that have the class. Every class of TOKEN_CLASSES is present (NaN mean when it never occurs).
 */
export function tauByClass(traces: readonly TokenTrace[], options: BootstrapOptions = {}): Record<TokenClass, ClassStat> {
  return tauByClassWith(traces, TOKEN_CLASSES, classifyTokens, options);
}

/**
 * tauByClass with another classification: `classify` maps a trace's token texts to one class of `classes` each (e.g.
 * englishTokenClasses for real English). Same statistics and bootstrap.
 */
export function tauByClassWith<K extends string>(
  traces: readonly TokenTrace[],
  classes: readonly K[],
  classify: (tokens: readonly string[]) => K[],
  options: BootstrapOptions = {},
): Record<K, ClassStat> {
  const stats = groupedTauMeans(traces, classes.length, (t) => classify(t.text).map((c) => classes.indexOf(c)), options);
  const out = {} as Record<K, ClassStat>;
  classes.forEach((cls, j) => {
    out[cls] = stats[j];
  });
  return out;
}

/**
 * Mean τ per group of tokens, with a bootstrap CI over problems, token and problem counts: the core of tauByClass and
 * tauByEntropyBin. `assign` gives each token of a trace its group index in [0, groups) (-1: no group).
 */
function groupedTauMeans(traces: readonly TokenTrace[], groups: number, assign: (t: TokenTrace) => number[], options: BootstrapOptions): ClassStat[] {
  const o = opts(options);
  traces.forEach(checkTrace);
  const { ids, of } = problemIndex(traces);
  const C = groups;
  // Per problem and group: sum of τ and token count.
  const sum = new Float64Array(ids.length * C);
  const cnt = new Float64Array(ids.length * C);
  traces.forEach((t, i) => {
    assign(t).forEach((g, k) => {
      if (g < 0 || g >= C || !Number.isFinite(t.tau[k])) return;
      const j = of[i] * C + g;
      sum[j] += t.tau[k];
      cnt[j]++;
    });
  });
  const rng = new Rng(o.seed);
  const boot: number[][] = Array.from({ length: C }, () => []);
  if (ids.length > 0) {
    for (let b = 0; b < o.resamples; b++) {
      const c = drawCounts(rng, ids.length);
      for (let j = 0; j < C; j++) {
        let s = 0;
        let n = 0;
        for (let p = 0; p < ids.length; p++) {
          if (c[p] === 0) continue;
          s += c[p] * sum[p * C + j];
          n += c[p] * cnt[p * C + j];
        }
        boot[j].push(n > 0 ? s / n : NaN);
      }
    }
  }
  return Array.from({ length: C }, (_, j) => {
    let s = 0;
    let n = 0;
    let problems = 0;
    for (let p = 0; p < ids.length; p++) {
      s += sum[p * C + j];
      n += cnt[p * C + j];
      if (cnt[p * C + j] > 0) problems++;
    }
    return { ...interval(n > 0 ? s / n : NaN, boot[j], o.level), count: n, problems };
  });
}

/**
 * Edges of `bins` bins holding about equally many of `values` (their quantiles; the first edge is the minimum, the
 * last the maximum). Equal edges (many tied values) collapse, so fewer bins may come back; no values → [].
 */
export function quantileEdges(values: readonly number[], bins: number): number[] {
  if (!Number.isInteger(bins) || bins < 1) throw new KitError(`bins must be a positive integer, got ${bins}`);
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return [];
  const edges: number[] = [];
  for (let b = 0; b <= bins; b++) {
    const e = quantileSorted(sorted, b / bins);
    if (edges.length === 0 || e > edges[edges.length - 1]) edges.push(e);
  }
  return edges.length === 1 ? [edges[0], edges[0]] : edges;
}

/** The bin of `x` among `edges` (bin i is [edges[i], edges[i+1]), the last one closed), or -1 outside them. */
export function binOf(x: number, edges: readonly number[]): number {
  const last = edges.length - 1;
  if (last < 1 || !(x >= edges[0] && x <= edges[last])) return -1;
  let lo = 0;
  let hi = last;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (x >= edges[mid]) lo = mid;
    else hi = mid;
  }
  return lo;
}

export interface EntropyBinStat extends ClassStat {
  /** The bin's edges in nats and the mean entropy of its tokens (NaN when empty). */
  from: number;
  to: number;
  entropyMean: number;
}

/**
 * Mean τ in each entropy bin (`edges`, e.g. quantileEdges of the pooled entropies) with a bootstrap CI over problems,
 * the bin's token and problem counts and its tokens' mean entropy. Tokens whose τ or H is not finite are left out.
 */
export function tauByEntropyBin(traces: readonly TokenTrace[], edges: readonly number[], options: BootstrapOptions = {}): EntropyBinStat[] {
  const bins = Math.max(0, edges.length - 1);
  const assign = (t: TokenTrace) => t.entropy.map((h) => (Number.isFinite(h) ? binOf(h, edges) : -1));
  const stats = groupedTauMeans(traces, bins, assign, options);
  const hSum = new Float64Array(bins);
  const hCnt = new Float64Array(bins);
  for (const t of traces) {
    assign(t).forEach((b, k) => {
      if (b >= 0 && Number.isFinite(t.tau[k])) {
        hSum[b] += t.entropy[k];
        hCnt[b]++;
      }
    });
  }
  return stats.map((s, b) => ({ ...s, from: edges[b], to: edges[b + 1], entropyMean: hCnt[b] > 0 ? hSum[b] / hCnt[b] : NaN }));
}
