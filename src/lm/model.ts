// A decoder-only transformer in TensorFlow.js for HF model_type llama, qwen2 and qwen3: the token policy π_θ.
//
// Both paths return the logits AND the final hidden state h_t (the LM head's input, after the final RMSNorm) at every
// position, because the temperature head of Introspective LLM reads h_t:
//   forward(ids [B,T], mask [B,T])            full recompute (training, loss-time log-probs, prefill)
//   prefill(cache, ids, mask) / decodeStep()  incremental decoding through a preallocated KV cache (rollouts)
// Batches of prompts with different lengths are LEFT-padded: pad slots have mask 0, positions count real tokens only,
// so every row's new token lands in the same cache slot.
//
// Weights are stored as [in, out] (HF/PyTorch Linear weights are [out, in]): on the wasm backend a 2-D matMul with
// transposeB is ~10x slower than a plain one (measured with tfjs 4.22: [512,256]x[256,1408] 12 ms vs 138 ms). The
// embedding is stored as [d, V] for the same reason: the tied LM head is then a plain matMul, and the lookup gathers
// columns. The same holds for the backward pass, so every projection goes through linear() (src/lm/ops.ts), whose
// gradient transposes explicitly. q/k/v and gate/up are NOT fused: splitting the fused output costs almost as much as
// the matMul on wasm. toHostWeights() gives back HF names and layouts.
//
// This file is the architecture: the parameters, the layers, the full forward and decoding through the KV cache.
// Beside it: activation checkpointing with the chunked recompute (recompute.ts), the streamed backward pass that
// hands θ's gradients to host memory (streamed-backward.ts), and the prefill that fills the KV cache computing
// repeated prompt rows once (prefill.ts). How these trade memory against speed is a DecoderExecution, set at
// construction or with setExecution.
import * as tf from '@tensorflow/tfjs';
import { check, KitError } from '../errors';
import { checkShapes, checkWeights, WeightSource } from './checkpoint';
import { DecoderConfig, expectedWeights } from './config';
import { Rng } from '../rng';
import { fillNormal } from './init';
import { numel } from './safetensors';
import { rmsNorm, rope, siluMul } from './kernels/fused';
import { storeOf, writeKvSlotInPlace } from './kv-write';
import { attention, linear, repeatRows } from './ops';
import { prefill } from './prefill';
import { recomputed } from './recompute';
import { GradSink, streamedGrads, streamedHead } from './streamed-backward';

export type { GradSink } from './streamed-backward';

/**
 * How a Decoder organises its computation, trading memory against speed. None changes a result, except that a
 * chunked recompute sums the parameters' gradients chunk by chunk (a different order of the same float32 additions).
 * Set at construction (the `execution` option of Decoder.random, .fromWeights, .fromSource, .randomFast) or with
 * Decoder.setExecution; the defaults are DEFAULT_EXECUTION.
 */
export interface DecoderExecution {
  /**
   * Above this many tokens (B·T) a full forward recomputes each layer during the backward pass instead of keeping its
   * intermediates on the tape (gradient checkpointing, exact; src/lm/recompute.ts): the tape then holds one [B·T, d]
   * tensor per layer, so a 128 × 160-token GRPO batch trains in a few hundred MB, at the cost of one more forward per
   * layer. Below it, the tape keeps everything (fastest). Infinity turns checkpointing off; 0 always on.
   */
  checkpointTokens: number;
  /**
   * A checkpointed layer's recompute in the backward pass runs on at most this many tokens (whole batch rows, at
   * least one) at a time, so that one chunk's intermediates exist at once (the attention probabilities of 128 × 160
   * tokens alone are 52 MB per layer, and their gradient makes several such). Infinity: the whole batch at once.
   */
  recomputeTokens: number;
  /** Decoding writes each step's keys and values into the cache in place where it can (false: always the portable way). */
  inPlaceKv: boolean;
  /** Values per block of the LM head's gradient in a streamed backward pass (64 MB; see linearStreamed). */
  headGradBlock: number;
  /** Whether prefill computes repeated prompt rows once (exact; src/lm/prefill.ts). Off only to compare the two paths. */
  sharePrefill: boolean;
  /**
   * Whether a training forward that names its prompt length (forward's opts.sharePrefix: the GRPO update's) computes
   * the prompt positions of rows that repeat a prompt once, their keys and values shared by the rows (the G samples of
   * a group); the gradients then sum over the group where the unshared forward sums over its copies (the same terms,
   * another order: equal to float32 rounding). Off only to compare the two paths.
   */
  sharePrefix: boolean;
}

export const DEFAULT_EXECUTION: Readonly<DecoderExecution> = Object.freeze({
  checkpointTokens: 8192,
  recomputeTokens: 8192,
  inPlaceKv: true,
  headGradBlock: 2 ** 24,
  sharePrefill: true,
  sharePrefix: true,
});

/** `base` with the given fields of `o` replaced, checked (KitError naming the field). */
function resolveExecution(base: Readonly<DecoderExecution>, o: Partial<DecoderExecution>): Readonly<DecoderExecution> {
  const e = { ...base, ...Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) } as DecoderExecution;
  for (const k of ['checkpointTokens', 'recomputeTokens'] as const) {
    check(typeof e[k] === 'number' && e[k] >= 0, () => `Decoder execution: ${k} must be a number ≥ 0 (Infinity allowed), got ${e[k]}`);
  }
  check(Number.isInteger(e.headGradBlock) && e.headGradBlock > 0, () => `Decoder execution: headGradBlock must be a positive integer, got ${e.headGradBlock}`);
  check(
    typeof e.inPlaceKv === 'boolean' && typeof e.sharePrefill === 'boolean' && typeof e.sharePrefix === 'boolean',
    'Decoder execution: inPlaceKv, sharePrefill and sharePrefix must be booleans',
  );
  return Object.freeze(e);
}

