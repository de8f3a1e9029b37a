// The notebooks' model steps (src/experiments/notebook.ts) on tiny random models: the random stand-in folder, one
// sequence's controller inputs, the head variants, controllers evaluated alike, samples at a fixed τ.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend';
import { evaluate } from '../../src/eval/evaluate';
import {
  evaluateControllers,
  evaluateTraces,
  fixedTauSamples,
  headVariantSummary,
  modelOrRandom,
  RANDOM_MODEL_SHAPE,
  tauInputsOf,
} from '../../src/experiments/notebook';
import { loadModel, saveModel } from '../../src/lm/load';
import { Decoder } from '../../src/lm/model';
import { loadTokenizer, Tokenizer, writeCharTokenizer } from '../../src/lm/tokenizer';
import { createController } from '../../src/policy/registry';
import { Rng } from '../../src/rng';
import { Problem, SYNTHETIC_CHARSET } from '../../src/tasks/types';
import { tempDir } from '../helpers/kit';
import { parseHfConfig } from '../../src/lm/config';

const dir = tempDir();
let model: Decoder;
let tok: Tokenizer;
const problems: Problem[] = ['1+2', '3+4', '5+6'].map((prompt, i) => ({ id: `p${i}`, prompt, answer: '', solution: '' }));
// A grader that accepts completions containing a digit: some samples pass, some fail.
const grader = {
  verify: (c: string) => /[0-9]/.test(c),
  extractAnswer: (c: string) => c.slice(-1) || null,
  encodePrompt: undefined,
};

