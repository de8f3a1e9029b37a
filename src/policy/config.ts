// The temperature controllers' one config object: every field with its default, its meaning and where the value comes
// from (paper = Introspective LLM, arXiv 2602.13035; EDT = arXiv 2403.14541; EAD = arXiv 2510.05251 and its authors'
// released code; TAMPO = arXiv 2602.11779 as its published summaries describe it; "ours" = a choice of this kit where
// the source gives no number). resolveControllerConfig() merges a partial config over the defaults and rejects unknown
// keys, wrong types and values outside their valid range.
import { KitError } from '../errors';

export type TampoScope = 'row' | 'group' | 'batch';
export type EvalAction = 'sample' | 'mean' | 'mode';

// Each field's meaning, default and source: CONTROLLER_DOCS and DEFAULT_CONTROLLER_CONFIG below (`introllm config` prints
// them with the values a run resolves to).
export interface ControllerConfig {
  // ── Shared τ range and start ─────────────────────────────────────────────────────────────────────────────────────
  tauMin: number;
  tauMax: number;
  tau0: number;

  // ── fixed ────────────────────────────────────────────────────────────────────────────────────────────────────────
  fixedTau: number;

  // ── edt: τ = T0 · N^(θ / H_t), clamped to [tauMin, tauMax] ──────────────────────────────────────────────────────
  edtTau0: number;
  edtN: number;
  edtTheta: number;

  // ── ead: τ_t = 1 for t < c, else max(1 + τmax − e^{t/(L·d_s)}, τmin), d_s = min(d0 + g·s, dMax) ───────────────
  // Every EAD default is from EAD's released code (yangalan123/EAD-RLVR: annealed_sampling.py, mode 'negexp', and
  // recipe/ead/run_annealed_sampling.sh; see src/policy/ead.ts).
  eadTauMax: number;
  eadTauMin: number;
  eadWarmTokens: number;
  eadD0: number;
  eadDGrowth: number;
  eadDMax: number;
  eadLengthScale: number;

  // ── tampo: one τ per rollout from a meta-policy over a discrete set (see src/policy/tampo.ts) ─────────────────────
  tampoTaus: number[];
  tampoEma: number;
  tampoTopP: number;
  tampoScope: TampoScope;

  // ── introllm heads (and their ablations) ─────────────────────────────────────────────────────────────────────────
  epsilon: number;
  detachHidden: boolean;
  headHiddenRatio: number;
  headInitGateProb: number;
  headInitTau: number;
  headInitConcentration: number;
  evalAction: EvalAction;
  headInitScale: number;
  categoricalTaus: number[] | null;
  categoricalBins: number;
  gaussianInitStd: number;
  featuresHidden: number;
  featuresPositionScale: number;
}

export const DEFAULT_CONTROLLER_CONFIG: Readonly<ControllerConfig> = Object.freeze({
  tauMin: 0.4,
  tauMax: 1.6,
  tau0: 1.0,
  fixedTau: 1.0,
  edtTau0: 1.0,
  edtN: 0.8,
  edtTheta: 1.0,
  eadTauMax: 1.2,
  eadTauMin: 0.1,
  eadWarmTokens: 10,
  eadD0: 25,
  eadDGrowth: 5,
  eadDMax: 40000,
  eadLengthScale: 20,
  tampoTaus: [0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.3, 1.4, 1.5],
  tampoEma: 0.05,
  tampoTopP: 0.7,
  tampoScope: 'batch' as TampoScope,
  epsilon: 1e-3,
  detachHidden: true,
  headHiddenRatio: 0.5,
  headInitGateProb: 0.5,
  headInitTau: 1.0,
  // 50 chosen on the validation split (results/selection/tiny/head-init: 4 21.8%, 20 21.9%, 50 22.7%; CIs overlap).
  headInitConcentration: 50,
  headInitScale: 0.01,
  // 'mean' chosen on the validation split (results/selection/tiny/eval-action: sample 20.4%, mean 20.9%, mode 20.0%).
  evalAction: 'mean' as EvalAction,
  categoricalTaus: null,
  categoricalBins: 7,
  gaussianInitStd: 1.0,
  featuresHidden: 16,
  featuresPositionScale: 1024,
});

/** What each field means and where its default comes from, one entry per field (the source of the docs and of `introllm
 *  config`'s descriptions). */
