// llama2.c's export formats → a Hugging Face Llama folder (config.json, model.safetensors, tokenizer.json,
// tokenizer_config.json) that loads like any other model folder. `introllm convert --from llama2c` calls convertLlama2c.
//
// Checkpoint ("version 1" export, little-endian): a 256-byte header — uint32 magic 0x616b3432 ("ak42"), int32 version
// 1, seven int32 (dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, max_seq_len), uint8 shared_classifier,
// zero padding — then float32 tensors in PyTorch's [out, in] layout, grouped by kind (each group: every layer in turn):
// attention norms, FFN norms, final norm, token embedding, wq, wk, wv, wo, w1, w2, w3, and the classifier when not
// shared. The file ends after the last tensor.
//
// RoPE: llama2.c rotates interleaved pairs (2i, 2i+1) of each head, Hugging Face's Llama rotates halves (i, i + hd/2).
// Permuting the output rows of wq and wk per head (old row 2i + j → new row j·hd/2 + i, the permutation HF's own
// conversion script applies to Meta's checkpoints) makes the rotate-half decoder compute exactly the same attention
// scores: q·k is a sum over rows, so a permutation applied to both q and k leaves it unchanged.
//
// Tokenizer (tok512.bin etc.): int32 max_token_length, then per id: float32 score, int32 byte length, UTF-8 bytes.
// llama2.c encodes by prepending a space (unless the text is empty), mapping each UTF-8 character to its piece or to its
// bytes' fallback ids (<0xXX>), then repeatedly merging the adjacent pair whose concatenation is a piece with the
// highest score (leftmost on ties). As tokenizer.json that is a BPE model with byte fallback whose merges are every
// split of every piece into two pieces, ranked by the merged piece's score; a normalizer prepends ▁ and maps spaces to
// ▁ (SentencePiece's word boundary), and the decoder reverses it. Two inputs encode differently by construction, as in
// every HF Llama tokenizer: a literal '▁' (U+2581) in the text reads as a space, and a literal "<s>" / "</s>" / "<unk>"
// is the special token.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { KitError } from '../errors';
import { writeFileAtomic, writeJsonAtomic } from '../io/atomic';
import { saveModelFolder } from './checkpoint';
import { DecoderConfig, parseHfConfig } from './config';
import type { TensorData } from './safetensors';

export const LLAMA2C_MAGIC = 0x616b3432;
const HEADER_BYTES = 256;

export interface Llama2cHeader {
  dim: number;
  hiddenDim: number;
  nLayers: number;
  nHeads: number;
  nKvHeads: number;
  vocabSize: number;
  maxSeqLen: number;
  sharedClassifier: boolean;
}

export interface Llama2cCheckpoint {
  header: Llama2cHeader;
  /** The decoder config of the converted model (model_type llama). */
  config: DecoderConfig;
  /** HF names and [out, in] layouts, q/k rows already permuted to the rotate-half convention. */
  weights: Map<string, TensorData>;
}

/** The rows of a [n·hd, in] projection reordered from interleaved RoPE pairs to rotate-half (per head). */
export function permuteRopeRows(w: Float32Array, nHeads: number, headDim: number, inDim: number): Float32Array {
  const half = headDim / 2;
  const out = new Float32Array(w.length);
  for (let h = 0; h < nHeads; h++) {
    for (let i = 0; i < half; i++) {
      for (let j = 0; j < 2; j++) {
        const src = (h * headDim + 2 * i + j) * inDim;
        const dst = (h * headDim + j * half + i) * inDim;
        out.set(w.subarray(src, src + inDim), dst);
      }
    }
  }
  return out;
}

function readFile(file: string, what: string): Buffer {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch {
    throw new KitError(`${file}: ${what} not found`);
  }
  if (!st.isFile()) throw new KitError(`${file}: not a file (expected a ${what})`);
  return fs.readFileSync(file);
}