export interface LayerParams {
  ln1: tf.Variable; // [d]
  wq: tf.Variable; // [d, h·hd]
  wk: tf.Variable; // [d, kv·hd]
  wv: tf.Variable; // [d, kv·hd]
  bq: tf.Variable | null; // [h·hd]   (qwen2, llama attention_bias)
  bk: tf.Variable | null; // [kv·hd]
  bv: tf.Variable | null; // [kv·hd]
  qNorm: tf.Variable | null; // [hd]
  kNorm: tf.Variable | null; // [hd]
  wo: tf.Variable; // [h·hd, d]
  ln2: tf.Variable; // [d]
  wgate: tf.Variable; // [d, f]
  wup: tf.Variable; // [d, f]
  wdown: tf.Variable; // [f, d]
}

// A type alias (not an interface) so that it is a TensorContainer that tf.tidy can return.
export type ForwardOutput = {
  logits: tf.Tensor; // [B, T, V] (forward) or [B, V] (decodeStep)
  hidden: tf.Tensor; // [B, T, d] (forward) or [B, d] (decodeStep)
};

/** Host-side float32 weights by HF name, e.g. from loadModelWeights(). */
export type HostWeights = Map<string, { shape: number[]; data: Float32Array }>;

const NEG = -1e9; // additive mask value; finite so fully masked rows (pad queries) give no NaN

/** The RoPE position of every entry of a left-padded mask [B, T]: real tokens count 0, 1, …; padding gets 0. */
function positionsOf(m: ArrayLike<number>, B: number, T: number): Int32Array {
  const pos = new Int32Array(B * T);
  for (let b = 0; b < B; b++) {
    let p = 0;
    for (let t = 0; t < T; t++) pos[b * T + t] = m[b * T + t] ? p++ : 0;
  }
  return pos;
}

export class KVCache {
  /** Per layer: keys transposed [B, kv, hd, maxLen] (so scores need no transposed matMul), values [B, kv, maxLen, hd]. */
  k: tf.Tensor[] = [];
  v: tf.Tensor[] = [];
  /** Slots filled so far (same for every row: prompts are left-padded). */
  length = 0;
  /** Per row: the position (RoPE index) of the next token. */
  nextPos: Int32Array;
  /** [B, maxLen] 1 where a slot holds a real token. */
  valid: Uint8Array;

  constructor(
    readonly batch: number,
    readonly maxLen: number,
  ) {
    this.nextPos = new Int32Array(batch);
    this.valid = new Uint8Array(batch * maxLen);
  }

  dispose(): void {
    for (const t of [...this.k, ...this.v]) t.dispose();
    this.k = [];
    this.v = [];
  }
}

export class Decoder {
  readonly embed: tf.Variable; // [d, V]  (HF embed_tokens.weight transposed)
  readonly layers: LayerParams[];
  readonly norm: tf.Variable; // [d]
  readonly lmHead: tf.Variable | null; // [d, V], null when tied to embed
  private readonly invFreq: Float32Array;
  private readonly rotate: tf.Tensor2D; // [hd, hd], see rotateHalfMatrix
  private exec: Readonly<DecoderExecution>;

  /**
   * `w(name)`: the HF tensor `name` in HF layout. `wt(name)`, when given: a matrix already in the kit's [in, out]
   * layout (else w(name) is transposed on the backend, which briefly holds both copies).
   */
  private constructor(
    readonly cfg: DecoderConfig,
    w: (name: string) => tf.Tensor,
    trainable: boolean,
    execution: Partial<DecoderExecution> = {},
    wtGiven?: (name: string) => tf.Tensor,
  ) {
    this.exec = resolveExecution(DEFAULT_EXECUTION, execution);
    const v = (t: tf.Tensor, name: string) => {
      const x = tf.variable(t, trainable, `${name}_${Decoder.nextId++}`);
      t.dispose(); // the variable holds its own reference to the data
      return x;
    };
    const wt = wtGiven ?? ((name: string) => tf.tidy(() => tf.transpose(w(name))));
    this.embed = v(wt('model.embed_tokens.weight'), 'embed');
    this.layers = [];
    for (let l = 0; l < cfg.numLayers; l++) {
      const p = `model.layers.${l}`;
      const a = `${p}.self_attn`;
      const bias = (x: string) => (cfg.attentionBias ? v(w(`${a}.${x}_proj.bias`), `l${l}_b${x}`) : null);
      this.layers.push({
        ln1: v(w(`${p}.input_layernorm.weight`), `l${l}_ln1`),
        wq: v(wt(`${a}.q_proj.weight`), `l${l}_wq`),
        wk: v(wt(`${a}.k_proj.weight`), `l${l}_wk`),
        wv: v(wt(`${a}.v_proj.weight`), `l${l}_wv`),
        bq: bias('q'),
        bk: bias('k'),
        bv: bias('v'),
        qNorm: cfg.qkNorm ? v(w(`${p}.self_attn.q_norm.weight`), `l${l}_qnorm`) : null,
        kNorm: cfg.qkNorm ? v(w(`${p}.self_attn.k_norm.weight`), `l${l}_knorm`) : null,
        wo: v(wt(`${p}.self_attn.o_proj.weight`), `l${l}_wo`),
        ln2: v(w(`${p}.post_attention_layernorm.weight`), `l${l}_ln2`),
        wgate: v(wt(`${p}.mlp.gate_proj.weight`), `l${l}_wgate`),
        wup: v(wt(`${p}.mlp.up_proj.weight`), `l${l}_wup`),
        wdown: v(wt(`${p}.mlp.down_proj.weight`), `l${l}_wdown`),
      });
    }
    this.norm = v(w('model.norm.weight'), 'norm');
    this.lmHead = cfg.tieWordEmbeddings ? null : v(wt('lm_head.weight'), 'lm_head');
    this.rotate = Decoder.rotateHalfMatrix(cfg.headDim);
    // inv_freq as HF computes it in float32: 1 / theta^(2i / hd).
    const half = cfg.headDim / 2;
    this.invFreq = new Float32Array(half);
    for (let i = 0; i < half; i++) {
      this.invFreq[i] = Math.fround(1 / Math.fround(Math.pow(cfg.ropeTheta, Math.fround((2 * i) / cfg.headDim))));
    }
  }
  private static nextId = 0;

