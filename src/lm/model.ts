// A decoder-only transformer in TensorFlow.js for HF model_type llama, qwen2 and qwen3: the token policy π_θ.
//
// Both paths return the logits AND the final hidden state h_t (the LM head's input, after the final RMSNorm) at every
// position, because the temperature head of Introspective LLM reads h_t:
//   forward(ids [B,T], mask [B,T])            full recompute (training, loss-time log-probs, prefill)
//   prefill(cache, ids, mask) / decodeStep()  incremental decoding through a preallocated KV cache (rollouts)
// Batches of prompts with different lengths are LEFT-padded: pad slots have mask 0, positions count real tokens only,
// so every row's new token lands in the same cache slot.
//
// Weights keep the HF (PyTorch) layout [out, in] and are multiplied with transposeB. For speed, q/k/v and gate/up are
// fused into one matrix per layer; save() splits them back into HF names.
import * as tf from '@tensorflow/tfjs';
import { check, KitError } from '../errors';
import { DecoderConfig, expectedWeights } from './config';

export interface LayerParams {
  ln1: tf.Variable; // [d]
  wqkv: tf.Variable; // [(h + 2kv)·hd, d]
  bqkv: tf.Variable | null; // [(h + 2kv)·hd]
  qNorm: tf.Variable | null; // [hd]
  kNorm: tf.Variable | null; // [hd]
  wo: tf.Variable; // [d, h·hd]
  ln2: tf.Variable; // [d]
  wgu: tf.Variable; // [2f, d]   (gate rows, then up rows)
  wdown: tf.Variable; // [d, f]
}

export interface ForwardOutput {
  logits: tf.Tensor; // [B, T, V] (forward) or [B, V] (decodeStep)
  hidden: tf.Tensor; // [B, T, d] (forward) or [B, d] (decodeStep)
}

/** Host-side float32 weights by HF name, e.g. from loadModelWeights(). */
export type HostWeights = Map<string, { shape: number[]; data: Float32Array }>;

const NEG = -1e9; // additive mask value; finite so fully masked rows (pad queries) give no NaN

export class KVCache {
  /** Per layer [B, kv, maxLen, hd]. */
  k: tf.Tensor[] = [];
  v: tf.Tensor[] = [];
  /** Slots filled so far (same for every row: prompts are left-padded). */
  length = 0;
  /** Per row: the position (RoPE index) of the next token. */
  nextPos: Int32Array;
  /** [B, maxLen] 1 where a slot holds a real token. */
  valid: Uint8Array;