/** Parses and checks the 256-byte header; `size` is the file's length. */
export function parseLlama2cHeader(buf: Buffer, file: string): Llama2cHeader {
  if (buf.length < 8) throw new KitError(`${file}: ${buf.length} bytes, too short for a llama2.c checkpoint header (the file is truncated)`);
  const magic = buf.readUInt32LE(0);
  if (magic !== LLAMA2C_MAGIC) {
    const legacy =
      buf.length >= 28 &&
      [0, 1, 2, 3, 4, 6].every((i) => {
        const v = buf.readInt32LE(4 * i);
        return v > 0 && v < 1 << 20;
      });
    throw new KitError(
      `${file}: field 'magic' is 0x${magic.toString(16).padStart(8, '0')}, expected 0x616b3432 ("ak42") of llama2.c's version-1 export` +
        (legacy ? ' (the first seven int32 look like the legacy version-0 header, which is not supported: re-export with llama2.c export.py --version 1)' : ''),
    );
  }
  const version = buf.readInt32LE(4);
  if (version !== 1) throw new KitError(`${file}: field 'version' is ${version}; only llama2.c's version-1 export (float32 weights) is supported`);
  if (buf.length < HEADER_BYTES) throw new KitError(`${file}: ${buf.length} bytes, shorter than the ${HEADER_BYTES}-byte header (the file is truncated)`);
  const names = ['dim', 'hidden_dim', 'n_layers', 'n_heads', 'n_kv_heads', 'vocab_size', 'max_seq_len'] as const;
  const v = names.map((_, i) => buf.readInt32LE(8 + 4 * i));
  names.forEach((n, i) => {
    if (!(v[i] > 0)) throw new KitError(`${file}: header field '${n}' is ${v[i]}, expected a positive integer`);
  });
  const [dim, hiddenDim, nLayers, nHeads, nKvHeads, vocabSize, maxSeqLen] = v;
  const shared = buf.readUInt8(36);
  if (shared > 1) throw new KitError(`${file}: header field 'shared_classifier' is ${shared}, expected 0 or 1`);
  if (dim % nHeads !== 0) throw new KitError(`${file}: header fields do not add up: dim ${dim} is not a multiple of n_heads ${nHeads}`);
  if (nHeads % nKvHeads !== 0) throw new KitError(`${file}: header fields do not add up: n_heads ${nHeads} is not a multiple of n_kv_heads ${nKvHeads}`);
  if ((dim / nHeads) % 2 !== 0) throw new KitError(`${file}: header fields do not add up: head_dim = dim / n_heads = ${dim / nHeads} must be even for RoPE`);
  return { dim, hiddenDim, nLayers, nHeads, nKvHeads, vocabSize, maxSeqLen, sharedClassifier: shared === 1 };
}

/** The tensors of a version-1 export in file order: [HF name, shape, RoPE heads to permute (0 = none)]. */
function tensorLayout(h: Llama2cHeader): [string, number[], number][] {
  const { dim: d, hiddenDim: f, nLayers: L, nHeads, nKvHeads } = h;
  const kvDim = (nKvHeads * d) / nHeads;
  const perLayer = (name: string, shape: number[], rope = 0): [string, number[], number][] =>
    Array.from({ length: L }, (_, l) => [`model.layers.${l}.${name}`, shape, rope]);
  return [
    ...perLayer('input_layernorm.weight', [d]),
    ...perLayer('post_attention_layernorm.weight', [d]),
    ['model.norm.weight', [d], 0],
    ['model.embed_tokens.weight', [h.vocabSize, d], 0],
    ...perLayer('self_attn.q_proj.weight', [d, d], nHeads),
    ...perLayer('self_attn.k_proj.weight', [kvDim, d], nKvHeads),
    ...perLayer('self_attn.v_proj.weight', [kvDim, d]),
    ...perLayer('self_attn.o_proj.weight', [d, d]),
    ...perLayer('mlp.gate_proj.weight', [f, d]),
    ...perLayer('mlp.down_proj.weight', [d, f]),
    ...perLayer('mlp.up_proj.weight', [f, d]),
    ...(h.sharedClassifier ? [] : [['lm_head.weight', [h.vocabSize, d], 0] as [string, number[], number]]),
  ];
}

/** The HF config.json object of a llama2.c model (RMSNorm eps 1e-5 and RoPE θ 10000, as llama2.c's run.c uses). */
export function llama2cHfConfig(h: Llama2cHeader): Record<string, unknown> {
  return {
    architectures: ['LlamaForCausalLM'],
    model_type: 'llama',
    vocab_size: h.vocabSize,
    hidden_size: h.dim,
    intermediate_size: h.hiddenDim,
    num_hidden_layers: h.nLayers,
    num_attention_heads: h.nHeads,
    num_key_value_heads: h.nKvHeads,
    head_dim: h.dim / h.nHeads,
    rms_norm_eps: 1e-5,
    rope_theta: 10000,
    max_position_embeddings: h.maxSeqLen,
    tie_word_embeddings: h.sharedClassifier,
    attention_bias: false,
    hidden_act: 'silu',
    rope_scaling: null,
    bos_token_id: 1,
    eos_token_id: 2,
    torch_dtype: 'float32',
  };
}

