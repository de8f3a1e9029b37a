// One GRPO update of the hierarchical policy from a finished rollout: recompute log π_θ(y_t | τ_t) and
// log π_φ(τ_t | ·) under the current parameters with one full forward, form the clipped surrogate of each with the
// shared sequence-level advantage, and step the parameter groups that the coordinate-ascent phase trains
// (src/rl/schedule.ts). The other group is frozen: it receives no gradient and its optimiser does not step.
import * as tf from '@tensorflow/tfjs';
import { ExperimentConfig } from '../config';
import { check } from '../errors';
import { Decoder } from '../lm/model';
import { tokenLogp } from '../lm/sampling';
import { TemperatureController } from '../policy/types';
import { applyGroupGradients, BackwardPass, clipByGlobalNorm, ParamGroup } from './grpo/optim';
import { AggregationOptions } from './grpo/aggregation';
import { policyLoss, PolicyLossMetrics } from './grpo/loss';
import { cutRows, Rollout, sliceRollout } from './rollout';
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
  // The G rows of a prompt share its positions' computation (execution.sharePrefix).
  const out = model.forward(tf.tensor2d(ids, [r.batch, len], 'int32'), attn, undefined, { headFrom: r.promptLen - 1, sharePrefix: r.promptLen });
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

/** The head inputs a rollout recorded (Rollout.headInput) as [B · T, width] rows, T = r.steps (zeros past a row's end). */
function recordedHeadInputs(r: Rollout): tf.Tensor2D {
  const { width, data } = r.headInput!;
  return tf.tensor2d(cutRows(data, r.tokens.length / r.batch, 0, r.batch, r.steps, width), [r.batch * r.steps, width]);
}

/**
 * log π_φ [B, T] of a rollout's recorded decisions at the current φ: from the head inputs the rollout recorded when it
 * has them and θ is frozen (θ is then what generated the rollout, so these are the inputs θ's forward would give, up
 * to rounding, and they are the very inputs the recorded log π_φ was computed from), else from θ's forward `fw`.
 */
function phiLogp(ctx: UpdateContext, r: Rollout, fw: FrozenForward | null, gate: tf.Tensor1D, z: tf.Tensor1D): tf.Tensor2D {
  const { controller } = ctx;
  if (fw === null) {
    check(r.headInput !== undefined && controller.logProbFromHeadInput !== undefined, 'grpoUpdate: no forward of θ and no recorded head inputs');
    return tf.tidy(() => tf.reshape(controller.logProbFromHeadInput!(recordedHeadInputs(r), gate, z), [r.batch, r.steps])) as tf.Tensor2D;
  }
  return tf.tidy(() => tf.reshape(controller.logProb(tauInputs(r, fw.logits, fw.hidden, ctx.tau0), gate, z), [r.batch, r.steps])) as tf.Tensor2D;
}

/** Whether a θ-frozen pass over `r` reads log π_φ from the rollout's recorded head inputs (no θ forward needed). */
export function usesRecordedHeadInputs(r: Rollout): boolean {
  return r.headInput !== undefined;
}

/** The forward of θ over a rollout that a frozen-θ pass reuses. */
export type FrozenForward = { logits: tf.Tensor3D; hidden: tf.Tensor3D };

/** The row ranges [b0, b1) of a batch of `batch` rows in micro-batches of at most `rows` rows. */
export function microBatches(batch: number, rows: number): [number, number][] {
  check(Number.isInteger(rows) && rows > 0, () => `microBatches: rows per micro-batch must be a positive integer, got ${rows}`);
  const out: [number, number][] = [];
  for (let b = 0; b < batch; b += rows) out.push([b, Math.min(batch, b + rows)]);
  return out;
}

/**
 * The whole batch's loss denominators (src/rl/grpo/aggregation.ts) for the rows and tokens where `keep` holds:
 * handed to every micro-batch's loss, so that the micro-batch losses (and their gradients) add up to the whole
 * batch's.
 */
function batchTotals(r: Rollout, keep: (b: number, t: number) => boolean = () => true): { totalTokens: number; totalSequences: number } {
  const Tfull = r.tokens.length / r.batch;
  let tokens = 0;
  let sequences = 0;
  for (let b = 0; b < r.batch; b++) {
    let n = 0;
    for (let t = 0; t < r.steps; t++) if (r.mask[b * Tfull + t] && keep(b, t)) n++;
    tokens += n;
    if (n > 0) sequences++;
  }
  return { totalTokens: Math.max(tokens, 1), totalSequences: Math.max(sequences, 1) };
}

