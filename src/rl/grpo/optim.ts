// Gradient clipping and per-parameter-group Adam for the GRPO step. Coordinate ascent (docs/method.md#training)
// updates the token policy θ and the temperature policy φ in alternating blocks, so each group has its
// own Adam with its own learning rate and moments: a θ block never touches φ's moments and vice versa.
//
// clipByGlobalNorm follows PyTorch's clip_grad_norm_ / TF's clip_by_global_norm: g ← g · maxNorm / ‖g‖ when the
// global L2 norm ‖g‖ over all tensors exceeds maxNorm.
//
// Checkpoints: optimizerState / restoreOptimizer go through tf.train.Optimizer's getWeights / setWeights, with two
// repairs so that save → restore → step is bit-identical to an uninterrupted step:
//   * TF.js's AdamOptimizer.setWeights recomputes the bias-correction powers as pow(β, iterations + 1), while
//     applyGradients keeps them as a running float32 product; the two differ in the last bit after a few steps, so
//     the running values (accBeta1, accBeta2) are saved and written back.
//   * Adam's moments are matched to variables by position in the order the gradients were first applied, and TF.js
//     variable names carry a process-dependent counter. A ParamGroup therefore always applies its gradients in its own
//     variable order, and a restore matches moments to variables by position and shape (the saved names are kept
//     for information only and rewritten to the current variable names).
//
// A group can keep its Adam on the host instead (HostAdam, host-adam.ts: `createParamGroup(..., { onHost: true })`):
// the same update and the same saved state, with the moments in host memory rather than on the backend.
import * as tf from '@tensorflow/tfjs';
import { check, KitError } from '../../errors';
import { HostAdam, HostGrads } from './host-adam';

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
  const norm = names.length === 0 ? 0 : tf.tidy(() => {
    const sq = names.map((n) => tf.sum(tf.square(tf.cast(grads[n], 'float32'))));
    return tf.sqrt(tf.addN(sq));
  });
  const normValue = typeof norm === 'number' ? norm : (norm.dataSync()[0]);
  if (typeof norm !== 'number') norm.dispose();
  const clip = maxNorm > 0 && Number.isFinite(maxNorm) && Number.isFinite(normValue) && normValue > maxNorm;
  const out: tf.NamedTensorMap = {};
  const scale = clip ? maxNorm / normValue : 1;
  for (const n of names) out[n] = clip ? tf.tidy(() => tf.mul(grads[n], scale)) : tf.clone(grads[n]);
  return { grads: out, norm: normValue };
}

export interface AdamConfig {
  learningRate: number;
  /** Default 0.9. */
  beta1?: number;
  /** Default 0.999. */
  beta2?: number;
  /** Default 1e-8 (PyTorch's default; TF.js would otherwise use the backend's epsilon, 1e-7 or 1e-4 on float16 WebGL). */
  epsilon?: number;
}

export interface ParamGroup {
  /** 'theta', 'phi', ...: saved with the state and checked on restore. */
  readonly name: string;
  /** The variables this group updates, in a fixed order (moments are matched to them by position). */
  readonly variables: readonly tf.Variable[];
  /** Updated by setLearningRate and restoreOptimizer. */
  config: Readonly<Required<AdamConfig>>;
  /** Replaced by restoreOptimizer. A HostAdam keeps the moments in host memory (θ of a model the heap holds only once). */
  optimizer: tf.AdamOptimizer | HostAdam;
}

/** Whether the group's Adam moments live in host memory. */
export function isOnHost(group: ParamGroup): group is ParamGroup & { optimizer: HostAdam } {
  return group.optimizer instanceof HostAdam;
}

function makeAdam(cfg: Required<AdamConfig>, onHost: boolean): tf.AdamOptimizer | HostAdam {
  return onHost ? new HostAdam(cfg.learningRate, cfg.beta1, cfg.beta2, cfg.epsilon) : tf.train.adam(cfg.learningRate, cfg.beta1, cfg.beta2, cfg.epsilon);
}

/** One saved optimiser tensor: TF.js's name, the shape, the values. */
export interface SavedWeight {
  name: string;
  shape: number[];
  dtype: 'float32' | 'int32';
  data: Float32Array | Int32Array;
}

/** Everything needed to continue an Adam group exactly. The weights are getWeights(): iter, then m of each variable, then v. */
export interface OptimizerState {
  name: string;
  kind: 'adam';
  config: Required<AdamConfig>;
  /** The running bias-correction products β1^(k+1), β2^(k+1) after k steps, as float32 values. */
  accBeta1: number;
  accBeta2: number;
  /** The variable shapes of the group, in order. */
  variableShapes: number[][];
  weights: SavedWeight[];
}