  constructor(readonly batch: number, readonly maxLen: number) {
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
  readonly embed: tf.Variable; // [V, d]
  readonly layers: LayerParams[];
  readonly norm: tf.Variable; // [d]
  readonly lmHead: tf.Variable | null; // [V, d], null when tied to embed
  private readonly invFreq: Float32Array;

  private constructor(readonly cfg: DecoderConfig, w: (name: string) => tf.Tensor, trainable: boolean) {
    const v = (t: tf.Tensor, name: string) => {
      const x = tf.variable(t, trainable, `${name}_${Decoder.nextId++}`);
      t.dispose(); // the variable holds its own reference to the data
      return x;
    };
    this.embed = v(w('model.embed_tokens.weight'), 'embed');
    this.layers = [];
    for (let l = 0; l < cfg.numLayers; l++) {
      const p = `model.layers.${l}`;
      const fuse = (names: string[]) => tf.tidy(() => tf.concat(names.map(w), 0));
      this.layers.push({
        ln1: v(w(`${p}.input_layernorm.weight`), `l${l}_ln1`),
        wqkv: v(fuse(['q', 'k', 'v'].map((x) => `${p}.self_attn.${x}_proj.weight`)), `l${l}_wqkv`),
        bqkv: cfg.attentionBias ? v(fuse(['q', 'k', 'v'].map((x) => `${p}.self_attn.${x}_proj.bias`)), `l${l}_bqkv`) : null,
        qNorm: cfg.qkNorm ? v(w(`${p}.self_attn.q_norm.weight`), `l${l}_qnorm`) : null,
        kNorm: cfg.qkNorm ? v(w(`${p}.self_attn.k_norm.weight`), `l${l}_knorm`) : null,
        wo: v(w(`${p}.self_attn.o_proj.weight`), `l${l}_wo`),
        ln2: v(w(`${p}.post_attention_layernorm.weight`), `l${l}_ln2`),
        wgu: v(fuse([`${p}.mlp.gate_proj.weight`, `${p}.mlp.up_proj.weight`]), `l${l}_wgu`),
        wdown: v(w(`${p}.mlp.down_proj.weight`), `l${l}_wdown`),
      });
    }
    this.norm = v(w('model.norm.weight'), 'norm');
    this.lmHead = cfg.tieWordEmbeddings ? null : v(w('lm_head.weight'), 'lm_head');
    // inv_freq as HF computes it in float32: 1 / theta^(2i / hd).
    const half = cfg.headDim / 2;
    this.invFreq = new Float32Array(half);
    for (let i = 0; i < half; i++) {
      this.invFreq[i] = Math.fround(1 / Math.fround(Math.pow(cfg.ropeTheta, Math.fround((2 * i) / cfg.headDim))));
    }
  }
  private static nextId = 0;

  /** Builds a decoder from host weights (HF names); shapes are checked against the config. */
  static fromWeights(cfg: DecoderConfig, weights: HostWeights, opts: { trainable?: boolean } = {}): Decoder {
    const expected = expectedWeights(cfg);
    for (const [name, shape] of expected) {
      const t = weights.get(name);
      if (!t) throw new KitError(`weights: missing tensor '${name}'`);
      if (t.shape.length !== shape.length || t.shape.some((s, i) => s !== shape[i])) {
        throw new KitError(`weights: tensor '${name}' has shape [${t.shape}], expected [${shape}] from the config`);
      }
    }
    return new Decoder(cfg, (name) => {
      const t = weights.get(name)!;
      return tf.tensor(t.data, t.shape, 'float32');
    }, opts.trainable ?? true);
  }

  /** Random weights in the HF initialisation style (normal, std 0.02; norms 1; biases 0), seeded. */
  static random(cfg: DecoderConfig, seed: number, opts: { trainable?: boolean; std?: number } = {}): Decoder {
    const std = opts.std ?? 0.02;
    let k = 0;
    const expected = expectedWeights(cfg);
    return new Decoder(cfg, (name) => {
      const shape = expected.get(name)!;
      k++;
      if (name.endsWith('norm.weight') || name.endsWith('layernorm.weight')) return tf.ones(shape);
      if (name.endsWith('.bias')) return tf.zeros(shape);
      return tf.randomNormal(shape, 0, std, 'float32', seed * 1000 + k);
    }, opts.trainable ?? true);
  }

  /** Every parameter with its kit name (fused names, not HF names). */
  variables(): tf.Variable[] {
    const out: tf.Variable[] = [this.embed];
    for (const L of this.layers) {
      for (const x of [L.ln1, L.wqkv, L.bqkv, L.qNorm, L.kNorm, L.wo, L.ln2, L.wgu, L.wdown]) if (x) out.push(x);
    }
    out.push(this.norm);
    if (this.lmHead) out.push(this.lmHead);
    return out;
  }

  numParams(): number {
    return this.variables().reduce((a, v) => a + v.size, 0);
  }

  /** Host copy of the weights under their HF names (the fused matrices split back). */
  async toHostWeights(): Promise<HostWeights> {
    const out: HostWeights = new Map();
    const put = async (name: string, t: tf.Tensor) => out.set(name, { shape: t.shape.slice(), data: (await t.data()) as Float32Array });
    const { headDim: hd, numHeads: h, numKvHeads: kv, intermediateSize: f } = this.cfg;
    await put('model.embed_tokens.weight', this.embed);
    for (let l = 0; l < this.layers.length; l++) {
      const L = this.layers[l];
      const p = `model.layers.${l}`;
      await put(`${p}.input_layernorm.weight`, L.ln1);
      const sizes = [h * hd, kv * hd, kv * hd];
      const ws = tf.split(L.wqkv, sizes, 0);
      for (let i = 0; i < 3; i++) await put(`${p}.self_attn.${'qkv'[i]}_proj.weight`, ws[i]);
      tf.dispose(ws);
      if (L.bqkv) {
        const bs = tf.split(L.bqkv, sizes, 0);
        for (let i = 0; i < 3; i++) await put(`${p}.self_attn.${'qkv'[i]}_proj.bias`, bs[i]);
        tf.dispose(bs);
      }
      if (L.qNorm) await put(`${p}.self_attn.q_norm.weight`, L.qNorm);
      if (L.kNorm) await put(`${p}.self_attn.k_norm.weight`, L.kNorm);
      await put(`${p}.self_attn.o_proj.weight`, L.wo);
      await put(`${p}.post_attention_layernorm.weight`, L.ln2);
      const gu = tf.split(L.wgu, [f, f], 0);
      await put(`${p}.mlp.gate_proj.weight`, gu[0]);
      await put(`${p}.mlp.up_proj.weight`, gu[1]);
      tf.dispose(gu);
      await put(`${p}.mlp.down_proj.weight`, L.wdown);
    }
    await put('model.norm.weight', this.norm);
    if (this.lmHead) await put('lm_head.weight', this.lmHead);
    return out;
  }

  dispose(): void {
    for (const v of this.variables()) v.dispose();
  }

  // ---- building blocks (synchronous; callers run them inside tf.tidy) ----

  private rmsNorm(x: tf.Tensor, w: tf.Tensor): tf.Tensor {
    const ms = tf.mean(tf.square(x), -1, true);
    return tf.mul(tf.mul(x, tf.rsqrt(tf.add(ms, this.cfg.rmsNormEps))), w);
  }

  /** cos and sin tables [N, hd/2] for the given positions, computed on the host in float32 as HF does. */
  private ropeTables(positions: ArrayLike<number>): [tf.Tensor, tf.Tensor] {
    const half = this.invFreq.length;
    const cos = new Float32Array(positions.length * half);
    const sin = new Float32Array(positions.length * half);
    for (let n = 0; n < positions.length; n++) {
      for (let i = 0; i < half; i++) {
        const a = Math.fround(positions[n] * this.invFreq[i]);
        cos[n * half + i] = Math.cos(a);
        sin[n * half + i] = Math.sin(a);
      }
    }
    return [tf.tensor2d(cos, [positions.length, half]), tf.tensor2d(sin, [positions.length, half])];
  }

  /** RoPE in the rotate-half convention. x [N, heads, hd]; cos/sin [N, hd/2]. */
  private rope(x: tf.Tensor, cos: tf.Tensor, sin: tf.Tensor): tf.Tensor {
    const half = this.cfg.headDim / 2;
    const [x1, x2] = tf.split(x, [half, half], -1);
    const c = tf.expandDims(cos, 1);
    const s = tf.expandDims(sin, 1);
    return tf.concat([tf.sub(tf.mul(x1, c), tf.mul(x2, s)), tf.add(tf.mul(x2, c), tf.mul(x1, s))], -1);
  }

  /** q, k, v for N = B·T tokens: q [N, h, hd], k and v [N, kv, hd], RoPE and (qwen3) q/k norms applied. */
  private qkv(L: LayerParams, x: tf.Tensor, cos: tf.Tensor, sin: tf.Tensor): [tf.Tensor, tf.Tensor, tf.Tensor] {
    const { numHeads: h, numKvHeads: kv, headDim: hd } = this.cfg;
    const n = x.shape[0];
    let y = tf.matMul(x, L.wqkv, false, true);
    if (L.bqkv) y = tf.add(y, L.bqkv);
    const [q0, k0, v] = tf.split(y, [h * hd, kv * hd, kv * hd], 1);
    let q = tf.reshape(q0, [n, h, hd]);
    let k = tf.reshape(k0, [n, kv, hd]);
    if (L.qNorm && L.kNorm) {
      q = this.rmsNorm(q, L.qNorm);
      k = this.rmsNorm(k, L.kNorm);
    }
    return [this.rope(q, cos, sin), this.rope(k, cos, sin), tf.reshape(v, [n, kv, hd])];
  }

  /**
   * Grouped-query attention. q [B, T, h, hd]; k, v [B, kv, S, hd]; mask additive, broadcastable to [B, 1, 1, T, S].
   * Returns [B·T, h·hd]. Query head i uses kv head floor(i / g), g = h / kv (HF's repeat_kv order).
   */
  private attend(q: tf.Tensor, k: tf.Tensor, v: tf.Tensor, mask: tf.Tensor): tf.Tensor {
    const { numHeads: h, numKvHeads: kv, headDim: hd } = this.cfg;
    const g = h / kv;
    const [B, T] = q.shape as number[];
    const S = k.shape[2]!;
    const qs = tf.mul(q, 1 / Math.sqrt(hd));
    const qg = tf.reshape(tf.transpose(tf.reshape(qs, [B, T, kv, g, hd]), [0, 2, 3, 1, 4]), [B, kv, g * T, hd]);
    const scores = tf.reshape(tf.matMul(qg, k, false, true), [B, kv, g, T, S]);
    const probs = tf.reshape(tf.softmax(tf.add(scores, mask)), [B, kv, g * T, S]);
    const ctx = tf.reshape(tf.matMul(probs, v), [B, kv, g, T, hd]);
    return tf.reshape(tf.transpose(ctx, [0, 3, 1, 2, 4]), [B * T, h * hd]);
  }

  private mlp(L: LayerParams, x: tf.Tensor): tf.Tensor {
    const f = this.cfg.intermediateSize;
    const [gate, up] = tf.split(tf.matMul(x, L.wgu, false, true), [f, f], 1);
    return tf.matMul(tf.mul(tf.mul(gate, tf.sigmoid(gate)), up), L.wdown, false, true);
  }

  private embedLookup(ids: tf.Tensor): tf.Tensor {
    return tf.gather(this.embed, ids);
  }

  private head(hidden: tf.Tensor): tf.Tensor {
    return tf.matMul(hidden, this.lmHead ?? this.embed, false, true);
  }

  // ---- public paths ----

  /**
   * Full forward. ids [B, T] int32; mask [B, T] (1 real, 0 left padding; default all ones).
   * Returns logits [B, T, V] and hidden [B, T, d]. `kv` receives each layer's k and v [B, kv, T, hd] (for prefill).
   */
  forward(ids: tf.Tensor2D, mask?: ArrayLike<number>, kvOut?: (layer: number, k: tf.Tensor, v: tf.Tensor) => void): ForwardOutput {
    check(ids.rank === 2 && ids.dtype === 'int32', () => `forward: ids must be an int32 tensor [B, T], got ${ids.dtype} [${ids.shape}]`);
    const [B, T] = ids.shape;
    const m = mask ?? new Float32Array(B * T).fill(1);
    check(m.length === B * T, () => `forward: mask has ${m.length} entries, expected B·T = ${B * T}`);
    const { hiddenSize: d, numHeads: h, numKvHeads: kv, headDim: hd } = this.cfg;
    // Positions count real tokens; the additive mask is causal and hides padded keys.
    const pos = new Int32Array(B * T);
    const add = new Float32Array(B * T * T).fill(NEG);
    for (let b = 0; b < B; b++) {
      let p = 0;
      for (let t = 0; t < T; t++) {
        pos[b * T + t] = m[b * T + t] ? p++ : 0;
        for (let s = 0; s <= t; s++) if (m[b * T + s]) add[(b * T + t) * T + s] = 0;
      }
    }
    const maskT = tf.tensor(add, [B, 1, 1, T, T]);
    const [cos, sin] = this.ropeTables(pos);
    let x = tf.reshape(this.embedLookup(ids), [B * T, d]);
    this.layers.forEach((L, l) => {
      const [q, k, v] = this.qkv(L, this.rmsNorm(x, L.ln1), cos, sin);
      const kt = tf.transpose(tf.reshape(k, [B, T, kv, hd]), [0, 2, 1, 3]);
      const vt = tf.transpose(tf.reshape(v, [B, T, kv, hd]), [0, 2, 1, 3]);
      if (kvOut) kvOut(l, kt, vt);
      x = tf.add(x, tf.matMul(this.attend(tf.reshape(q, [B, T, h, hd]), kt, vt, maskT), L.wo, false, true));
      x = tf.add(x, this.mlp(L, this.rmsNorm(x, L.ln2)));
    });
    const hidden = this.rmsNorm(x, this.norm);
    return { logits: tf.reshape(this.head(hidden), [B, T, this.cfg.vocabSize]), hidden: tf.reshape(hidden, [B, T, d]) };
  }

  /** A KV cache for `batch` rows and at most `maxLen` tokens (prompt + generated). */
  createCache(batch: number, maxLen: number): KVCache {
    check(maxLen <= this.cfg.maxPositions, () => `cache length ${maxLen} exceeds max_position_embeddings ${this.cfg.maxPositions}`);
    return new KVCache(batch, maxLen);
  }

  /**
   * Runs the (left-padded) prompts through the model and fills the cache. ids [B, P]; mask [B, P].
   * Returns logits [B, P, V] and hidden [B, P, d] of the prompt positions.
   */
  prefill(cache: KVCache, ids: tf.Tensor2D, mask?: ArrayLike<number>): ForwardOutput {
    const [B, P] = ids.shape;
    check(cache.length === 0, 'prefill: the cache is not empty');
    check(B === cache.batch, () => `prefill: ids has ${B} rows, the cache ${cache.batch}`);
    check(P <= cache.maxLen, () => `prefill: prompt length ${P} exceeds the cache length ${cache.maxLen}`);
    const m = mask ?? new Float32Array(B * P).fill(1);
    const ks: tf.Tensor[] = [];
    const vs: tf.Tensor[] = [];
    const padTo = (t: tf.Tensor) => tf.pad(t, [[0, 0], [0, 0], [0, cache.maxLen - P], [0, 0]]);
    const out = this.forward(ids, m, (_l, k, v) => {
      ks.push(tf.keep(padTo(k)));
      vs.push(tf.keep(padTo(v)));
    });
    cache.k = ks;
    cache.v = vs;
    cache.length = P;
    for (let b = 0; b < B; b++) {
      let n = 0;
      for (let t = 0; t < P; t++) {
        cache.valid[b * cache.maxLen + t] = m[b * P + t] ? 1 : 0;
        if (m[b * P + t]) n++;
      }
      cache.nextPos[b] = n;
    }
    return out;
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
    const slotT = tf.tensor(onehot, [1, 1, S, 1]);
    const [cos, sin] = this.ropeTables(cache.nextPos);
    let x = this.embedLookup(tf.tensor1d(Int32Array.from(ids), 'int32'));
    this.layers.forEach((L, l) => {
      const [q, k, v] = this.qkv(L, this.rmsNorm(x, L.ln1), cos, sin);
      // Write the new k, v into the slot: the slot is zero before, so cache + onehot ⊗ new is exact.
      const kNew = tf.add(cache.k[l], tf.mul(slotT, tf.reshape(k, [B, kv, 1, hd])));
      const vNew = tf.add(cache.v[l], tf.mul(slotT, tf.reshape(v, [B, kv, 1, hd])));
      cache.k[l].dispose();
      cache.v[l].dispose();
      cache.k[l] = tf.keep(kNew);
      cache.v[l] = tf.keep(vNew);
      x = tf.add(x, tf.matMul(this.attend(tf.reshape(q, [B, 1, h, hd]), kNew, vNew, maskT), L.wo, false, true));
      x = tf.add(x, this.mlp(L, this.rmsNorm(x, L.ln2)));
    });
    cache.length++;
    for (let b = 0; b < B; b++) cache.nextPos[b]++;
    const hidden = this.rmsNorm(x, this.norm);
    return { logits: this.head(hidden), hidden: tf.reshape(hidden, [B, d]) };
  }
}
