// Baseline 'fixed': one constant sampling temperature for every token (the usual RLVR recipe; the paper compares with
// several values, e.g. 0.6, 1.0, 1.2).
import { check } from '../errors';
import { Rng } from '../rng';
import { checkTauInputs } from './common';
import { ControllerConfig } from './config';
import { NonLearnedController } from './non-learned';
import { TauInputs, TauSample } from './types';

export class FixedController extends NonLearnedController {
  readonly name = 'fixed';
  readonly tau: number;

  constructor(cfg: ControllerConfig) {
    super();
    this.tau = cfg.fixedTau;
  }

  act(inputs: TauInputs, _rng: Rng): TauSample {
    const N = checkTauInputs(this.name, inputs, null);
    return this.sampleOf(new Float32Array(N).fill(this.tau));
  }

  state(): unknown {
    return { controller: this.name };
  }

  loadState(state: unknown): void {
    const s = state as { controller?: unknown } | null;
    check(
      s !== null && typeof s === 'object' && s.controller === this.name,
      () => `fixed.loadState: expected {controller: 'fixed'}, got ${JSON.stringify(state)}`,
    );
  }
}