export const CONTROLLER_DOCS: Readonly<Record<keyof ControllerConfig, string>> = Object.freeze({
  tauMin:
    "Lowest τ a learned head may choose, and EDT's lower clamp. Paper: not known ([0.1, 2.0] and [0.4, 1.6] are " +
    'both plausible readings); ours: 0.4, so that the default range is symmetric around 1.0 and τ_min still ' +
    'sharpens.',
  tauMax: "Highest τ a learned head may choose, and EDT's upper clamp. Paper: not known; ours: 1.6.",
  tau0:
    'τ_0, the "previous" temperature of the first generated token (the rollout passes it as prevTau at t = 0; a ' +
    'gated head that keeps its τ at t = 0 samples at τ_0). Paper: not known; ours: 1.0. Must lie in [tauMin, ' +
    'tauMax] for the gated heads.',
  fixedTau: "The constant τ of the 'fixed' controller; 0 means argmax (greedy decoding, for evaluation). RLVR recipes use" + ' 0.6, 1.0 or 1.2; ours: 1.0.',
  edtTau0: "EDT's base temperature T0 (the τ reached at high entropy; τ ≤ T0 always since N < 1). Ours: 1.0.",
  edtN: "EDT's N, in (0, 1). EDT paper: 0.8.",
  edtTheta: "EDT's θ > 0 (larger θ = lower τ at a given entropy). Ours: 1.0 (EDT tunes it per task).",
  eadTauMax: "EAD's τ_max (the temperature the annealing starts from). EAD code: 1.2.",
  eadTauMin: "EAD's τ_min (the floor). EAD code: 0.1.",
  eadWarmTokens: 'c: the first c generated tokens (t < c) are sampled at τ = 1 (EAD code: warmup_period 10).',
  eadD0: 'd_0, the decay rate at training step 0. EAD code: 25.',
  eadDGrowth: 'g: growth of d per training step, d_s = min(d0 + g·s, dMax). EAD code: 5.',
  eadDMax: 'Cap of d. EAD code: 40000.',
  eadLengthScale: "L: the length term of the exponent is t / (L · d_s). EAD code: 20. (1 gives the kit's earlier t / d_s.)",
  tampoTaus: 'The candidate temperatures. TAMPO (published summaries): {0.6, 0.7, …, 1.5}, K = 10.',
  tampoEma: 'α: EMA rate of the temperature-specific advantage, S_k ← (1 − α) S_k + α Â_k. TAMPO (summaries): 0.05.',
  tampoTopP:
    'p of the top-p (nucleus) draw of the next temperature from the min–max normalised scores; 0 = greedy (the ' +
    'most probable candidate). TAMPO (summaries): 0.7.',
  tampoScope:
    "How many τ the meta-policy draws per rollout batch: 'batch' (one for all rows: TAMPO's inner loop samples " +
    "the step's trajectories at the one selected temperature, and the likelihoods at the other candidates credit " +
    "them), 'group' (one per prompt, needs beginRollout's groups) or 'row' (one per rollout row). TAMPO: 'batch'.",
  epsilon:
    'ε added to softplus outputs: α, β = softplus(u) + ε (Beta) and σ = softplus(u) + ε (Gaussian). Paper: "+ε", ' +
    'value not known; ours: 1e-3 (keeps the shapes positive without forbidding α, β < 1).',
  detachHidden: "true: the temperature loss sends no gradient into h_t (or the logits, for 'introllm-features'). Paper: not " + 'known; ours: detached.',
  headHiddenRatio: 'Hidden width of the head on h_t as a fraction of d (paper: d/2).',
  headInitGateProb: "Gate probability P(c = 1) at initialisation (sets b2's gate entry to logit(p)). Ours: 0.5.",
  headInitTau: "Mean τ of the value distribution at initialisation (sets b2's value entries). Ours: 1.0.",
  headInitConcentration:
    'α + β of the Beta head at initialisation: with headInitTau at the middle of the range, 4 gives Beta(2, 2) ' +
    '(sd 0.22 in z, 0.27 in τ for [0.4, 1.6]); 50 gives Beta(25, 25) (sd 0.07 in z, 0.08 in τ). Ours: 50, chosen ' +
    'on the validation split among 4, 20 and 50 (results/selection/tiny/head-init).',
  evalAction:
    "How a learned head acts in a held-out evaluation: 'sample' (as in training: the gate and τ are drawn), " +
    "'mean' or 'mode' (deterministic: the gate opens iff P(c = 1) > 0.5, and τ is the value distribution's mean " +
    "or mode). Fixed-τ baselines are deterministic, so 'mean' / 'mode' compare the head's rule without its " +
    "sampling noise. Paper: not known. Ours: 'mean', chosen on the validation split (results/selection/tiny/eval-" +
    'action).',
  headInitScale:
    "Scale of W2 at initialisation: W2 ~ N(0, (scale² / hid)), so the head's outputs start at b2 ± " +
    '~scale·rms(relu layer). W1 uses He init N(0, 2 / in), b1 = 0. Ours: 0.01 ("W2 small").',
  categoricalTaus:
    "'introllm-categorical': the discrete τ set; null = categoricalBins values evenly spaced over [tauMin, " +
    'tauMax]. All values must lie in [tauMin, tauMax]. Ours.',
  categoricalBins: "'introllm-categorical': size of the default evenly spaced set. Ours: 7 (step 0.2 over [0.4, 1.6]).",
  gaussianInitStd:
    "'introllm-gaussian': σ of the pre-squash Gaussian at initialisation. Ours: 1.0 (the logit-normal(·, 1) has " +
    'about the spread of the Beta(2, 2) the Beta head starts from).',
  featuresHidden: "'introllm-features': hidden width of the small MLP on the distribution features. Ours: 16.",
  featuresPositionScale: "'introllm-features': the position feature is log1p(t) / log1p(scale) (≈ 1 at t = scale). Ours: 1024.",
});

