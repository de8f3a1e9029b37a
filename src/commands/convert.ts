// `introllm convert --from llama2c`: a llama2.c checkpoint + tokenizer → a Hugging Face Llama folder (src/lm/llama2c.ts).
import type { Command } from '../cli';
import { KitError } from '../errors';
import { convertLlama2c } from '../lm/llama2c';
import { parseFlags, requireFlag } from './args';

export const FORMATS = ['llama2c'] as const;

export const command: Command = {
  summary: 'Convert a model from another format into a Hugging Face folder (config.json, model.safetensors, tokenizer files).',
  usage: 'introllm convert --from llama2c --checkpoint FILE.bin --tokenizer TOK.bin --out DIR\n\n'
    + '  --from llama2c: llama2.c\'s version-1 export (magic "ak42") and its tokenizer file (e.g. tok512.bin).\n'
    + '  The q/k projections are permuted from llama2.c\'s interleaved RoPE pairs to Hugging Face\'s rotate-half order.',
  async run(argv) {
    const f = parseFlags(argv, { from: { type: 'string' }, checkpoint: { type: 'string' }, tokenizer: { type: 'string' }, out: { type: 'string' } });
    const from = requireFlag(f, 'from');
    if (!(FORMATS as readonly string[]).includes(from)) throw new KitError(`--from '${from}' is not a known format; valid: ${FORMATS.join(', ')}`);
    const r = convertLlama2c({ checkpoint: requireFlag(f, 'checkpoint'), tokenizer: requireFlag(f, 'tokenizer'), outDir: requireFlag(f, 'out') });
    const c = r.config;
    console.log(`wrote ${f.out}: ${r.files.join(', ')}`);
    console.log(`llama: ${c.numLayers} layers, d ${c.hiddenSize}, ffn ${c.intermediateSize}, ${c.numHeads} heads / ${c.numKvHeads} KV (head_dim ${c.headDim}), vocab ${c.vocabSize}, ` +
      `context ${c.maxPositions}, tied head ${c.tieWordEmbeddings}; ${r.params.toLocaleString('en')} parameters`);
    return 0;
  },
};
