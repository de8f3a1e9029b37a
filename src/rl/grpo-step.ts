// One GRPO update of the hierarchical policy from a finished rollout: recompute log π_θ(y_t | τ_t) and
// log π_φ(τ_t | ·) under the current parameters with one full forward, form the clipped surrogate of each with the
// shared sequence-level advantage, and step the parameter groups that the coordinate-ascent phase trains
// (src/rl/schedule.ts). The other group is frozen: it receives no gradient and its optimiser does not step.
import * as tf from '@tensorflow/tfjs';
import { ExperimentConfig } from '../config';
import { Decoder } from '../lm/model';
import { tokenLogp } from '../lm/sampling';
import { TemperatureController } from '../policy/types';
import { applyGroupGradients, BackwardPass, clipByGlobalNorm, ParamGroup } from './grpo/optim';
import { policyLoss, PolicyLossMetrics } from './grpo/loss';
import { Rollout } from './rollout';
import { trainsPhi, trainsTheta, UpdatePhase } from './schedule';

export interface UpdateContext {
  model: Decoder;
  controller: TemperatureController;
  theta: ParamGroup;
  phi: ParamGroup | null;
  /** Frozen reference policy for the KL term (only when grpo.klCoef > 0). */
  reference: Decoder | null;
  cfg: ExperimentConfig;
  tau0: number;
}

export interface UpdateMetrics {
  token: PolicyLossMetrics | null;
  temperature: PolicyLossMetrics | null;
  thetaGradNorm: number | null;
  phiGradNorm: number | null;
  skipped: boolean;
}

/**
 * The tensors of a rollout laid out for one full forward: inputs [B, P + T − 1] (prompt, then generated tokens but the
 * last), and the positions P − 1 … P + T − 2 that predict the generated tokens.
 */
function sequenceInputs(r: Rollout, padId: number): { ids: Int32Array; attn: Float32Array; len: number } {
  const { batch: B, promptLen: P, steps: T } = r;
  const Tfull = r.tokens.length / B;
  const L = P + T - 1;
  const ids = new Int32Array(B * L).fill(padId);
  const attn = new Float32Array(B * L);
  for (let b = 0; b < B; b++) {
    for (let p = 0; p < P; p++) {
      ids[b * L + p] = r.promptIds[b * P + p];
      attn[b * L + p] = r.promptMask[b * P + p];
    }
    for (let t = 0; t < T - 1; t++) {
      ids[b * L + P + t] = r.tokens[b * Tfull + t];
      attn[b * L + P + t] = 1;
    }
  }
  return { ids, attn, len: L };
}

/**
 * [B, T] slices (T = r.steps) of a rollout's per-token arrays. Positions past a row's end get `fill` (for τ: 1, so
 * that logits / τ stays finite there; a 0 would send NaN gradients through the masked positions).
 */
function perToken(r: Rollout, a: Float32Array | Uint8Array | Int32Array, dtype: 'float32' | 'int32' = 'float32', fill?: number): tf.Tensor2D {
  const B = r.batch;
  const Tfull = a.length / B;
  const out = dtype === 'int32' ? new Int32Array(B * r.steps) : new Float32Array(B * r.steps);
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < r.steps; t++) {
      const i = b * Tfull + t;
      out[b * r.steps + t] = fill !== undefined && !r.mask[i] ? fill : a[i];
    }
  }
  return tf.tensor2d(out, [B, r.steps], dtype);
}

/** Logits [B, T, V] and hidden [B, T, d] at the positions that predict the generated tokens. */
export function rolloutForward(model: Decoder, r: Rollout, padId: number): { logits: tf.Tensor3D; hidden: tf.Tensor3D } {
  const { ids, attn, len } = sequenceInputs(r, padId);
  // The LM head runs on the generated positions only (a prompt's logits are never used).
  // The sequence has P + T - 1 positions; the last T predict the generated tokens.
  const out = model.forward(tf.tensor2d(ids, [r.batch, len], 'int32'), attn, undefined, { headFrom: r.promptLen - 1 });
  return { logits: out.logits as tf.Tensor3D, hidden: out.hidden as tf.Tensor3D };
}

