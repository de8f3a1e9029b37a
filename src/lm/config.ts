// Hugging Face `config.json` → the decoder's typed config, for model_type llama, qwen2 and qwen3.
// Every field the decoder does not implement (rope_scaling, sliding windows, ...) is rejected by name, never ignored.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { KitError } from '../errors';

export type ModelType = 'llama' | 'qwen2' | 'qwen3';
export const MODEL_TYPES: readonly ModelType[] = ['llama', 'qwen2', 'qwen3'];

export interface DecoderConfig {
  modelType: ModelType;
  vocabSize: number;
  hiddenSize: number;
  intermediateSize: number;
  numLayers: number;
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  rmsNormEps: number;
  ropeTheta: number;
  maxPositions: number;
  tieWordEmbeddings: boolean;
  /** q/k/v projections have a bias (qwen2; llama's `attention_bias`). */
  attentionBias: boolean;
  /** Per-head RMSNorm on q and k before RoPE (qwen3). */
  qkNorm: boolean;
  bosTokenId: number | null;
  eosTokenIds: number[];
}

/** Reads and validates `<dir>/config.json`. */
export function loadHfConfig(dir: string): DecoderConfig {
  const file = path.join(dir, 'config.json');
  if (!fs.existsSync(dir)) throw new KitError(`model folder not found: ${dir}`);
  if (!fs.existsSync(file)) throw new KitError(`${file}: missing (a Hugging Face model folder needs config.json)`);
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new KitError(`${file}: not valid JSON (${(e as Error).message})`);
  }
  return parseHfConfig(raw, file);
}

/** Validates a parsed HF config object; `where` names its source in error messages. */
export function parseHfConfig(raw: unknown, where = 'config.json'): DecoderConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new KitError(`${where}: expected a JSON object`);
  const c = raw as Record<string, unknown>;
  const mt = c.model_type;
  if (typeof mt !== 'string' || !(MODEL_TYPES as readonly string[]).includes(mt)) {
    throw new KitError(`${where}: unsupported model_type ${JSON.stringify(mt)}; supported: ${MODEL_TYPES.join(', ')}`);
  }
  const modelType = mt as ModelType;
  const int = (key: string, fallback?: number): number => {
    const v = c[key] ?? fallback;
    if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) {
      throw new KitError(`${where}: field '${key}' must be a positive integer, got ${JSON.stringify(c[key])}`);
    }
    return v;
  };
  const num = (key: string, fallback: number): number => {
    const v = c[key] ?? fallback;
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) {
      throw new KitError(`${where}: field '${key}' must be a positive number, got ${JSON.stringify(c[key])}`);
    }
    return v;
  };
  const bool = (key: string, fallback: boolean): boolean => {
    const v = c[key] ?? fallback;
    if (typeof v !== 'boolean') throw new KitError(`${where}: field '${key}' must be true or false, got ${JSON.stringify(c[key])}`);
    return v;
  };

  // Fields that change the computation in ways this decoder does not implement.
  const unsupported: [string, (v: unknown) => boolean][] = [
    ['rope_scaling', (v) => v !== null && v !== undefined],
    ['use_sliding_window', (v) => v === true],
    ['pretraining_tp', (v) => v !== undefined && v !== null && v !== 1],
    ['mlp_bias', (v) => v === true],
    ['hidden_act', (v) => v !== undefined && v !== 'silu'],
    ['attention_dropout', (v) => typeof v === 'number' && v !== 0],
  ];
  for (const [key, bad] of unsupported) {
    if (bad(c[key])) throw new KitError(`${where}: field '${key}' = ${JSON.stringify(c[key])} is not implemented by this decoder`);
  }

  const hiddenSize = int('hidden_size');
  const numHeads = int('num_attention_heads');
  const numKvHeads = int('num_key_value_heads', numHeads);
  if (numHeads % numKvHeads !== 0) {
    throw new KitError(`${where}: num_attention_heads (${numHeads}) must be a multiple of num_key_value_heads (${numKvHeads})`);
  }
  const headDimDefault = hiddenSize / numHeads;
  const headDim = c.head_dim === undefined || c.head_dim === null ? headDimDefault : int('head_dim');
  if (!Number.isInteger(headDim) || headDim % 2 !== 0) {
    throw new KitError(`${where}: head_dim must be an even integer (hidden_size / num_attention_heads = ${headDimDefault})`);
  }
  const eos = c.eos_token_id;
  const eosTokenIds = eos === undefined || eos === null ? [] : Array.isArray(eos) ? eos : [eos];
  if (!eosTokenIds.every((x) => Number.isInteger(x) && x >= 0)) {
    throw new KitError(`${where}: field 'eos_token_id' must be an integer or a list of integers, got ${JSON.stringify(eos)}`);
  }
  const bos = c.bos_token_id;
  if (bos !== undefined && bos !== null && !(Number.isInteger(bos) && (bos as number) >= 0)) {
    throw new KitError(`${where}: field 'bos_token_id' must be an integer, got ${JSON.stringify(bos)}`);
  }
  return {
    modelType,
    vocabSize: int('vocab_size'),
    hiddenSize,
    intermediateSize: int('intermediate_size'),
    numLayers: int('num_hidden_layers'),
    numHeads,
    numKvHeads,
    headDim,
    rmsNormEps: num('rms_norm_eps', 1e-6),
    ropeTheta: num('rope_theta', 10000),
    maxPositions: int('max_position_embeddings', 2048),
    tieWordEmbeddings: bool('tie_word_embeddings', modelType !== 'llama'),
    attentionBias: modelType === 'qwen2' ? true : bool('attention_bias', false),
    qkNorm: modelType === 'qwen3',
    bosTokenId: (bos as number | null | undefined) ?? null,
    eosTokenIds: eosTokenIds as number[],
  };
}