beforeAll(async () => {
  await initBackend('wasm', { log: () => {} });
  writeCharTokenizer(dir, SYNTHETIC_CHARSET);
  tok = await loadTokenizer(dir);
  model = Decoder.random(
    parseHfConfig({
      model_type: 'qwen3',
      vocab_size: SYNTHETIC_CHARSET.length + 4,
      hidden_size: 16,
      intermediate_size: 24,
      num_hidden_layers: 1,
      num_attention_heads: 2,
      num_key_value_heads: 1,
      head_dim: 8,
      max_position_embeddings: 64,
      bos_token_id: 1,
      eos_token_id: 2,
    }),
    0,
    { std: 0.5 },
  );
});
afterAll(() => {
  model.dispose();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('modelOrRandom', () => {
  it('returns a folder that holds a model as it is', async () => {
    const d = tempDir();
    fs.writeFileSync(path.join(d, 'config.json'), '{}');
    expect(await modelOrRandom(d, 0)).toEqual({ dir: d, random: false });
  });
  it('makes a loadable random model of the documented shape in a new folder when the folder has none', async () => {
    const missing = path.join(tempDir(), 'not-trained-yet');
    const r = await modelOrRandom(missing, 3);
    expect(r.random).toBe(true);
    expect(r.dir).not.toBe(missing);
    expect(fs.existsSync(missing)).toBe(false);
    const { model: m, config } = loadModel(r.dir, { trainable: false });
    expect([config.hiddenSize, config.numLayers, config.vocabSize]).toEqual([64, 4, RANDOM_MODEL_SHAPE.vocab_size]);
    expect((await loadTokenizer(r.dir)).vocabSize).toBe(RANDOM_MODEL_SHAPE.vocab_size);
    m.dispose();
    fs.rmSync(r.dir, { recursive: true, force: true });
  });
});

describe('tauInputsOf and headVariantSummary', () => {
  it('gives [N, d] hidden, [N, V] logits equal to a forward pass, τ_{t-1} = 1 and positions 0..N-1', () => {
    const seq = [1, 5, 6, 7, 8];
    const before = tf.memory().numTensors;
    const inputs = tauInputsOf(model, seq);
    expect(tf.memory().numTensors - before).toBe(4);
    expect(inputs.hidden.shape).toEqual([5, 16]);
    expect(inputs.logits.shape).toEqual([5, model.cfg.vocabSize]);
    expect(Array.from(inputs.prevTau.dataSync())).toEqual([1, 1, 1, 1, 1]);
    expect(Array.from(inputs.position.dataSync())).toEqual([0, 1, 2, 3, 4]);
    const logits = tf.tidy(() => model.forward(tf.tensor2d([seq], [1, 5], 'int32')).logits.dataSync());
    expect(Array.from(inputs.logits.dataSync())).toEqual(Array.from(logits));
    const mid = tf.memory().numTensors;
    const summary = headVariantSummary(['introllm', 'introllm-nogate'], inputs, 16, 0);
    expect(Object.keys(summary)).toEqual(['introllm', 'introllm-nogate']);
    const head = createController('introllm', {}, 16, 0);
    expect(summary.introllm.parameters).toBe(head.variables().reduce((s, v) => s + v.size, 0));
    head.dispose();
    expect(tf.memory().numTensors).toBe(mid);
    expect(summary.introllm['outputs u']).toBe(3);
    expect(summary['introllm-nogate']['gate rate']).toBe(1);
    for (const row of Object.values(summary)) expect(row['τ min']).toBeLessThanOrEqual(row['τ max']);
    tf.dispose([inputs.hidden, inputs.logits, inputs.prevTau, inputs.position]);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('evaluateControllers', () => {
  it('equals evaluating each controller alone with the same seeds, in the order given, and disposes them', () => {
    const o = { k: 2, maxNewTokens: 6, tau0: 1, batchRows: 64 };
    const before = tf.memory().numTensors;
    const results = evaluateControllers(model, tok, { hot: { name: 'fixed', fixedTau: 1.5 }, edt: { name: 'edt' } }, problems, grader, o, 7);
    expect(tf.memory().numTensors).toBe(before);
    expect(Object.keys(results)).toEqual(['hot', 'edt']);
    const c = createController('fixed', { fixedTau: 1.5 }, 16, 7);
    const alone = evaluate(model, tok, c, problems, grader, o, new Rng(7).fork('eval'));
    c.dispose();
    expect(results.hot.problems).toEqual(alone.problems);
    expect(results.hot.tauMean).toBeCloseTo(1.5, 5);
    expect(results.hot.report.k).toBe(2);
  });
});

describe('evaluateTraces', () => {
  it('loads the model folder, keeps the traces of each controller in order, and frees the model', async () => {
    const folder = tempDir();
    writeCharTokenizer(folder, SYNTHETIC_CHARSET);
    await saveModel(folder, model);
    const o = { k: 1, maxNewTokens: 4, tau0: 1, batchRows: 64, keepTraces: 2 };
    const before = tf.memory().numTensors;
    const got = await evaluateTraces(folder, { a: { name: 'edt' }, b: { name: 'fixed', fixedTau: 0.5 } }, problems, grader, o, 0);
    expect(tf.memory().numTensors).toBe(before);
    expect(got.map((m) => m.method)).toEqual(['a', 'b']);
    expect(got.map((m) => m.traces.length)).toEqual([2, 2]);
    const direct = evaluateControllers(model, tok, { b: { name: 'fixed', fixedTau: 0.5 } }, problems, grader, o, 0);
    expect(got[1].traces).toEqual(direct.b.traces);
    fs.rmSync(folder, { recursive: true, force: true });
  });
});

describe('fixedTauSamples', () => {
  it('draws k samples per problem, grades them with the task and counts distinct and finished completions', () => {
    const s = fixedTauSamples(model, tok, grader, problems, 1.2, { k: 3, maxNewTokens: 5, seed: 0 }, new Rng(1));
    expect(s.texts).toHaveLength(9);
    expect(s.correct).toEqual([0, 1, 2].map((i) => s.texts.slice(3 * i, 3 * i + 3).map((t) => /[0-9]/.test(t))));
    const fraction = s.correct.flat().filter(Boolean).length / 9;
    expect(s.report.avg.value).toBeCloseTo(fraction, 10);
    expect(s.distinct).toBe(new Set(s.texts).size);
    expect(s.finished).toBeGreaterThanOrEqual(0);
    expect(s.finished).toBeLessThanOrEqual(9);
    expect(s.entropyMean).toBeGreaterThan(0);
  });
  it('is greedy at τ = 0: the k samples of a problem are the same', () => {
    const s = fixedTauSamples(model, tok, grader, problems, 0, { k: 3, maxNewTokens: 5, seed: 0 }, new Rng(2));
    for (let i = 0; i < 3; i++) expect(new Set(s.texts.slice(3 * i, 3 * i + 3)).size).toBe(1);
    expect(s.distinct).toBeLessThanOrEqual(3);
  });
});
