// Group-relative advantages for GRPO, on host arrays. A batch of B rollouts holds B / G prompts with G
// samples each, stored consecutively: row i belongs to prompt floor(i / G). Each row gets one sequence-level advantage
// A_i, which the IntroLLM paper shares between the token policy π_θ and the temperature policy π_φ
// (docs/method.md#training).
//
// Estimators, looked up by name in ADVANTAGE_ESTIMATORS (verl-style registry):
//   grpo  A_i = (R_i − mean_g R) / (std_g R + eps)           DeepSeekMath (arXiv 2402.03300), §4.1.2 outcome supervision
//         scaleByStd: false gives A_i = R_i − mean_g R         Dr. GRPO (arXiv 2503.20783): dividing by std biases
//                                                              updates towards too-easy and too-hard prompts
//   rloo  A_i = R_i − mean_{j≠i} R_j = G/(G−1)·(R_i − mean_g R)  REINFORCE leave-one-out (Kool et al. 2019;
//                                                              Ahmadian et al., arXiv 2402.14740)
//
// Which std: DeepSeekMath writes "std(r)" without saying. TRL's GRPOTrainer and verl compute it with torch.std, whose
// default is the sample (Bessel-corrected, divide by G − 1) std, so the default here is stdKind 'sample' to match the
// codebases most RLVR work runs on; 'population' (divide by G, numpy's default) is the other choice. For
// binary rewards with k successes of G: population std = sqrt(p(1 − p)) with p = k/G, sample std = that · sqrt(G/(G−1)).
// eps defaults to 1e-6 (verl's value; TRL adds 1e-4). A group whose rewards are all equal has A = 0 for every row under
// every estimator (set exactly, not left to rounding); its fraction is reported as zeroVarianceFraction (those prompts
// give no learning signal).
import { mean } from '../../stats';
import { check, KitError } from '../../errors';

export type StdKind = 'population' | 'sample';

export interface AdvantageOptions {
  /** G, samples per prompt (≥ 2); the batch size must be a multiple of it. */
  groupSize: number;
  /** grpo only: divide by the group std (true, the original GRPO) or not (false, Dr. GRPO). Default true. */
  scaleByStd?: boolean;
  /** grpo only: which std (see the file comment). Default 'sample'. */
  stdKind?: StdKind;
  /** grpo only: added to the std before dividing. Default 1e-6. */
  eps?: number;
}

export const DEFAULT_ADVANTAGE_OPTIONS: Readonly<Required<Omit<AdvantageOptions, 'groupSize'>>> = Object.freeze({
  scaleByStd: true,
  stdKind: 'sample',
  eps: 1e-6,
});

export interface AdvantageStats {
  numGroups: number;
  groupSize: number;
  /** Fraction of groups whose rewards are all equal (their advantages are all 0). */
  zeroVarianceFraction: number;
  /** mean_i |A_i| over the batch. */
  meanAbsAdvantage: number;
}

export interface AdvantageResult {
  /** [B], one advantage per rollout, in the order of the rewards. */
  advantages: Float32Array;
  stats: AdvantageStats;
}

export interface AdvantageEstimator {
  name: string;
  /** One line: the formula and the paper it follows. */
  description: string;
  /** Advantages of one group of G ≥ 2 rewards (float64 in, float64 out). */
  group(rewards: Float64Array, options: Readonly<Required<AdvantageOptions>>): Float64Array;
}

const grpo: AdvantageEstimator = {
  name: 'grpo',
  description: 'A_i = (R_i − mean_g R) / (std_g R + eps), or R_i − mean_g R with scaleByStd off (DeepSeekMath GRPO; Dr. GRPO)',
  group(r, o) {
    const m = mean(r);
    const out = new Float64Array(r.length);
    let ss = 0;
    for (let i = 0; i < r.length; i++) {
      out[i] = r[i] - m;
      ss += out[i] * out[i];
    }
    if (!o.scaleByStd) return out;
    const std = Math.sqrt(ss / (o.stdKind === 'sample' ? r.length - 1 : r.length));
    for (let i = 0; i < r.length; i++) out[i] /= std + o.eps;
    return out;
  },
};