/** Reads a llama2.c version-1 checkpoint into HF-named, RoPE-permuted weights. */
export function readLlama2cCheckpoint(file: string): Llama2cCheckpoint {
  const buf = readFile(file, 'llama2.c checkpoint');
  const header = parseLlama2cHeader(buf, file);
  const layout = tensorLayout(header);
  const floats = layout.reduce((s, [, shape]) => s + shape.reduce((a, b) => a * b, 1), 0);
  const want = HEADER_BYTES + 4 * floats;
  const dims = `dim ${header.dim}, hidden_dim ${header.hiddenDim}, n_layers ${header.nLayers}, n_heads ${header.nHeads}, n_kv_heads ${header.nKvHeads}, vocab_size ${header.vocabSize}, shared_classifier ${header.sharedClassifier ? 1 : 0}`;
  if (buf.length < want) {
    throw new KitError(`${file}: ${buf.length} bytes, but the header (${dims}) needs ${want} (256 + 4 × ${floats} parameters): the file is truncated`);
  }
  if (buf.length > want) {
    throw new KitError(
      `${file}: ${buf.length} bytes, but the header (${dims}) accounts for ${want}: ${buf.length - want} bytes left over, so the sizes do not add up (a different export version or a corrupt header)`,
    );
  }
  const all = new Float32Array(floats);
  new Uint8Array(all.buffer).set(buf.subarray(HEADER_BYTES, want));
  const weights = new Map<string, TensorData>();
  const hd = header.dim / header.nHeads;
  let off = 0;
  for (const [name, shape, ropeHeads] of layout) {
    const n = shape.reduce((a, b) => a * b, 1);
    const raw = all.slice(off, off + n);
    off += n;
    weights.set(name, { shape, data: ropeHeads ? permuteRopeRows(raw, ropeHeads, hd, shape[1]) : raw });
  }
  for (const [name, t] of weights) {
    const bad = t.data.findIndex((x) => !Number.isFinite(x));
    if (bad >= 0) throw new KitError(`${file}: tensor '${name}' holds a non-finite value (${t.data[bad]}) at index ${bad}`);
  }
  return { header, config: parseHfConfig(llama2cHfConfig(header), file), weights };
}

// ---------------------------------------------------------------------------------------------------------------
// Tokenizer.

export interface Llama2cVocab {
  maxTokenLength: number;
  /** Pieces as llama2.c stores them (word boundaries are plain spaces). */
  pieces: string[];
  scores: Float32Array;
}

/** Reads a llama2.c tokenizer file of `vocabSize` entries. */
export function readLlama2cTokenizer(file: string, vocabSize: number): Llama2cVocab {
  const buf = readFile(file, 'llama2.c tokenizer');
  if (buf.length < 4) throw new KitError(`${file}: ${buf.length} bytes, too short for a llama2.c tokenizer (the file is truncated)`);
  const maxTokenLength = buf.readInt32LE(0);
  if (!(maxTokenLength > 0 && maxTokenLength < 1 << 16))
    throw new KitError(`${file}: field 'max_token_length' is ${maxTokenLength}, expected a small positive integer (not a llama2.c tokenizer?)`);
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const pieces: string[] = [];
  const scores = new Float32Array(vocabSize);
  let off = 4;
  for (let i = 0; i < vocabSize; i++) {
    if (off + 8 > buf.length)
      throw new KitError(
        `${file}: ends after ${i} of the ${vocabSize} tokens the checkpoint's vocab_size needs (the file is truncated, or belongs to another model)`,
      );
    scores[i] = buf.readFloatLE(off);
    const len = buf.readInt32LE(off + 4);
    off += 8;
    if (len < 0 || len > maxTokenLength) throw new KitError(`${file}: token ${i}: field 'length' is ${len}, outside [0, max_token_length ${maxTokenLength}]`);
    if (off + len > buf.length) throw new KitError(`${file}: token ${i}: its ${len} bytes run past the end of the file (the file is truncated)`);
    try {
      pieces.push(decoder.decode(buf.subarray(off, off + len)));
    } catch {
      throw new KitError(`${file}: token ${i}: its bytes are not valid UTF-8`);
    }
    off += len;
  }
  if (off !== buf.length) {
    throw new KitError(
      `${file}: ${buf.length - off} bytes left after the ${vocabSize} tokens the checkpoint's vocab_size needs: the sizes do not add up (a tokenizer of another vocabulary size?)`,
    );
  }
  if (pieces.length < 3) throw new KitError(`${file}: a llama2.c vocabulary starts with <unk>, <s>, </s>; got ${pieces.length} tokens`);
  return { maxTokenLength, pieces, scores };
}

const BOUNDARY = '\u2581'; // ▁

/** The HF text of llama2.c piece `i`: ids 0–2 are <unk> <s> </s> (llama2.c stores BOS/EOS as "\n<s>\n", "\n</s>\n"). */
function hfPiece(piece: string, i: number): string {
  if (i === 0) return '<unk>';
  if (i === 1) return '<s>';
  if (i === 2) return '</s>';
  return piece.replaceAll(' ', BOUNDARY);
}

