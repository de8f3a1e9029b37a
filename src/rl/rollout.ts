// Rollouts of the hierarchical policy: at every decoding step the temperature controller picks τ_t from (h_t, τ_{t−1},
// logits), then the token is sampled from softmax(logits / τ_t) (docs/method.md#the-hierarchical-policy). Rows are
// generated in one batch through the KV cache; a row stops at EOS or the length limit. Everything the losses and the
// figures need is recorded per token: id, τ_t, gate c_t, z_t, log π_φ(τ_t), log π_θ(y_t | τ_t), entropy at τ = 1 and
// at τ_t.
import * as tf from '@tensorflow/tfjs';
import { check } from '../errors';
import { Decoder, ForwardOutput } from '../lm/model';
import { tidyValue } from '../lm/ops';
import { sampleTokens } from '../lm/sampling';
import { TemperatureController } from '../policy/types';
import { Rng } from '../rng';

export interface RolloutRequest {
  /** Prompt token ids, one array per row (a GRPO group is G consecutive copies of a prompt). */
  prompts: number[][];
  maxNewTokens: number;
  eosId: number;
  padId: number;
  /** τ_0: the "previous" temperature of the first generated token. */
  tau0: number;
  /** RL step, for schedules (EAD) and per-rollout controllers. */
  trainStep: number;
  /** Optional row → prompt index (TAMPO's 'group' scope). */
  groups?: Int32Array;
  /** A held-out evaluation rather than a training rollout (a learned head acts as controller.evalAction says). */
  evaluation?: boolean;
  /** Record the learned head's input at every generated token (Rollout.headInput): for a rollout whose temperature
   *  update runs with θ frozen, which then reads log π_φ from it instead of recomputing θ's forward. */
  recordHeadInput?: boolean;
}

/** Per-token arrays are row-major [B, T]; entries past a row's end have mask 0. */
export interface Rollout {
  batch: number;
  /** Prompt length after left padding. */
  promptLen: number;
  /** Generated steps (the longest row). */
  steps: number;
  promptIds: Int32Array; // [B, P] left-padded with padId
  promptMask: Uint8Array; // [B, P]
  tokens: Int32Array; // [B, T]
  mask: Uint8Array; // [B, T] 1 for generated tokens, EOS included
  tau: Float32Array; // [B, T]
  gate: Uint8Array; // [B, T]
  z: Float32Array; // [B, T]
  logpTau: Float32Array; // [B, T] log π_φ(τ_t | ·) at rollout time
  logpTok: Float32Array; // [B, T] log π_θ(y_t | h_t, τ_t) at rollout time
  entropy: Float32Array; // [B, T] entropy of softmax(logits) (τ = 1)
  entropyTau: Float32Array; // [B, T] entropy of softmax(logits / τ_t)
  lengths: Int32Array; // [B] generated tokens per row
  finished: Uint8Array; // [B] 1 when the row ended with EOS
  /** [B, T, width] the learned head's input x_t at every generated token (0 past a row's end), when the request asked
   *  for it (RolloutRequest.recordHeadInput); θ's state at rollout time, as the decoder computed it through the KV cache. */
  headInput?: { width: number; data: Float32Array };
  timings: { prefillMs: number; decodeMs: number; controllerMs: number; sampleMs: number };
}

/** Left-pads prompts: ids [B, P] and mask [B, P], P the longest prompt (at least minLen). */
export function leftPad(prompts: number[][], padId: number, minLen = 0): { ids: Int32Array; mask: Uint8Array; len: number } {
  const B = prompts.length;
  const P = Math.max(minLen, ...prompts.map((p) => p.length));
  const ids = new Int32Array(B * P).fill(padId);
  const mask = new Uint8Array(B * P);
  prompts.forEach((p, b) => {
    const off = b * P + (P - p.length);
    ids.set(p, off);
    mask.fill(1, off, off + p.length);
  });
  return { ids, mask, len: P };
}

export function rollout(model: Decoder, controller: TemperatureController, req: RolloutRequest, rng: Rng): Rollout {
  checkRequest(req);
  controller.beginRollout(rolloutInfo(req), rng.fork('controller'));
  return generate(model, controller, req, null, rng.fork('tau'), rng.fork('tokens'));
}

