// Baseline 'edt': Entropy-based Dynamic Temperature sampling (Zhang et al., arXiv 2403.14541), per token
//   τ_t = T0 · N^(θ / H_t),   H_t the entropy (nats) of softmax(logits_t) at τ = 1,
// clamped to [tauMin, tauMax]. Low entropy → low τ; as H_t → 0, θ/H_t → ∞ and N^∞ = 0 (N < 1), so τ → 0 and the clamp
// gives tauMin; H_t ≤ 0 (float32 rounding of a one-hot distribution) is treated as that limit.
import * as tf from '@tensorflow/tfjs';
import { check, KitError } from '../errors';
import { Rng } from '../rng';
import { checkTauInputs, f32InRange, readAndDispose } from './common';
import { ControllerConfig } from './config';
import { tokenEntropy } from './features';
import { NonLearnedController } from './non-learned';
import { TauInputs, TauSample } from './types';

/** EDT's τ for one entropy value (nats), before float32 rounding. */
export function edtTau(entropy: number, tau0: number, n: number, theta: number, tauMin: number, tauMax: number): number {
  if (!(entropy > 0)) return tauMin;
  const t = tau0 * Math.exp((theta / entropy) * Math.log(n));
  return Math.min(Math.max(t, tauMin), tauMax);
}

export class EdtController extends NonLearnedController {
  readonly name = 'edt';

  constructor(private readonly cfg: ControllerConfig) {
    super();
  }

  act(inputs: TauInputs, _rng: Rng): TauSample {
    const N = checkTauInputs(this.name, inputs, null);
    const H = readAndDispose(tf.tidy(() => tokenEntropy(inputs.logits)));
    const { edtTau0, edtN, edtTheta, tauMin, tauMax } = this.cfg;
    const tau = new Float32Array(N);
    for (let i = 0; i < N; i++) {
      if (Number.isNaN(H[i])) throw new KitError(`edt: entropy of row ${i} is NaN (non-finite logits)`);
      tau[i] = f32InRange(edtTau(H[i], edtTau0, edtN, edtTheta, tauMin, tauMax), tauMin, tauMax);
    }
    return this.sampleOf(tau);
  }

  state(): unknown {
    return { controller: this.name };
  }

  loadState(state: unknown): void {
    const s = state as { controller?: unknown } | null;
    check(s !== null && typeof s === 'object' && s.controller === this.name, () => `edt.loadState: expected {controller: 'edt'}, got ${JSON.stringify(state)}`);
  }
}
