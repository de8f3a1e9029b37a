// The learned temperature policy π_φ of Introspective LLM (arXiv 2602.13035) and its ablations, as one composition:
//   input x_t (h_t, or distribution features) → MLP head → u = [u_c, value params]
//   gate  c_t ~ Bernoulli(sigmoid(u_c)); c_t = 0 keeps τ_t = τ_{t−1}
//   value z_t ~ p(z | value params) when c_t = 1, τ_t = f(z_t) ∈ [τ_min, τ_max]
//   log π_φ(τ_t | ·) = log P(c_t) + c_t · log p(z_t)
// Without a gate ('introllm-nogate') every step draws a new τ and log π_φ = log p(z_t).
// act() and logProb() share headOutputs(): act() reads the head outputs once, samples on the host and records the
// log-prob computed on the host from those outputs (ValueDistribution.logDensity; one device read per decoding step
// instead of a second pass through ~100 small lgamma ops, which cost ~10% of a tiny model's rollout time); logProb()
// computes the same quantity as a differentiable tensor function at loss time, and the tests hold the two equal.
// Gate-off rows record z = NaN; the log-density is evaluated at a safe z there and masked out.
import * as tf from '@tensorflow/tfjs';
import { check, KitError } from '../errors';
import { Rng } from '../rng';
import { checkRowTensor, checkTauInputs, describe } from './common';
import { ControllerConfig } from './config';
import { distributionFeatures, NUM_FEATURES } from './features';
import { MlpHead } from './mlp';
import { sampleBernoulli } from './random';
import { logit, sigmoidNumber, softplusNumber, stopGradient } from './special';
import { RolloutInfo, TauInputs, TauSample, TemperatureController } from './types';
import { ValueDistribution } from './value';

export type HeadInput = 'hidden' | 'features';

export interface HeadControllerSpec {
  name: string;
  input: HeadInput;
  value: ValueDistribution;
  gate: boolean;
}

export class HeadController implements TemperatureController {
  readonly name: string;
  readonly learned = true;
  readonly head: MlpHead;
  private readonly value: ValueDistribution;
  private readonly gated: boolean;
  private readonly input: HeadInput;
  private stats = { rows: 0, gateProb: 0, centerTau: 0, gateOpen: 0 };
  /** Set by beginRollout: how this rollout acts deterministically (an evaluation with evalAction 'mean' or 'mode'),
   *  or null to sample. */
  private point: 'mean' | 'mode' | null = null;
  /** Set by beginRollout: act() returns each row's head input (TauSample.headInput). */
  private record = false;
  /** k of the head input x_t: d for 'hidden', NUM_FEATURES for 'features'. */
  readonly headInputWidth: number;

  /** hiddenSize: d of h_t (required for input 'hidden'); seed: initialises the head (same seed → same φ). */
  constructor(
    spec: HeadControllerSpec,
    private readonly cfg: ControllerConfig,
    readonly hiddenSize: number,
    seed: number,
  ) {
    this.name = spec.name;
    this.value = spec.value;
    this.gated = spec.gate;
    this.input = spec.input;
    const { tauMin, tauMax } = cfg;
    check(
      cfg.tau0 >= tauMin && cfg.tau0 <= tauMax,
      () => `controller config: tau0 (${cfg.tau0}) must lie in [tauMin, tauMax] = [${tauMin}, ${tauMax}] for '${spec.name}'`,
    );
    check(
      cfg.headInitTau > tauMin && cfg.headInitTau < tauMax,
      () => `controller config: headInitTau (${cfg.headInitTau}) must lie strictly inside (tauMin, tauMax) = (${tauMin}, ${tauMax}) for '${spec.name}'`,
    );
    let inDim: number;
    let hid: number;
    if (spec.input === 'hidden') {
      check(Number.isInteger(hiddenSize) && hiddenSize > 0, () => `${spec.name}: hiddenSize must be a positive integer (the model's d), got ${hiddenSize}`);
      inDim = hiddenSize;
      hid = Math.max(1, Math.round(cfg.headHiddenRatio * hiddenSize));
    } else {
      inDim = NUM_FEATURES;
      hid = cfg.featuresHidden;
    }
    this.headInputWidth = inDim;
    const bias = [...(spec.gate ? [logit(cfg.headInitGateProb)] : []), ...spec.value.initBias()];
    this.head = new MlpHead(inDim, hid, bias.length, bias, cfg.headInitScale, new Rng(seed).fork(`policy-head:${spec.name}`));
  }

