// summary.json of a reproduction: per method, accuracy (Avg@k) and Pass@k averaged over seeds, with 95% CIs from a
// two-level bootstrap (resample seeds, then held-out problems within each drawn seed), so that both the seed-to-seed
// variation of RL and the finite test set are in the interval. With several evaluation benchmarks (the `paper`
// preset) the headline is the paper's "average" column, the unweighted mean over benchmarks, and the bootstrap
// resamples problems within each benchmark; `per_benchmark` has each benchmark's own numbers.
import { EvalResult } from '../eval/evaluate';
import { passAtKEstimate, quantileSorted } from '../eval/metrics';
import { KitError } from '../errors';
import { Rng } from '../rng';
import { mean } from '../stats';

export interface SeedEval {
  seed: number;
  eval: Pick<EvalResult, 'problems' | 'tauMean' | 'gateRate' | 'entropyMean' | 'meanLength'>;
}

export interface MethodSummary {
  accuracy: number;
  ci95: [number, number];
  pass_at_k: Record<string, number>;
  pass_ci95: Record<string, [number, number]>;
  seeds: number[];
  per_seed: { seed: number; accuracy: number; pass_at_k: Record<string, number> }[];
  tau_mean: number;
  gate_rate: number;
  entropy_mean: number;
  length_mean: number;
  /** Runs evaluated on named benchmarks: each benchmark's accuracy and Pass@k with the same two-level CIs. */
  per_benchmark?: Record<
    string,
    { accuracy: number; ci95: [number, number]; pass_at_k: Record<string, number>; pass_ci95: Record<string, [number, number]>; problems: number }
  >;
}

type SetProblems = SeedEval['eval']['problems'];

function score(p: { correct: boolean[] }, k: number | null): number {
  const c = p.correct.filter(Boolean).length;
  return k === null ? c / p.correct.length : passAtKEstimate(p.correct.length, c, k);
}

/** The evaluation sets of a seed in order of appearance ('' for problems without a set), and their problems. */
function bySet(e: SeedEval): Map<string, SetProblems> {
  const out = new Map<string, SetProblems>();
  for (const p of e.eval.problems) {
    const key = p.set ?? '';
    if (!out.has(key)) out.set(key, []);
    out.get(key)!.push(p);
  }
  return out;
}

/**
 * scores[seed][set][problem]: the mean over seeds of the unweighted mean over sets of the mean over problems, and its
 * 95% interval from a bootstrap that resamples seeds, then problems within each set of each drawn seed.
 */
export function stratifiedSeedProblemBootstrap(scores: number[][][], rng: Rng, resamples = 2000): { value: number; ci: [number, number] } {
  const value = mean(scores.map((seed) => mean(seed.map(mean))));
  const stats: number[] = [];
  for (let r = 0; r < resamples; r++) {
    let s = 0;
    for (let i = 0; i < scores.length; i++) {
      const seed = scores[rng.int(scores.length)];
      let setSum = 0;
      for (const set of seed) {
        let m = 0;
        for (let j = 0; j < set.length; j++) m += set[rng.int(set.length)];
        setSum += m / set.length;
      }
      s += setSum / seed.length;
    }
    stats.push(s / scores.length);
  }
  stats.sort((a, b) => a - b);
  return { value, ci: [quantileSorted(stats, 0.025), quantileSorted(stats, 0.975)] };
}

/** Mean over seeds of the mean over problems, and its two-level bootstrap 95% interval (one set per seed). */
export function seedProblemBootstrap(scores: number[][], rng: Rng, resamples = 2000): { value: number; ci: [number, number] } {
  return stratifiedSeedProblemBootstrap(
    scores.map((seed) => [seed]),
    rng,
    resamples,
  );
}

/** Accuracy and Pass@k over `sets` (per seed: each set's problems), with two-level CIs. */
function scoreSets(seeds: SetProblems[][], ks: number[], rng: Rng) {
  const table = (k: number | null) => seeds.map((sets) => sets.map((ps) => ps.map((p) => score(p, k))));
  const acc = stratifiedSeedProblemBootstrap(table(null), rng.fork('avg'));
  const pass: Record<string, number> = {};
  const passCi: Record<string, [number, number]> = {};
  for (const k of ks) {
    const b = stratifiedSeedProblemBootstrap(table(k), rng.fork(`pass${k}`));
    pass[String(k)] = b.value;
    passCi[String(k)] = b.ci;
  }
  return { accuracy: acc.value, ci95: acc.ci, pass_at_k: pass, pass_ci95: passCi };
}

