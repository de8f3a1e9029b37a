// Shared test helpers: expecting KitErrors by message content, temp folders, tiny random decoders.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { expect } from 'vitest';
import { KitError } from '../../src/errors';
import { DecoderConfig, parseHfConfig } from '../../src/lm/config';

export async function expectKitErrorAsync(fn: () => unknown, ...fragments: string[]): Promise<void> {
  let err: unknown;
  try {
    await fn();
  } catch (e) {
    err = e;
  }
  expect(err, 'expected a KitError').toBeInstanceOf(KitError);
  for (const f of fragments) expect((err as Error).message).toContain(f);
}

export function expectKitError(fn: () => unknown, ...fragments: string[]): void {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err, 'expected a KitError').toBeInstanceOf(KitError);
  for (const f of fragments) expect((err as Error).message).toContain(f);
}

export function tempDir(prefix = 'introllm-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** A tiny config of each architecture (GQA with 2 query heads per KV head; qwen3 with an explicit head_dim). */
export function tinyConfig(modelType: 'llama' | 'qwen2' | 'qwen3', vocab = 37): DecoderConfig {
  return parseHfConfig({
    model_type: modelType,
    vocab_size: vocab,
    hidden_size: 16,
    intermediate_size: 24,
    num_hidden_layers: 2,
    num_attention_heads: 4,
    num_key_value_heads: 2,
    max_position_embeddings: 64,
    rope_theta: 10000,
    ...(modelType === 'qwen3' ? { head_dim: 8 } : {}),
    tie_word_embeddings: modelType === 'qwen2',
    bos_token_id: 1,
    eos_token_id: 2,
  });
}

export const FIXTURES = path.join(__dirname, '..', 'fixtures', 'lm');
