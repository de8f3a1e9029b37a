// The one interface behind every temperature controller π_φ(τ_t | h_t, τ_{t-1}): the high level of Introspective LLM's
// hierarchical policy (arXiv 2602.13035) and the baselines it is compared with (fixed τ, EDT, EAD, TAMPO). The rollout
// calls act() at every decoding step and records a TauSample per row; the GRPO loss calls logProb() with the recorded
// gate and z to get a differentiable log π_φ. The same head forward serves both calls.
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../rng';

/** What a controller sees at decoding step t for N rows. */
export interface TauInputs {
  /** [N, d] h_t, the decoder's final hidden state (LM-head input). Whether the temperature loss may send gradients
   *  into it is the controller's `detachHidden` option (config), not the caller's business. */
  hidden: tf.Tensor2D;
  /** [N, V] token logits at τ = 1 (entropy-based controllers and the 'features' head input). */
  logits: tf.Tensor2D;
  /** [N] τ_{t-1} (τ_0, config `tau0`, for the first generated token). */
  prevTau: tf.Tensor1D;
  /** [N] index t of the generated token (0 for the first one), float. */
  position: tf.Tensor1D;
  /** Optional, N entries: the rollout row (0 ≤ row < batch of beginRollout) of each input row, for callers that drop
   *  finished rows from the batch. Only per-rollout controllers (TAMPO) read it; default: input row i is row i. */
  rows?: Int32Array;
}

/** What a controller is told at the start of a rollout batch. */
export interface RolloutInfo {
  trainStep: number;
  batch: number;
  groups?: Int32Array;
  evaluation?: boolean;
  /** Learned controllers: return each row's head input with its decision (TauSample.headInput), for a rollout whose
   *  temperature update will run with θ frozen and so needs only these inputs, not θ's forward. */
  recordHeadInput?: boolean;
}

/** One sampled decision per row, recorded in the rollout. */
export interface TauSample {
  /** [N] τ_t used to sample the token. */
  tau: Float32Array;
  /** [N] c_t: 1 = a new τ was drawn, 0 = τ_{t-1} kept (always 1 for controllers without a gate). */
  gate: Uint8Array;
  /** [N] the raw draw that determines τ when gate = 1 (Beta: z in (0,1); categorical: the index; gaussian: the
   *  pre-squash value; TAMPO: the index into its τ set); NaN when not applicable (gate = 0, schedules). */
  z: Float32Array;
  /** [N] log π_φ(τ_t | ·) = log P(c_t) + c_t · log p(z_t); 0 for non-learned controllers. */
  logp: Float32Array;
  /** [N · k] row-major: what the head read (x_t, k = headInputWidth), when beginRollout asked for it. */
  headInput?: Float32Array;
}

/** What the rollout reports back after the rewards are known (TAMPO's meta-policy update). */
export interface ObservedRollout {
  /** [R] the τ of each rollout row (per-rollout controllers set one τ per row). */
  rowTau: Float32Array;
  /** [R] reward of each row. */
  reward: Float32Array;
  /** Optional [R] advantage of each row (e.g. GRPO's group-normalised one); default reward − mean(reward). */
  advantage?: Float32Array;
  /** Optional [R · K] row-major: the mean token log-likelihood of row r's completion at TAMPO's k-th candidate τ.
   *  When given, credit is shared across temperatures by sparsemax of these (TAMPO's "which temperature best explains
   *  the trajectory"); without it each row credits the temperature it was sampled at. */
  logLikByTau?: Float32Array;
}

export interface TemperatureController {
  readonly name: string;
  /** Has trainable parameters φ. */
  readonly learned: boolean;
  /** φ ([] when not learned). For the MLP heads the order is [W1 [in, hid], b1 [hid], W2 [hid, out], b2 [out]]. */
  variables(): tf.Variable[];
  /** Stable names for variables(), same order (checkpoint keys; the caller adds a prefix). */
  variableNames(): string[];
  /** Called once per rollout batch before decoding: trainStep for schedules; batch = number of rollout rows;
   *  groups (optional, [batch]) = row → prompt index, used by TAMPO with tampoScope 'group'; evaluation: the rollout
   *  is a held-out evaluation, not training (a learned head then acts as controller.evalAction says). */
  beginRollout(info: RolloutInfo, rng: Rng): void;
  /** Sampling time: decide τ_t for every row. Synchronous; disposes every tensor it makes; returns plain arrays. */
  act(inputs: TauInputs, rng: Rng): TauSample;
  /** Loss time: log π_φ(τ_t | ·) of recorded decisions, differentiable w.r.t. variables() (and w.r.t. inputs.hidden
   *  when detachHidden is false). gate [N] (0/1, any dtype), z [N] float32 as recorded by act(). Returns [N]. For
   *  non-learned controllers a zeros tensor. */
  logProb(inputs: TauInputs, gate: tf.Tensor1D, z: tf.Tensor1D): tf.Tensor1D;
  /** Learned controllers: the width k of the head's input x_t (h_t's d, or the number of distribution features). */
  readonly headInputWidth?: number;
  /** Learned controllers: logProb from recorded head inputs x [N, k] (TauSample.headInput) instead of θ's outputs;
   *  differentiable w.r.t. variables() only. Equals logProb of the inputs x was read from. */
  logProbFromHeadInput?(x: tf.Tensor2D, gate: tf.Tensor1D, z: tf.Tensor1D): tf.Tensor1D;
  /** Non-gradient updates from finished rollouts (TAMPO's meta-policy); absent for others. */
  observe?(rollout: ObservedRollout): void;
  /** Metrics for logging, namespaced keys e.g. 'policy/tampo_w_1.0'. */
  metrics?(): Record<string, number>;
  /** JSON-serialisable non-tensor state for checkpoints (tensor variables are saved by the caller). */
  state(): unknown;
  loadState(state: unknown): void;
  /** Releases the variables (learned controllers); the controller must not be used afterwards. */
  dispose(): void;
}