function resolveConfig(c: AdamConfig, where: string): Required<AdamConfig> {
  const r = { beta1: 0.9, beta2: 0.999, epsilon: 1e-8, ...Object.fromEntries(Object.entries(c).filter(([, v]) => v !== undefined)) } as Required<AdamConfig>;
  check(Number.isFinite(r.learningRate) && r.learningRate >= 0, () => `${where}: learningRate must be a finite number ≥ 0, got ${r.learningRate}`);
  check(Number.isFinite(r.beta1) && r.beta1 >= 0 && r.beta1 < 1, () => `${where}: beta1 must be in [0, 1), got ${r.beta1}`);
  check(Number.isFinite(r.beta2) && r.beta2 >= 0 && r.beta2 < 1, () => `${where}: beta2 must be in [0, 1), got ${r.beta2}`);
  check(Number.isFinite(r.epsilon) && r.epsilon > 0, () => `${where}: epsilon must be a finite number > 0, got ${r.epsilon}`);
  return r;
}

/**
 * A named group of variables with its own Adam (e.g. 'theta' for the LM, 'phi' for the temperature head); `onHost`:
 * the moments in host memory (HostAdam).
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
  const cfg = resolveConfig(config, 'createParamGroup');
  return { name, variables: [...variables], config: Object.freeze(cfg), optimizer: makeAdam(cfg, o.onHost ?? false) };
}

/**
 * One Adam step on the group's variables. `grads` is keyed by variable name (as from tf.variableGrads) and must hold
 * a gradient of the right shape for every variable of the group; names of other groups' variables are ignored, so one
 * map from a joint backward pass can be handed to each group. The grads are not disposed.
 */
export function applyGroupGradients(group: ParamGroup, grads: tf.NamedTensorMap): void {
  const ordered: { name: string; tensor: tf.Tensor }[] = group.variables.map((v) => {
    const g = grads[v.name];
    check(g instanceof tf.Tensor, () => `applyGroupGradients: no gradient for variable '${v.name}' of group '${group.name}'`);
    check(g.shape.length === v.shape.length && g.shape.every((d, i) => d === v.shape[i]),
      () => `applyGroupGradients: gradient for '${v.name}' is [${g.shape}], the variable is [${v.shape}]`);
    return { name: v.name, tensor: g };
  });
  if (group.optimizer instanceof HostAdam) {
    // `ordered` follows group.variables; the group's own host buffers take the gradients (no new allocation).
    const host = group.optimizer.grads;
    host.clear();
    group.variables.forEach((v, i) => host.add(v, ordered[i].tensor));
    group.optimizer.step(group.variables, group.variables.map((v) => host.get(v)!));
    host.clear();
    return;
  }
  group.optimizer.applyGradients(ordered);
}

/**
 * One Adam step of a host group from gradients collected on the host (a streamed backward pass), clipped to a global
 * norm of `maxNorm` (≤ 0 or Infinity: no clipping) as clipByGlobalNorm does. A variable with no gradient gets a zero
 * one. Returns the norm before clipping; a non-finite norm skips the step.
 */
export function applyHostGradients(group: ParamGroup, grads: HostGrads, maxNorm: number): number {
  check(group.optimizer instanceof HostAdam, () => `applyHostGradients: group '${group.name}' keeps its Adam on the backend`);
  const norm = grads.norm(group.variables);
  if (!Number.isFinite(norm)) return norm;
  const clip = maxNorm > 0 && Number.isFinite(maxNorm) && norm > maxNorm;
  group.optimizer.step(group.variables, group.variables.map((v) => grads.get(v) ?? new Float32Array(v.size)), clip ? maxNorm / norm : 1);
  return norm;
}

/** Changes the group's learning rate (for schedules); Adam reads it at every step. */
export function setLearningRate(group: ParamGroup, learningRate: number): void {
  check(Number.isFinite(learningRate) && learningRate >= 0, () => `setLearningRate: learningRate must be a finite number ≥ 0, got ${learningRate}`);
  (group.optimizer as unknown as { learningRate: number }).learningRate = learningRate; // both kinds read it per step
  group.config = Object.freeze({ ...group.config, learningRate });
}

interface AdamInternals {
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
  accumulatedFirstMoment: { variable: tf.Variable }[];
  accumulatedSecondMoment: { variable: tf.Variable }[];
}

function internals(opt: tf.AdamOptimizer): AdamInternals {
  const i = opt as unknown as Partial<AdamInternals>;
  if (!(i.accBeta1 instanceof tf.Variable) || !(i.accBeta2 instanceof tf.Variable) || !Array.isArray(i.accumulatedFirstMoment) || !Array.isArray(i.accumulatedSecondMoment)) {
    throw new KitError('optimizer state: this TF.js AdamOptimizer lacks accBeta1/accBeta2/accumulated*Moment (written for TF.js 4.22)');
  }
  return i as AdamInternals;
}

