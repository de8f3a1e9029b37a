// Small statistics used by the figures and the interpretability numbers (paper: "its choices are interpretable"):
// seed aggregation for training curves (mean with a min–max or standard-error band), EMA smoothing, Pearson and
// Spearman correlation with integer multiplicities (so a bootstrap resample that draws a problem twice is computed
// exactly without copying its tokens), and equal-width binned means for the τ-vs-entropy curve.
import { KitError } from '../errors';
import { mean } from '../stats';

export { mean };

/** Sample standard deviation (n − 1 in the denominator); 0 for a single value, NaN for none. */
export function sampleStd(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  if (xs.length === 1) return 0;
  const m = mean(xs);
  let s = 0;
  for (const x of xs) s += (x - m) * (x - m);
  return Math.sqrt(s / (xs.length - 1));
}

/**
 * Exponential moving average with smoothing weight `w` in [0, 1) (TensorBoard's convention, no debiasing):
 * s_1 = x_1, s_t = w·s_{t−1} + (1 − w)·x_t. w = 0 returns the input unchanged.
 */
export function ema(xs: readonly number[], w: number): number[] {
  if (!(w >= 0 && w < 1)) throw new KitError(`smoothing weight must be in [0, 1), got ${w}`);
  const out: number[] = [];
  let s = 0;
  xs.forEach((x, i) => {
    s = i === 0 ? x : w * s + (1 - w) * x;
    out.push(s);
  });
  return out;
}

/**
 * Pearson correlation of paired values, each pair counted `weights[i]` times (default 1). NaN when fewer than two
 * pairs or when either variable is constant (the correlation is undefined, e.g. for a fixed-temperature policy).
 */
export function pearson(x: ArrayLike<number>, y: ArrayLike<number>, weights?: ArrayLike<number>): number {
  if (x.length !== y.length) throw new KitError(`pearson: ${x.length} x values but ${y.length} y values`);
  let n = 0;
  let sx = 0;
  let sy = 0;
  for (let i = 0; i < x.length; i++) {
    const w = weights ? weights[i] : 1;
    n += w;
    sx += w * x[i];
    sy += w * y[i];
  }
  if (n < 2) return NaN;
  const mx = sx / n;
  const my = sy / n;
  let sxx = 0;
  let syy = 0;
  let sxy = 0;
  for (let i = 0; i < x.length; i++) {
    const w = weights ? weights[i] : 1;
    if (w === 0) continue;
    const dx = x[i] - mx;
    const dy = y[i] - my;
    sxx += w * dx * dx;
    syy += w * dy * dy;
    sxy += w * dx * dy;
  }
  // Relative tolerance: values equal up to rounding count as constant.
  const tiny = (m: number) => 1e-24 * n * Math.max(1, m * m);
  if (sxx <= tiny(mx) || syy <= tiny(my)) return NaN;
  return Math.max(-1, Math.min(1, sxy / Math.sqrt(sxx * syy)));
}

/** Indices of `values` sorted ascending (stable). */
export function argsort(values: ArrayLike<number>): Int32Array {
  const idx = Int32Array.from({ length: values.length }, (_, i) => i);
  return idx.sort((a, b) => values[a] - values[b] || a - b);
}

/**
 * 1-based ranks with ties averaged, where value i occurs `weights[i]` times (default 1): a tie group that covers
 * positions C+1..C+W of the expanded list gets rank C + (W + 1)/2. `order` is argsort(values), passed in so a
 * bootstrap can sort once and rank many weightings.
 */
export function weightedRanks(values: ArrayLike<number>, weights?: ArrayLike<number>, order?: Int32Array): Float64Array {
  const ord = order ?? argsort(values);
  const ranks = new Float64Array(values.length);
  let before = 0;
  for (let a = 0; a < ord.length;) {
    let b = a;
    let w = 0;
    while (b < ord.length && values[ord[b]] === values[ord[a]]) {
      w += weights ? weights[ord[b]] : 1;
      b++;
    }
    const r = before + (w + 1) / 2;
    for (let k = a; k < b; k++) ranks[ord[k]] = r;
    before += w;
    a = b;
  }
  return ranks;
}

/** Spearman rank correlation (Pearson of tie-averaged ranks), pairs counted `weights[i]` times. */
export function spearman(x: ArrayLike<number>, y: ArrayLike<number>, weights?: ArrayLike<number>, orders?: { x: Int32Array; y: Int32Array }): number {
  if (x.length !== y.length) throw new KitError(`spearman: ${x.length} x values but ${y.length} y values`);
  return pearson(weightedRanks(x, weights, orders?.x), weightedRanks(y, weights, orders?.y), weights);
}

/**
 * Means of `y` in `bins` equal-width bins of `x` over [lo, hi] (default: the range of x; the last bin includes hi).
 * Returns only non-empty bins: their centers, mean y and counts.
 */
export function binnedMeans(
  x: readonly number[],
  y: readonly number[],
  bins: number,
  range?: [number, number],
): { center: number[]; mean: number[]; count: number[] } {
  if (!Number.isInteger(bins) || bins < 1) throw new KitError(`bins must be a positive integer, got ${bins}`);
  if (x.length !== y.length) throw new KitError(`binnedMeans: ${x.length} x values but ${y.length} y values`);
  const out = { center: [] as number[], mean: [] as number[], count: [] as number[] };
  if (x.length === 0) return out;
  const lo = range ? range[0] : Math.min(...x);
  const hi = range ? range[1] : Math.max(...x);
  const width = hi > lo ? (hi - lo) / bins : 1;
  const sum = new Array<number>(bins).fill(0);
  const cnt = new Array<number>(bins).fill(0);
  x.forEach((v, i) => {
    if (v < lo || v > hi) return;
    const b = Math.min(bins - 1, Math.floor((v - lo) / width));
    sum[b] += y[i];
    cnt[b]++;
  });
  for (let b = 0; b < bins; b++) {
    if (cnt[b] === 0) continue;
    out.center.push(hi > lo ? lo + (b + 0.5) * width : lo);
    out.mean.push(sum[b] / cnt[b]);
    out.count.push(cnt[b]);
  }
  return out;
}