/**
 * A rollout of `req` generated `rowsPerChunk` rows at a time (the run plan's rollout chunk: rows whose KV cache fits
 * the device), merged into one Rollout as if generated together. The controller sees the whole batch once
 * (beginRollout: TAMPO's per-batch or per-group draw covers every row) and each chunk's rows by their index in the
 * batch. With one chunk this is rollout() exactly; with several, chunk i samples from its own streams
 * (rng.fork('chunk:i')), so the sampled tokens depend on the chunk size, which the plan records (plan.json) and the
 * config can fix (rollout.chunkRows).
 */
export function chunkedRollout(model: Decoder, controller: TemperatureController, req: RolloutRequest, rng: Rng, rowsPerChunk: number): Rollout {
  checkRequest(req);
  const B = req.prompts.length;
  check(Number.isInteger(rowsPerChunk) && rowsPerChunk > 0, () => `chunkedRollout: rowsPerChunk must be a positive integer, got ${rowsPerChunk}`);
  if (rowsPerChunk >= B) return rollout(model, controller, req, rng);
  controller.beginRollout(rolloutInfo(req), rng.fork('controller'));
  // Every chunk is left-padded to the whole batch's prompt length, so that the chunks merge into one layout.
  const promptLen = Math.max(...req.prompts.map((p) => p.length));
  const parts: Rollout[] = [];
  for (let start = 0, i = 0; start < B; start += rowsPerChunk, i++) {
    const end = Math.min(B, start + rowsPerChunk);
    const rows = Int32Array.from({ length: end - start }, (_, k) => start + k);
    const crng = rng.fork(`chunk:${i}`);
    parts.push(generate(model, controller, { ...req, prompts: req.prompts.slice(start, end) }, rows, crng.fork('tau'), crng.fork('tokens'), promptLen));
  }
  return mergeRollouts(parts, req.maxNewTokens, req.padId);
}

function checkRequest(req: RolloutRequest): void {
  check(req.prompts.length > 0, 'rollout: no prompts');
  check(
    req.prompts.every((p) => p.length > 0),
    'rollout: every prompt needs at least one token',
  );
}

function rolloutInfo(req: RolloutRequest) {
  return { trainStep: req.trainStep, batch: req.prompts.length, groups: req.groups, evaluation: req.evaluation, recordHeadInput: req.recordHeadInput };
}

/** The per-token [B, T] records of a Rollout. */
const PER_TOKEN = ['tokens', 'mask', 'tau', 'gate', 'z', 'logpTau', 'logpTok', 'entropy', 'entropyTau'] as const;

/** A rollout of B rows with room for T generated tokens each and nothing generated yet (tokens padId, z NaN);
 *  `headWidth`: room for head inputs of this width (0: none). */
function emptyRollout(B: number, P: number, T: number, padId: number, promptIds: Int32Array, promptMask: Uint8Array, headWidth = 0): Rollout {
  return {
    batch: B,
    promptLen: P,
    steps: 0,
    promptIds,
    promptMask,
    tokens: new Int32Array(B * T).fill(padId),
    mask: new Uint8Array(B * T),
    tau: new Float32Array(B * T),
    gate: new Uint8Array(B * T),
    z: new Float32Array(B * T).fill(NaN),
    logpTau: new Float32Array(B * T),
    logpTok: new Float32Array(B * T),
    entropy: new Float32Array(B * T),
    entropyTau: new Float32Array(B * T),
    lengths: new Int32Array(B),
    finished: new Uint8Array(B),
    ...(headWidth > 0 ? { headInput: { width: headWidth, data: new Float32Array(B * T * headWidth) } } : {}),
    timings: { prefillMs: 0, decodeMs: 0, controllerMs: 0, sampleMs: 0 },
  };
}

/** The head input width a request records: the controller's, when asked and the controller has one; else 0. */
function recordedWidth(controller: TemperatureController, req: RolloutRequest): number {
  if (!req.recordHeadInput) return 0;
  check(
    controller.learned && controller.headInputWidth !== undefined && controller.logProbFromHeadInput !== undefined,
    () => `rollout: recordHeadInput was asked of '${controller.name}', which has no learned head input to record`,
  );
  return controller.headInputWidth!;
}

