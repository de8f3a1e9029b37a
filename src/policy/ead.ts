// Baseline 'ead': Exploratory Annealed Decoding (Yang et al., "Let it Calm", arXiv 2510.05251): explore early, exploit
// late, by annealing τ within each sequence:
//   τ_t = 1                                     for t < c   (EAD keeps its "template tokens" at 1.0)
//   τ_t = max(1 + τ_max − e^{t / d_s}, τ_min)   otherwise,  with t the generated-token index counted from 0
//   d_s = min(d_0 + g · s, d_max)               s = the training step passed to beginRollout
// The step-aware d_s (g = 5, d_max = 40000) is from secondary summaries of EAD; that t keeps counting from the first
// generated token (not from c) is our reading. So at t = c the schedule starts near τ_max (e^{c/d} ≈ 1).
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

/** EAD's τ at generated-token index t with decay d, before float32 rounding. */
export function eadTau(t: number, d: number, warmTokens: number, tauMax: number, tauMin: number): number {
  if (t < warmTokens) return 1;
  return Math.max(1 + tauMax - Math.exp(t / d), tauMin);
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
    const { eadWarmTokens, eadTauMax, eadTauMin } = this.cfg;
    const lo = Math.min(eadTauMin, 1);
    const hi = Math.max(eadTauMax, 1);
    const tau = new Float32Array(N);
    for (let i = 0; i < N; i++) {
      check(Number.isFinite(pos[i]) && pos[i] >= 0, () => `ead: position of row ${i} must be ≥ 0, got ${pos[i]}`);
      tau[i] = f32InRange(eadTau(pos[i], d, eadWarmTokens, eadTauMax, eadTauMin), lo, hi);
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
    check(s !== null && typeof s === 'object' && s.controller === this.name && typeof s.trainStep === 'number' && s.trainStep >= 0,
      () => `ead.loadState: expected {controller: 'ead', trainStep: number ≥ 0}, got ${JSON.stringify(state)}`);
    this.trainStep = s.trainStep as number;
  }
}
