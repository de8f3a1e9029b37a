// summary.json of a reproduction: per method, accuracy (Avg@k) and Pass@k averaged over seeds, with 95% CIs from a
// two-level bootstrap (resample seeds, then held-out problems within each drawn seed), so that both the seed-to-seed
// variation of RL and the finite test set are in the interval.
import { EvalResult } from '../eval/evaluate';
import { passAtKEstimate, quantileSorted } from '../eval/metrics';
import { Rng } from '../rng';

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
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** Per-problem scores of one seed: avg@k (fraction correct) or the unbiased pass@k estimate. */
function perProblem(e: SeedEval, k: number | null): number[] {
  return e.eval.problems.map((p) => {
    const c = p.correct.filter(Boolean).length;
    return k === null ? c / p.correct.length : passAtKEstimate(p.correct.length, c, k);
  });
}

/** Mean over seeds of the mean over problems, and its two-level bootstrap 95% interval. */
export function seedProblemBootstrap(scores: number[][], rng: Rng, resamples = 2000): { value: number; ci: [number, number] } {
  const value = mean(scores.map(mean));
  const stats: number[] = [];
  for (let r = 0; r < resamples; r++) {
    let s = 0;
    for (let i = 0; i < scores.length; i++) {
      const seed = scores[rng.int(scores.length)];
      let m = 0;
      for (let j = 0; j < seed.length; j++) m += seed[rng.int(seed.length)];
      s += m / seed.length;
    }
    stats.push(s / scores.length);
  }
  stats.sort((a, b) => a - b);
  return { value, ci: [quantileSorted(stats, 0.025), quantileSorted(stats, 0.975)] };
}

export function summariseMethod(evals: SeedEval[], ks: number[], rng: Rng): MethodSummary {
  const acc = seedProblemBootstrap(evals.map((e) => perProblem(e, null)), rng.fork('avg'));
  const pass: Record<string, number> = {};
  const passCi: Record<string, [number, number]> = {};
  for (const k of ks) {
    const b = seedProblemBootstrap(evals.map((e) => perProblem(e, k)), rng.fork(`pass${k}`));
    pass[String(k)] = b.value;
    passCi[String(k)] = b.ci;
  }
  return {
    accuracy: acc.value,
    ci95: acc.ci,
    pass_at_k: pass,
    pass_ci95: passCi,
    seeds: evals.map((e) => e.seed),
    per_seed: evals.map((e) => ({
      seed: e.seed, accuracy: mean(perProblem(e, null)),
      pass_at_k: Object.fromEntries(ks.map((k) => [String(k), mean(perProblem(e, k))])),
    })),
    tau_mean: mean(evals.map((e) => e.eval.tauMean)),
    gate_rate: mean(evals.map((e) => e.eval.gateRate)),
    entropy_mean: mean(evals.map((e) => e.eval.entropyMean)),
    length_mean: mean(evals.map((e) => e.eval.meanLength)),
  };
}

/** The comparison table printed at the end of a reproduction (Markdown). */
export function summaryTable(methods: Record<string, MethodSummary>, k: number): string {
  const pct = (x: number) => (100 * x).toFixed(1);
  const lines = [
    `| method | accuracy (Avg@${k}) % | 95% CI | Pass@${k} % | 95% CI | mean τ | gate rate | seeds |`,
    '| --- | ---: | --- | ---: | --- | ---: | ---: | --- |',
  ];
  for (const [name, m] of Object.entries(methods)) {
    const pk = m.pass_at_k[String(k)];
    const pc = m.pass_ci95[String(k)];
    lines.push(`| ${name} | ${pct(m.accuracy)} | [${pct(m.ci95[0])}, ${pct(m.ci95[1])}] | ${pct(pk)} | [${pct(pc[0])}, ${pct(pc[1])}] | ${m.tau_mean.toFixed(3)} | ${Number.isFinite(m.gate_rate) ? m.gate_rate.toFixed(3) : '–'} | ${m.seeds.join(', ')} |`);
  }
  return lines.join('\n');
}