  /** How this decoder organises its computation (see DecoderExecution). */
  get execution(): Readonly<DecoderExecution> {
    return this.exec;
  }

  /**
   * Changes how later calls organise their computation (see DecoderExecution; the fields not given stay). For
   * benchmarks, and for tests that compare two ways of computing the same thing on one model.
   */
  setExecution(o: Partial<DecoderExecution>): void {
    this.exec = resolveExecution(this.exec, o);
  }

  /** Builds a decoder from host weights (HF names); shapes are checked against the config. */
  static fromWeights(cfg: DecoderConfig, weights: HostWeights, opts: { trainable?: boolean; execution?: Partial<DecoderExecution> } = {}): Decoder {
    const checked = checkWeights(weights, cfg, 'weights');
    const shapes = new Map<string, number[]>();
    for (const [n, t] of checked) shapes.set(n, t.shape);
    return Decoder.fromSource(cfg, { shapes, read: (n) => checked.get(n)!.data }, opts);
  }

  /**
   * Builds a decoder from weights read one tensor at a time (e.g. openModelWeights): each is read, copied to the
   * backend, transposed there where the layout needs it, and dropped before the next is read, so host memory holds
   * one tensor, never the whole checkpoint. Shapes are checked against the config first; a host array of the wrong
   * size is an error naming the tensor.
   */
  static fromSource(
    cfg: DecoderConfig,
    source: WeightSource,
    opts: { trainable?: boolean; where?: string; execution?: Partial<DecoderExecution> } = {},
  ): Decoder {
    const where = opts.where ?? 'weights';
    const checked = checkShapes(source.shapes, cfg, where);
    const read = (name: string): [Float32Array, number[]] => {
      const shape = [...checked.get(name)!];
      const data = source.read(name);
      const n = numel(shape);
      if (data.length !== n) throw new KitError(`${where}: tensor '${name}' read ${data.length} values, shape [${shape.join(', ')}] needs ${n}`);
      return [data, shape];
    };
    // Matrices are transposed on the host, so the backend only ever receives the final tensors: on wasm, transposing
    // there left a hole the size of each matrix behind, and with a 0.5B model's weights and XNNPACK's packed copies
    // filling most of the 4 GiB heap the fragments were enough to make packing fail.
    return new Decoder(
      cfg,
      (name) => {
        const [data, shape] = read(name);
        return tf.tensor(data, shape, 'float32');
      },
      opts.trainable ?? true,
      opts.execution,
      (name) => {
        const [data, [rows, cols]] = read(name);
        return tf.tensor(transposeHost(data, rows, cols), [cols, rows], 'float32');
      },
    );
  }

  /** Random weights in the HF initialisation style (normal, std 0.02; norms 1; biases 0), seeded. */
  static random(cfg: DecoderConfig, seed: number, opts: { trainable?: boolean; std?: number; execution?: Partial<DecoderExecution> } = {}): Decoder {
    const std = opts.std ?? 0.02;
    let k = 0;
    const expected = expectedWeights(cfg);
    return new Decoder(
      cfg,
      (name) => {
        const shape = expected.get(name)!;
        k++;
        if (name.endsWith('norm.weight') || name.endsWith('layernorm.weight')) return tf.ones(shape);
        if (name.endsWith('.bias')) return tf.zeros(shape);
        return tf.randomNormal(shape, 0, std, 'float32', seed * 1000 + k);
      },
      opts.trainable ?? true,
      opts.execution,
    );
  }

  /**
   * Random weights like random() (normal, std 0.02; norms 1; biases 0) drawn on the host by a fast seeded generator
   * (src/lm/init.ts): seconds for a 0.5B-parameter shape, where tf.randomNormal takes minutes. Each matrix has its
   * own stream, `new Rng(seed).fork(name)`, so a tensor's values depend only on the seed and its HF name. Not the same
   * numbers as random() (which the committed tiny models were made with); the benchmarks' --random-init uses this.
   */
  static randomFast(cfg: DecoderConfig, seed: number, opts: { trainable?: boolean; std?: number; execution?: Partial<DecoderExecution> } = {}): Decoder {
    return Decoder.fromSource(cfg, randomWeightSource(cfg, seed, opts.std ?? 0.02), {
      trainable: opts.trainable,
      where: 'random weights',
      execution: opts.execution,
    });
  }

  /** Every parameter (names are the kit's; toHostWeights() gives HF names). */
  variables(): tf.Variable[] {
    const out: tf.Variable[] = [this.embed];
    for (const L of this.layers) out.push(...Decoder.layerTensors(L));
    out.push(this.norm);
    if (this.lmHead) out.push(this.lmHead);
    return out;
  }

  numParams(): number {
    return this.variables().reduce((a, v) => a + v.size, 0);
  }

  /** Each parameter under its HF name, and whether the kit stores it transposed ([in, out] for HF's [out, in]). */
  private hfTable(): Map<string, { v: tf.Variable; transposed: boolean }> {
    const m = new Map<string, { v: tf.Variable; transposed: boolean }>();
    const put = (name: string, v: tf.Variable | null, transposed: boolean) => {
      if (v) m.set(name, { v, transposed });
    };
    put('model.embed_tokens.weight', this.embed, true);
    this.layers.forEach((L, l) => {
      const p = `model.layers.${l}`;
      put(`${p}.input_layernorm.weight`, L.ln1, false);
      put(`${p}.self_attn.q_proj.weight`, L.wq, true);
      put(`${p}.self_attn.k_proj.weight`, L.wk, true);
      put(`${p}.self_attn.v_proj.weight`, L.wv, true);
      put(`${p}.self_attn.q_proj.bias`, L.bq, false);
      put(`${p}.self_attn.k_proj.bias`, L.bk, false);
      put(`${p}.self_attn.v_proj.bias`, L.bv, false);
      put(`${p}.self_attn.q_norm.weight`, L.qNorm, false);
      put(`${p}.self_attn.k_norm.weight`, L.kNorm, false);
      put(`${p}.self_attn.o_proj.weight`, L.wo, true);
      put(`${p}.post_attention_layernorm.weight`, L.ln2, false);
      put(`${p}.mlp.gate_proj.weight`, L.wgate, true);
      put(`${p}.mlp.up_proj.weight`, L.wup, true);
      put(`${p}.mlp.down_proj.weight`, L.wdown, true);
    });
    put('model.norm.weight', this.norm, false);
    put('lm_head.weight', this.lmHead, true);
    return m;
  }