/** A host copy of the group's Adam state (the moments, the step count and the bias-correction products). */
export async function optimizerState(group: ParamGroup): Promise<OptimizerState> {
  const base = { name: group.name, kind: 'adam' as const, config: { ...group.config }, variableShapes: group.variables.map((v) => [...v.shape]) };
  if (group.optimizer instanceof HostAdam) {
    // The same layout as TF.js's getWeights (iter, every m, every v), sharing the host arrays (no copy).
    const h = group.optimizer;
    const moments = (which: 'm' | 'v') => (which === 'm' ? h.m : h.v).map((data, k): SavedWeight => ({ name: `${group.variables[k].name}/${which}`, shape: [...group.variables[k].shape], dtype: 'float32', data }));
    return { ...base, accBeta1: h.accBeta1, accBeta2: h.accBeta2, weights: [{ name: 'iter', shape: [], dtype: 'int32', data: Int32Array.of(h.iterations) }, ...moments('m'), ...moments('v')] };
  }
  const inner = internals(group.optimizer);
  const named = await group.optimizer.getWeights();
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
  return { ...base, accBeta1: (await inner.accBeta1.data())[0], accBeta2: (await inner.accBeta2.data())[0], weights };
}

/**
 * Replaces the group's optimiser with one holding `state` (disposing the old one). The state must come from a group
 * of the same name whose variables have the same shapes in the same order; the learning rate and betas come from the
 * state. Errors: KitError naming the mismatch.
 */
export async function restoreOptimizer(group: ParamGroup, state: OptimizerState): Promise<void> {
  const where = `restoreOptimizer(${group.name})`;
  check(state && state.kind === 'adam', () => `${where}: state.kind must be 'adam', got '${state?.kind}'`);
  check(state.name === group.name, () => `${where}: the state belongs to group '${state.name}'`);
  const cfg = resolveConfig(state.config, `${where}: state.config`);
  const n = group.variables.length;
  check(state.variableShapes.length === n, () => `${where}: the state has ${state.variableShapes.length} variables, the group ${n}`);
  group.variables.forEach((v, i) => check(sameShape(state.variableShapes[i], v.shape),
    () => `${where}: variable ${i} ('${v.name}') is [${v.shape}], the state has [${state.variableShapes[i]}]`));
  const w = state.weights;
  check(w.length === 1 || w.length === 1 + 2 * n, () => `${where}: state.weights has ${w.length} entries, expected 1 or ${1 + 2 * n}`);
  check(w[0].name === 'iter' && w[0].shape.length === 0 && w[0].data.length === 1, () => `${where}: state.weights[0] must be the scalar 'iter'`);
  for (let k = 1; k < w.length; k++) {
    const v = group.variables[(k - 1) % n];
    check(w[k].dtype === 'float32' && sameShape(w[k].shape, v.shape) && w[k].data.length === v.size,
      () => `${where}: state.weights[${k}] ('${w[k].name}') must be float32 [${v.shape}] like '${v.name}', got ${w[k].dtype} [${w[k].shape}] with ${w[k].data.length} values`);
  }
  check(Number.isFinite(state.accBeta1) && Number.isFinite(state.accBeta2), () => `${where}: accBeta1/accBeta2 must be finite numbers`);

  if (group.optimizer instanceof HostAdam) {
    const h = new HostAdam(cfg.learningRate, cfg.beta1, cfg.beta2, cfg.epsilon);
    h.iterations = Number(w[0].data[0]);
    h.accBeta1 = Math.fround(state.accBeta1);
    h.accBeta2 = Math.fround(state.accBeta2);
    if (w.length > 1) {
      h.m = w.slice(1, 1 + n).map((x) => Float32Array.from(x.data));
      h.v = w.slice(1 + n).map((x) => Float32Array.from(x.data));
    }
    group.optimizer = h;
    group.config = Object.freeze(cfg);
    return;
  }

  const opt = tf.train.adam(cfg.learningRate, cfg.beta1, cfg.beta2, cfg.epsilon);
  const tensors = w.map((x, k) => ({
    name: k === 0 ? 'iter' : `${group.variables[(k - 1) % n].name}/${k <= n ? 'm' : 'v'}`,
    tensor: tf.tensor(x.data, x.shape, x.dtype),
  }));
  try {
    await opt.setWeights(tensors);
  } finally {
    tf.dispose(tensors.map((t) => t.tensor));
  }
  const inner = internals(opt);
  tf.tidy(() => {
    inner.accBeta1.assign(tf.scalar(state.accBeta1));
    inner.accBeta2.assign(tf.scalar(state.accBeta2));
  });
  group.optimizer.dispose();
  group.optimizer = opt;
  group.config = Object.freeze(cfg);
}

/** Disposes the group's optimiser state (not its variables). */
export function disposeParamGroup(group: ParamGroup): void {
  if (group.optimizer instanceof HostAdam) {
    group.optimizer.m = [];
    group.optimizer.v = [];
    group.optimizer.grads.release();
  } else group.optimizer.dispose();
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