/** The controller's view of every generated position, flattened to N = B·T rows. */
function tauInputs(r: Rollout, logits: tf.Tensor3D, hidden: tf.Tensor3D, tau0: number) {
  const B = r.batch;
  const T = r.steps;
  const Tfull = r.tau.length / B;
  const prev = new Float32Array(B * T);
  const pos = new Float32Array(B * T);
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      prev[b * T + t] = t === 0 || !r.mask[b * Tfull + t - 1] ? tau0 : r.tau[b * Tfull + t - 1];
      pos[b * T + t] = t;
    }
  }
  const N = B * T;
  return {
    hidden: tf.reshape(hidden, [N, hidden.shape[2]]) as tf.Tensor2D,
    logits: tf.reshape(logits, [N, logits.shape[2]]) as tf.Tensor2D,
    prevTau: tf.tensor1d(prev),
    position: tf.tensor1d(pos),
  };
}

/**
 * One optimisation pass (an "epoch") over a rollout in the given phase. `frozen`: the θ forward of this rollout when
 * θ does not train in this phase and the caller reuses it over several passes (it is not disposed here).
 */
export function grpoUpdate(ctx: UpdateContext, r: Rollout, advantages: Float32Array, phase: UpdatePhase, padId: number, frozen?: { logits: tf.Tensor3D; hidden: tf.Tensor3D }): UpdateMetrics {
  const { cfg, model, controller } = ctx;
  const g = cfg.grpo;
  const metrics: UpdateMetrics = { token: null, temperature: null, thetaGradNorm: null, phiGradNorm: null, skipped: false };
  const wantTheta = trainsTheta(phase);
  const wantPhi = trainsPhi(phase) && ctx.phi !== null;
  const mask = perToken(r, r.mask);
  const adv = tf.tensor1d(advantages);
  const tauT = perToken(r, r.tau, 'float32', 1);
  const tokens = perToken(r, r.tokens, 'int32');
  const oldTok = perToken(r, r.logpTok);
  const oldTau = perToken(r, r.logpTau);
  const gate = tf.tidy(() => tf.reshape(perToken(r, r.gate), [-1])) as tf.Tensor1D;
  const z = tf.tidy(() => tf.reshape(perToken(r, r.z), [-1])) as tf.Tensor1D;
  const refLogp = ctx.reference && g.klCoef > 0
    ? tf.tidy(() => tokenLogp(rolloutForward(ctx.reference!, r, padId).logits, tauT, tokens))
    : null;
  // With θ frozen the forward needs no gradient: run it once outside the tape.
  if (frozen && wantTheta) throw new Error('grpoUpdate: a frozen forward was passed for a phase that trains θ');
  const frozenForward = wantTheta ? null : frozen ?? tf.tidy(() => rolloutForward(model, r, padId));
  const lossOpts = { mask, advantages: adv, clipLow: g.clipLow, clipHigh: g.clipHigh, aggregation: g.aggregation, normLength: cfg.rollout.maxNewTokens };
  const lossOf = (fw: { logits: tf.Tensor3D; hidden: tf.Tensor3D }): tf.Scalar => {
    let total = tf.scalar(0);
    if (wantTheta) {
      const logp = tokenLogp(fw.logits, tauT, tokens);
      const out = policyLoss({ ...lossOpts, logpNew: logp, logpOld: oldTok, refLogp: refLogp ?? undefined, klCoef: refLogp ? g.klCoef : 0 });
      metrics.token = out.metrics;
      total = tf.add(total, out.loss);
    }
    if (wantPhi) {
      const inp = tauInputs(r, fw.logits, fw.hidden, ctx.tau0);
      const logp = tf.reshape(controller.logProb(inp, gate, z), [r.batch, r.steps]);
      const out = policyLoss({ ...lossOpts, logpNew: logp, logpOld: oldTau });
      metrics.temperature = out.metrics;
      total = tf.add(total, out.loss);
    }
    return total as tf.Scalar;
  };
  const phiVars = (wantPhi ? ctx.phi!.variables : []) as tf.Variable[];
  // One backward pass. θ's optimiser runs it the way it takes its gradients: as backend tensors (ordinary autodiff),
  // or, with its Adam on the host (a model the backend holds only once), streamed to host memory during the backward
  // pass instead of all being held on the backend (Decoder.streamedGrads). It keeps θ's gradients for its step and
  // hands back φ's. With θ frozen, only φ's are computed, from the frozen forward.
  const pass: BackwardPass = {
    tensors: (vars) => tf.variableGrads(() => lossOf(frozenForward ?? rolloutForward(model, r, padId)), vars),
    streamed: (sink, extra) => {
      const { ids, attn, len } = sequenceInputs(r, padId);
      return model.streamedGrads(ids, [r.batch, len], attn, r.promptLen - 1, sink, (fw) => lossOf(fw as { logits: tf.Tensor3D; hidden: tf.Tensor3D }), extra);
    },
  };
  let phiGrads: tf.Tensor[];
  if (wantTheta) phiGrads = ctx.theta.optimizer.backward(ctx.theta.variables, pass, phiVars);
  else {
    const res = pass.tensors(phiVars);
    res.value.dispose();
    phiGrads = phiVars.map((v) => res.grads[v.name]);
  }
  const maxNorm = g.maxGradNorm > 0 ? g.maxGradNorm : Infinity;
  const stepTheta = (): number => {
    const norm = ctx.theta.optimizer.stepGathered(ctx.theta.variables, maxNorm);
    if (!Number.isFinite(norm)) metrics.skipped = true;
    return norm;
  };
  const stepPhi = (group: ParamGroup): number => {
    const own: tf.NamedTensorMap = {};
    group.variables.forEach((v, i) => { own[v.name] = phiGrads[i]; });
    const clipped = clipByGlobalNorm(own, maxNorm);
    if (Number.isFinite(clipped.norm)) applyGroupGradients(group, clipped.grads);
    else metrics.skipped = true;
    tf.dispose(Object.values(clipped.grads));
    return clipped.norm;
  };
  metrics.thetaGradNorm = wantTheta ? stepTheta() : null;
  metrics.phiGradNorm = wantPhi ? stepPhi(ctx.phi!) : null;
  tf.dispose([...phiGrads, mask, adv, tauT, tokens, oldTok, oldTau, gate, z]);
  if (refLogp) refLogp.dispose();
  if (frozenForward && !frozen) tf.dispose([frozenForward.logits, frozenForward.hidden]);
  return metrics;
}

