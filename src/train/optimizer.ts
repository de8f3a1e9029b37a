// A parameter group's optimiser behind one interface, wherever its state lives. θ (the LM) and φ (the temperature
// head) each have a ParamGroup with its own Adam; θ's keeps its moments either on the backend (TF.js's AdamOptimizer,
// DeviceAdam in src/rl/grpo/optim.ts) or in host memory (HostAdam, src/rl/grpo/host-adam.ts: a model the backend
// holds only once). The GRPO update, SFT, and checkpoint save / resume go through GroupOptimizer and this module's
// functions, and never ask which kind they have.
//
// Two things differ between the kinds, and the interface says both:
//   * how a step's gradients are gathered (`backward`): a device optimiser takes them as backend tensors from
//     ordinary autodiff; a host optimiser has a streamed backward pass hand them to its host buffers as they are
//     computed (Decoder.streamedGrads), so that the backend never holds all of θ's gradients;
//   * where the moments are: the saved state (OptimizerState) has one layout for both, so a checkpoint written with
//     one kind restores into the other.
// This module sits below src/rl (checkpoints in src/train read and write the state through it); the two
// implementations and createParamGroup are in src/rl/grpo.
import * as tf from '@tensorflow/tfjs';
import { check } from '../errors';
import type { GradSink } from '../lm/streamed-backward';

export interface AdamConfig {
  learningRate: number;
  /** Default 0.9. */
  beta1?: number;
  /** Default 0.999. */
  beta2?: number;
  /** Default 1e-8 (PyTorch's default; TF.js would otherwise use the backend's epsilon, 1e-7 or 1e-4 on float16 WebGL). */
  epsilon?: number;
}

