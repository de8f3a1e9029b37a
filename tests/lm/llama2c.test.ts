// stories260K, a real pretrained Llama in llama2.c's export format, converted by `introllm convert --from llama2c`:
// the converted folder computes the PyTorch reference's logits (scripts/make-stories260k-fixture.py, which also checks
// that the converted rotate-half model equals the original interleaved-RoPE one), greedy decoding through the kit's
// rollout reproduces llama2.c's greedy story token for token, and the converted tokenizer.json encodes exactly as
// llama2.c's encode does (the Python fixture's cases, and a TypeScript copy of the algorithm on random strings).
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend';
import { modelLogits } from '../../src/commands/logits';
import { convertLlama2c, permuteRopeRows, readLlama2cCheckpoint, readLlama2cTokenizer } from '../../src/lm/llama2c';
import { loadModel, LoadedModel } from '../../src/lm/load';
import { loadTokenizer, Tokenizer } from '../../src/lm/tokenizer';
import { createController } from '../../src/policy/registry';
import { completionIds, rollout } from '../../src/rl/rollout';
import { encodePrompt } from '../../src/rl/sft';
import { Rng } from '../../src/rng';
import { expectKitError, tempDir } from '../helpers/kit';

const ROOT = path.join(__dirname, '..', '..');
const MODEL = path.join(ROOT, 'data', 'models', 'stories260K');
const SRC = path.join(MODEL, 'source');
const CKPT = path.join(SRC, 'stories260K_v1.bin');
const TOK = path.join(SRC, 'tok512.bin');
const BIN = path.join(ROOT, 'bin', 'introllm.js');
const ref = JSON.parse(fs.readFileSync(path.join(ROOT, 'tests', 'fixtures', 'stories260k', 'reference.json'), 'utf8'));
const dir = tempDir();
const cli = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });

