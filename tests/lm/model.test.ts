// The decoder against the PyTorch reference (tests/fixtures/lm, made by scripts/make-lm-fixtures.py), and its own
// equivalences: KV-cache decoding = full forward, a left-padded batch = each row alone, saved = loaded.
import * as tf from '@tensorflow/tfjs';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend';
import { modelLogits } from '../../src/commands/logits';
import { loadModel, saveModel } from '../../src/lm/load';
import { Decoder } from '../../src/lm/model';
import { expectKitError, FIXTURES, tempDir, tinyConfig } from '../helpers/kit';

const BACKEND = process.env.INTROLLM_TEST_BACKEND ?? 'wasm';
beforeAll(async () => {
  await initBackend(BACKEND, { log: () => {} });
});

function maxAbsDiff(a: number[][], b: number[][]): number {
  let m = 0;
  a.forEach((row, i) => row.forEach((x, j) => (m = Math.max(m, Math.abs(x - b[i][j])))));
  return m;
}

describe('decoder vs the PyTorch reference', () => {
  const fixtures = fs.readdirSync(FIXTURES).sort();
  it('has all three architectures in F32 and BF16', () => {
    expect(fixtures).toEqual(['llama-bf16', 'llama-f32', 'qwen2-bf16', 'qwen2-f32', 'qwen3-bf16', 'qwen3-f32']);
  });
  for (const name of fixtures) {
    for (const mode of ['full', 'incremental'] as const) {
      it(`${name} ${mode}: logits and hidden states within 1e-4`, () => {
        const ref = JSON.parse(fs.readFileSync(path.join(FIXTURES, name, 'reference.json'), 'utf8'));
        const { model } = loadModel(path.join(FIXTURES, name), { trainable: false });
        ref.ids.forEach((ids: number[], i: number) => {
          const out = modelLogits(model, ids, mode);
          expect(out.logits.length).toBe(ids.length);
          // The float32 reference differs from a float64 one by < 5e-6; logits are O(1) (max |logit| 2.6 to 7.9).
          expect(maxAbsDiff(out.logits, ref.logits[i])).toBeLessThan(1e-4);
          expect(maxAbsDiff(out.hidden, ref.hidden[i])).toBeLessThan(1e-4);
        });
        model.dispose();
      });
    }
  }
});

describe('decoder equivalences', () => {
  for (const arch of ['llama', 'qwen2', 'qwen3'] as const) {
    it(`${arch}: prefill + decode steps through the KV cache equal the full forward, with left padding`, () => {
      const model = Decoder.random(tinyConfig(arch), 3, { std: 0.3 });
      const before = tf.memory().numTensors;
      // Row 0 has two pad slots; row 1 is full length.
      const ids = [[0, 0, 5, 6, 7, 8, 9, 10], [11, 12, 13, 14, 15, 16, 17, 18]];
      const mask = [0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1];
      const full = tf.tidy(() => model.forward(tf.tensor2d(ids, [2, 8], 'int32'), mask).logits.arraySync()) as number[][][];
      const cache = model.createCache(2, 10);
      const P = 4;
      const pre = tf.tidy(() => model.prefill(cache, tf.tensor2d(ids.map((r) => r.slice(0, P)), [2, P], 'int32'), [0, 0, 1, 1, 1, 1, 1, 1]).logits.arraySync()) as number[][][];
      const steps: number[][][] = [];
      for (let t = P; t < 8; t++) steps.push(tf.tidy(() => model.decodeStep(cache, [ids[0][t], ids[1][t]]).logits.arraySync()) as number[][]);
      cache.dispose();
      for (let b = 0; b < 2; b++) {
        for (let t = 0; t < 8; t++) {
          if (b === 0 && t < 2) continue; // pad positions have no meaning
          const got = t < P ? pre[b][t] : steps[t - P][b];
          expect(maxAbsDiff([got], [full[b][t]])).toBeLessThan(1e-5);
        }
      }
      // The padded row equals the same tokens run alone.
      const alone = tf.tidy(() => model.forward(tf.tensor2d([ids[0].slice(2)], [1, 6], 'int32')).logits.arraySync()) as number[][][];
      expect(maxAbsDiff(alone[0], full[0].slice(2))).toBeLessThan(1e-5);
      expect(tf.memory().numTensors).toBe(before);
      model.dispose();
    });
  }

  it('saveModel → loadModel reproduces the logits exactly (F32) and within BF16 rounding (BF16)', async () => {
    const dir = tempDir();
    const model = Decoder.random(tinyConfig('qwen3'), 5, { std: 0.3 });
    const ids = [3, 1, 4, 1, 5];
    const want = modelLogits(model, ids, 'full').logits;
    await saveModel(path.join(dir, 'f32'), model);
    await saveModel(path.join(dir, 'bf16'), model, { dtype: 'BF16' });
    const f32 = loadModel(path.join(dir, 'f32')).model;
    const bf16 = loadModel(path.join(dir, 'bf16')).model;
    expect(maxAbsDiff(modelLogits(f32, ids, 'full').logits, want)).toBe(0);
    const d = maxAbsDiff(modelLogits(bf16, ids, 'full').logits, want);
    expect(d).toBeGreaterThan(0);
    expect(d).toBeLessThan(0.1);
    for (const m of [model, f32, bf16]) m.dispose();
    fs.rmSync(dir, { recursive: true });
  });

  it('rejects bad inputs with messages that name them', () => {
    const model = Decoder.random(tinyConfig('llama'), 1);
    expectKitError(() => modelLogits(model, [1, 99], 'full'), 'token id 99', 'vocabulary [0, 37)');
    expectKitError(() => model.forward(tf.tensor2d([[1.5]], [1, 1], 'float32') as tf.Tensor2D), 'ids must be an int32 tensor');
    expectKitError(() => model.createCache(1, 65), 'max_position_embeddings 64');
    const cache = model.createCache(1, 2);
    expectKitError(() => model.decodeStep(cache, [1]), 'not prefilled');
    tf.tidy(() => {
      model.prefill(cache, tf.tensor2d([[1, 2]], [1, 2], 'int32'));
    });
    expectKitError(() => model.decodeStep(cache, [1]), 'KV cache is full');
    cache.dispose();
    model.dispose();
  });
});