  variables(): tf.Variable[] {
    return this.head.variables();
  }

  variableNames(): string[] {
    return MlpHead.VARIABLE_NAMES.slice();
  }

  beginRollout(info: RolloutInfo, _rng: Rng): void {
    this.stats = { rows: 0, gateProb: 0, centerTau: 0, gateOpen: 0 };
    this.point = info.evaluation === true && this.cfg.evalAction !== 'sample' ? this.cfg.evalAction : null;
    this.record = info.recordHeadInput === true;
  }

  /** The head's input x [N, k] (float32): h_t, or the distribution features; detached when cfg.detachHidden. */
  private headInputOf(inputs: TauInputs): tf.Tensor2D {
    return tf.tidy(() => {
      let x: tf.Tensor2D;
      if (this.input === 'hidden') {
        x = inputs.hidden;
      } else {
        const logits = this.cfg.detachHidden ? (stopGradient(inputs.logits) as tf.Tensor2D) : inputs.logits;
        x = distributionFeatures(logits, inputs.prevTau, inputs.position, this.cfg.featuresPositionScale);
      }
      if (this.cfg.detachHidden && this.input === 'hidden') x = stopGradient(x) as tf.Tensor2D;
      return tf.cast(x, 'float32') as tf.Tensor2D;
    });
  }

  /** The one head forward: u [N, (gate ? 1 : 0) + numParams]. */
  headOutputs(inputs: TauInputs): tf.Tensor2D {
    return tf.tidy(() => this.head.forward(this.headInputOf(inputs)));
  }

  /** log π_φ from head outputs u [N, out], gate [N] (0/1), z [N] (NaN allowed where gate = 0). Returns [N]. */
  logProbFromOutputs(u: tf.Tensor2D, gate: tf.Tensor1D, z: tf.Tensor1D): tf.Tensor1D {
    return tf.tidy(() => {
      const zf = tf.cast(z, 'float32');
      const zSafe = tf.where(tf.isNaN(zf), tf.fill(zf.shape, this.value.safeZ), zf) as tf.Tensor1D;
      const N = u.shape[0];
      if (!this.gated) return this.value.logProb(u, zSafe);
      const uc = tf.reshape(tf.slice(u, [0, 0], [N, 1]), [N]);
      const lv = this.value.logProb(tf.slice(u, [0, 1], [N, this.value.numParams]) as tf.Tensor2D, zSafe);
      const open = tf.greater(tf.cast(gate, 'float32'), 0.5);
      // log P(c = 1) = log sigmoid(u_c) = −softplus(−u_c); log P(c = 0) = log sigmoid(−u_c) = −softplus(u_c)
      const logPc = tf.where(open, tf.neg(tf.softplus(tf.neg(uc))), tf.neg(tf.softplus(uc)));
      return tf.add(logPc, tf.where(open, lv, tf.zerosLike(lv))) as tf.Tensor1D;
    });
  }

