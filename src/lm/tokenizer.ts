// Tokenizers from local Hugging Face folders through @huggingface/transformers (never the network), and the kit's own
// character tokenizer for its synthetic tasks, written as tokenizer.json + tokenizer_config.json (a BPE with no merges:
// transformers.js has no WordLevel model) so that it loads through exactly the same path as a real model's tokenizer.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { KitError } from '../errors';
import { writeFileAtomic } from '../io/atomic';

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface Tokenizer {
  readonly dir: string;
  readonly vocabSize: number;
  readonly padId: number;
  readonly eosId: number | null;
  readonly bosId: number | null;
  readonly hasChatTemplate: boolean;
  /** Token ids of `text`; special tokens (BOS etc.) only when `addSpecial`. */
  encode(text: string, opts?: { addSpecial?: boolean }): number[];
  /**
   * The model's vocabulary when the folder's config.json gives a larger one than the tokenizer's (Qwen pads its
   * embedding to 151,936 rows for a 151,669-entry tokenizer), else vocabSize. Ids in between have no text.
   */
  readonly modelVocabSize: number;
  /**
   * Text of `ids`; special tokens dropped unless `keepSpecial`. Ids the model has but the tokenizer lacks (see
   * modelVocabSize) decode to nothing, as in Hugging Face's tokenizers; an id outside both is an error.
   */
  decode(ids: ArrayLike<number>, opts?: { keepSpecial?: boolean }): string;
  /** The folder's chat template applied to `messages`, ending with the assistant prompt. Error if it has none. */
  chat(messages: ChatMessage[]): string;
  /** The vocabulary entries of `ids` as tokenizer.json spells them (e.g. "▁upon", "<0xF0>", "Ġupon"); `<id:N>` for an id without one. */
  pieces(ids: ArrayLike<number>): string[];
}

interface HfTokenizer {
  encode(text: string, opts: { add_special_tokens: boolean }): number[];
  decode(ids: number[], opts: { skip_special_tokens: boolean }): string;
  apply_chat_template(m: ChatMessage[], opts: { tokenize: false; add_generation_prompt: boolean }): string;
  model: { vocab: unknown; convert_ids_to_tokens(ids: number[]): string[] };
  pad_token_id?: number | null;
  eos_token_id?: number | null;
  bos_token_id?: number | null;
  chat_template?: string | null;
}

function readJson(file: string): Record<string, unknown> {
  if (!fs.existsSync(file)) throw new KitError(`${file}: missing (a tokenizer folder needs tokenizer.json and tokenizer_config.json)`);
  try {
    const v = JSON.parse(fs.readFileSync(file, 'utf8'));
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('expected a JSON object');
    return v;
  } catch (e) {
    throw new KitError(`${file}: not a valid tokenizer file (${(e as Error).message})`);
  }
}

/** vocab_size from the folder's config.json (a model folder), or 0 when there is none or it has no such field. */
function modelVocabOf(dir: string): number {
  const file = path.join(dir, 'config.json');
  if (!fs.existsSync(file)) return 0;
  try {
    const v = (JSON.parse(fs.readFileSync(file, 'utf8')) as { vocab_size?: unknown }).vocab_size;
    return typeof v === 'number' && Number.isInteger(v) && v > 0 ? v : 0;
  } catch {
    return 0; // loadHfConfig reports a broken config.json, with the file and field, when the model is loaded
  }
}