/**
 * Decodes req.prompts through one KV cache. `rows`: the batch index of each prompt (a chunk of a larger rollout whose
 * beginRollout the controller has seen), or null for the whole batch. `padTo`: left-pad prompts to at least this length.
 */
function generate(
  model: Decoder,
  controller: TemperatureController,
  req: RolloutRequest,
  rows: Int32Array | null,
  ctlRng: Rng,
  tokRng: Rng,
  padTo = 0,
): Rollout {
  const B = req.prompts.length;
  const T = req.maxNewTokens;
  const { ids, mask, len: P } = leftPad(req.prompts, req.padId, padTo);
  const width = recordedWidth(controller, req);
  const r = emptyRollout(B, P, T, req.padId, ids, mask, width);
  const cache = model.createCache(B, P + T);
  const prevTau = new Float32Array(B).fill(req.tau0);
  const done = new Uint8Array(B);
  let t0 = performance.now();
  // The state that predicts the next token: logits [B, V] and h [B, d] at the last position.
  let cur: ForwardOutput = tf.tidy(() => {
    const out = model.prefill(cache, tf.tensor2d(ids, [B, P], 'int32'), mask, { lastOnly: true });
    const last = (x: tf.Tensor) => tf.squeeze(x, [1]);
    return { logits: last(out.logits), hidden: last(out.hidden) };
  });
  r.timings.prefillMs = performance.now() - t0;
  try {
    for (let t = 0; t < T; t++) {
      t0 = performance.now();
      const decision = tidyValue(() =>
        controller.act(
          {
            hidden: cur.hidden as tf.Tensor2D,
            logits: cur.logits as tf.Tensor2D,
            prevTau: tf.tensor1d(prevTau),
            position: tf.fill([B], t) as tf.Tensor1D,
            ...(rows ? { rows } : {}),
          },
          ctlRng,
        ),
      );
      const t1 = performance.now();
      const s = sampleTokens(cur.logits as tf.Tensor2D, decision.tau, tokRng);
      r.timings.controllerMs += t1 - t0;
      r.timings.sampleMs += performance.now() - t1;
      if (width > 0)
        check(
          decision.headInput !== undefined && decision.headInput.length === B * width,
          () => `rollout: '${controller.name}' returned ${decision.headInput?.length ?? 'no'} head input values at step ${t}, expected ${B} rows × ${width}`,
        );
      const feed = new Int32Array(B);
      for (let b = 0; b < B; b++) {
        if (done[b]) {
          feed[b] = req.padId;
          continue;
        }
        const i = b * T + t;
        r.tokens[i] = s.tokens[b];
        r.mask[i] = 1;
        r.tau[i] = decision.tau[b];
        r.gate[i] = decision.gate[b];
        r.z[i] = decision.z[b];
        r.logpTau[i] = decision.logp[b];
        r.logpTok[i] = s.logp[b];
        r.entropy[i] = s.entropyT1[b];
        r.entropyTau[i] = s.entropy[b];
        if (width > 0) r.headInput!.data.set(decision.headInput!.subarray(b * width, (b + 1) * width), i * width);
        r.lengths[b] = t + 1;
        prevTau[b] = decision.tau[b];
        feed[b] = s.tokens[b];
        if (s.tokens[b] === req.eosId) {
          done[b] = 1;
          r.finished[b] = 1;
        }
      }
      r.steps = t + 1;
      if (done.every((d) => d === 1) || t === T - 1) break;
      t0 = performance.now();
      const next = tf.tidy(() => model.decodeStep(cache, feed));
      tf.dispose([cur.logits, cur.hidden]);
      cur = next;
      r.timings.decodeMs += performance.now() - t0;
    }
  } finally {
    tf.dispose([cur.logits, cur.hidden]);
    cache.dispose();
  }
  return r;
}

