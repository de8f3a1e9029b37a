// Gradient clipping and per-parameter-group Adam for the GRPO step. Coordinate ascent (docs/method.md#training)
// updates the token policy θ and the temperature policy φ in alternating blocks, so each group has its own Adam with
// its own learning rate and moments: a θ block never touches φ's moments and vice versa.
//
// clipByGlobalNorm follows PyTorch's clip_grad_norm_ / TF's clip_by_global_norm: g ← g · maxNorm / ‖g‖ when the
// global L2 norm ‖g‖ over all tensors exceeds maxNorm.
//
// A group's Adam is a GroupOptimizer (src/train/optimizer.ts, with the group-level functions and the saved state):
// DeviceAdam here keeps the moments on the backend (TF.js's AdamOptimizer); HostAdam (host-adam.ts,
// `createParamGroup(..., { onHost: true })`) keeps them in host memory, with the same update and the same saved state.
//
// DeviceAdam's checkpoints go through tf.train.Optimizer's getWeights / setWeights, with two repairs so that
// save → restore → step is bit-identical to an uninterrupted step:
//   * TF.js's AdamOptimizer.setWeights recomputes the bias-correction powers as pow(β, iterations + 1), while
//     applyGradients keeps them as a running float32 product; the two differ in the last bit after a few steps, so
//     the running values (accBeta1, accBeta2) are saved and written back.
//   * Adam's moments are matched to variables by position in the order the gradients were first applied, and TF.js
//     variable names carry a process-dependent counter. A ParamGroup therefore always applies its gradients in its own
//     variable order, and a restore matches moments to variables by position and shape (the saved names are kept
//     for information only and rewritten to the current variable names).
import * as tf from '@tensorflow/tfjs';
import { check, KitError } from '../../errors';
import { AdamConfig, AdamMoments, BackwardPass, GroupOptimizer, ParamGroup, resolveAdamConfig, SavedWeight } from '../../train/optimizer';
import { HostAdam, HostGrads } from './host-adam';

export type { AdamConfig, AdamMoments, BackwardPass, GroupOptimizer, OptimizerPlacement, OptimizerState, ParamGroup, SavedWeight } from '../../train/optimizer';
export { applyGroupGradients, disposeParamGroup, isOnHost, optimizerState, restoreOptimizer, setLearningRate } from '../../train/optimizer';

/**
 * Scales the gradients so that their global L2 norm is at most maxNorm. Returns new tensors (clones when nothing is
 * clipped; the caller disposes both the input and the output maps) and the norm BEFORE clipping. maxNorm ≤ 0 or
 * Infinity means no clipping (the norm is still computed). A non-finite norm (NaN/Inf gradients) is returned as is,
 * with the gradients unscaled, so that the caller can skip the step.
 */
export function clipByGlobalNorm(grads: tf.NamedTensorMap, maxNorm: number): { grads: tf.NamedTensorMap; norm: number } {
  check(typeof maxNorm === 'number' && !Number.isNaN(maxNorm), () => `clipByGlobalNorm: maxNorm must be a number, got ${maxNorm}`);
  const names = Object.keys(grads);
  for (const n of names) check(grads[n] instanceof tf.Tensor, () => `clipByGlobalNorm: grads['${n}'] is not a tensor`);
  const norm =
    names.length === 0
      ? 0
      : tf.tidy(() => {
          const sq = names.map((n) => tf.sum(tf.square(tf.cast(grads[n], 'float32'))));
          return tf.sqrt(tf.addN(sq));
        });
  const normValue = typeof norm === 'number' ? norm : norm.dataSync()[0];
  if (typeof norm !== 'number') norm.dispose();
  const clip = maxNorm > 0 && Number.isFinite(maxNorm) && Number.isFinite(normValue) && normValue > maxNorm;
  const out: tf.NamedTensorMap = {};
  const scale = clip ? maxNorm / normValue : 1;
  for (const n of names) out[n] = clip ? tf.tidy(() => tf.mul(grads[n], scale)) : tf.clone(grads[n]);
  return { grads: out, norm: normValue };
}

/**
 * A named group of variables with its own Adam (e.g. 'theta' for the LM, 'phi' for the temperature head); `onHost`:
 * the moments in host memory (HostAdam), else on the backend (DeviceAdam).
 */
export function createParamGroup(name: string, variables: readonly tf.Variable[], config: AdamConfig, o: { onHost?: boolean } = {}): ParamGroup {
  check(typeof name === 'string' && name.length > 0, 'createParamGroup: name must be a non-empty string');
  check(variables.length > 0, () => `createParamGroup: group '${name}' has no variables`);
  const seen = new Set<string>();
  for (const v of variables) {
    check(v instanceof tf.Variable, () => `createParamGroup: group '${name}' holds something that is not a tf.Variable`);
    check(!seen.has(v.name), () => `createParamGroup: variable '${v.name}' appears twice in group '${name}'`);
    seen.add(v.name);
  }
  const cfg = resolveAdamConfig(config, 'createParamGroup');
  const optimizer = o.onHost ? new HostAdam(cfg.learningRate, cfg.beta1, cfg.beta2, cfg.epsilon) : new DeviceAdam(cfg);
  return { name, variables: [...variables], config: Object.freeze(cfg), optimizer };
}

/**
 * One Adam step of a host group from gradients collected on the host (a streamed backward pass), clipped to a global
 * norm of `maxNorm` (≤ 0 or Infinity: no clipping) as clipByGlobalNorm does. A variable with no gradient gets a zero
 * one. Returns the norm before clipping; a non-finite norm skips the step.
 */
