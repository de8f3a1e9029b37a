// Evaluation metrics over k sampled completions per problem, as the paper reports them (Avg@8, Pass@8):
// Avg@k (mean per-problem accuracy), the unbiased Pass@k estimator of Chen et al. 2021 (arXiv 2107.03374),
// pass@k = 1 − C(n−c, k) / C(n, k) for c correct out of n ≥ k samples, majority vote @k, and percentile-bootstrap 95%
// confidence intervals that resample problems (not samples) with a seeded RNG.
import { KitError } from '../errors';
import { mean } from '../stats';
import type { Rng } from '../rng';

/** Per-problem results: `correct[p][s]` is whether sample s of problem p was correct. */
export type CorrectTable = readonly (readonly boolean[])[];

export interface Interval {
  value: number;
  lo: number;
  hi: number;
}

function checkTable(correct: CorrectTable, what: string): void {
  if (!Array.isArray(correct) || correct.length === 0) throw new KitError(`${what}: need at least one problem`);
  correct.forEach((row, p) => {
    if (!Array.isArray(row) || row.length === 0) throw new KitError(`${what}: problem ${p} has no samples`);
  });
}

/**
 * The unbiased estimate of the probability that at least one of k samples (drawn without replacement from the n
 * generated) is correct, given c correct: 1 − Π_{i=n−c+1}^{n} (1 − k/i), the numerically stable form of
 * 1 − C(n−c, k)/C(n, k). Requires integers 0 ≤ c ≤ n and 1 ≤ k ≤ n.
 */
export function passAtKEstimate(n: number, c: number, k: number): number {
  if (![n, c, k].every(Number.isInteger) || c < 0 || c > n || k < 1 || k > n) {
    throw new KitError(`pass@k: need integers 0 <= c <= n and 1 <= k <= n, got n=${n}, c=${c}, k=${k}`);
  }
  if (n - c < k) return 1;
  let prodFail = 1;
  for (let i = n - c + 1; i <= n; i++) prodFail *= 1 - k / i;
  return 1 - prodFail;
}

/** Avg@k: the mean over problems of the fraction of that problem's samples that are correct. */
export function avgAtK(correct: CorrectTable): number {
  checkTable(correct, 'avg@k');
  return mean(correct.map((row) => row.filter(Boolean).length / row.length));
}

/** Pass@k: the mean over problems of passAtKEstimate(n_p, c_p, k); every problem needs at least k samples. */
export function passAtK(correct: CorrectTable, k: number): number {
  checkTable(correct, 'pass@k');
  return mean(
    correct.map((row, p) => {
      if (row.length < k) throw new KitError(`pass@k: problem ${p} has ${row.length} samples, fewer than k=${k}`);
      return passAtKEstimate(row.length, row.filter(Boolean).length, k);
    }),
  );
}

/**
 * Majority vote for one problem: the most frequent non-null answer key wins (ties go to the key seen first);
 * correct when a sample with that key is correct. `keys[s]` is a canonical form of sample s's answer (e.g.
 * canonicalAnswer), null when no answer was extracted.
 */
export function majorityVote(keys: readonly (string | null)[], correct: readonly boolean[]): { answer: string | null; correct: boolean } {
  if (keys.length !== correct.length) throw new KitError(`majority@k: ${keys.length} answers but ${correct.length} correctness flags`);
  const counts = new Map<string, number>();
  for (const k of keys) if (k !== null) counts.set(k, (counts.get(k) ?? 0) + 1);
  let best: string | null = null;
  let bestCount = 0;
  for (const [k, c] of counts)
    if (c > bestCount) {
      best = k;
      bestCount = c;
    } // Map keeps first-seen order
  if (best === null) return { answer: null, correct: false };
  const idx = keys.indexOf(best);
  return { answer: best, correct: correct[idx] };
}

