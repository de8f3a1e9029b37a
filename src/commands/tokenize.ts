// `introllm tokenize`: the token ids a model sees for a plain prompt ([BOS] + text, exactly as the kit's rollouts feed a
// synthetic task's prompt), or with --chat the prompt rendered by the folder's chat template (as the benchmark task
// does); --decode turns ids back into text.
import type { Command } from '../cli';
import { KitError } from '../errors';
import { loadTokenizer } from '../lm/tokenizer';
import { encodePrompt } from '../rl/sft';
import { intListFlag, parseFlags, requireFlag } from './args';

export const command: Command = {
  summary: 'Print the token ids of a prompt as the model sees them (special tokens included, one JSON line), or decode ids.',
  usage:
    'introllm tokenize --model DIR (--text S [--chat] | --decode 1,2,3 [--keep-special])\n\n' +
    '  --text: prints {"ids": [...], "tokens": [...]}: [BOS] (if the tokenizer has one) + the text\'s ids,\n' +
    "          and each id's vocabulary entry as tokenizer.json spells it (▁ marks a word boundary, <0xXX> a byte).\n" +
    "  --chat: render --text as one user message with the folder's chat template first (the benchmark task's prompts).\n" +
    '  --decode: prints {"text": "..."}; special tokens are dropped unless --keep-special.',
  async run(argv) {
    const f = parseFlags(argv, {
      model: { type: 'string' },
      text: { type: 'string' },
      decode: { type: 'string' },
      chat: { type: 'boolean', default: false },
      'keep-special': { type: 'boolean', default: false },
    });
    const dir = requireFlag(f, 'model');
    const hasText = typeof f.text === 'string';
    if (hasText === (f.decode !== undefined)) throw new KitError('give exactly one of --text and --decode');
    if (!hasText && f.chat) throw new KitError('--chat goes with --text');
    const tok = await loadTokenizer(dir);
    if (hasText) {
      const text = f.text as string;
      const ids = f.chat ? tok.encode(tok.chat([{ role: 'user', content: text }])) : encodePrompt(tok, text);
      const tokens = tok.pieces(ids);
      process.stdout.write(JSON.stringify({ ids, tokens }) + '\n');
    } else {
      process.stdout.write(JSON.stringify({ text: tok.decode(intListFlag(f, 'decode'), { keepSpecial: f['keep-special'] as boolean }) }) + '\n');
    }
    return 0;
  },
};
