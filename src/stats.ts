// The one arithmetic mean the kit uses everywhere (metrics, summaries, training logs, figures), so that every number
// in a results file is averaged the same way.

/** Arithmetic mean, summed left to right; NaN for an empty list. */
export function mean(xs: ArrayLike<number>): number {
  if (xs.length === 0) return NaN;
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i];
  return s / xs.length;
}
