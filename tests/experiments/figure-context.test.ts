// Where a results folder's figures get their testbed, n, default variant and trace method from
// (src/experiments/figure-context.ts, src/experiments/figures.ts, src/commands/ablate.ts): pure choices on small inputs,
// and the context of the committed guess model.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { beforeRlDeltaOf } from '../../src/commands/ablate';
import { figureContextOf, modelFacts } from '../../src/experiments/figure-context';
import { folderDefaultVariant, traceMethodOf } from '../../src/experiments/figures';
import { contextLine } from '../../src/plots/context';
import type { TokenTrace } from '../../src/plots/types';

describe('figureContextOf', () => {
  it('the committed guess testbed: task, SFT model and its size, n from the evaluation over the config', () => {
    const cfg = { task: { name: 'guess' }, model: { dir: 'data/models/tiny-guess' }, eval: { problems: 400, k: 4 } };
    expect(contextLine(figureContextOf(cfg, [0, 1, 2]))).toBe('guess testbed, 412k-param SFT model · 400 problems × 4 samples, 3 seeds');
    expect(contextLine(figureContextOf(cfg, [0], { problems: 100, k: 2 }))).toBe('guess testbed, 412k-param SFT model · 100 problems × 2 samples, 1 seed');
  });

  it('a model folder that is not here is named by its folder; a folder without training/ is not called SFT', () => {
    expect(contextLine(figureContextOf({ task: { name: 'math' }, model: { dir: 'models/Qwen3-1.7B-missing' } }, [0]))).toBe(
      'math testbed, model Qwen3-1.7B-missing · 1 seed',
    );
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'introllm-ctx-'));
    fs.copyFileSync('data/models/tiny-guess/config.json', path.join(dir, 'config.json'));
    expect(modelFacts(dir)).toEqual({ params: modelFacts('data/models/tiny-guess').params, sft: false });
    expect(modelFacts('data/models/tiny-guess').sft).toBe(true);
    expect(figureContextOf(null, [])).toEqual({ seeds: [] });
  });
});

describe('folderDefaultVariant', () => {
  const variants = [
    { label: 'alternate-1', sets: [] },
    { label: 'joint', sets: ['schedule.mode="joint"'] },
  ];
  it("the recorded default, else the grid's, else the one variant without sets of its own, else none", () => {
    expect(folderDefaultVariant(['alternate-1', 'joint'], 'joint', 'sequential', variants)).toBe('joint');
    expect(folderDefaultVariant(['sequential', 'alternate-1', 'joint'], undefined, 'sequential', variants)).toBe('sequential');
    expect(folderDefaultVariant(['alternate-1', 'joint'], 'gone', 'sequential', variants)).toBe('alternate-1');
    expect(
      folderDefaultVariant(['G2', 'G4'], undefined, 'G16', [
        { label: 'G2', sets: ['rollout.groupSize=2'] },
        { label: 'G4', sets: ['rollout.groupSize=4'] },
      ]),
    ).toBeNull();
  });
});

describe('traceMethodOf and beforeRlDeltaOf', () => {
  const tr = (tau: number[]): TokenTrace => ({
    problemId: 'p',
    correct: true,
    text: tau.map(() => 'x'),
    tau,
    gate: tau.map(() => 0),
    entropy: tau.map(() => 0),
  });
  it('IntroLLM when its τ varies, else the first method whose τ varies', () => {
    expect(
      traceMethodOf([
        { method: 'fixed-1.0', traces: [tr([1, 1])] },
        { method: 'edt', traces: [tr([0.4, 0.6])] },
        { method: 'introllm', traces: [tr([1, 1.2])] },
      ]),
    ).toBe('introllm');
    expect(
      traceMethodOf([
        { method: 'fixed-1.0', traces: [tr([1, 1])] },
        { method: 'edt', traces: [tr([0.4, 0.6])] },
      ]),
    ).toBe('edt');
    expect(traceMethodOf([{ method: 'fixed-1.0', traces: [tr([1, 1])] }])).toBeNull();
  });

  it("the before-RL model minus the default: minus the default's vs_before_rl", () => {
    const d = { diff: 0.072, ci95: [0.05, 0.09] as [number, number], mde80: 0.02, problems: 400, seeds: [0] };
    expect(beforeRlDeltaOf({ default_variant: 'G16', vs_before_rl: { G16: d } })).toBeCloseTo(-0.072, 12);
    expect(beforeRlDeltaOf({ default_variant: 'G16', vs_before_rl: {} })).toBeNull();
    expect(beforeRlDeltaOf({})).toBeNull();
  });
});