  /**
   * The weights as a WeightSource under their HF names and layouts, read one at a time (transposed back on the
   * backend, then copied to the host): saveModelFolder streams a 2 GB model through it holding one tensor on the host.
   */
  weightSource(): WeightSource {
    const table = this.hfTable();
    const shapes = new Map<string, number[]>();
    for (const [n, e] of table) shapes.set(n, e.transposed ? e.v.shape.slice().reverse() : e.v.shape.slice());
    return {
      shapes,
      read: (name) => {
        const e = table.get(name);
        if (!e) throw new KitError(`weightSource: no tensor '${name}'`);
        if (!e.transposed) return Float32Array.from(e.v.dataSync() as Float32Array);
        const x = tf.transpose(e.v);
        try {
          return x.dataSync() as Float32Array; // a fresh array (x is disposed right after; nothing else holds it)
        } finally {
          x.dispose();
        }
      },
    };
  }

  /** Host copy of the weights under their HF names and layouts ([out, in]). */
  async toHostWeights(): Promise<HostWeights> {
    const src = this.weightSource();
    const out: HostWeights = new Map();
    for (const [name, shape] of src.shapes) out.set(name, { shape: shape.slice(), data: src.read(name) });
    return out;
  }

  dispose(): void {
    for (const v of this.variables()) v.dispose();
    this.rotate.dispose();
  }

  // ---- building blocks (synchronous; callers run them inside tf.tidy) ----

  private rmsNorm(x: tf.Tensor, w: tf.Tensor): tf.Tensor {
    return rmsNorm(x, w, this.cfg.rmsNormEps);
  }

  /**
   * cos and sin tables [N, 1, hd] for the given positions (each frequency twice, as HF concatenates them), computed on
   * the host in float32 as HF does.
   */
  private ropeTables(positions: ArrayLike<number>): [tf.Tensor, tf.Tensor] {
    const half = this.invFreq.length;
    const hd = 2 * half;
    const cos = new Float32Array(positions.length * hd);
    const sin = new Float32Array(positions.length * hd);
    for (let n = 0; n < positions.length; n++) {
      for (let i = 0; i < half; i++) {
        const a = Math.fround(positions[n] * this.invFreq[i]);
        cos[n * hd + i] = cos[n * hd + half + i] = Math.cos(a);
        sin[n * hd + i] = sin[n * hd + half + i] = Math.sin(a);
      }
    }
    return [tf.tensor3d(cos, [positions.length, 1, hd]), tf.tensor3d(sin, [positions.length, 1, hd])];
  }

  /**
   * RoPE in the rotate-half convention: x·cos + rotate_half(x)·sin, rotate_half([x1, x2]) = [−x2, x1].
   * x [N, heads, hd]; cos/sin [N, 1, hd]. One fused kernel where the backend has it (kernels/fused.ts); composed of
   * tfjs ops elsewhere, rotate_half as a product with a fixed signed permutation matrix.
   */
  private rope(x: tf.Tensor, cos: tf.Tensor, sin: tf.Tensor): tf.Tensor {
    return rope(x, cos, sin, () => {
      const [n, heads, hd] = x.shape as number[];
      const rotated = tf.reshape(linear(tf.reshape(x, [n * heads, hd]), this.rotate), [n, heads, hd]);
      return tf.add(tf.mul(x, cos), tf.mul(rotated, sin));
    });
  }

  /** R [hd, hd] with x·R = rotate_half(x): out[i] = −x[hd/2 + i], out[hd/2 + i] = x[i]. */
  private static rotateHalfMatrix(hd: number): tf.Tensor2D {
    const half = hd / 2;
    const r = new Float32Array(hd * hd);
    for (let i = 0; i < half; i++) {
      r[(half + i) * hd + i] = -1;
      r[i * hd + half + i] = 1;
    }
    return tf.tensor2d(r, [hd, hd]);
  }

  /** q, k, v for N = B·T tokens: q [N, h, hd], k and v [N, kv, hd], RoPE and (qwen3) q/k norms applied. */
  private qkv(L: LayerParams, x: tf.Tensor, cos: tf.Tensor, sin: tf.Tensor): [tf.Tensor, tf.Tensor, tf.Tensor] {
    const { numHeads: h, numKvHeads: kv, headDim: hd } = this.cfg;
    const n = x.shape[0];
    const proj = (w: tf.Tensor, b: tf.Tensor | null) => (b ? tf.add(linear(x, w), b) : linear(x, w));
    let q = tf.reshape(proj(L.wq, L.bq), [n, h, hd]);
    let k = tf.reshape(proj(L.wk, L.bk), [n, kv, hd]);
    const v = proj(L.wv, L.bv);
    if (L.qNorm && L.kNorm) {
      q = this.rmsNorm(q, L.qNorm);
      k = this.rmsNorm(k, L.kNorm);
    }
    return [this.rope(q, cos, sin), this.rope(k, cos, sin), tf.reshape(v, [n, kv, hd])];
  }

