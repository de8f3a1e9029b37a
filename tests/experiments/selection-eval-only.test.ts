// An evaluation-only selection grid (eval-action): the first variant's runs are trained once; every other variant
// evaluates their checkpoints with its own controller.evalAction on the validation split (in-process here; `introllm
// select` trains the first variant like any grid), the rule chooses among all of them, and a variant that changes more
// than the evaluation action is refused.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend';
import { methodOverride } from '../../src/experiments/methods';
import { readEval, readRunConfig, runDirOf } from '../../src/experiments/run-files';
import { chooseVariant, evaluateTrainedVariants, resolveVariant, SelectionGrid, selectionGrid } from '../../src/experiments/selection';
import { summariseReproduction } from '../../src/experiments/reproduce';
import { closeRun, evaluateRun, openRun, trainRun } from '../../src/rl/trainer';
import { expectKitErrorAsync, tempDir } from '../helpers/kit';

const dir = tempDir();
const SETS = ['train.steps=1', 'rollout.promptsPerStep=2', 'rollout.groupSize=2', 'rollout.maxNewTokens=16', 'eval.maxNewTokens=16', 'eval.problems=4'];
const out = path.join(dir, 'eval-action');
const o = { grid: 'eval-action', preset: 'smoke', out, seeds: [0], sets: SETS, log: () => {} };
beforeAll(async () => {
  await initBackend('wasm', { log: () => {} });
  // the first variant's run, trained exactly as the selection's reproduce would (same resolved config)
  const grid = selectionGrid('eval-action');
  const cfg = resolveVariant(o, grid.variants[0], 0);
  expect(cfg.controller).toEqual({ ...methodOverride('introllm').controller, evalAction: 'sample' });
  const run = await openRun(cfg, runDirOf(out, grid.variants[0].label, 0));
  await trainRun(run);
  evaluateRun(run);
  closeRun(run);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('evaluation-only selection', () => {
  it('evaluates the trained runs for the other variants, once', async () => {
    const grid = selectionGrid('eval-action');
    const lines: string[] = [];
    await evaluateTrainedVariants({ ...o, log: (l) => lines.push(l) }, grid);
    expect(lines).toHaveLength(2);
    for (const v of ['eval-mean', 'eval-mode']) {
      expect(fs.existsSync(path.join(runDirOf(out, v, 0), 'ckpt'))).toBe(false); // evaluated, not trained
      expect(readRunConfig(runDirOf(out, v, 0))!.controller).toMatchObject({ evalAction: v.slice(5) });
      expect(readEval(runDirOf(out, v, 0))!.problems).toHaveLength(4);
    }
    // the deterministic head: every gate decision is its more probable outcome, so the gate rate is 0 or 1 per h_t,
    // and mean and mode differ from sampling only in how the head acts
    const sampled = readEval(runDirOf(out, 'eval-sample', 0))!;
    const mean = readEval(runDirOf(out, 'eval-mean', 0))!;
    expect(mean.tauMean).not.toBe(sampled.tauMean);
    const s = await summariseReproduction(
      out,
      grid.variants.map((v) => v.label),
      [0],
      2,
      'smoke',
      () => {},
    );
    const { rows } = chooseVariant(grid, s.summary.methods);
    expect(rows.map((r) => r.variant)).toEqual(['eval-sample', 'eval-mean', 'eval-mode']);
    // a second call evaluates nothing again
    const again: string[] = [];
    await evaluateTrainedVariants({ ...o, log: (l) => again.push(l) }, grid);
    expect(again).toEqual([]);
  });

  it('refuses a variant that changes more than the evaluation action', async () => {
    const bad: SelectionGrid = {
      ...selectionGrid('eval-action'),
      variants: [selectionGrid('eval-action').variants[0], { label: 'lr', method: 'introllm', sets: ['optim.lrTemp=0.1'] }],
    };
    await expectKitErrorAsync(() => evaluateTrainedVariants(o, bad), "variant 'lr' changes more than controller.evalAction");
  });
});