/** The config with its defaults filled in, checked (KitError naming `where` and the key). */
export function resolveAdamConfig(c: AdamConfig, where: string): Required<AdamConfig> {
  const r = { beta1: 0.9, beta2: 0.999, epsilon: 1e-8, ...Object.fromEntries(Object.entries(c).filter(([, v]) => v !== undefined)) } as Required<AdamConfig>;
  check(Number.isFinite(r.learningRate) && r.learningRate >= 0, () => `${where}: learningRate must be a finite number ≥ 0, got ${r.learningRate}`);
  check(Number.isFinite(r.beta1) && r.beta1 >= 0 && r.beta1 < 1, () => `${where}: beta1 must be in [0, 1), got ${r.beta1}`);
  check(Number.isFinite(r.beta2) && r.beta2 >= 0 && r.beta2 < 1, () => `${where}: beta2 must be in [0, 1), got ${r.beta2}`);
  check(Number.isFinite(r.epsilon) && r.epsilon > 0, () => `${where}: epsilon must be a finite number > 0, got ${r.epsilon}`);
  return r;
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

/** The part of OptimizerState an optimiser holds (the rest is the group's). */
export type AdamMoments = Pick<OptimizerState, 'accBeta1' | 'accBeta2' | 'weights'>;

/** Where an optimiser keeps its moments: on the TF.js backend, or in host memory. */
export type OptimizerPlacement = 'device' | 'host';

/**
 * The backward pass of one loss, in the two forms an optimiser may ask for (GroupOptimizer.backward calls one of
 * them, once). The loss depends on the group's variables and possibly on `extra` ones outside the group (φ's, when
 * the group is θ and both train in one pass).
 */
export interface BackwardPass {
  /** Ordinary autodiff (tf.variableGrads) over `vars`: the loss and every variable's gradient as a backend tensor. */
  tensors(vars: tf.Variable[]): { value: tf.Scalar; grads: tf.NamedTensorMap };
  /**
   * A streamed backward pass (Decoder.streamedGrads): the model's parameters' gradients are handed to `sink` as they
   * are computed; those of `extra` are returned in order as backend tensors.
   */
  streamed(sink: GradSink, extra: tf.Variable[]): { value: number; grads: tf.Tensor[] };
}

/**
 * The Adam of one parameter group. The methods that take `variables` are given the group's variables, always in
 * the group's order (moments are matched to variables by position).
 */
export interface GroupOptimizer {
  readonly placement: OptimizerPlacement;
  /** Steps taken (restored from a checkpoint). */
  readonly iterations: number;
  /** The learning rate of the next steps (schedules; see setLearningRate). */
  setLearningRate(learningRate: number): void;
  /** One Adam step from backend gradients of `variables` (same order and shapes), as given (no clipping); not disposed. */
  applyGradients(variables: readonly tf.Variable[], grads: readonly tf.Tensor[]): void;
  /**
   * Runs `pass` the way this optimiser takes its gradients (device: `pass.tensors` over the variables and `extra`;
   * host: `pass.streamed` into its host buffers) and keeps the group's gradients for stepGathered. Returns the
   * gradients of `extra` in order, backend tensors the caller disposes. `accumulate`: add them to the gradients
   * gathered since the last step (the micro-batches of one update, each loss already scaled to its share of the
   * whole batch's loss); otherwise earlier gathered gradients are dropped first.
   */
  backward(variables: readonly tf.Variable[], pass: BackwardPass, extra: readonly tf.Variable[], accumulate?: boolean): tf.Tensor[];
  /**
   * One Adam step from the gradients gathered since the last step (one backward, or the sum of an accumulation),
   * clipped to a global L2 norm of `maxNorm` (≤ 0 or Infinity: no clipping); then they are dropped. Returns the norm
   * before clipping; a non-finite norm skips the step.
   */
  stepGathered(variables: readonly tf.Variable[], maxNorm: number): number;
  /** A host copy of the moments (a host optimiser may share its own arrays: written, not kept, by the caller). */
  moments(variables: readonly tf.Variable[]): Promise<AdamMoments>;
  /** A new optimiser of the same placement holding `state` (already checked against the group by restoreOptimizer). */
  restored(variables: readonly tf.Variable[], config: Required<AdamConfig>, state: OptimizerState): Promise<GroupOptimizer>;
  /** Frees the moments and any gathered gradients (not the variables). */
  dispose(): void;
}

export interface ParamGroup {
  /** 'theta', 'phi', ...: saved with the state and checked on restore. */
  readonly name: string;
  /** The variables this group updates, in a fixed order (moments are matched to them by position). */
  readonly variables: readonly tf.Variable[];
  /** Updated by setLearningRate and restoreOptimizer. */
  config: Readonly<Required<AdamConfig>>;
  /** Replaced by restoreOptimizer. */
  optimizer: GroupOptimizer;
}

/** Whether the group's Adam moments live in host memory. */
export function isOnHost(group: ParamGroup): boolean {
  return group.optimizer.placement === 'host';
}

/**
 * One Adam step on the group's variables. `grads` is keyed by variable name (as from tf.variableGrads) and must hold
 * a gradient of the right shape for every variable of the group; names of other groups' variables are ignored, so one
 * map from a joint backward pass can be handed to each group. The grads are not disposed.
 */
export function applyGroupGradients(group: ParamGroup, grads: tf.NamedTensorMap): void {
  const ordered = group.variables.map((v) => {
    const g = grads[v.name];
    check(g instanceof tf.Tensor, () => `applyGroupGradients: no gradient for variable '${v.name}' of group '${group.name}'`);
    check(
      g.shape.length === v.shape.length && g.shape.every((d, i) => d === v.shape[i]),
      () => `applyGroupGradients: gradient for '${v.name}' is [${g.shape}], the variable is [${v.shape}]`,
    );
    return g;
  });
  group.optimizer.applyGradients(group.variables, ordered);
}

/** Changes the group's learning rate (for schedules); Adam reads it at every step. */
export function setLearningRate(group: ParamGroup, learningRate: number): void {
  check(Number.isFinite(learningRate) && learningRate >= 0, () => `setLearningRate: learningRate must be a finite number ≥ 0, got ${learningRate}`);
  group.optimizer.setLearningRate(learningRate);
  group.config = Object.freeze({ ...group.config, learningRate });
}

/** A host copy of the group's Adam state (the moments, the step count and the bias-correction products). */
export async function optimizerState(group: ParamGroup): Promise<OptimizerState> {
  const base = { name: group.name, kind: 'adam' as const, config: { ...group.config }, variableShapes: group.variables.map((v) => [...v.shape]) };
  const { accBeta1, accBeta2, weights } = await group.optimizer.moments(group.variables);
  return { ...base, accBeta1, accBeta2, weights };
}

/**
 * Replaces the group's optimiser with one of the same placement holding `state` (disposing the old one). The state
 * must come from a group of the same name whose variables have the same shapes in the same order (of either
 * placement); the learning rate and betas come from the state. Errors: KitError naming the mismatch.
 */
export async function restoreOptimizer(group: ParamGroup, state: OptimizerState): Promise<void> {
  const where = `restoreOptimizer(${group.name})`;
  check(state && state.kind === 'adam', () => `${where}: state.kind must be 'adam', got '${state?.kind}'`);
  check(state.name === group.name, () => `${where}: the state belongs to group '${state.name}'`);
  const cfg = resolveAdamConfig(state.config, `${where}: state.config`);
  const n = group.variables.length;
  check(state.variableShapes.length === n, () => `${where}: the state has ${state.variableShapes.length} variables, the group ${n}`);
  group.variables.forEach((v, i) =>
    check(
      sameShape(state.variableShapes[i], v.shape),
      () => `${where}: variable ${i} ('${v.name}') is [${v.shape}], the state has [${state.variableShapes[i]}]`,
    ),
  );
  const w = state.weights;
  check(w.length === 1 || w.length === 1 + 2 * n, () => `${where}: state.weights has ${w.length} entries, expected 1 or ${1 + 2 * n}`);
  check(w[0].name === 'iter' && w[0].shape.length === 0 && w[0].data.length === 1, () => `${where}: state.weights[0] must be the scalar 'iter'`);
  for (let k = 1; k < w.length; k++) {
    const v = group.variables[(k - 1) % n];
    check(
      w[k].dtype === 'float32' && sameShape(w[k].shape, v.shape) && w[k].data.length === v.size,
      () =>
        `${where}: state.weights[${k}] ('${w[k].name}') must be float32 [${v.shape}] like '${v.name}', got ${w[k].dtype} [${w[k].shape}] with ${w[k].data.length} values`,
    );
  }
  check(Number.isFinite(state.accBeta1) && Number.isFinite(state.accBeta2), () => `${where}: accBeta1/accBeta2 must be finite numbers`);
  const next = await group.optimizer.restored(group.variables, cfg, state);
  group.optimizer.dispose();
  group.optimizer = next;
  group.config = Object.freeze(cfg);
}

/** Disposes the group's optimiser state (not its variables). */
export function disposeParamGroup(group: ParamGroup): void {
  group.optimizer.dispose();
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
