// Loading a model folder (config.json + safetensors + optional tokenizer) into a Decoder, and writing one back.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { openModelWeights, saveModelFolder } from './checkpoint';
import { DecoderConfig, loadHfConfig } from './config';
import { Decoder } from './model';

export interface LoadedModel {
  dir: string;
  config: DecoderConfig;
  model: Decoder;
}

/**
 * Loads `dir` (HF folder). With `randomInit` set, only config.json is read and the weights are random (seeded, drawn
 * by Decoder.randomFast): the benchmark shapes use this.
 */
export function loadModel(dir: string, opts: { trainable?: boolean; randomInit?: number } = {}): LoadedModel {
  const config = loadHfConfig(dir);
  if (opts.randomInit !== undefined) return { dir, config, model: Decoder.randomFast(config, opts.randomInit, { trainable: opts.trainable }) };
  // Tensor by tensor from disk to the backend: host memory holds one tensor at a time, not the whole checkpoint.
  const source = openModelWeights(dir, config);
  try {
    return { dir, config, model: Decoder.fromSource(config, source, { trainable: opts.trainable, where: dir }) };
  } finally {
    source.close();
  }
}

/** Writes the model as an HF folder (config.json + safetensors); copies tokenizer files from `tokenizerDir` if given. */
export async function saveModel(dir: string, model: Decoder, opts: { tokenizerDir?: string; dtype?: 'F32' | 'BF16' | 'F16' } = {}): Promise<void> {
  // Streamed: one variable at a time is transposed back to the HF layout, copied to the host and written.
  saveModelFolder(dir, model.cfg, model.weightSource(), { dtype: opts.dtype });
  if (opts.tokenizerDir) {
    for (const f of ['tokenizer.json', 'tokenizer_config.json']) {
      const src = path.join(opts.tokenizerDir, f);
      if (fs.existsSync(src) && path.resolve(src) !== path.resolve(dir, f)) fs.copyFileSync(src, path.join(dir, f));
    }
  }
}
