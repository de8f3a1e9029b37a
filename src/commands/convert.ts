// `introllm convert --from llama2c`: a llama2.c checkpoint + tokenizer → a Hugging Face Llama folder (src/lm/llama2c.ts).
import type { Command } from '../cli';
import { KitError } from '../errors';
import { convertLlama2c } from '../lm/llama2c';
import { intFlag, parseFlags, requireFlag } from './args';
import { writeRandomModel } from '../lm/load';

export const FORMATS = ['llama2c', 'random'] as const;

export const command: Command = {
  summary: 'Convert a model from another format into a Hugging Face folder (config.json, model.safetensors, tokenizer files).',
  usage:
    'introllm convert --from llama2c --checkpoint FILE.bin --tokenizer TOK.bin --out DIR\n\n' +
    '  --from llama2c: llama2.c\'s version-1 export (magic "ak42") and its tokenizer file (e.g. tok512.bin).\n' +
    "  The q/k projections are permuted from llama2.c's interleaved RoPE pairs to Hugging Face's rotate-half order.\n" +
    'introllm convert --from random --config SHAPE_DIR [--seed 0] [--tokenizer TOKENIZER_DIR] --out DIR\n\n' +
    "  --from random: a model folder with SHAPE_DIR/config.json's shape and random weights (as --random-init draws them),\n" +
    '  streamed to model.safetensors tensor by tensor (seconds for a 0.5B shape); tokenizer.json and\n' +
    '  tokenizer_config.json copied from TOKENIZER_DIR. For dry runs at real scale: no weights are downloaded.',
  async run(argv) {
    const f = parseFlags(argv, {
      from: { type: 'string' },
      checkpoint: { type: 'string' },
      tokenizer: { type: 'string' },
      out: { type: 'string' },
      config: { type: 'string' },
      seed: { type: 'string' },
    });
    const from = requireFlag(f, 'from');
    if (!(FORMATS as readonly string[]).includes(from)) throw new KitError(`--from '${from}' is not a known format; valid: ${FORMATS.join(', ')}`);
    if (from === 'random') {
      const out = requireFlag(f, 'out');
      const t0 = performance.now();
      const r = writeRandomModel({
        shapeDir: requireFlag(f, 'config'),
        outDir: out,
        seed: intFlag(f, 'seed', 0, 0),
        tokenizerDir: f.tokenizer as string | undefined,
      });
      console.log(
        `wrote ${out}: ${r.files.join(', ')}; ${r.config.modelType}, ${r.params.toLocaleString('en')} random parameters (seed ${r.seed}) in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
      );
      return 0;
    }
    const r = convertLlama2c({ checkpoint: requireFlag(f, 'checkpoint'), tokenizer: requireFlag(f, 'tokenizer'), outDir: requireFlag(f, 'out') });
    const c = r.config;
    console.log(`wrote ${f.out}: ${r.files.join(', ')}`);
    console.log(
      `llama: ${c.numLayers} layers, d ${c.hiddenSize}, ffn ${c.intermediateSize}, ${c.numHeads} heads / ${c.numKvHeads} KV (head_dim ${c.headDim}), vocab ${c.vocabSize}, ` +
        `context ${c.maxPositions}, tied head ${c.tieWordEmbeddings}; ${r.params.toLocaleString('en')} parameters`,
    );
    return 0;
  },
};
