// An evaluation-only selection grid (eval-action): the first variant's runs are trained once; every other variant
// evaluates their checkpoints with its own controller.evalAction on the validation split, and the rule chooses among
// all of them. The deterministic variants' evaluations use the trained φ: their mean τ is the trained head's, not the
// initial one's.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runSelection } from '../../src/experiments/selection';
import { readEval, readRunConfig, runDirOf } from '../../src/experiments/run-files';
import { tempDir } from '../helpers/kit';

const dir = tempDir();
const SETS = ['train.steps=1', 'rollout.promptsPerStep=2', 'rollout.groupSize=2', 'rollout.maxNewTokens=16', 'eval.maxNewTokens=16', 'eval.problems=4'];
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('evaluation-only selection', () => {
  it('trains the first variant once and evaluates its runs for the others', async () => {
    const out = path.join(dir, 'eval-action');
    const r = await runSelection({ grid: 'eval-action', preset: 'smoke', out, seeds: [0], jobs: 1, sets: SETS, log: () => {} });
    expect('chosen' in r).toBe(true);
    if (!('chosen' in r)) return;
    expect(r.rows.map((x) => x.variant)).toEqual(['eval-sample', 'eval-mean', 'eval-mode']);
    // one training: only eval-sample has a checkpoint and a metrics log of its own making
    expect(fs.existsSync(path.join(runDirOf(out, 'eval-sample', 0), 'ckpt'))).toBe(true);
    expect(fs.existsSync(path.join(runDirOf(out, 'eval-mean', 0), 'ckpt'))).toBe(false);
    for (const v of ['eval-mean', 'eval-mode']) {
      expect(readRunConfig(runDirOf(out, v, 0))!.controller).toMatchObject({ evalAction: v.slice(5) });
      const e = readEval(runDirOf(out, v, 0))!;
      expect(e.problems).toHaveLength(4);
      // deterministic: every gate decision is the same 0/1 for a given h_t; the mean τ is that of the trained head
      expect(e.tauMean).toBeGreaterThan(0.4);
    }
    const sel = JSON.parse(fs.readFileSync(path.join(out, 'selection.json'), 'utf8'));
    expect(sel.rows).toHaveLength(3);
    // a second call trains and evaluates nothing again
    const lines: string[] = [];
    await runSelection({ grid: 'eval-action', preset: 'smoke', out, seeds: [0], jobs: 1, sets: SETS, log: (l) => lines.push(l) });
    expect(lines.filter((l) => l.includes('evaluated') || l.includes('[start]'))).toEqual([]);
  });
});