/** Majority@k over problems: the fraction of problems whose majority answer is correct. */
export function majorityAtK(keys: readonly (readonly (string | null)[])[], correct: CorrectTable): number {
  checkTable(correct, 'majority@k');
  if (keys.length !== correct.length) throw new KitError(`majority@k: answers for ${keys.length} problems but correctness for ${correct.length}`);
  return mean(correct.map((row, p) => (majorityVote(keys[p], row).correct ? 1 : 0)));
}

/** The q-quantile (0..1) of sorted values, by linear interpolation between order statistics. */
export function quantileSorted(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) throw new KitError('quantile of an empty list');
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/**
 * Percentile bootstrap over problems: `perProblem[p]` is problem p's score (its accuracy, pass@k estimate or
 * majority correctness); the metric is their mean. Resamples problems with replacement `resamples` times with `rng`
 * and returns the mean and the (1−level)/2 and (1+level)/2 quantiles of the resampled means.
 */
export function bootstrapMeanCI(perProblem: readonly number[], rng: Rng, resamples = 1000, level = 0.95): Interval {
  if (perProblem.length === 0) throw new KitError('bootstrap: need at least one problem');
  if (!Number.isInteger(resamples) || resamples < 1) throw new KitError(`bootstrap: resamples must be a positive integer, got ${resamples}`);
  if (!(level > 0 && level < 1)) throw new KitError(`bootstrap: level must be in (0, 1), got ${level}`);
  const n = perProblem.length;
  const means = new Array<number>(resamples);
  for (let b = 0; b < resamples; b++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += perProblem[rng.int(n)];
    means[b] = s / n;
  }
  means.sort((a, b) => a - b);
  return { value: mean(perProblem), lo: quantileSorted(means, (1 - level) / 2), hi: quantileSorted(means, (1 + level) / 2) };
}

export interface MetricReport {
  problems: number;
  samplesPerProblem: number;
  avg: Interval;
  pass: Interval;
  majority?: Interval;
  k: number;
}

/**
 * Avg@k, Pass@k and (with answer keys) majority@k with bootstrap CIs; each metric uses its own forked RNG stream
 * so the intervals do not depend on which metrics were requested.
 */
export function evaluateSamples(correct: CorrectTable, k: number, rng: Rng, keys?: readonly (readonly (string | null)[])[], resamples = 1000): MetricReport {
  checkTable(correct, 'evaluate');
  const avgs = correct.map((row) => row.filter(Boolean).length / row.length);
  const passes = correct.map((row, p) => {
    if (row.length < k) throw new KitError(`pass@k: problem ${p} has ${row.length} samples, fewer than k=${k}`);
    return passAtKEstimate(row.length, row.filter(Boolean).length, k);
  });
  const report: MetricReport = {
    problems: correct.length,
    samplesPerProblem: Math.min(...correct.map((r) => r.length)),
    k,
    avg: bootstrapMeanCI(avgs, rng.fork('avg'), resamples),
    pass: bootstrapMeanCI(passes, rng.fork('pass'), resamples),
  };
  if (keys) {
    if (keys.length !== correct.length) throw new KitError(`majority@k: answers for ${keys.length} problems but correctness for ${correct.length}`);
    const votes = correct.map((row, p) => (majorityVote(keys[p], row).correct ? 1 : 0));
    report.majority = bootstrapMeanCI(votes, rng.fork('majority'), resamples);
  }
  return report;
}

/**
 * Paired bootstrap over problems of mean(a) − mean(b), where a[p] and b[p] are two methods' scores on the same problem
 * p: the percentile bootstrap of the per-problem differences (resampling problems, as bootstrapMeanCI does), so
 * problem difficulty, shared by both methods, drops out of the interval.
 */
export function pairedDiffCI(a: readonly number[], b: readonly number[], rng: Rng, resamples = 1000, level = 0.95): Interval {
  if (a.length !== b.length)
    throw new KitError(`paired bootstrap: the two methods have ${a.length} and ${b.length} problems; they must be scored on the same problems`);
  return bootstrapMeanCI(
    a.map((x, p) => x - b[p]),
    rng,
    resamples,
    level,
  );
}