/**
 * tokenizer.json and tokenizer_config.json objects for a llama2.c vocabulary: the BPE described in the header comment.
 * Merges are every (a, b) with a, b and a + b all pieces (a + b not one of the three specials), ordered by the merged
 * piece's score (highest first; ties by id), then by the split point.
 */
export function llama2cTokenizerFiles(v: Llama2cVocab, where: string): { tokenizer: Record<string, unknown>; config: Record<string, unknown> } {
  const toks = v.pieces.map(hfPiece);
  const vocab: Record<string, number> = {};
  toks.forEach((t, i) => {
    if (Object.prototype.hasOwnProperty.call(vocab, t))
      throw new KitError(`${where}: tokens ${vocab[t]} and ${i} are the same piece ${JSON.stringify(t)}; a vocabulary needs distinct pieces`);
    vocab[t] = i;
  });
  const isByte = (t: string) => /^<0x[0-9A-F]{2}>$/.test(t);
  const hasBytes = Array.from({ length: 256 }, (_, b) => `<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`).every((t) => t in vocab);
  const order = toks
    .map((_, i) => i)
    .filter((i) => i > 2)
    .sort((a, b) => v.scores[b] - v.scores[a] || a - b);
  const merges: [string, string][] = [];
  for (const i of order) {
    const cps = Array.from(toks[i]);
    if (cps.length < 2 || isByte(toks[i])) continue;
    for (let k = 1; k < cps.length; k++) {
      const a = cps.slice(0, k).join('');
      const b = cps.slice(k).join('');
      if (a in vocab && b in vocab && vocab[a] > 2 && vocab[b] > 2) merges.push([a, b]);
    }
  }
  const special = (id: number, content: string) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
  const tokenizer = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [special(0, '<unk>'), special(1, '<s>'), special(2, '</s>')],
    normalizer: {
      type: 'Sequence',
      normalizers: [
        { type: 'Prepend', prepend: BOUNDARY },
        { type: 'Replace', pattern: { String: ' ' }, content: BOUNDARY },
      ],
    },
    pre_tokenizer: null,
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
      pair: [
        { SpecialToken: { id: '<s>', type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: '<s>', type_id: 1 } },
        { Sequence: { id: 'B', type_id: 1 } },
      ],
      special_tokens: { '<s>': { id: '<s>', ids: [1], tokens: ['<s>'] } },
    },
    decoder: {
      type: 'Sequence',
      decoders: [
        { type: 'Replace', pattern: { String: BOUNDARY }, content: ' ' },
        { type: 'ByteFallback' },
        { type: 'Fuse' },
        { type: 'Strip', content: ' ', start: 1, stop: 0 },
      ],
    },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: '<unk>',
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: true,
      byte_fallback: hasBytes,
      ignore_merges: false,
      vocab,
      merges,
    },
  };
  const config = {
    tokenizer_class: 'PreTrainedTokenizerFast',
    bos_token: '<s>',
    eos_token: '</s>',
    unk_token: '<unk>',
    add_bos_token: true,
    add_eos_token: false,
    clean_up_tokenization_spaces: false,
    model_max_length: 0, // filled in by the caller (the checkpoint's max_seq_len)
  };
  return { tokenizer, config };
}

export interface ConvertResult {
  config: DecoderConfig;
  params: number;
  files: string[];
}

/**
 * Converts a llama2.c checkpoint and tokenizer into the HF folder `outDir` (created if needed). Everything is read and
 * checked before anything is written; each file is written atomically.
 */
export function convertLlama2c(o: { checkpoint: string; tokenizer: string; outDir: string }): ConvertResult {
  const ckpt = readLlama2cCheckpoint(o.checkpoint);
  const vocab = readLlama2cTokenizer(o.tokenizer, ckpt.header.vocabSize);
  const { tokenizer, config } = llama2cTokenizerFiles(vocab, o.tokenizer);
  config.model_max_length = ckpt.header.maxSeqLen;
  if (fs.existsSync(o.outDir) && !fs.statSync(o.outDir).isDirectory()) throw new KitError(`--out ${o.outDir}: exists and is not a folder`);
  saveModelFolder(o.outDir, ckpt.config, ckpt.weights);
  // saveModelFolder writes the kit's config.json; the converter's own (same fields, plus llama2.c's provenance) replaces it.
  writeJsonAtomic(path.join(o.outDir, 'config.json'), { ...llama2cHfConfig(ckpt.header), converted_from: 'llama2.c version-1 export' });
  writeFileAtomic(path.join(o.outDir, 'tokenizer.json'), JSON.stringify(tokenizer, null, 1) + '\n');
  writeJsonAtomic(path.join(o.outDir, 'tokenizer_config.json'), config);
  const params = [...ckpt.weights.values()].reduce((s, t) => s + t.data.length, 0);
  return { config: ckpt.config, params, files: ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json'] };
}
