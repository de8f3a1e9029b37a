// Loading a model folder (config.json + safetensors + optional tokenizer) into a Decoder, and writing one back.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { openModelWeights, saveModelFolder } from './checkpoint';
import { DecoderConfig, expectedWeights, loadHfConfig } from './config';
import { fitBackendToModel } from '../backend';
import { KitError } from '../errors';
import { Decoder, randomWeightSource } from './model';

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
  // A model too large for the wasm heap moves an automatically picked backend to cpu, with the reason on stderr.
  fitBackendToModel(weightBytes(config), dir);
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

/**
 * A model folder with `shapeDir`'s config.json and random weights: randomWeightSource (the numbers Decoder.randomFast
 * and --random-init draw) streamed to model.safetensors without building the model, plus the tokenizer files of
 * `tokenizerDir` when given. Overwrites the folder's weight and config files; anything else there stays.
 */
export function writeRandomModel(o: { shapeDir: string; outDir: string; seed: number; tokenizerDir?: string }): { config: DecoderConfig; params: number; seed: number; files: string[] } {
  const config = loadHfConfig(o.shapeDir);
  const files: string[] = [];
  if (o.tokenizerDir !== undefined) {
    for (const f of ['tokenizer.json', 'tokenizer_config.json']) {
      if (!fs.existsSync(path.join(o.tokenizerDir, f))) throw new KitError(`--tokenizer ${o.tokenizerDir}: no ${f} there (a Hugging Face tokenizer folder needs tokenizer.json and tokenizer_config.json)`);
    }
  }
  const source = randomWeightSource(config, o.seed);
  saveModelFolder(o.outDir, config, source);
  files.push('config.json', 'model.safetensors');
  if (o.tokenizerDir !== undefined) {
    for (const f of ['tokenizer.json', 'tokenizer_config.json']) {
      if (path.resolve(o.tokenizerDir, f) !== path.resolve(o.outDir, f)) fs.copyFileSync(path.join(o.tokenizerDir, f), path.join(o.outDir, f));
      files.push(f);
    }
  }
  let params = 0;
  for (const s of source.shapes.values()) params += s.reduce((a, b) => a * b, 1);
  return { config, params, seed: o.seed, files };
}

/** Bytes of a config's float32 weights. */
export function weightBytes(cfg: DecoderConfig): number {
  let n = 0;
  for (const s of expectedWeights(cfg).values()) n += s.reduce((a, b) => a * b, 1);
  return 4 * n;
}