/** The inverse of parseHfConfig: the `config.json` object the kit writes next to its own checkpoints. */
export function toHfConfig(cfg: DecoderConfig): Record<string, unknown> {
  const archs: Record<ModelType, string> = { llama: 'LlamaForCausalLM', qwen2: 'Qwen2ForCausalLM', qwen3: 'Qwen3ForCausalLM' };
  return {
    architectures: [archs[cfg.modelType]],
    model_type: cfg.modelType,
    vocab_size: cfg.vocabSize,
    hidden_size: cfg.hiddenSize,
    intermediate_size: cfg.intermediateSize,
    num_hidden_layers: cfg.numLayers,
    num_attention_heads: cfg.numHeads,
    num_key_value_heads: cfg.numKvHeads,
    head_dim: cfg.headDim,
    rms_norm_eps: cfg.rmsNormEps,
    rope_theta: cfg.ropeTheta,
    max_position_embeddings: cfg.maxPositions,
    tie_word_embeddings: cfg.tieWordEmbeddings,
    ...(cfg.modelType === 'llama' ? { attention_bias: cfg.attentionBias } : {}),
    hidden_act: 'silu',
    rope_scaling: null,
    bos_token_id: cfg.bosTokenId,
    eos_token_id: cfg.eosTokenIds.length === 1 ? cfg.eosTokenIds[0] : cfg.eosTokenIds,
    torch_dtype: 'float32',
  };
}

/** The weights a checkpoint of this config must hold, HF names → shapes (PyTorch layout: Linear is [out, in]). */
export function expectedWeights(cfg: DecoderConfig): Map<string, number[]> {
  const m = new Map<string, number[]>();
  const { hiddenSize: d, headDim: hd, numHeads: h, numKvHeads: kv, intermediateSize: f } = cfg;
  m.set('model.embed_tokens.weight', [cfg.vocabSize, d]);
  for (let l = 0; l < cfg.numLayers; l++) {
    const p = `model.layers.${l}`;
    m.set(`${p}.input_layernorm.weight`, [d]);
    m.set(`${p}.self_attn.q_proj.weight`, [h * hd, d]);
    m.set(`${p}.self_attn.k_proj.weight`, [kv * hd, d]);
    m.set(`${p}.self_attn.v_proj.weight`, [kv * hd, d]);
    if (cfg.attentionBias) {
      m.set(`${p}.self_attn.q_proj.bias`, [h * hd]);
      m.set(`${p}.self_attn.k_proj.bias`, [kv * hd]);
      m.set(`${p}.self_attn.v_proj.bias`, [kv * hd]);
    }
    if (cfg.qkNorm) {
      m.set(`${p}.self_attn.q_norm.weight`, [hd]);
      m.set(`${p}.self_attn.k_norm.weight`, [hd]);
    }
    m.set(`${p}.self_attn.o_proj.weight`, [d, h * hd]);
    m.set(`${p}.post_attention_layernorm.weight`, [d]);
    m.set(`${p}.mlp.gate_proj.weight`, [f, d]);
    m.set(`${p}.mlp.up_proj.weight`, [f, d]);
    m.set(`${p}.mlp.down_proj.weight`, [d, f]);
  }
  m.set('model.norm.weight', [d]);
  if (!cfg.tieWordEmbeddings) m.set('lm_head.weight', [cfg.vocabSize, d]);
  return m;
}

/** Fails unless `dir` holds a model's config.json, naming the config key and the fix (for commands that take a config). */
export function requireModelFolder(dir: string): void {
  if (!fs.existsSync(path.join(dir, 'config.json'))) {
    throw new KitError(
      `model folder ${dir} not found (no config.json; config key 'model.dir'): put a local Hugging Face model there or pass --set model.dir=DIR`,
    );
  }
}