/** Loss metrics of micro-batches (each loss already its share of the whole batch's) as those of the whole batch. */
export function combineLossMetrics(parts: PolicyLossMetrics[]): PolicyLossMetrics | null {
  if (parts.length === 0) return null;
  if (parts.length === 1) return parts[0];
  const tokens = parts.reduce((n, m) => n + m.numTokens, 0);
  const w = (f: (m: PolicyLossMetrics) => number, empty: number) => (tokens > 0 ? parts.reduce((a, m) => a + f(m) * m.numTokens, 0) / tokens : empty);
  const sum = (f: (m: PolicyLossMetrics) => number) => parts.reduce((a, m) => a + f(m), 0);
  const withTokens = parts.filter((m) => m.numTokens > 0);
  return {
    loss: sum((m) => m.loss),
    pgLoss: sum((m) => m.pgLoss),
    kl: parts[0].kl === null ? null : sum((m) => m.kl ?? 0),
    clipFraction: w((m) => m.clipFraction, 0),
    clipFractionHigh: w((m) => m.clipFractionHigh, 0),
    clipFractionLow: w((m) => m.clipFractionLow, 0),
    ratioMean: w((m) => m.ratioMean, 1),
    ratioMin: withTokens.length ? Math.min(...withTokens.map((m) => m.ratioMin)) : 1,
    ratioMax: withTokens.length ? Math.max(...withTokens.map((m) => m.ratioMax)) : 1,
    approxKlOld: w((m) => m.approxKlOld, 0),
    numTokens: tokens,
    numSequences: sum((m) => m.numSequences),
  };
}

/**
 * One optimisation pass (an "epoch") over a rollout in the given phase, in micro-batches of at most `microRows` rows
 * (the run plan's update_rows; default the whole batch): each micro-batch's forward and backward pass runs on its own,
 * its loss normalised by the whole batch's token (or sequence) count, and the gradients add up to the whole batch's
 * before one clipped optimiser step per group. `frozen`: the θ forward of this rollout when θ does not train in this
 * phase and the caller reuses it over several passes (it is not disposed here; only with one micro-batch).
 */
export function grpoUpdate(
  ctx: UpdateContext,
  r: Rollout,
  advantages: Float32Array,
  phase: UpdatePhase,
  padId: number,
  frozen?: FrozenForward,
  microRows = r.batch,
): UpdateMetrics {
  const { cfg } = ctx;
  const g = cfg.grpo;
  const metrics: UpdateMetrics = { token: null, temperature: null, thetaGradNorm: null, phiGradNorm: null, skipped: false };
  const wantTheta = trainsTheta(phase);
  const wantPhi = trainsPhi(phase) && ctx.phi !== null;
  if (frozen && wantTheta) throw new Error('grpoUpdate: a frozen forward was passed for a phase that trains θ');
  const slices = microBatches(r.batch, microRows);
  check(!frozen || slices.length === 1, 'grpoUpdate: a frozen forward of the whole batch was passed for an update in micro-batches');
  // With one micro-batch the loss normalises itself (bit-identical to a run without micro-batches).
  const totals = slices.length === 1 ? {} : batchTotals(r);
  const phiVars = (wantPhi ? ctx.phi!.variables : []) as tf.Variable[];
  const tokenParts: PolicyLossMetrics[] = [];
  const tempParts: PolicyLossMetrics[] = [];
  let phiGrads: tf.Tensor[] = [];
  slices.forEach(([b0, b1], i) => {
    const sub = slices.length === 1 ? r : sliceRollout(r, b0, b1);
    const out = microBatchBackward(ctx, sub, advantages.subarray(b0, b1), phase, padId, frozen, totals, i > 0);
    if (out.token) tokenParts.push(out.token);
    if (out.temperature) tempParts.push(out.temperature);
    if (i === 0) phiGrads = out.phiGrads;
    else {
      const summed = phiGrads.map((x, k) => tf.add(x, out.phiGrads[k]));
      tf.dispose([...phiGrads, ...out.phiGrads]);
      phiGrads = summed;
    }
  });
  metrics.token = combineLossMetrics(tokenParts);
  metrics.temperature = combineLossMetrics(tempParts);
  const maxNorm = g.maxGradNorm > 0 ? g.maxGradNorm : Infinity;
  const stepTheta = (): number => {
    const norm = ctx.theta.optimizer.stepGathered(ctx.theta.variables, maxNorm);
    if (!Number.isFinite(norm)) metrics.skipped = true;
    return norm;
  };
  const stepPhi = (group: ParamGroup): number => {
    const own: tf.NamedTensorMap = {};
    group.variables.forEach((v, i) => {
      own[v.name] = phiGrads[i];
    });
    const clipped = clipByGlobalNorm(own, maxNorm);
    if (Number.isFinite(clipped.norm)) applyGroupGradients(group, clipped.grads);
    else metrics.skipped = true;
    tf.dispose(Object.values(clipped.grads));
    return clipped.norm;
  };
  metrics.thetaGradNorm = wantTheta ? stepTheta() : null;
  metrics.phiGradNorm = wantPhi ? stepPhi(ctx.phi!) : null;
  tf.dispose(phiGrads);
  return metrics;
}