/** What phiGradientDiagnostics measures at one step (see there). */
export interface PhiDiagnostics {
  /** Cosine between the φ gradients of the batch's two halves of prompt groups. */
  halfCosine: number;
  /** Share of the φ gradient that comes from the top-quintile-entropy tokens: ⟨g_high, g⟩ / ‖g‖². */
  highEntropyShare: number;
  /** The entropy threshold (τ = 1, nats) of those tokens, and their share of the batch's tokens. */
  highEntropyThreshold: number;
  highEntropyTokens: number;
  /** ‖g‖ of the whole batch, before clipping. */
  norm: number;
}

/**
 * The temperature loss's gradient as a signal: at the current φ (before this step's update), the φ gradient of the
 * batch's first half of prompt groups and of its second half (each its own token mean; the cosine between them is
 * ≈ 0 when the gradient is noise and → 1 when both halves agree on a direction), and the share of the whole batch's
 * gradient that comes from its highest-entropy tokens (entropy at τ = 1 at or above the batch's 80th percentile;
 * with token-mean aggregation the gradient is a sum over tokens, so the high and low shares add up to 1). The θ
 * forward is the frozen one of the step (θ does not move here). Needs at least two prompt groups.
 */
export function phiGradientDiagnostics(ctx: UpdateContext, r: Rollout, advantages: Float32Array, padId: number, groupSize: number,
  frozen: { logits: tf.Tensor3D; hidden: tf.Tensor3D }): PhiDiagnostics | null {
  const { cfg, controller } = ctx;
  const phi = ctx.phi;
  const groups = r.batch / groupSize;
  if (!phi || !Number.isInteger(groups) || groups < 2) return null;
  const g = cfg.grpo;
  const Tfull = r.tau.length / r.batch;
  const present: number[] = [];
  for (let b = 0; b < r.batch; b++) for (let t = 0; t < r.steps; t++) if (r.mask[b * Tfull + t]) present.push(r.entropy[b * Tfull + t]);
  if (present.length === 0) return null;
  const sorted = present.slice().sort((a, b) => a - b);
  const threshold = sorted[Math.min(sorted.length - 1, Math.floor(0.8 * sorted.length))];
  const half = Math.floor(groups / 2) * groupSize;
  const masks = {
    all: (_b: number, _t: number) => true,
    first: (b: number) => b < half,
    second: (b: number) => b >= half,
    high: (b: number, t: number) => r.entropy[b * Tfull + t] >= threshold,
  };
  const gradOf = (keep: (b: number, t: number) => boolean): { flat: Float32Array; tokens: number } => {
    const m = new Float32Array(r.batch * r.steps);
    let tokens = 0;
    for (let b = 0; b < r.batch; b++) for (let t = 0; t < r.steps; t++) if (r.mask[b * Tfull + t] && keep(b, t)) { m[b * r.steps + t] = 1; tokens++; }
    if (tokens === 0) return { flat: new Float32Array(0), tokens };
    const flat = tf.tidy(() => {
      const mask = tf.tensor2d(m, [r.batch, r.steps]);
      const gate = tf.reshape(perToken(r, r.gate), [-1]) as tf.Tensor1D;
      const z = tf.reshape(perToken(r, r.z), [-1]) as tf.Tensor1D;
      const oldTau = perToken(r, r.logpTau);
      const { grads, value } = tf.variableGrads(() => {
        const inp = tauInputs(r, frozen.logits, frozen.hidden, ctx.tau0);
        const logp = tf.reshape(controller.logProb(inp, gate, z), [r.batch, r.steps]);
        return policyLoss({ mask, advantages: tf.tensor1d(advantages), clipLow: g.clipLow, clipHigh: g.clipHigh, aggregation: g.aggregation,
          normLength: cfg.rollout.maxNewTokens, logpNew: logp, logpOld: oldTau }).loss;
      }, phi.variables as tf.Variable[]);
      value.dispose();
      return tf.concat(phi.variables.map((v) => tf.reshape(grads[v.name], [-1])));
    });
    const out = flat.dataSync() as Float32Array;
    flat.dispose();
    return { flat: out, tokens };
  };
  const dot = (a: Float32Array, b: Float32Array) => a.reduce((s, x, i) => s + x * b[i], 0);
  const all = gradOf(masks.all);
  const a = gradOf(masks.first);
  const b = gradOf(masks.second);
  const high = gradOf(masks.high);
  const nAll = dot(all.flat, all.flat);
  const cos = a.tokens && b.tokens ? dot(a.flat, b.flat) / Math.sqrt(dot(a.flat, a.flat) * dot(b.flat, b.flat)) : NaN;
  // token-mean: the high tokens' part of the whole gradient is their own mean's gradient × N_high / N
  const share = high.tokens && nAll > 0 ? (dot(high.flat, all.flat) * high.tokens) / all.tokens / nAll : NaN;
  return { halfCosine: cos, highEntropyShare: share, highEntropyThreshold: threshold, highEntropyTokens: high.tokens / all.tokens, norm: Math.sqrt(nAll) };
}
