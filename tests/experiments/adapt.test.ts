// The notebook-09 helpers on the real stories260K model: fixed-τ text (greedy = the PyTorch reference's greedy story),
// a fixed-τ sweep on the same problems, the temperature-only run config, and one temperature-only GRPO step that moves
// the head and leaves θ exactly as loaded.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend';
import { fixedTauSweep, fmtInterval, generateText, storiesRunConfig } from '../../src/experiments/adapt';
import { loadModel, LoadedModel } from '../../src/lm/load';
import { loadTokenizer, Tokenizer } from '../../src/lm/tokenizer';
import { Rng } from '../../src/rng';
import { closeRun, openRun, trainRun } from '../../src/rl/trainer';
import { getTask } from '../../src/tasks/registry';
import { tempDir } from '../helpers/kit';

const ROOT = path.join(__dirname, '..', '..');
const MODEL = path.join(ROOT, 'data', 'models', 'stories260K');
const ref = JSON.parse(fs.readFileSync(path.join(ROOT, 'tests', 'fixtures', 'stories260k', 'reference.json'), 'utf8'));
const dir = tempDir();
let m: LoadedModel;
let tok: Tokenizer;
beforeAll(async () => {
  await initBackend('wasm');
  m = loadModel(MODEL, { trainable: false });
  tok = await loadTokenizer(MODEL);
});
afterAll(() => {
  m.model.dispose();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('adapt helpers', () => {
  it('generateText at τ = 0 is the reference greedy continuation; a seed fixes a sampled one', () => {
    const greedy = generateText(m.model, tok, 'Once upon a time', { tau: 0, maxNewTokens: 40 });
    expect(ref.greedy_text.startsWith(`Once upon a time${greedy}`)).toBe(true);
    const a = generateText(m.model, tok, 'Once upon a time', { tau: 1, maxNewTokens: 20, seed: 3 });
    expect(generateText(m.model, tok, 'Once upon a time', { tau: 1, maxNewTokens: 20, seed: 3 })).toBe(a);
  });

  it('fixedTauSweep: one row per τ, an interval around each Avg@k', () => {
    const task = getTask('stories');
    const rows = fixedTauSweep(m.model, tok, task, task.generate(new Rng(0), 'test', 4), [0, 0.7], { k: 2, maxNewTokens: 48 }, new Rng(0));
    expect(rows.map((r) => r.tau)).toEqual([0, 0.7]);
    for (const r of rows) {
      expect(r.avg.lo).toBeLessThanOrEqual(r.avg.value);
      expect(r.avg.hi).toBeGreaterThanOrEqual(r.avg.value);
      expect(r.meanLength).toBe(48); // stories260K never emits </s>
    }
    expect(fmtInterval({ value: 0.5, lo: 0.25, hi: 0.75 })).toBe('0.500 [0.250, 0.750]');
  });

  it('storiesRunConfig + one temperature-only step: φ moves, θ does not', async () => {
    const cfg = storiesRunConfig({ modelDir: MODEL, steps: 1, promptsPerStep: 2, groupSize: 8, maxNewTokens: 48, evalProblems: 4, k: 2 });
    expect(cfg.schedule.mode).toBe('temperature-only');
    expect(cfg.task.name).toBe('stories');
    expect(cfg.optim.lrTemp).toBe(3e-3);
    const run = await openRun(cfg, path.join(dir, 'run'));
    const theta0 = run.model.variables().map((v) => v.dataSync().slice());
    const phi0 = run.controller.variables().map((v) => v.dataSync().slice());
    const recs: Record<string, unknown>[] = [];
    await trainRun(run, (r) => recs.push(r));
    expect(recs.map((r) => r.phase)).toEqual(['temperature']);
    run.model.variables().forEach((v, i) => expect(Array.from(v.dataSync())).toEqual(Array.from(theta0[i])));
    const moved = run.controller.variables().some((v, i) => v.dataSync().some((x, j) => x !== phi0[i][j]));
    expect(recs[0]['adv/zero_variance_groups']).toBeLessThan(1); // some group has mixed rewards, so φ gets a gradient
    expect(moved).toBe(true);
    closeRun(run);
  });
});