export function summariseMethod(evals: SeedEval[], ks: number[], rng: Rng): MethodSummary {
  const grouped = evals.map(bySet);
  const sets = [...grouped[0].keys()];
  // seeds[i][j]: the problems of set j in seed i; every seed must have every set.
  const seeds = grouped.map((g, i) =>
    sets.map((name) => {
      const ps = g.get(name);
      if (!ps?.length)
        throw new KitError(`seed ${evals[i].seed}: evaluation set '${name}' is missing; every seed of a method must be evaluated on the same sets`);
      return ps;
    }),
  );
  const all = scoreSets(seeds, ks, rng);
  const named = sets.length > 1 || sets[0] !== '';
  const perBenchmark = named
    ? Object.fromEntries(
        sets.map((name, j) => [
          name,
          {
            ...scoreSets(
              seeds.map((s) => [s[j]]),
              ks,
              rng.fork(`set:${name}`),
            ),
            problems: seeds[0][j].length,
          },
        ]),
      )
    : undefined;
  const perSeed = (sets: SetProblems[], k: number | null) => mean(sets.map((ps) => mean(ps.map((p) => score(p, k)))));
  return {
    accuracy: all.accuracy,
    ci95: all.ci95,
    pass_at_k: all.pass_at_k,
    pass_ci95: all.pass_ci95,
    seeds: evals.map((e) => e.seed),
    per_seed: evals.map((e, i) => ({
      seed: e.seed,
      accuracy: perSeed(seeds[i], null),
      pass_at_k: Object.fromEntries(ks.map((k) => [String(k), perSeed(seeds[i], k)])),
    })),
    tau_mean: mean(evals.map((e) => e.eval.tauMean)),
    gate_rate: mean(evals.map((e) => e.eval.gateRate)),
    entropy_mean: mean(evals.map((e) => e.eval.entropyMean)),
    length_mean: mean(evals.map((e) => e.eval.meanLength)),
    ...(perBenchmark ? { per_benchmark: perBenchmark } : {}),
  };
}

/** The k of Pass@k a summary reports for k samples per problem: 1 and k. */
export function reportedKs(k: number): number[] {
  return k === 1 ? [1] : [1, k];
}

/** θ updates, φ updates and rollouts (rows generated) of one run (src/rl/schedule.ts, runBudget). */
export interface RunBudget {
  theta_updates: number;
  phi_updates: number;
  rollouts: number;
}

/** The comparison table printed at the end of a reproduction (Markdown); with `budget`, each method's θ updates, φ
 *  updates and rollouts per run. */
export function summaryTable(methods: Record<string, MethodSummary>, k: number, budget?: Record<string, RunBudget>): string {
  const pct = (x: number) => (100 * x).toFixed(1);
  const b = budget && Object.keys(budget).length > 0 ? budget : null;
  const lines = [
    `| method | accuracy (Avg@${k}) % | 95% CI | Pass@${k} % | 95% CI | mean τ | gate rate |${b ? ' θ updates | φ updates | rollouts |' : ''} seeds |`,
    `| --- | ---: | --- | ---: | --- | ---: | ---: |${b ? ' ---: | ---: | ---: |' : ''} --- |`,
  ];
  for (const [name, m] of Object.entries(methods)) {
    const pk = m.pass_at_k[String(k)];
    const pc = m.pass_ci95[String(k)];
    const r = b?.[name];
    const budgetCells = b ? (r ? ` ${r.theta_updates} | ${r.phi_updates} | ${r.rollouts} |` : ' – | – | – |') : '';
    lines.push(
      `| ${name} | ${pct(m.accuracy)} | [${pct(m.ci95[0])}, ${pct(m.ci95[1])}] | ${pct(pk)} | [${pct(pc[0])}, ${pct(pc[1])}] | ${m.tau_mean.toFixed(3)} | ${Number.isFinite(m.gate_rate) ? m.gate_rate.toFixed(3) : '–'} |${budgetCells} ${m.seeds.join(', ')} |`,
    );
  }
  return lines.join('\n');
}

/** Runs on several benchmarks: accuracy (Avg@k) per method and benchmark, with the macro average (Markdown). */
export function benchmarkTable(methods: Record<string, MethodSummary>, k: number): string | null {
  const withSets = Object.entries(methods).filter(([, m]) => m.per_benchmark);
  if (withSets.length === 0) return null;
  const sets = Object.keys(withSets[0][1].per_benchmark!);
  const cell = (x: { accuracy: number; ci95: [number, number] }) =>
    `${(100 * x.accuracy).toFixed(1)} [${(100 * x.ci95[0]).toFixed(1)}, ${(100 * x.ci95[1]).toFixed(1)}]`;
  const lines = [`| method (Avg@${k} %, 95% CI) | ${sets.join(' | ')} | average |`, `| --- |${sets.map(() => ' ---: |').join('')} ---: |`];
  for (const [name, m] of withSets)
    lines.push(`| ${name} | ${sets.map((s) => (m.per_benchmark![s] ? cell(m.per_benchmark![s]) : '–')).join(' | ')} | ${cell(m)} |`);
  return lines.join('\n');
}

