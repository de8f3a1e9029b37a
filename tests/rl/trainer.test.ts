// The RL loop in-process on a tiny random model: many steps leak no tensor, and every controller runs through a step.
import * as tf from '@tensorflow/tfjs';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend';
import { resolveConfig } from '../../src/config';
import { methodOverride } from '../../src/experiments/methods';
import { saveModel } from '../../src/lm/load';
import { Decoder } from '../../src/lm/model';
import { writeCharTokenizer } from '../../src/lm/tokenizer';
import { closeRun, openRun, trainStep } from '../../src/rl/trainer';
import { CONTROLLER_NAMES, createController } from '../../src/policy/registry';
import { parseHfConfig } from '../../src/lm/config';
import { SYNTHETIC_CHARSET } from '../../src/tasks/types';
import { tempDir } from '../helpers/kit';

const dir = tempDir();
const modelDir = path.join(dir, 'model');
beforeAll(async () => {
  await initBackend('wasm', { log: () => {} });
  writeCharTokenizer(modelDir, SYNTHETIC_CHARSET);
  const cfg = parseHfConfig({ model_type: 'qwen3', vocab_size: SYNTHETIC_CHARSET.length + 4, hidden_size: 16, intermediate_size: 24, num_hidden_layers: 1,
    num_attention_heads: 2, num_key_value_heads: 1, head_dim: 8, max_position_embeddings: 256, bos_token_id: 1, eos_token_id: 2 });
  const m = Decoder.random(cfg, 0, { std: 0.2 });
  await saveModel(modelDir, m);
  m.dispose();
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const cfgFor = (method: string, extra: object = {}) => resolveConfig({ preset: 'smoke', overrides: [
  { source: 'method', value: methodOverride(method) },
  { source: 'test', value: { model: { dir: modelDir }, rollout: { promptsPerStep: 2, groupSize: 2, maxNewTokens: 12 }, ...extra } },
] });

describe('trainer', () => {
  it('six steps of IntroLLM leak no tensor after the first', async () => {
    const run = await openRun(cfgFor('introllm', { schedule: { mode: 'alternate', tokenSteps: 1, tempSteps: 1 } }), path.join(dir, 'leak'));
    trainStep(run, 0);
    trainStep(run, 1); // both phases have created their Adam slots now
    const before = tf.memory().numTensors;
    for (let s = 2; s < 6; s++) trainStep(run, s);
    expect(tf.memory().numTensors).toBe(before);
    closeRun(run);
  });

  it("task 'benchmark' (the paper preset) is refused with a clear error before a run folder is made", async () => {
    const out = path.join(dir, 'bench-task');
    await expect(openRun(cfgFor('introllm', { task: { name: 'benchmark' } }), out)).rejects.toThrow("task 'benchmark'");
    expect(fs.existsSync(out)).toBe(false);
  });

  it('creating and disposing every controller leaves no tensor behind', () => {
    const before = tf.memory().numTensors;
    for (const name of CONTROLLER_NAMES) createController(name, {}, 16, 1).dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  for (const method of ['fixed-0.6', 'edt', 'ead', 'tampo', 'introllm-nogate', 'introllm-categorical', 'introllm-gaussian', 'introllm-features']) {
    it(`${method}: a token step and (learned controllers) a temperature step run and report finite metrics`, async () => {
      const run = await openRun(cfgFor(method), path.join(dir, method));
      for (let s = 0; s < 2; s++) {
        const rec = trainStep(run, s);
        expect(rec.phase).toBe(run.controller.learned && s === 1 ? 'temperature' : 'token');
        expect(Number.isFinite(rec['policy/tau_mean'])).toBe(true);
        if (method === 'fixed-0.6') expect(rec['policy/tau_mean']).toBeCloseTo(0.6, 6);
      }
      closeRun(run);
    });
  }
});
