// A model folder for the synthetic tasks' end-to-end tests (kept apart from kit.ts, which must not load TF.js).
import { parseHfConfig } from '../../src/lm/config';
import { saveModel } from '../../src/lm/load';
import { Decoder } from '../../src/lm/model';
import { writeCharTokenizer } from '../../src/lm/tokenizer';
import { SYNTHETIC_CHARSET } from '../../src/tasks/types';

/** The character tokenizer and a random one-layer qwen3 decoder (hidden 16, weights N(0, 0.2²), seed 0) in
 *  `modelDir`. Needs an initialised backend. */
export async function writeTinyTaskModel(modelDir: string): Promise<void> {
  writeCharTokenizer(modelDir, SYNTHETIC_CHARSET);
  const m = Decoder.random(
    parseHfConfig({
      model_type: 'qwen3',
      vocab_size: SYNTHETIC_CHARSET.length + 4,
      hidden_size: 16,
      intermediate_size: 24,
      num_hidden_layers: 1,
      num_attention_heads: 2,
      num_key_value_heads: 1,
      head_dim: 8,
      max_position_embeddings: 256,
      bos_token_id: 1,
      eos_token_id: 2,
    }),
    0,
    { std: 0.2 },
  );
  await saveModel(modelDir, m);
  m.dispose();
}
