// Tokenizers load from local folders only, through @huggingface/transformers; the kit's character tokenizer
// round-trips text and goes through exactly that path.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadTokenizer, writeCharTokenizer } from '../../src/lm/tokenizer';
import { expectKitErrorAsync, expectKitError, tempDir } from '../helpers/kit';

const dir = tempDir();
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('character tokenizer', () => {
  it('writes tokenizer.json + tokenizer_config.json that load and round-trip', async () => {
    const tokDir = path.join(dir, 'char');
    writeCharTokenizer(tokDir, ' abc0123456789+=\n#');
    const tok = await loadTokenizer(tokDir);
    // ids: <pad> 0, <bos> 1, <eos> 2, <unk> 3, then ' ' 4, 'a' 5, 'b' 6, 'c' 7, '0' 8 ... '9' 17, '+' 18, '=' 19, '\n' 20, '#' 21.
    expect(tok.vocabSize).toBe(22);
    expect([tok.padId, tok.bosId, tok.eosId]).toEqual([0, 1, 2]);
    expect(tok.encode('ab 12+3')).toEqual([5, 6, 4, 9, 10, 18, 11]);
    expect(tok.decode([5, 6, 4, 9, 10, 18, 11, 2])).toBe('ab 12+3');
    expect(tok.decode([5, 2], { keepSpecial: true })).toBe('a<eos>');
    expect(tok.encode('a\n#### 5')).toEqual([5, 20, 21, 21, 21, 21, 4, 13]);
    // A character outside the charset becomes <unk>.
    expect(tok.encode('aZ')).toEqual([5, 3]);
    expect(tok.hasChatTemplate).toBe(true);
    expect(tok.chat([{ role: 'user', content: 'abc' }])).toBe('abc');
    expectKitError(() => tok.decode([5, 22]), 'token id 22', '[0, 22)');
  });

  it('rejects a charset with a repeated character', () => {
    expectKitError(() => writeCharTokenizer(path.join(dir, 'dup'), 'aba'), 'repeats');
  });
});

describe('loadTokenizer errors', () => {
  it('a missing folder, a missing file and a garbage file are named', async () => {
    await expectKitErrorAsync(() => loadTokenizer(path.join(dir, 'nope')), 'tokenizer folder not found', 'nope');
    const half = path.join(dir, 'half');
    fs.mkdirSync(half);
    fs.writeFileSync(path.join(half, 'tokenizer.json'), '{}');
    await expectKitErrorAsync(() => loadTokenizer(half), 'tokenizer_config.json: missing');
    const bad = path.join(dir, 'bad');
    fs.mkdirSync(bad);
    fs.writeFileSync(path.join(bad, 'tokenizer.json'), '{"model": ');
    fs.writeFileSync(path.join(bad, 'tokenizer_config.json'), '{}');
    await expectKitErrorAsync(() => loadTokenizer(bad), 'tokenizer.json: not a valid tokenizer file');
  });
});
