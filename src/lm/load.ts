// Loading a model folder (config.json + safetensors + optional tokenizer) into a Decoder, and writing one back.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { openModelWeights, saveModelFolder } from './checkpoint';
import { DecoderConfig, expectedWeights, loadHfConfig } from './config';
import { KitError } from '../errors';
import { Decoder, randomWeightSource } from './model';
import { numel } from './safetensors';

export interface LoadedModel {
  dir: string;
  config: DecoderConfig;
  model: Decoder;
}

/**
 * Loads `dir` (HF folder) onto the running backend as it stands. With `randomInit` set, only config.json is read and
 * the weights are random (seeded, drawn by Decoder.randomFast): the benchmark shapes use this. `config`: the folder's
 * config.json when the caller has read it already.
 *
 * Readying the backend for the model (a run's plan applied, or the heap decision for this model alone) is decided
 * above this module and done before the call: loadModelOnBackend in src/backend.ts does both.
 */
export function loadModel(dir: string, opts: { trainable?: boolean; randomInit?: number; config?: DecoderConfig } = {}): LoadedModel {
  const config = opts.config ?? loadHfConfig(dir);
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
  if (opts.tokenizerDir) copyTokenizerFiles(opts.tokenizerDir, dir);
}

/** The files of a Hugging Face tokenizer folder. */
const TOKENIZER_FILES = ['tokenizer.json', 'tokenizer_config.json'];

/** Copies the tokenizer files `from` has into `to` (none onto itself). */
function copyTokenizerFiles(from: string, to: string): void {
  for (const f of TOKENIZER_FILES) {
    const src = path.join(from, f);
    if (fs.existsSync(src) && path.resolve(src) !== path.resolve(to, f)) fs.copyFileSync(src, path.join(to, f));
  }
}

/**
 * A model folder with `shapeDir`'s config.json and random weights: randomWeightSource (the numbers Decoder.randomFast
 * and --random-init draw) streamed to model.safetensors without building the model, plus the tokenizer files of
 * `tokenizerDir` when given. Overwrites the folder's weight and config files; anything else there stays.
 */
export function writeRandomModel(o: { shapeDir: string; outDir: string; seed: number; tokenizerDir?: string }): {
  config: DecoderConfig;
  params: number;
  seed: number;
  files: string[];
} {
  const config = loadHfConfig(o.shapeDir);
  if (o.tokenizerDir !== undefined) {
    for (const f of TOKENIZER_FILES) {
      if (!fs.existsSync(path.join(o.tokenizerDir, f)))
        throw new KitError(`--tokenizer ${o.tokenizerDir}: no ${f} there (a Hugging Face tokenizer folder needs tokenizer.json and tokenizer_config.json)`);
    }
  }
  saveModelFolder(o.outDir, config, randomWeightSource(config, o.seed));
  const files = ['config.json', 'model.safetensors'];
  if (o.tokenizerDir !== undefined) {
    copyTokenizerFiles(o.tokenizerDir, o.outDir);
    files.push(...TOKENIZER_FILES);
  }
  return { config, params: paramCount(config), seed: o.seed, files };
}

/** The number of parameters of a config's model (every tensor it needs). */
export function paramCount(cfg: DecoderConfig): number {
  let n = 0;
  for (const s of expectedWeights(cfg).values()) n += numel(s);
  return n;
}

/** Bytes of a config's float32 weights. */
export function weightBytes(cfg: DecoderConfig): number {
  return 4 * paramCount(cfg);
}

/** Bytes of the model's largest float32 tensor (the embedding, for the models the kit knows). */
export function largestTensorBytes(cfg: DecoderConfig): number {
  let most = 0;
  for (const shape of expectedWeights(cfg).values()) most = Math.max(most, numel(shape));
  return 4 * most;
}