/**
 * The backward pass of one micro-batch `r` (its rows' advantages): θ's gradients go to (or, with `accumulate`, are
 * added to) its optimiser's gathered gradients; φ's are returned. `totals`: the whole batch's loss denominators ({}
 * when `r` is the whole batch).
 */
function microBatchBackward(
  ctx: UpdateContext,
  r: Rollout,
  advantages: Float32Array,
  phase: UpdatePhase,
  padId: number,
  frozen: FrozenForward | undefined,
  totals: AggregationOptions,
  accumulate: boolean,
): { token: PolicyLossMetrics | null; temperature: PolicyLossMetrics | null; phiGrads: tf.Tensor[] } {
  const { cfg, model, controller } = ctx;
  const g = cfg.grpo;
  const wantTheta = trainsTheta(phase);
  const wantPhi = trainsPhi(phase) && ctx.phi !== null;
  const out: { token: PolicyLossMetrics | null; temperature: PolicyLossMetrics | null; phiGrads: tf.Tensor[] } = {
    token: null,
    temperature: null,
    phiGrads: [],
  };
  const mask = perToken(r, r.mask);
  const adv = tf.tensor1d(advantages);
  const tauT = perToken(r, r.tau, 'float32', 1);
  const tokens = perToken(r, r.tokens, 'int32');
  const oldTok = perToken(r, r.logpTok);
  const oldTau = perToken(r, r.logpTau);
  const gate = tf.tidy(() => tf.reshape(perToken(r, r.gate), [-1])) as tf.Tensor1D;
  const z = tf.tidy(() => tf.reshape(perToken(r, r.z), [-1])) as tf.Tensor1D;
  const refLogp = ctx.reference && g.klCoef > 0 ? tf.tidy(() => tokenLogp(rolloutForward(ctx.reference!, r, padId).logits, tauT, tokens)) : null;
  // With θ frozen the forward needs no gradient: run it once outside the tape, or not at all when the rollout
  // recorded the head's inputs.
  const recorded = !wantTheta && usesRecordedHeadInputs(r);
  const frozenForward = wantTheta || recorded ? null : (frozen ?? tf.tidy(() => rolloutForward(model, r, padId)));
  const lossOpts = {
    mask,
    advantages: adv,
    clipLow: g.clipLow,
    clipHigh: g.clipHigh,
    aggregation: g.aggregation,
    normLength: cfg.rollout.maxNewTokens,
    ...totals,
  };
  const lossOf = (fw: FrozenForward | null): tf.Scalar => {
    let total = tf.scalar(0);
    if (wantTheta) {
      const logp = tokenLogp(fw!.logits, tauT, tokens);
      const res = policyLoss({ ...lossOpts, logpNew: logp, logpOld: oldTok, refLogp: refLogp ?? undefined, klCoef: refLogp ? g.klCoef : 0 });
      out.token = res.metrics;
      total = tf.add(total, res.loss);
    }
    if (wantPhi) {
      const logp = phiLogp(ctx, r, fw, gate, z);
      const res = policyLoss({ ...lossOpts, logpNew: logp, logpOld: oldTau });
      out.temperature = res.metrics;
      total = tf.add(total, res.loss);
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
      return model.streamedGrads(ids, [r.batch, len], attn, r.promptLen - 1, sink, (fw) => lossOf(fw as FrozenForward), extra);
    },
  };
  try {
    if (wantTheta) out.phiGrads = ctx.theta.optimizer.backward(ctx.theta.variables, pass, phiVars, accumulate);
    else if (phiVars.length > 0) {
      const res = tf.variableGrads(() => lossOf(frozenForward), phiVars);
      res.value.dispose();
      out.phiGrads = phiVars.map((v) => res.grads[v.name]);
    }
  } finally {
    tf.dispose([mask, adv, tauT, tokens, oldTok, oldTau, gate, z]);
    if (refLogp) refLogp.dispose();
    if (frozenForward && !frozen) tf.dispose([frozenForward.logits, frozenForward.hidden]);
  }
  return out;
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
export function phiGradientDiagnostics(
  ctx: UpdateContext,
  r: Rollout,
  advantages: Float32Array,
  padId: number,
  groupSize: number,
  frozen: FrozenForward | null,
  microRows = r.batch,
): PhiDiagnostics | null {
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
  // Which (row, step) of the whole batch each gradient sums over.
  const keeps = {
    all: (_b: number, _t: number) => true,
    first: (b: number) => b < half,
    second: (b: number) => b >= half,
    high: (b: number, t: number) => r.entropy[b * Tfull + t] >= threshold,
  };
  type Key = keyof typeof keeps;
  const keys = Object.keys(keeps) as Key[];
  const slices = microBatches(r.batch, microRows);
  const recorded = usesRecordedHeadInputs(r);
  check(
    recorded || frozen !== null || slices.length > 1,
    'phiGradientDiagnostics: the frozen forward of the whole batch (or recorded head inputs) is needed for one micro-batch',
  );
  const size = phi.variables.reduce((n, v) => n + v.size, 0);
  const flats = Object.fromEntries(keys.map((k) => [k, new Float32Array(size)])) as Record<Key, Float32Array>;
  const tokens = Object.fromEntries(keys.map((k) => [k, batchTotals(r, keeps[k])])) as Record<Key, { totalTokens: number; totalSequences: number }>;
  const counts = Object.fromEntries(keys.map((k) => [k, 0])) as Record<Key, number>;
  for (const [b0, b1] of slices) {
    const sub = slices.length === 1 ? r : sliceRollout(r, b0, b1);
    const fw = recorded ? null : slices.length === 1 ? frozen! : tf.tidy(() => rolloutForward(ctx.model, sub, padId));
    const subTfull = sub.tau.length / sub.batch;
    try {
      for (const k of keys) {
        // The mask of this micro-batch's tokens in the subset, the subset's loss normalised over the whole batch.
        const m = new Float32Array(sub.batch * sub.steps);
        let n = 0;
        for (let b = 0; b < sub.batch; b++)
          for (let t = 0; t < sub.steps; t++)
            if (sub.mask[b * subTfull + t] && keeps[k](b0 + b, t)) {
              m[b * sub.steps + t] = 1;
              n++;
            }
        if (n === 0) continue;
        counts[k] += n;
        const flat = tf.tidy(() => {
          const mask = tf.tensor2d(m, [sub.batch, sub.steps]);
          const gate = tf.reshape(perToken(sub, sub.gate), [-1]) as tf.Tensor1D;
          const z = tf.reshape(perToken(sub, sub.z), [-1]) as tf.Tensor1D;
          const oldTau = perToken(sub, sub.logpTau);
          const { grads, value } = tf.variableGrads(() => {
            const logp = phiLogp(ctx, sub, fw, gate, z);
            return policyLoss({
              mask,
              advantages: tf.tensor1d(advantages.subarray(b0, b1)),
              clipLow: g.clipLow,
              clipHigh: g.clipHigh,
              aggregation: g.aggregation,
              normLength: cfg.rollout.maxNewTokens,
              ...(slices.length === 1 ? {} : tokens[k]),
              logpNew: logp,
              logpOld: oldTau,
            }).loss;
          }, phi.variables as tf.Variable[]);
          value.dispose();
          return tf.concat(phi.variables.map((v) => tf.reshape(grads[v.name], [-1])));
        });
        const part = flat.dataSync() as Float32Array;
        flat.dispose();
        const acc = flats[k];
        for (let i = 0; i < size; i++) acc[i] += part[i];
      }
    } finally {
      if (fw !== null && fw !== frozen) tf.dispose([fw.logits, fw.hidden]);
    }
  }
  const dot = (a: Float32Array, b: Float32Array) => a.reduce((s, x, i) => s + x * b[i], 0);
  const all = flats.all;
  const nAll = dot(all, all);
  const a = flats.first;
  const b = flats.second;
  const cos = counts.first && counts.second ? dot(a, b) / Math.sqrt(dot(a, a) * dot(b, b)) : NaN;
  // token-mean: the high tokens' part of the whole gradient is their own mean's gradient × N_high / N
  const share = counts.high && nAll > 0 ? (dot(flats.high, all) * counts.high) / counts.all / nAll : NaN;
  return { halfCosine: cos, highEntropyShare: share, highEntropyThreshold: threshold, highEntropyTokens: counts.high / counts.all, norm: Math.sqrt(nAll) };
}