/** What a comparison prints and writes to table.md: the method table, then the per-benchmark table when there is one. */
export function comparisonTables(methods: Record<string, MethodSummary>, k: number, budget?: Record<string, RunBudget>): string {
  const perBenchmark = benchmarkTable(methods, k);
  return perBenchmark ? `${summaryTable(methods, k, budget)}\n\n${perBenchmark}` : summaryTable(methods, k, budget);
}

/**
 * This run's accuracy next to a reference run's (e.g. the committed results/<preset>), per method present in both:
 * a Markdown table with each side's Avg@k and 95% CI and whether this run's accuracy falls inside the reference's CI.
 * Methods in only one of the two are listed as such.
 */
export function compareWithReference(
  mine: Record<string, MethodSummary>,
  reference: Record<string, MethodSummary>,
  refName: string,
): { table: string; inside: Record<string, boolean> } {
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  const ci = (c: [number, number]) => `[${pct(c[0])}, ${pct(c[1])}]`;
  const inside: Record<string, boolean> = {};
  const rows = ['| method | this run | 95% CI | reference | reference 95% CI | inside the reference CI |', '| --- | ---: | --- | ---: | --- | --- |'];
  for (const m of [...new Set([...Object.keys(mine), ...Object.keys(reference)])]) {
    const a = mine[m];
    const r = reference[m];
    if (a && r) {
      inside[m] = a.accuracy >= r.ci95[0] && a.accuracy <= r.ci95[1];
      rows.push(`| ${m} | ${pct(a.accuracy)} | ${ci(a.ci95)} | ${pct(r.accuracy)} | ${ci(r.ci95)} | ${inside[m] ? 'yes' : '**no**'} |`);
    } else {
      rows.push(
        a
          ? `| ${m} | ${pct(a.accuracy)} | ${ci(a.ci95)} | – | – | not in ${refName} |`
          : `| ${m} | – | – | ${pct(r.accuracy)} | ${ci(r.ci95)} | not run here |`,
      );
    }
  }
  return { table: rows.join('\n'), inside };
}

/** A difference of accuracies (fractions) as signed percentage points with one decimal, e.g. +1.6 or -0.4. */
export function signedPoints(x: number): string {
  return `${x >= 0 ? '+' : ''}${(100 * x).toFixed(1)}`;
}

/** A paired difference of two methods' accuracy (Avg@k), with its 95% CI. */
export interface PairedDifference {
  diff: number;
  ci95: [number, number];
  /** The smallest true difference this comparison would detect with 80% power at the 5% level: (1.96 + 0.84) · SE,
   *  with SE = the CI's width / (2 · 1.96) (normal approximation of the bootstrap). */
  mde80: number;
  /** Problems paired (per set, summed), and the seeds both sides have. */
  problems: number;
  seeds: number[];
}

/**
 * accuracy(a) − accuracy(b) on the same held-out problems, paired: for each seed both have, each problem's Avg@k
 * difference; the CI is the two-level bootstrap of the accuracies (seeds, then problems within each evaluation set;
 * with several sets the difference is their unweighted mean, as the headline accuracy is). Problem difficulty, shared
 * by both sides, drops out of the interval, so it is narrower than the two methods' CIs side by side; the variation
 * between training seeds stays in it.
 */
export function pairedDifference(a: SeedEval[], b: SeedEval[], rng: Rng, resamples = 2000): PairedDifference {
  const seeds = a
    .map((e) => e.seed)
    .filter((s) => b.some((e) => e.seed === s))
    .sort((x, y) => x - y);
  if (seeds.length === 0) throw new KitError('paired difference: the two methods share no seed');
  const perSeed = (evals: SeedEval[], s: number) => new Map(evals.find((e) => e.seed === s)!.eval.problems.map((p) => [`${p.set ?? ''}\u0000${p.id}`, p]));
  const keys = [...perSeed(a, seeds[0]).keys()];
  const table = seeds.map((s) => {
    const pa = perSeed(a, s);
    const pb = perSeed(b, s);
    const sets = new Map<string, number[]>();
    for (const key of keys) {
      const x = pa.get(key);
      const y = pb.get(key);
      if (!x || !y)
        throw new KitError(
          `paired difference: problem '${key.split('\u0000')[1]}' is missing from seed ${s} of one side; both must be evaluated on the same problems`,
        );
      const set = key.split('\u0000')[0];
      if (!sets.has(set)) sets.set(set, []);
      sets.get(set)!.push(score(x, null) - score(y, null));
    }
    return [...sets.values()];
  });
  const boot = stratifiedSeedProblemBootstrap(table, rng, resamples);
  const se = (boot.ci[1] - boot.ci[0]) / (2 * 1.96);
  return { diff: boot.value, ci95: boot.ci, mde80: (1.96 + 0.84) * se, problems: keys.length, seeds };
}