  act(inputs: TauInputs, rng: Rng): TauSample {
    const N = checkTauInputs(this.name, inputs, this.input === 'hidden' ? this.hiddenSize : null);
    const x = this.headInputOf(inputs);
    const u = tf.tidy(() => this.head.forward(x));
    const headInput = this.record ? (x.dataSync() as Float32Array).slice() : undefined;
    x.dispose();
    try {
      const uh = u.dataSync() as Float32Array;
      const prev = inputs.prevTau.dataSync() as ArrayLike<number>;
      const out = u.shape[1];
      const voff = this.gated ? 1 : 0;
      const tau = new Float32Array(N);
      const gate = new Uint8Array(N);
      const z = new Float32Array(N);
      const logp = new Float32Array(N);
      for (let i = 0; i < N; i++) {
        const o = i * out;
        for (let j = 0; j < out; j++) {
          if (!Number.isFinite(uh[o + j]))
            throw new KitError(`${this.name}: head output ${j} of row ${i} is ${uh[o + j]} (non-finite hidden state or diverged φ)`);
        }
        const p = this.gated ? sigmoidNumber(uh[o]) : 1;
        // Deterministic (an evaluation with evalAction 'mean' / 'mode'): the gate's more probable outcome, the value's
        // mean or mode. The recorded log-prob is then that of the chosen decision (evaluation does not use it).
        const c = !this.gated ? 1 : this.point ? (p > 0.5 ? 1 : 0) : sampleBernoulli(p, rng);
        gate[i] = c;
        if (c === 1) {
          z[i] = this.point ? this.value.pointZ(uh, o + voff, this.point) : this.value.sample(uh, o + voff, rng);
          tau[i] = this.value.tauOf(z[i]);
        } else {
          z[i] = NaN;
          tau[i] = prev[i];
        }
        // log P(c) (log σ(u_c) = −softplus(−u_c), log(1 − σ(u_c)) = −softplus(u_c)) + c · log p(z).
        const logPc = this.gated ? -softplusNumber(c === 1 ? -uh[o] : uh[o]) : 0;
        logp[i] = logPc + (c === 1 ? this.value.logDensity(uh, o + voff, z[i]) : 0);
        this.stats.rows++;
        this.stats.gateProb += p;
        this.stats.gateOpen += c;
        this.stats.centerTau += this.value.centerTau(uh, o + voff);
      }
      return { tau, gate, z, logp, ...(headInput ? { headInput } : {}) };
    } finally {
      u.dispose();
    }
  }

  logProb(inputs: TauInputs, gate: tf.Tensor1D, z: tf.Tensor1D): tf.Tensor1D {
    const N = checkTauInputs(this.name, inputs, this.input === 'hidden' ? this.hiddenSize : null);
    checkRowTensor(this.name, 'gate', gate, N);
    checkRowTensor(this.name, 'z', z, N);
    return tf.tidy(() => this.logProbFromOutputs(this.headOutputs(inputs), gate, z));
  }

  logProbFromHeadInput(x: tf.Tensor2D, gate: tf.Tensor1D, z: tf.Tensor1D): tf.Tensor1D {
    check(
      x instanceof tf.Tensor && x.rank === 2 && x.shape[1] === this.headInputWidth && x.dtype === 'float32',
      () => `${this.name}: the head input must be float32 [N, ${this.headInputWidth}], got ${describe(x)}`,
    );
    checkRowTensor(this.name, 'gate', gate, x.shape[0]);
    checkRowTensor(this.name, 'z', z, x.shape[0]);
    return tf.tidy(() => this.logProbFromOutputs(this.head.forward(x), gate, z));
  }

  /** Since the last beginRollout: mean gate probability, share of opened gates, mean centre-τ of the value head. */
  metrics(): Record<string, number> {
    const n = this.stats.rows;
    if (n === 0) return {};
    return {
      'policy/head_gate_prob': this.stats.gateProb / n,
      'policy/head_gate_open': this.stats.gateOpen / n,
      'policy/head_center_tau': this.stats.centerTau / n,
    };
  }

  state(): unknown {
    return { controller: this.name };
  }

  loadState(state: unknown): void {
    const s = state as { controller?: unknown } | null;
    check(
      s !== null && typeof s === 'object' && s.controller === this.name,
      () => `${this.name}.loadState: expected {controller: '${this.name}'}, got ${JSON.stringify(state)}`,
    );
  }

  dispose(): void {
    this.head.dispose();
  }
}