const rloo: AdvantageEstimator = {
  name: 'rloo',
  description: 'A_i = R_i − mean_{j≠i} R_j, the leave-one-out baseline (RLOO; Kool et al. 2019, Ahmadian et al. 2024)',
  group(r) {
    let sum = 0;
    for (const v of r) sum += v;
    const G = r.length;
    return Float64Array.from(r, (v) => v - (sum - v) / (G - 1));
  },
};

const estimators = { grpo, rloo };

export type AdvantageName = keyof typeof estimators;

/** The advantage estimators by name. */
export const ADVANTAGE_ESTIMATORS: Readonly<Record<AdvantageName, AdvantageEstimator>> = Object.freeze(estimators);

/** The estimator called `name`; an unknown name is a KitError listing the valid ones. */
export function getAdvantageEstimator(name: string): AdvantageEstimator {
  const est = Object.prototype.hasOwnProperty.call(ADVANTAGE_ESTIMATORS, name) ? ADVANTAGE_ESTIMATORS[name as AdvantageName] : undefined;
  if (!est) throw new KitError(`unknown advantage estimator '${name}'; valid: ${Object.keys(ADVANTAGE_ESTIMATORS).join(', ')}`);
  return est;
}

/**
 * Sequence-level advantages for a batch of rewards [B] in groups of G consecutive rows.
 * Errors (KitError naming the argument): unknown estimator, groupSize not an integer ≥ 2, B = 0 or not a multiple of
 * G, a non-finite reward, eps < 0, an unknown stdKind.
 */
export function computeAdvantages(name: string, rewards: ArrayLike<number>, options: AdvantageOptions): AdvantageResult {
  const est = getAdvantageEstimator(name);
  const o = { ...DEFAULT_ADVANTAGE_OPTIONS, ...stripUndefined(options) } as Required<AdvantageOptions>;
  const G = o.groupSize;
  const B = rewards.length;
  check(Number.isInteger(G) && G >= 2, () => `computeAdvantages: groupSize must be an integer ≥ 2 (a group of one sample has no baseline), got ${G}`);
  check(B > 0, 'computeAdvantages: rewards is empty');
  check(B % G === 0, () => `computeAdvantages: rewards has ${B} rows, not a multiple of groupSize ${G}`);
  check(o.stdKind === 'population' || o.stdKind === 'sample', () => `computeAdvantages: stdKind must be 'population' or 'sample', got '${o.stdKind}'`);
  check(typeof o.scaleByStd === 'boolean', () => `computeAdvantages: scaleByStd must be a boolean, got ${String(o.scaleByStd)}`);
  check(Number.isFinite(o.eps) && o.eps >= 0, () => `computeAdvantages: eps must be a finite number ≥ 0, got ${o.eps}`);
  for (let i = 0; i < B; i++) check(Number.isFinite(rewards[i]), () => `computeAdvantages: rewards[${i}] is ${rewards[i]}`);

  const advantages = new Float32Array(B);
  let zeroVar = 0;
  let absSum = 0;
  const numGroups = B / G;
  for (let g = 0; g < numGroups; g++) {
    const r = new Float64Array(G);
    for (let j = 0; j < G; j++) r[j] = rewards[g * G + j];
    // An all-equal group gets exact zeros (the formulas would give rounding noise, or 0/0 with eps = 0).
    const flat = r.every((v) => v === r[0]);
    if (flat) zeroVar++;
    const a = flat ? new Float64Array(G) : est.group(r, o);
    for (let j = 0; j < G; j++) {
      advantages[g * G + j] = a[j];
      absSum += Math.abs(a[j]);
    }
  }
  return { advantages, stats: { numGroups, groupSize: G, zeroVarianceFraction: zeroVar / numGroups, meanAbsAdvantage: absSum / B } };
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