/** Loads the tokenizer of a local HF folder. Never touches the network. */
export async function loadTokenizer(dir: string): Promise<Tokenizer> {
  const abs = path.resolve(dir);
  if (!fs.existsSync(abs)) throw new KitError(`tokenizer folder not found: ${dir}`);
  const tj = readJson(path.join(abs, 'tokenizer.json'));
  const tc = readJson(path.join(abs, 'tokenizer_config.json'));
  const { AutoTokenizer, env } = await import('@huggingface/transformers');
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  env.localModelPath = '/';
  let hf: HfTokenizer;
  try {
    hf = (await AutoTokenizer.from_pretrained(abs, { local_files_only: true })) as unknown as HfTokenizer;
  } catch (e) {
    throw new KitError(`${abs}: could not load the tokenizer (${(e as Error).message})`);
  }
  const model = tj.model as { vocab?: Record<string, number> | unknown[] } | undefined;
  const added = (tj.added_tokens as { id: number; special?: boolean }[] | undefined) ?? [];
  // A loop, not Math.max(...ids): a real vocabulary (Qwen3: 151,643 entries) overflows the call stack as arguments.
  let vocabSize = Array.isArray(model?.vocab) ? model!.vocab.length : 0;
  const ids = model?.vocab && !Array.isArray(model.vocab) ? Object.values(model.vocab) : [];
  for (const id of [...ids, ...added.map((t) => t.id)]) if (typeof id === 'number' && id + 1 > vocabSize) vocabSize = id + 1;
  const eosId = hf.eos_token_id ?? null;
  const padId = hf.pad_token_id ?? eosId;
  if (padId === null || padId === undefined) {
    throw new KitError(`${path.join(abs, 'tokenizer_config.json')}: no pad_token and no eos_token; add "pad_token"`);
  }
  const modelVocabSize = Math.max(vocabSize, modelVocabOf(abs));
  const checkIds = (arr: number[], what: string) => {
    const bad = arr.findIndex((i) => !Number.isInteger(i) || i < 0 || i >= modelVocabSize);
    if (bad >= 0) throw new KitError(`${what}: token id ${arr[bad]} at index ${bad} is outside the vocabulary [0, ${modelVocabSize})`);
  };
  const template = hf.chat_template ?? (tc.chat_template as string | undefined) ?? null;
  return {
    dir: abs,
    vocabSize,
    modelVocabSize,
    padId,
    eosId,
    bosId: hf.bos_token_id ?? null,
    hasChatTemplate: Boolean(template),
    encode: (text, opts = {}) => Array.from(hf.encode(text, { add_special_tokens: opts.addSpecial ?? false })),
    decode: (ids, opts = {}) => {
      const arr = Array.from(ids);
      checkIds(arr, 'decode');
      const known = arr.filter((i) => i < vocabSize);
      if (known.length === 0) return '';
      return hf.decode(known, { skip_special_tokens: !(opts.keepSpecial ?? false) });
    },
    chat: (messages) => {
      if (!template) throw new KitError(`${abs}: this tokenizer has no chat_template`);
      return hf.apply_chat_template(messages, { tokenize: false, add_generation_prompt: true });
    },
    pieces: (ids) => {
      const arr = Array.from(ids);
      checkIds(arr, 'pieces');
      const known = hf.model.convert_ids_to_tokens(arr.map((i) => (i < vocabSize ? i : 0)));
      return arr.map((i, j) => (i < vocabSize ? known[j] : `<id:${i}>`));
    },
  };
}

export const CHAR_SPECIALS = ['<pad>', '<bos>', '<eos>', '<unk>'] as const;

/**
 * Writes the kit's character-level tokenizer for `charset` into `dir`: ids 0..3 are <pad> <bos> <eos> <unk>, then one
 * id per character in the given order. The chat template simply joins the messages' contents (synthetic tasks have
 * no roles).
 */
export function writeCharTokenizer(dir: string, charset: string): void {
  const chars = Array.from(new Set(Array.from(charset)));
  if (chars.length !== Array.from(charset).length) throw new KitError('writeCharTokenizer: the charset repeats a character');
  const vocab: Record<string, number> = {};
  [...CHAR_SPECIALS, ...chars].forEach((t, i) => (vocab[t] = i));
  const tokenizer = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: CHAR_SPECIALS.map((content, id) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true })),
    normalizer: null,
    pre_tokenizer: null,
    post_processor: null,
    decoder: { type: 'Fuse' },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: '<unk>',
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab,
      merges: [],
    },
  };
  const config = {
    tokenizer_class: 'PreTrainedTokenizerFast',
    pad_token: '<pad>',
    bos_token: '<bos>',
    eos_token: '<eos>',
    unk_token: '<unk>',
    model_max_length: 4096,
    chat_template: "{% for message in messages %}{{ message['content'] }}{% endfor %}",
  };
  fs.mkdirSync(dir, { recursive: true });
  writeFileAtomic(path.join(dir, 'tokenizer.json'), JSON.stringify(tokenizer, null, 1) + '\n');
  writeFileAtomic(path.join(dir, 'tokenizer_config.json'), JSON.stringify(config, null, 2) + '\n');
}