type Rule = (v: unknown) => string | null; // null = valid, else what is valid

const num =
  (ok: (x: number) => boolean, valid: string): Rule =>
  (v) =>
    typeof v === 'number' && Number.isFinite(v) && ok(v) ? null : valid;
const positive = num((x) => x > 0, 'a finite number > 0');
const int = (min: number): Rule => num((x) => Number.isInteger(x) && x >= min, `an integer ≥ ${min}`);
const tauList =
  (allowNull: boolean): Rule =>
  (v) => {
    if (allowNull && v === null) return null;
    const valid = `${allowNull ? 'null or ' : ''}a non-empty array of distinct finite numbers > 0`;
    if (!Array.isArray(v) || v.length === 0) return valid;
    if (!v.every((x) => typeof x === 'number' && Number.isFinite(x) && x > 0)) return valid;
    return new Set(v).size === v.length ? null : valid;
  };

const RULES: Record<keyof ControllerConfig, Rule> = {
  tauMin: positive,
  tauMax: positive,
  tau0: positive,
  fixedTau: num((x) => x >= 0, 'a finite number ≥ 0 (0 = greedy decoding)'),
  edtTau0: positive,
  edtN: num((x) => x > 0 && x < 1, 'a number in (0, 1)'),
  edtTheta: positive,
  eadTauMax: positive,
  eadTauMin: positive,
  eadWarmTokens: int(0),
  eadD0: positive,
  eadDGrowth: num((x) => x >= 0, 'a finite number ≥ 0'),
  eadDMax: positive,
  eadLengthScale: positive,
  tampoTaus: tauList(false),
  tampoEma: num((x) => x > 0 && x <= 1, 'a number in (0, 1]'),
  tampoTopP: num((x) => x >= 0 && x <= 1, 'a number in [0, 1] (0 = greedy)'),
  tampoScope: (v) => (v === 'row' || v === 'group' || v === 'batch' ? null : "'row', 'group' or 'batch'"),
  epsilon: positive,
  detachHidden: (v) => (typeof v === 'boolean' ? null : 'true or false'),
  headHiddenRatio: num((x) => x > 0, 'a finite number > 0'),
  headInitGateProb: num((x) => x > 0 && x < 1, 'a number in (0, 1)'),
  headInitTau: positive,
  headInitConcentration: positive,
  headInitScale: num((x) => x >= 0, 'a finite number ≥ 0'),
  evalAction: (v) => (v === 'sample' || v === 'mean' || v === 'mode' ? null : "'sample', 'mean' or 'mode'"),
  categoricalTaus: tauList(true),
  categoricalBins: int(2),
  gaussianInitStd: positive,
  featuresHidden: int(1),
  featuresPositionScale: positive,
};

/**
 * Merges `partial` over DEFAULT_CONTROLLER_CONFIG and validates every field and the cross-field constraints that hold
 * for all controllers (tauMin < tauMax, eadTauMin ≤ eadTauMax). Controller-specific constraints (tau0, headInitTau
 * and the categorical set inside [tauMin, tauMax]) are checked when that controller is created.
 */
export function resolveControllerConfig(partial: unknown = {}): ControllerConfig {
  if (partial === null || typeof partial !== 'object' || Array.isArray(partial)) {
    throw new KitError(`controller config: expected an object, got ${JSON.stringify(partial)}`);
  }
  const keys = Object.keys(RULES);
  for (const k of Object.keys(partial)) {
    if (!(k in RULES)) throw new KitError(`controller config: unknown key '${k}'; valid keys: ${keys.join(', ')}`);
  }
  const merged = { ...DEFAULT_CONTROLLER_CONFIG, ...(partial as Partial<ControllerConfig>) } as ControllerConfig;
  for (const k of keys as (keyof ControllerConfig)[]) {
    const bad = RULES[k](merged[k]);
    if (bad !== null) throw new KitError(`controller config: ${k} must be ${bad}, got ${JSON.stringify(merged[k])}`);
  }
  if (merged.tauMin >= merged.tauMax) {
    throw new KitError(`controller config: need 0 < tauMin < tauMax, got tauMin ${merged.tauMin}, tauMax ${merged.tauMax}`);
  }
  if (merged.eadTauMin > merged.eadTauMax) {
    throw new KitError(`controller config: need eadTauMin ≤ eadTauMax, got ${merged.eadTauMin} > ${merged.eadTauMax}`);
  }
  merged.tampoTaus = merged.tampoTaus.slice();
  if (merged.categoricalTaus) merged.categoricalTaus = merged.categoricalTaus.slice();
  return merged;
}