/** Rollouts of consecutive row ranges (the same prompt length and maxNewTokens) as one rollout of all their rows. */
export function mergeRollouts(parts: Rollout[], maxNewTokens: number, padId: number): Rollout {
  check(parts.length > 0, 'mergeRollouts: no parts');
  const P = parts[0].promptLen;
  check(
    parts.every((p) => p.promptLen === P),
    'mergeRollouts: the parts have different prompt lengths',
  );
  const T = maxNewTokens;
  const B = parts.reduce((n, p) => n + p.batch, 0);
  const width = parts[0].headInput?.width ?? 0;
  check(
    parts.every((p) => (p.headInput?.width ?? 0) === width),
    'mergeRollouts: the parts do not all record head inputs of one width',
  );
  const out = emptyRollout(B, P, T, padId, new Int32Array(B * P), new Uint8Array(B * P), width);
  out.steps = Math.max(...parts.map((p) => p.steps));
  let row = 0;
  for (const p of parts) {
    check(p.tokens.length === p.batch * T, 'mergeRollouts: a part was generated with another maxNewTokens');
    out.promptIds.set(p.promptIds, row * P);
    out.promptMask.set(p.promptMask, row * P);
    for (const k of PER_TOKEN) (out[k] as Float32Array).set(p[k] as Float32Array, row * T);
    if (width > 0) out.headInput!.data.set(p.headInput!.data, row * T * width);
    out.lengths.set(p.lengths, row);
    out.finished.set(p.finished, row);
    for (const k of ['prefillMs', 'decodeMs', 'controllerMs', 'sampleMs'] as const) out.timings[k] += p.timings[k];
    row += p.batch;
  }
  return out;
}

/**
 * Rows b0 … b1 − 1 of a rollout as a rollout of their own (the update's micro-batches): the same prompt length, and
 * the per-token arrays cut to the longest of these rows (steps), so a micro-batch's forward covers no position past
 * its own rows' ends.
 */
export function sliceRollout(r: Rollout, b0: number, b1: number): Rollout {
  check(
    Number.isInteger(b0) && Number.isInteger(b1) && b0 >= 0 && b1 <= r.batch && b0 < b1,
    () => `sliceRollout: rows ${b0} … ${b1 - 1} of a rollout of ${r.batch}`,
  );
  const B = b1 - b0;
  const P = r.promptLen;
  const Tfull = r.tokens.length / r.batch;
  let steps = 1;
  for (let b = b0; b < b1; b++) steps = Math.max(steps, r.lengths[b]);
  const cut = <A extends Float32Array | Int32Array | Uint8Array>(a: A): A => cutRows(a, Tfull, b0, b1, steps);
  return {
    batch: B,
    promptLen: P,
    steps,
    promptIds: r.promptIds.slice(b0 * P, b1 * P),
    promptMask: r.promptMask.slice(b0 * P, b1 * P),
    tokens: cut(r.tokens),
    mask: cut(r.mask),
    tau: cut(r.tau),
    gate: cut(r.gate),
    z: cut(r.z),
    logpTau: cut(r.logpTau),
    logpTok: cut(r.logpTok),
    entropy: cut(r.entropy),
    entropyTau: cut(r.entropyTau),
    lengths: r.lengths.slice(b0, b1),
    finished: r.finished.slice(b0, b1),
    ...(r.headInput ? { headInput: { width: r.headInput.width, data: cutRows(r.headInput.data, Tfull, b0, b1, steps, r.headInput.width) } } : {}),
    timings: { prefillMs: 0, decodeMs: 0, controllerMs: 0, sampleMs: 0 },
  };
}

/**
 * Rows b0 … b1 − 1 of a per-token record [B, Tfull, width] cut to its first `steps` steps: [b1 − b0, steps, width]
 * (width 1: the [B, T] arrays).
 */
export function cutRows<A extends Float32Array | Int32Array | Uint8Array>(a: A, Tfull: number, b0: number, b1: number, steps: number, width = 1): A {
  const o = new (a.constructor as { new (n: number): A })((b1 - b0) * steps * width);
  for (let b = b0; b < b1; b++) o.set(a.subarray(b * Tfull * width, (b * Tfull + steps) * width) as A, (b - b0) * steps * width);
  return o;
}

/** The generated token ids of row b, without the EOS. */
export function completionIds(r: Rollout, b: number, eosId: number): number[] {
  const T = r.tokens.length / r.batch;
  const out: number[] = [];
  for (let t = 0; t < r.lengths[b]; t++) {
    const id = r.tokens[b * T + t];
    if (id === eosId) break;
    out.push(id);
  }
  return out;
}