let m: LoadedModel;
let tok: Tokenizer;
beforeAll(async () => {
  await initBackend('cpu');
  m = loadModel(MODEL, { trainable: false });
  tok = await loadTokenizer(MODEL);
});
afterAll(() => {
  m?.model.dispose();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('convert --from llama2c', () => {
  it('writes exactly the committed folder, and the CLI says what it wrote', () => {
    const out = path.join(dir, 'cli');
    const r = cli('convert', '--from', 'llama2c', '--checkpoint', CKPT, '--tokenizer', TOK, '--out', out);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('260,032 parameters');
    for (const f of ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json']) {
      expect(fs.readFileSync(path.join(out, f)).equals(fs.readFileSync(path.join(MODEL, f))), f).toBe(true);
    }
    expect(fs.readdirSync(out).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('reads the header as the README gives it', () => {
    const c = readLlama2cCheckpoint(CKPT);
    expect(c.header).toEqual({ dim: 64, hiddenDim: 172, nLayers: 5, nHeads: 8, nKvHeads: 4, vocabSize: 512, maxSeqLen: 512, sharedClassifier: true });
    expect(m.config).toMatchObject({
      modelType: 'llama',
      headDim: 8,
      rmsNormEps: 1e-5,
      ropeTheta: 10000,
      tieWordEmbeddings: true,
      bosTokenId: 1,
      eosTokenIds: [2],
    });
    expect(m.model.numParams()).toBe(260032);
  });

  it('permutes q/k rows from interleaved pairs to halves (a hand-worked head of 4 dims)', () => {
    // One head, head_dim 4, in 1: rows (x0, x1, x2, x3) are pairs (x0, x1), (x2, x3); rotate-half wants (x0, x2 | x1, x3).
    expect(Array.from(permuteRopeRows(Float32Array.from([10, 11, 12, 13]), 1, 4, 1))).toEqual([10, 12, 11, 13]);
    // Two heads of 2 dims, in 2: a pair is already (i, i + 1) = (i, i + hd/2): nothing moves.
    expect(Array.from(permuteRopeRows(Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8]), 2, 2, 2))).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });
});

describe('the converted stories260K against the PyTorch reference', () => {
  it('logits match, full recompute and through the KV cache', () => {
    for (const [name, r] of Object.entries(ref.logits) as [string, { ids: number[]; positions: number[]; logits: number[][]; argmax: number[] }][]) {
      for (const mode of ['full', 'incremental'] as const) {
        const out = modelLogits(m.model, r.ids, mode);
        let worst = 0;
        r.positions.forEach((t, i) => out.logits[t].forEach((x, v) => (worst = Math.max(worst, Math.abs(x - r.logits[i][v])))));
        expect(worst, `${name} ${mode}`).toBeLessThan(2e-4);
        expect(
          out.logits.map((row) => row.indexOf(Math.max(...row))),
          `${name} ${mode} argmax`,
        ).toEqual(r.argmax);
      }
    }
  });

  it('greedy decoding of "Once upon a time" through the kit\'s rollout is llama2.c\'s story, token for token', () => {
    const prompt = encodePrompt(tok, ref.prompt);
    expect(prompt).toEqual(ref.prompt_ids);
    const greedy = createController('fixed', { fixedTau: 0 }, m.config.hiddenSize, 0);
    const r = rollout(
      m.model,
      greedy,
      { prompts: [prompt], maxNewTokens: ref.greedy_ids.length, eosId: tok.eosId!, padId: tok.padId, tau0: 1, trainStep: 0 },
      new Rng(0),
    );
    const ids = completionIds(r, 0, tok.eosId!);
    expect(ids).toEqual(ref.greedy_ids);
    const text = tok.decode([...prompt, ...ids]);
    expect(text).toBe(ref.greedy_text);
    expect(text.startsWith('Once upon a time, there was a little girl named Lily.')).toBe(true);
    greedy.dispose();
    expect(tf.memory().numTensors).toBeLessThan(200);
  });
});

/** llama2.c's encode (run.c), written again from its description, on the original tok512.bin pieces and scores. */
function llama2cEncode(text: string, pieces: Buffer[], scores: Float32Array): number[] {
  const lookup = new Map(pieces.map((p, i) => [p.toString('latin1'), i]));
  const ids = [1];
  if (text !== '') ids.push(lookup.get(' ')!);
  for (const ch of text) {
    const b = Buffer.from(ch, 'utf8');
    const id = lookup.get(b.toString('latin1'));
    if (id !== undefined) ids.push(id);
    else for (const x of b) ids.push(x + 3);
  }
  for (;;) {
    let best = -1e10,
      bestId = -1,
      at = -1;
    for (let i = 1; i + 1 < ids.length; i++) {
      const id = lookup.get(pieces[ids[i]].toString('latin1') + pieces[ids[i + 1]].toString('latin1'));
      if (id !== undefined && scores[id] > best) [best, bestId, at] = [scores[id], id, i];
    }
    if (at < 0) return ids;
    ids.splice(at, 2, bestId);
  }
}

function rawPieces(file: string): Buffer[] {
  const buf = fs.readFileSync(file);
  const out: Buffer[] = [];
  for (let off = 4, i = 0; i < 512; i++) {
    const n = buf.readInt32LE(off + 4);
    out.push(buf.subarray(off + 8, off + 8 + n));
    off += 8 + n;
  }
  return out;
}

describe('the converted tokenizer encodes as llama2.c does', () => {
  it('the Python reference cases: spaces, punctuation, newlines, accents, emoji via byte fallback, the empty string', () => {
    expect(ref.tokenizer.length).toBeGreaterThan(10);
    for (const c of ref.tokenizer as { text: string; ids: number[] }[]) {
      expect(encodePrompt(tok, c.text), JSON.stringify(c.text)).toEqual(c.ids);
      expect(tok.encode(c.text, { addSpecial: true }), JSON.stringify(c.text)).toEqual(c.ids);
      expect(tok.decode(c.ids), JSON.stringify(c.text)).toBe(c.text);
    }
    // Hand-checked: the empty string is BOS alone; an emoji is its four UTF-8 bytes, each byte b as id b + 3.
    expect(encodePrompt(tok, '')).toEqual([1]);
    expect(tok.pieces(encodePrompt(tok, '😀'))).toEqual(['<s>', '▁', '<0xF0>', '<0x9F>', '<0x98>', '<0x80>']);
    expect(encodePrompt(tok, '😀').slice(2)).toEqual([0xf0 + 3, 0x9f + 3, 0x98 + 3, 0x80 + 3]);
  });

  it('a TypeScript copy of llama2.c encode agrees on 300 random strings', () => {
    const { pieces: _p, scores } = readLlama2cTokenizer(TOK, 512);
    const pieces = rawPieces(TOK);
    const alphabet = Array.from('abcdefghijklmnopqrstuvwxyz   ..,,!?\'"\nLTSOéñü中😀-');
    const rng = new Rng(7);
    for (let n = 0; n < 300; n++) {
      const len = rng.range(0, 40);
      const text = Array.from({ length: len }, () => rng.pick(alphabet)).join('');
      expect(encodePrompt(tok, text), JSON.stringify(text)).toEqual(llama2cEncode(text, pieces, scores));
    }
  });
});

describe('introllm tokenize', () => {
  it('prints the ids with BOS and the pieces, and decodes ids back', () => {
    const r = cli('tokenize', '--model', MODEL, '--text', 'Once upon a time');
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ ids: ref.prompt_ids, tokens: ['<s>', '▁Once', '▁upon', '▁a', '▁time'] });
    const d = cli('tokenize', '--model', MODEL, '--decode', ref.prompt_ids.join(','));
    expect(JSON.parse(d.stdout)).toEqual({ text: 'Once upon a time' });
    const k = cli('tokenize', '--model', MODEL, '--decode', '1,403,2', '--keep-special');
    expect(JSON.parse(k.stdout)).toEqual({ text: '<s> Once</s>' });
  });

  it('bad input: clear message, exit code 2, no stack trace', () => {
    const cases: [string[], string][] = [
      [['tokenize', '--model', MODEL, '--decode', '1,512'], 'token id 512 at index 1 is outside the vocabulary [0, 512)'],
      [['tokenize', '--model', MODEL, '--decode', '1,x'], "item 2 ('x') is not a non-negative integer"],
      [['tokenize', '--model', MODEL], 'give exactly one of --text and --decode'],
      [['tokenize', '--model', MODEL, '--text', 'a', '--chat'], 'has no chat_template'],
      [['tokenize', '--model', path.join(dir, 'nope'), '--text', 'a'], 'tokenizer folder not found'],
    ];
    for (const [args, msg] of cases) {
      const r = cli(...args);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr).toContain(msg);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
  });
});

describe('convert: bad input is a clear error naming the file and field, and nothing is written', () => {
  const good = fs.readFileSync(CKPT);
  const write = (name: string, buf: Buffer) => {
    const f = path.join(dir, name);
    fs.writeFileSync(f, buf);
    return f;
  };
  const patched = (at: number, int: number) => {
    const b = Buffer.from(good);
    b.writeInt32LE(int, at);
    return b;
  };
  const convert = (ckpt: string, tokFile = TOK) => convertLlama2c({ checkpoint: ckpt, tokenizer: tokFile, outDir: path.join(dir, 'never') });

  it('checkpoint: magic, version, truncation, left-over bytes, header fields', () => {
    const magic = write('magic.bin', patched(0, 0x12345678));
    expectKitError(() => convert(magic), 'magic.bin', "field 'magic' is 0x12345678", 'ak42');
    // The legacy version-0 header (seven int32, no magic) is recognised and named.
    const v0 = write('v0.bin', Buffer.concat([Buffer.from(new Int32Array([64, 172, 5, 8, 4, 512, 512]).buffer), good.subarray(256)]));
    expectKitError(() => convert(v0), 'version-0 header');
    expectKitError(() => convert(write('version.bin', patched(4, 2))), "field 'version' is 2");
    expectKitError(() => convert(write('short.bin', good.subarray(0, 100))), 'shorter than the 256-byte header', 'truncated');
    expectKitError(
      () => convert(write('trunc.bin', good.subarray(0, good.length - 4))),
      'trunc.bin',
      `${good.length - 4} bytes`,
      `needs ${good.length}`,
      'truncated',
    );
    expectKitError(() => convert(write('long.bin', Buffer.concat([good, Buffer.alloc(8)]))), '8 bytes left over', 'do not add up');
    // n_layers 4 instead of 5: the header accounts for fewer bytes than the file has.
    expectKitError(() => convert(write('layers.bin', patched(16, 4))), 'n_layers 4', 'do not add up');
    expectKitError(() => convert(write('heads.bin', patched(20, 7))), 'dim 64 is not a multiple of n_heads 7');
    expectKitError(() => convert(write('kv.bin', patched(24, 3))), 'n_heads 8 is not a multiple of n_kv_heads 3');
    expectKitError(() => convert(write('zero.bin', patched(8, 0))), "header field 'dim' is 0");
    expectKitError(() => convert(path.join(dir, 'missing.bin')), 'missing.bin', 'not found');
    expect(fs.existsSync(path.join(dir, 'never'))).toBe(false);
  });

  it('tokenizer: truncated, a size that does not match vocab_size, a bad length field', () => {
    const t = fs.readFileSync(TOK);
    expectKitError(() => convert(CKPT, write('t1.bin', t.subarray(0, 3000))), 't1.bin', 'truncated');
    expectKitError(
      () => convert(CKPT, write('t2.bin', Buffer.concat([t, Buffer.from([0, 0, 0, 0, 1, 0, 0, 0, 65])]))),
      't2.bin',
      '9 bytes left after the 512 tokens',
      'do not add up',
    );
    const bad = Buffer.from(t);
    bad.writeInt32LE(99, 8); // token 0's length
    expectKitError(() => convert(CKPT, write('t3.bin', bad)), "token 0: field 'length' is 99");
    expect(fs.existsSync(path.join(dir, 'never'))).toBe(false);
  });

  it('the CLI: unknown format and missing flags exit 2 without a stack trace', () => {
    for (const [args, msg] of [
      [['convert', '--from', 'gguf', '--checkpoint', CKPT, '--tokenizer', TOK, '--out', dir], "--from 'gguf' is not a known format; valid: llama2c"],
      [['convert', '--from', 'llama2c', '--tokenizer', TOK, '--out', dir], '--checkpoint is required'],
      [['convert', '--from', 'llama2c', '--checkpoint', path.join(dir, 'magic.bin'), '--tokenizer', TOK, '--out', path.join(dir, 'x')], "field 'magic'"],
    ] as [string[], string][]) {
      const r = cli(...args);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr).toContain(msg);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
  });
});