  /**
   * Grouped-query attention through the fused op attention() (src/lm/ops.ts). q [B, T, h, hd]; kT [B, kv, hd, S];
   * v [B, kv, S, hd]; mask additive [B, 1, 1, T, S].
   * Returns [B·T, h·hd]. Query head i uses kv head floor(i / g), g = h / kv (HF's repeat_kv order).
   */
  private attend(q: tf.Tensor, kT: tf.Tensor, v: tf.Tensor, mask: tf.Tensor): tf.Tensor {
    const { numHeads: h, numKvHeads: kv, headDim: hd } = this.cfg;
    const g = h / kv;
    const [B, T] = q.shape as number[];
    const S = kT.shape[3]!;
    const qs = tf.mul(q, 1 / Math.sqrt(hd));
    // With one position (a decoding step) the transposes move no element: reshapes, without a copy kernel.
    const qg = tf.reshape(T === 1 ? qs : tf.transpose(tf.reshape(qs, [B, T, kv, g, hd]), [0, 2, 3, 1, 4]), [B * kv, g * T, hd]) as tf.Tensor3D;
    // Query rows (b, kv head, group, t) in that order: the mask [B, 1, 1, T, S] is shared by each b's kv·g heads.
    const ctx = tf.reshape(
      attention(qg, tf.reshape(kT, [B * kv, hd, S]) as tf.Tensor3D, tf.reshape(v, [B * kv, S, hd]) as tf.Tensor3D, tf.reshape(mask, [B, 1, T, S])),
      [B, kv, g, T, hd],
    );
    return tf.reshape(T === 1 ? ctx : tf.transpose(ctx, [0, 3, 1, 2, 4]), [B * T, h * hd]);
  }

  private mlp(L: LayerParams, x: tf.Tensor): tf.Tensor {
    const gate = linear(x, L.wgate);
    return linear(siluMul(gate, linear(x, L.wup)), L.wdown);
  }

  /** The input embeddings of N token ids: ids [N] int32 → [N, d] (the [d, V] table's columns, transposed). */
  embedLookup(ids: tf.Tensor): tf.Tensor {
    if (storeOf(this.embed)) return this.embedColumns(ids.dataSync() as Int32Array);
    return tf.transpose(tf.gather(this.embed, ids, 1));
  }

  /**
   * embedLookup where the backend keeps the [d, V] table in CPU memory (wasm's heap, the cpu backend's arrays): the
   * columns for `ids` copied straight from there, not tfjs-wasm's GatherV2 along the table's second axis, which indexes
   * every element (about 1 ms per decoding step for 128 ids on the tiny model, ~50 ms in an update's forward), nor a
   * transposed copy of the table (545 MB for Qwen's). Differentiable in the table: a column's gradient is its copies'
   * summed (unsortedSegmentSum in index order, as tf.gather's gradient). The same values and gradient as the gather
   * (tests/lm/model.test.ts); other backends use the gather.
   */
  private embedColumns(ids: ArrayLike<number>): tf.Tensor {
    if (!storeOf(this.embed)) return this.embedLookup(tf.tensor1d(Int32Array.from(ids), 'int32'));
    const { hiddenSize: d, vocabSize: V } = this.cfg;
    const rows = Int32Array.from(ids);
    rows.forEach((id, n) =>
      check(Number.isInteger(ids[n]) && id >= 0 && id < V, () => `embedding lookup: token id ${ids[n]} (row ${n}) is outside the vocabulary [0, ${V})`),
    );
    const op = tf.customGrad(((table: tf.Tensor, save: tf.GradSaveFunc) => {
      save([]);
      const store = storeOf(table)!;
      const out = new Float32Array(rows.length * d);
      rows.forEach((id, n) => {
        for (let j = 0; j < d; j++) out[n * d + j] = store.arr[store.at + j * V + id];
      });
      return {
        value: tf.tensor2d(out, [rows.length, d]),
        gradFunc: (dy: tf.Tensor) => tf.tidy(() => tf.transpose(tf.unsortedSegmentSum(dy, tf.tensor1d(rows, 'int32'), V))),
      };
    }) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (t: tf.Tensor) => tf.Tensor;
    return op(this.embed);
  }

  private head(hidden: tf.Tensor): tf.Tensor {
    return linear(hidden, this.lmHead ?? this.embed);
  }

  /** The layer's parameters in a fixed order (the nullable ones only where present), and the inverse. */
  private static layerTensors(L: LayerParams): tf.Variable[] {
    return [L.ln1, L.wq, L.wk, L.wv, L.bq, L.bk, L.bv, L.qNorm, L.kNorm, L.wo, L.ln2, L.wgate, L.wup, L.wdown].filter((t): t is tf.Variable => t !== null);
  }

  /** LayerParams with `ts` (in layerTensors order) in place of L's parameters: the tensors a checkpointed layer gets. */
  private static withTensors(L: LayerParams, ts: tf.Tensor[]): LayerParams {
    let i = 0;
    const next = (present: tf.Variable | null) => (present === null ? null : ts[i++]) as tf.Variable;
    return {
      ln1: next(L.ln1),
      wq: next(L.wq),
      wk: next(L.wk),
      wv: next(L.wv),
      bq: next(L.bq),
      bk: next(L.bk),
      bv: next(L.bv),
      qNorm: next(L.qNorm),
      kNorm: next(L.kNorm),
      wo: next(L.wo),
      ln2: next(L.ln2),
      wgate: next(L.wgate),
      wup: next(L.wup),
      wdown: next(L.wdown),
    };
  }

  // ---- public paths ----

  /**
   * Full forward. ids [B, T] int32; mask [B, T] (1 real, 0 left padding; default all ones).
   * Returns logits [B, T, V] and hidden [B, T, d]; with `headFrom` = f only positions f … T-1 ([B, T-f, ·]), the
   * others never going through the LM head. `kvOut` receives each layer's kT [B, kv, hd, T] and v [B, kv, T, hd].
   * `sharePrefix` = P: positions 0 … P − 1 are a prompt, and rows with the same prompt (ids and mask) may have them
   * computed once (execution.sharePrefix; see forwardSharedPrefix).
   */
  forward(
    ids: tf.Tensor2D,
    mask?: ArrayLike<number>,
    kvOut?: (layer: number, k: tf.Tensor, v: tf.Tensor) => void,
    opts: { headFrom?: number; stream?: { sink: GradSink; embeds: tf.Tensor }; sharePrefix?: number } = {},
  ): ForwardOutput {
    check(ids.rank === 2 && ids.dtype === 'int32', () => `forward: ids must be an int32 tensor [B, T], got ${ids.dtype} [${ids.shape}]`);
    const [B, T] = ids.shape;
    const m = mask ?? new Float32Array(B * T).fill(1);
    check(m.length === B * T, () => `forward: mask has ${m.length} entries, expected B·T = ${B * T}`);
    // Only the positions from headFrom on go through the final norm and the LM head: with a 152k vocabulary the logits
    // of a whole prompt batch are GBs (32 rows × 400 tokens × 151,936 × 4 bytes = 7.8 GB), and rollouts need the last.
    const from = opts.headFrom ?? 0;
    check(Number.isInteger(from) && from >= 0 && from < T, () => `forward: headFrom ${from} must be a position in [0, ${T})`);
    const P = opts.sharePrefix ?? 0;
    check(Number.isInteger(P) && P >= 0 && P < T, () => `forward: sharePrefix ${P} must be a position in [0, ${T})`);
    if (P > 0 && this.exec.sharePrefix && !kvOut && !opts.stream) {
      const shared = this.forwardSharedPrefix(ids, m, P, from);
      if (shared) return shared;
    }
    const { hiddenSize: d, numHeads: h, numKvHeads: kv, headDim: hd } = this.cfg;
    // Positions count real tokens; the additive mask is causal and hides padded keys.
    const pos = positionsOf(m, B, T);
    const add = new Float32Array(B * T * T).fill(NEG);
    for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) for (let s = 0; s <= t; s++) if (m[b * T + s]) add[(b * T + t) * T + s] = 0;
    const maskT = tf.tensor(add, [B, 1, 1, T, T]);
    const [cos, sin] = this.ropeTables(pos);
    const stream = opts.stream;
    if (stream)
      check(
        !kvOut && stream.embeds.rank === 2 && stream.embeds.shape[0] === B * T && stream.embeds.shape[1] === d,
        () => `forward: stream.embeds must be [B·T, d] = [${B * T}, ${d}] (and no kvOut), got [${stream.embeds.shape}]`,
      );
    let x = stream ? stream.embeds : this.embedLookup(tf.reshape(ids, [B * T]));
    // B is read from x: a checkpointed layer may run on a chunk of the batch rows.
    const layer = (L: LayerParams, l: number, xin: tf.Tensor, [cos, sin, maskT]: tf.Tensor[]): tf.Tensor => {
      const B = xin.shape[0] / T;
      const [q, k, v] = this.qkv(L, this.rmsNorm(xin, L.ln1), cos, sin);
      const kt = tf.transpose(tf.reshape(k, [B, T, kv, hd]), [0, 2, 3, 1]);
      const vt = tf.transpose(tf.reshape(v, [B, T, kv, hd]), [0, 2, 1, 3]);
      if (kvOut) kvOut(l, kt, vt);
      const xa = tf.add(xin, linear(this.attend(tf.reshape(q, [B, T, h, hd]), kt, vt, maskT), L.wo));
      return tf.add(xa, this.mlp(L, this.rmsNorm(xa, L.ln2)));
    };
    // A streamed backward pass always recomputes: that is where the layer's gradients are handed to the sink.
    const checkpoint = stream !== undefined || (!kvOut && B * T > this.exec.checkpointTokens);
    // Each layer in its own tidy: its intermediates are freed when it returns (under a gradient tape, TF.js keeps what
    // the backward pass needs). Without it a 0.5B model's prefill of 4 × 129 tokens held 2.4 GB of MLP activations
    // until the caller's tidy ended, and training aborted on the wasm heap.
    this.layers.forEach((L, l) => {
      const xin = x;
      x = checkpoint
        ? recomputed(Decoder.layerTensors(L), (ps, xi, cs) => layer(Decoder.withTensors(L, ps), l, xi, cs), xin, [cos, sin, maskT], stream?.sink, {
            count: B,
            units: [T, T, T, 1],
            chunk: Math.floor(this.exec.recomputeTokens / T),
          })
        : tf.tidy(() => layer(L, l, xin, [cos, sin, maskT]));
    });
    const n = T - from;
    const xs = from === 0 ? x : tf.reshape(tf.slice(tf.reshape(x, [B, T, d]), [0, from, 0], [B, n, d]), [B * n, d]);
    if (stream) {
      const { hidden, logits } = streamedHead(xs, this.norm, (xi, w) => this.rmsNorm(xi, w), this.lmHead ?? this.embed, stream.sink, this.exec.headGradBlock);
      return { logits: tf.reshape(logits, [B, n, this.cfg.vocabSize]), hidden: tf.reshape(hidden, [B, n, d]) };
    }
    return this.lmOutputs(xs, B, n);
  }

