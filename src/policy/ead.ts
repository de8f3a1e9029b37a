// Baseline 'ead': Exploratory Annealed Decoding (Yang et al., "Let it Calm", arXiv 2510.05251): explore early, exploit
// late, by annealing τ within each sequence. As its authors' released code computes it (verl fork yangalan123/EAD-RLVR,
// annealed_sampling.py mode 'negexp' and recipe/ead/run_annealed_sampling.sh, read 2026-12; docs/method.md#baselines):
//   τ_t = 1                                          for t < c    (their "warmup_period": sampled unscaled)
//   τ_t = max(1 + τ_max − e^{t / (L · d_s)}, τ_min)  otherwise,   t = tokens generated so far (0 at the first one)
//   d_s = min(d_0 + g · s, d_max)                    s = the training step passed to beginRollout
// Constants and their source (all are options in src/policy/config.ts):
//   L = 20 (eadLengthScale), d_0 = 25 (eadD0), g = 5 (eadDGrowth), d_max = 40000 (eadDMax), c = 10 (eadWarmTokens),
//   τ_max = 1.2 (eadTauMax), τ_min = 0.1 (eadTauMin): the authors' code and run script.
// With these, τ at t = 10 is 1.18, falls below 1 after 500 · ln 1.2 ≈ 91 tokens and reaches τ_min after
// 500 · ln 2.1 ≈ 371 tokens at step 0; later steps anneal more slowly. The kit's earlier variant (t / d_s with d_0 = 100,
// c = 2, sized for its short synthetic traces) is eadLengthScale 1, eadD0 100, eadWarmTokens 2.
import { check } from '../errors';
import { Rng } from '../rng';
import { checkTauInputs, f32InRange } from './common';
import { ControllerConfig } from './config';
import { NonLearnedController } from './non-learned';
import { TauInputs, TauSample } from './types';

/** d_s for training step s. */
export function eadDecay(step: number, d0: number, growth: number, dMax: number): number {
  return Math.min(d0 + growth * step, dMax);
}

/** EAD's τ at generated-token index t with decay d and length scale L (τ = max(1 + τmax − e^{t/(L·d)}, τmin) after
 *  the first warmTokens tokens, which get 1), before float32 rounding. */
export function eadTau(t: number, d: number, warmTokens: number, tauMax: number, tauMin: number, lengthScale: number): number {
  if (t < warmTokens) return 1;
  return Math.max(1 + tauMax - Math.exp(t / (lengthScale * d)), tauMin);
}

export class EadController extends NonLearnedController {
  readonly name = 'ead';
  private trainStep = 0;

  constructor(private readonly cfg: ControllerConfig) {
    super();
  }

  override beginRollout(info: { trainStep: number; batch: number }, _rng: Rng): void {
    check(Number.isFinite(info.trainStep) && info.trainStep >= 0, () => `ead.beginRollout: trainStep must be a number ≥ 0, got ${info.trainStep}`);
    this.trainStep = info.trainStep;
  }

  /** The decay rate d_s in use (set by beginRollout). */
  decay(): number {
    return eadDecay(this.trainStep, this.cfg.eadD0, this.cfg.eadDGrowth, this.cfg.eadDMax);
  }

  act(inputs: TauInputs, _rng: Rng): TauSample {
    const N = checkTauInputs(this.name, inputs, null);
    const pos = inputs.position.dataSync() as ArrayLike<number>;
    const d = this.decay();
    const { eadWarmTokens, eadTauMax, eadTauMin, eadLengthScale } = this.cfg;
    const lo = Math.min(eadTauMin, 1);
    const hi = Math.max(eadTauMax, 1);
    const tau = new Float32Array(N);
    for (let i = 0; i < N; i++) {
      check(Number.isFinite(pos[i]) && pos[i] >= 0, () => `ead: position of row ${i} must be ≥ 0, got ${pos[i]}`);
      tau[i] = f32InRange(eadTau(pos[i], d, eadWarmTokens, eadTauMax, eadTauMin, eadLengthScale), lo, hi);
    }
    return this.sampleOf(tau);
  }

  metrics(): Record<string, number> {
    return { 'policy/ead_decay': this.decay() };
  }

  state(): unknown {
    return { controller: this.name, trainStep: this.trainStep };
  }

  loadState(state: unknown): void {
    const s = state as { controller?: unknown; trainStep?: unknown } | null;
    check(
      s !== null && typeof s === 'object' && s.controller === this.name && typeof s.trainStep === 'number' && s.trainStep >= 0,
      () => `ead.loadState: expected {controller: 'ead', trainStep: number ≥ 0}, got ${JSON.stringify(state)}`,
    );
    this.trainStep = s.trainStep as number;
  }
}