export function applyHostGradients(group: ParamGroup, grads: HostGrads, maxNorm: number): number {
  const host = group.optimizer;
  check(host instanceof HostAdam, () => `applyHostGradients: group '${group.name}' keeps its Adam on the backend`);
  return host.stepFrom(group.variables, grads, maxNorm);
}

/**
 * TF.js's AdamOptimizer as a GroupOptimizer: the moments on the backend. backward() takes the gradients of the
 * group's variables and the extra ones from one tf.variableGrads; stepGathered clips them with clipByGlobalNorm.
 */
export class DeviceAdam implements GroupOptimizer {
  readonly placement = 'device' as const;
  private readonly adam: tf.AdamOptimizer;
  /** The group's gradients from the last backward(), by variable name, until stepGathered. */
  private gathered: tf.NamedTensorMap | null = null;

  constructor(cfg: Required<AdamConfig>) {
    this.adam = tf.train.adam(cfg.learningRate, cfg.beta1, cfg.beta2, cfg.epsilon);
  }

  get iterations(): number {
    return this.adam.iterations;
  }

  setLearningRate(learningRate: number): void {
    (this.adam as unknown as { learningRate: number }).learningRate = learningRate; // read at every step
  }

  applyGradients(variables: readonly tf.Variable[], grads: readonly tf.Tensor[]): void {
    check(grads.length === variables.length, () => `DeviceAdam.applyGradients: ${grads.length} gradients for ${variables.length} variables`);
    // Always in the group's variable order: TF.js matches moments to variables by the order of the first step.
    this.adam.applyGradients(variables.map((v, i) => ({ name: v.name, tensor: grads[i] })));
  }

  backward(variables: readonly tf.Variable[], pass: BackwardPass, extra: readonly tf.Variable[], accumulate = false): tf.Tensor[] {
    if (!accumulate) this.dropGathered();
    const res = pass.tensors([...variables, ...extra]);
    res.value.dispose();
    const before = this.gathered;
    const own: tf.NamedTensorMap = {};
    for (const v of variables) {
      const g = res.grads[v.name];
      own[v.name] = before ? tf.add(before[v.name], g) : g;
      if (before) g.dispose();
    }
    if (before) tf.dispose(Object.values(before));
    this.gathered = own;
    return extra.map((v) => res.grads[v.name]);
  }

  stepGathered(variables: readonly tf.Variable[], maxNorm: number): number {
    check(this.gathered !== null, 'DeviceAdam.stepGathered: no gradients gathered (call backward first)');
    const own = this.gathered;
    this.gathered = null;
    try {
      const clipped = clipByGlobalNorm(own, maxNorm);
      if (Number.isFinite(clipped.norm))
        this.applyGradients(
          variables,
          variables.map((v) => clipped.grads[v.name]),
        );
      tf.dispose(Object.values(clipped.grads));
      return clipped.norm;
    } finally {
      tf.dispose(Object.values(own));
    }
  }

  async moments(): Promise<AdamMoments> {
    const inner = internals(this.adam);
    const named = await this.adam.getWeights();
    const weights: SavedWeight[] = [];
    try {
      for (const w of named) {
        const dtype = w.tensor.dtype;
        if (dtype !== 'float32' && dtype !== 'int32') throw new KitError(`optimizerState: weight '${w.name}' has dtype ${dtype}`);
        const data = await w.tensor.data();
        weights.push({ name: w.name, shape: [...w.tensor.shape], dtype, data: dtype === 'int32' ? Int32Array.from(data) : Float32Array.from(data) });
      }
    } finally {
      // getWeights() creates the 'iter' scalar afresh; the moments are the optimiser's own variables and stay.
      named[0]?.tensor.dispose();
    }
    return { accBeta1: (await inner.accBeta1.data())[0], accBeta2: (await inner.accBeta2.data())[0], weights };
  }

  async restored(
    variables: readonly tf.Variable[],
    cfg: Required<AdamConfig>,
    state: { accBeta1: number; accBeta2: number; weights: SavedWeight[] },
  ): Promise<DeviceAdam> {
    const n = variables.length;
    const next = new DeviceAdam(cfg);
    const tensors = state.weights.map((x, k) => ({
      name: k === 0 ? 'iter' : `${variables[(k - 1) % n].name}/${k <= n ? 'm' : 'v'}`,
      tensor: tf.tensor(x.data, x.shape, x.dtype),
    }));
    try {
      await next.adam.setWeights(tensors);
    } finally {
      tf.dispose(tensors.map((t) => t.tensor));
    }
    const inner = internals(next.adam);
    tf.tidy(() => {
      inner.accBeta1.assign(tf.scalar(state.accBeta1));
      inner.accBeta2.assign(tf.scalar(state.accBeta2));
    });
    return next;
  }

  dispose(): void {
    this.dropGathered();
    this.adam.dispose();
  }

  private dropGathered(): void {
    if (this.gathered) tf.dispose(Object.values(this.gathered));
    this.gathered = null;
  }
}

interface AdamInternals {
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
  accumulatedFirstMoment: { variable: tf.Variable }[];
  accumulatedSecondMoment: { variable: tf.Variable }[];
}

function internals(opt: tf.AdamOptimizer): AdamInternals {
  const i = opt as unknown as Partial<AdamInternals>;
  if (
    !(i.accBeta1 instanceof tf.Variable) ||
    !(i.accBeta2 instanceof tf.Variable) ||
    !Array.isArray(i.accumulatedFirstMoment) ||
    !Array.isArray(i.accumulatedSecondMoment)
  ) {
    throw new KitError('optimizer state: this TF.js AdamOptimizer lacks accBeta1/accBeta2/accumulated*Moment (written for TF.js 4.22)');
  }
  return i as AdamInternals;
}