  /** The final norm and the LM head of xs [B·n, d]: logits [B, n, V] and hidden [B, n, d]. */
  private lmOutputs(xs: tf.Tensor, B: number, n: number): ForwardOutput {
    const hidden = this.rmsNorm(xs, this.norm);
    return { logits: tf.reshape(this.head(hidden), [B, n, this.cfg.vocabSize]), hidden: tf.reshape(hidden, [B, n, this.cfg.hiddenSize]) };
  }

  /**
   * forward() of a batch whose rows come in blocks of g consecutive rows with the same first P positions (a GRPO batch:
   * the G samples of each prompt), each block's prompt computed once. The layers run on one [U · (P + g·(T − P)), d]
   * matrix, block by block: the prompt's P positions, then its g rows' later positions; everything position-wise
   * (norms, projections, RoPE, the MLP) runs on it whole, and only attention splits: the prompt attends to itself, the
   * later positions to their prompt's keys and values (repeated to the g rows, so their gradients sum over the block)
   * and to their own. Blocks are whole units of the checkpointed recompute's row chunks. Every value at a real
   * position is the unshared forward's up to float32 rounding (tests/lm/model.test.ts); a padded position (mask 0),
   * which no query reads, attends over its prompt only. null, for forward() to compute the rows whole, when the rows
   * are not such blocks (g = 1, or a block whose rows differ before P).
   */
  private forwardSharedPrefix(ids: tf.Tensor2D, m: ArrayLike<number>, P: number, from: number): ForwardOutput | null {
    const [B, T] = ids.shape;
    const idv = ids.dataSync() as Int32Array;
    const samePrefix = (a: number, b: number) => {
      for (let t = 0; t < P; t++) if (idv[a * T + t] !== idv[b * T + t] || !m[a * T + t] !== !m[b * T + t]) return false;
      return true;
    };
    let g = 1;
    while (g < B && samePrefix(0, g)) g++;
    if (g < 2 || B % g !== 0) return null;
    for (let b = 0; b < B; b++) if (!samePrefix(b - (b % g), b)) return null;
    const U = B / g;
    const G = T - P;
    const unit = P + g * G;
    const N = U * unit;
    const { hiddenSize: d, numHeads: h, numKvHeads: kv, headDim: hd } = this.cfg;
    // The stacked rows: block u holds its prompt's P positions (those of row u·g), then rows u·g … u·g + g − 1's later ones.
    const src = new Int32Array(N);
    for (let u = 0; u < U; u++) {
      for (let t = 0; t < P; t++) src[u * unit + t] = u * g * T + t;
      for (let r = 0; r < g; r++) for (let t = 0; t < G; t++) src[u * unit + P + r * G + t] = (u * g + r) * T + P + t;
    }
    const posOf = positionsOf(m, B, T);
    // Additive masks, causal and hiding padded keys: the prompts' [U, 1, 1, P, P], the later positions' [B, 1, 1, G, T].
    const addP = new Float32Array(U * P * P).fill(NEG);
    for (let u = 0; u < U; u++) for (let t = 0; t < P; t++) for (let s2 = 0; s2 <= t; s2++) if (m[u * g * T + s2]) addP[(u * P + t) * P + s2] = 0;
    const addG = new Float32Array(B * G * T).fill(NEG);
    for (let b = 0; b < B; b++) for (let t = 0; t < G; t++) for (let s2 = 0; s2 <= P + t; s2++) if (m[b * T + s2]) addG[(b * G + t) * T + s2] = 0;
    const [cos, sin] = this.ropeTables(Array.from(src, (i) => posOf[i]));
    const consts = [cos, sin, tf.tensor(addP, [U, 1, 1, P, P]), tf.tensor(addG, [B, 1, 1, G, T])];
    let x = this.embedLookup(
      tf.tensor1d(
        Array.from(src, (i) => idv[i]),
        'int32',
      ),
    );
    // n blocks: all U, or a chunk of them in the checkpointed layer's recompute.
    const layer = (L: LayerParams, xin: tf.Tensor, [cos, sin, maskP, maskG]: tf.Tensor[]): tf.Tensor => {
      const n = xin.shape[0] / unit;
      const [q, k, v] = this.qkv(L, this.rmsNorm(xin, L.ln1), cos, sin);
      // [n·unit, heads, hd] → the prompts' [n, P, heads, hd] and the later positions' [n·g, G, heads, hd].
      // As 2-D column ranges of [n, unit · heads · hd]: tfjs-wasm slices a 2-D tensor by whole rows, a 4-D one by
      // rows of hd values.
      const split = (t: tf.Tensor, heads: number) => {
        const w = heads * hd;
        const blocks = tf.reshape(t, [n, unit * w]);
        return [
          tf.reshape(tf.slice(blocks, [0, 0], [n, P * w]), [n, P, heads, hd]),
          tf.reshape(tf.slice(blocks, [0, P * w], [n, g * G * w]), [n * g, G, heads, hd]),
        ];
      };
      const [qP, qG] = split(q, h);
      const [kP, kG] = split(k, kv);
      const [vP, vG] = split(v, kv);
      const kTP = tf.transpose(kP, [0, 2, 3, 1]);
      const vTP = tf.transpose(vP, [0, 2, 1, 3]);
      const oP = this.attend(qP, kTP, vTP, maskP);
      const kAll = tf.concat([repeatRows(kTP, g), tf.transpose(kG, [0, 2, 3, 1])], 3);
      const vAll = tf.concat([repeatRows(vTP, g), tf.transpose(vG, [0, 2, 1, 3])], 2);
      const oG = this.attend(qG, kAll, vAll, maskG);
      const o = tf.reshape(tf.concat([tf.reshape(oP, [n, P, h * hd]), tf.reshape(oG, [n, g * G, h * hd])], 1), [n * unit, h * hd]);
      const xa = tf.add(xin, linear(o, L.wo));
      return tf.add(xa, this.mlp(L, this.rmsNorm(xa, L.ln2)));
    };
    const checkpoint = N > this.exec.checkpointTokens;
    this.layers.forEach((L) => {
      const xin = x;
      x = checkpoint
        ? recomputed(Decoder.layerTensors(L), (ps, xi, cs) => layer(Decoder.withTensors(L, ps), xi, cs), xin, consts, undefined, {
            count: U,
            units: [unit, unit, unit, 1, g],
            chunk: Math.floor(this.exec.recomputeTokens / unit),
          })
        : tf.tidy(() => layer(L, xin, consts));
    });
    // Positions from `from` on, as [B, T − from, d]: a prompt's positions repeated to its rows, then the rows' own.
    const blocks = tf.reshape(x, [U, unit * d]);
    const later = tf.reshape(tf.slice(blocks, [0, P * d], [U, g * G * d]), [B, G * d]);
    const n = T - from;
    const xs =
      from >= P
        ? tf.slice(later, [0, (from - P) * d], [B, n * d])
        : tf.concat([repeatRows(tf.reshape(tf.slice(blocks, [0, from * d], [U, (P - from) * d]), [U, P - from, d]), g), tf.reshape(later, [B, G, d])], 1);
    return this.lmOutputs(tf.reshape(xs, [B * n, d]), B, n);
  }