describe('training', () => {
  it('a step on a fixed batch lowers the loss, moves exactly the optimised parameters and leaks no tensor', () => {
    const model = Decoder.random(tinyConfig('qwen2'), 7, { std: 0.3 });
    const all = model.variables();
    // Optimise everything except the final norm and the first layer's MLP down-projection.
    const frozen = new Set([model.norm.name, model.layers[0].wdown.name]);
    const vars = all.filter((v) => !frozen.has(v.name));
    const snapshot = new Map(all.map((v) => [v.name, v.dataSync().slice()]));
    const opt = tf.train.adam(0.01);
    const seqs = [[1, 5, 9, 13, 17, 21], [2, 6, 10, 14, 18, 22]];
    const lossOf = () => tf.tidy(() => {
      const logits = model.forward(tf.tensor2d(seqs.map((s) => s.slice(0, 5)), [2, 5], 'int32')).logits;
      return tf.losses.softmaxCrossEntropy(tf.oneHot(tf.tensor2d(seqs.map((s) => s.slice(1)), [2, 5], 'int32'), 37), logits) as tf.Scalar;
    });
    const first = lossOf();
    const l0 = first.dataSync()[0];
    first.dispose();
    opt.minimize(lossOf, false, vars); // one step to create Adam's slots
    const before = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) opt.minimize(lossOf, false, vars);
    expect(tf.memory().numTensors).toBe(before);
    const last = lossOf();
    expect(last.dataSync()[0]).toBeLessThan(l0);
    last.dispose();
    for (const v of all) {
      const same = v.dataSync().every((x, i) => x === snapshot.get(v.name)![i]);
      expect(same, v.name).toBe(frozen.has(v.name));
    }
    opt.dispose();
    model.dispose();
  });

  it('a decoder built with trainable=false is not changed by an optimiser without an explicit var list', () => {
    const model = Decoder.random(tinyConfig('llama'), 2, { trainable: false });
    const head = Decoder.random(tinyConfig('llama'), 3);
    const before = model.embed.dataSync().slice();
    const opt = tf.train.sgd(0.1);
    opt.minimize(() => tf.tidy(() => tf.sum(tf.add(model.forward(tf.tensor2d([[1, 2]], [1, 2], 'int32')).logits, tf.sum(head.norm)))) as tf.Scalar);
    expect(model.embed.dataSync()).toEqual(before);
    opt.dispose();
    model.dispose();
    head.dispose();
  });
});