  /**
   * The gradients of `loss(forward(ids, mask, …, { headFrom }))` with θ's streamed into `sink` (see GradSink) and those
   * of `extra` (tensors outside the model, e.g. φ's variables) returned in order; the backend never holds all of θ's
   * gradients (src/lm/streamed-backward.ts). Equal to tf.variableGrads over θ (tests/lm/streamed-grads.test.ts).
   */
  streamedGrads(
    ids: Int32Array,
    shape: [number, number],
    mask: ArrayLike<number> | undefined,
    headFrom: number,
    sink: GradSink,
    loss: (out: ForwardOutput) => tf.Scalar,
    extra: tf.Tensor[] = [],
  ): { value: number; grads: tf.Tensor[] } {
    return streamedGrads(this, ids, shape, mask, headFrom, sink, loss, extra);
  }

  /** Bytes of a KV cache for `batch` rows of `maxLen` positions (float32 keys and values of every layer). */
  kvCacheBytes(batch: number, maxLen: number): number {
    return batch * maxLen * this.cfg.numLayers * this.cfg.numKvHeads * this.cfg.headDim * 2 * 4;
  }

  /** A KV cache for `batch` rows and at most `maxLen` tokens (prompt + generated). */
  createCache(batch: number, maxLen: number): KVCache {
    check(maxLen <= this.cfg.maxPositions, () => `cache length ${maxLen} exceeds max_position_embeddings ${this.cfg.maxPositions}`);
    return new KVCache(batch, maxLen);
  }

  /**
   * Runs the (left-padded) prompts through the model and fills the cache. ids [B, P]; mask [B, P].
   * Returns logits [B, P, V] and hidden [B, P, d] of the prompt positions, or with `lastOnly` of the last one
   * ([B, 1, V], [B, 1, d]; what a rollout needs, without a [B, P, V] tensor). Repeated prompt rows are computed once
   * (execution.sharePrefill; src/lm/prefill.ts).
   */
  prefill(cache: KVCache, ids: tf.Tensor2D, mask?: ArrayLike<number>, opts: { lastOnly?: boolean } = {}): ForwardOutput {
    return prefill(this, cache, ids, mask, { lastOnly: opts.lastOnly, share: this.exec.sharePrefill });
  }

  /**
   * One decoding step: feeds one token per row (ids: B numbers) at slot cache.length and advances the cache.
   * Returns logits [B, V] and hidden [B, d]. The cache's tensors are kept across tf.tidy.
   */
  decodeStep(cache: KVCache, ids: ArrayLike<number>): ForwardOutput {
    const B = cache.batch;
    check(ids.length === B, () => `decodeStep: got ${ids.length} ids for a batch of ${B}`);
    check(cache.k.length === this.cfg.numLayers, 'decodeStep: the cache was not prefilled');
    check(cache.length < cache.maxLen, () => `decodeStep: the KV cache is full (${cache.maxLen} slots)`);
    const { hiddenSize: d, numHeads: h, numKvHeads: kv, headDim: hd } = this.cfg;
    const slot = cache.length;
    const S = cache.maxLen;
    const add = new Float32Array(B * S).fill(NEG);
    for (let b = 0; b < B; b++) {
      cache.valid[b * S + slot] = 1;
      for (let s = 0; s <= slot; s++) if (cache.valid[b * S + s]) add[b * S + s] = 0;
    }
    const maskT = tf.tensor(add, [B, 1, 1, 1, S]);
    const onehot = new Float32Array(S);
    onehot[slot] = 1;
    const slotK = tf.tensor(onehot, [1, 1, 1, S]);
    const slotV = tf.reshape(slotK, [1, 1, S, 1]);
    const [cos, sin] = this.ropeTables(cache.nextPos);
    let x = this.embedColumns(ids);
    this.layers.forEach((L, l) => {
      const [q, k, v] = this.qkv(L, this.rmsNorm(x, L.ln1), cos, sin);
      // Write the new k, v into the slot: in place where the backend's memory allows (src/lm/kv-write.ts), else as
      // cache + onehot ⊗ new, which is exact too (the slot is zero before).
      if (!this.exec.inPlaceKv || !writeKvSlotInPlace(cache.k[l], cache.v[l], k, v, slot)) {
        const kNew = tf.add(cache.k[l], tf.mul(slotK, tf.reshape(k, [B, kv, hd, 1])));
        const vNew = tf.add(cache.v[l], tf.mul(slotV, tf.reshape(v, [B, kv, 1, hd])));
        cache.k[l].dispose();
        cache.v[l].dispose();
        cache.k[l] = tf.keep(kNew);
        cache.v[l] = tf.keep(vNew);
      }
      x = tf.add(x, linear(this.attend(tf.reshape(q, [B, 1, h, hd]), cache.k[l], cache.v[l], maskT), L.wo));
      x = tf.add(x, this.mlp(L, this.rmsNorm(x, L.ln2)));
    });
    cache.length++;
    for (let b = 0; b < B; b++) cache.nextPos[b]++;
    const hidden = this.rmsNorm(x, this.norm);
    return { logits: this.head(hidden), hidden: tf.reshape(hidden, [B, d]) };
  }
}

/**
 * Random weights of `cfg` as a WeightSource (HF names and layouts), each tensor drawn when read: normal(0, std) for
 * matrices from `new Rng(seed).fork(name)`, ones for norms, zeros for biases. Saving it writes a random checkpoint
 * without ever building the model.
 */
export function randomWeightSource(cfg: DecoderConfig, seed: number, std = 0.02): WeightSource {
  const shapes = expectedWeights(cfg);
  const root = new Rng(seed);
  return {
    shapes,
    read: (name) => {
      const shape = shapes.get(name);
      if (!shape) throw new KitError(`random weights: no tensor '${name}' in a ${cfg.modelType} model of this config`);
      const out = new Float32Array(numel(shape));
      if (name.endsWith('norm.weight') || name.endsWith('layernorm.weight')) return out.fill(1);
      if (name.endsWith('.bias')) return out;
      return fillNormal(out, root.fork(name), std);
    },
  };
}

/** The transpose of a row-major [rows, cols] matrix, in 64 × 64 blocks (cache-friendly; exact: data movement only). */
export function transposeHost(src: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(src.length);
  const B = 64;
  for (let i0 = 0; i0 < rows; i0 += B) {
    const i1 = Math.min(i0 + B, rows);
    for (let j0 = 0; j0 < cols; j0 += B) {
      const j1 = Math.min(j0 + B, cols);
      for (let i = i0; i < i1; i++) {
        const r = i * cols;
        for (let j = j0; j < j1; j++) out[j * rows + i] = src[r + j];
      }
    }
  }
  return out;
}
