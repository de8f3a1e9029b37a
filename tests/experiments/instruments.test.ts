// The instruments study end to end on the known-answer preset at small sizes (its constructed model makes every part
// quick): every part writes its numbers with CIs into summary.json, the in-range references are paired with the
// measured method, a second call resumes from the saved evaluations, and a missing trained run is a clear error.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend';
import { resolveConfig } from '../../src/config';
import { InstrumentsOptions, runInstruments } from '../../src/experiments/instruments';
import { methodOverride } from '../../src/experiments/methods';
import { runDirOf } from '../../src/experiments/run-files';
import { closeRun, openRun, trainRun } from '../../src/rl/trainer';
import { expectKitErrorAsync, tempDir } from '../helpers/kit';

const dir = tempDir();
const models = path.join(dir, 'models');
const trained = path.join(dir, 'trained');
beforeAll(async () => {
  await initBackend('wasm', { log: () => {} });
  // A "reproduction" with checkpoints: IntroLLM and fixed τ 1.0 trained for 2 steps, seed 0.
  for (const m of ['introllm', 'fixed-1.0']) {
    const cfg = resolveConfig({
      preset: 'known-answer',
      overrides: [
        { source: 'm', value: methodOverride(m) },
        { source: 't', value: { model: { dir: models }, schedule: { mode: 'sequential' }, train: { steps: 2 }, rollout: { promptsPerStep: 2, groupSize: 4 } } },
      ],
    });
    const run = await openRun(cfg, runDirOf(trained, m, 0));
    await trainRun(run);
    closeRun(run);
  }
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const opts = (extra: Partial<InstrumentsOptions> = {}): InstrumentsOptions => ({
  preset: 'known-answer',
  out: path.join(dir, 'out'),
  parts: ['temperature_only', 'behaviour_cloning', 'headroom_after_rl', 'theta_at_fixed_tau'],
  seeds: [0],
  problems: 12,
  k: 2,
  tempSteps: 4,
  trained,
  trainedMethods: ['fixed-1.0', 'introllm'],
  png: false,
  sets: [`model.dir=${JSON.stringify(models)}`, 'rollout.promptsPerStep=2', 'rollout.groupSize=4'],
  log: () => {},
  ...extra,
});

describe('instruments', () => {
  it('runs every part and writes its numbers with CIs', async () => {
    const s = (await runInstruments(opts())) as Record<string, Record<string, unknown>>;
    const t = s.temperature_only as {
      accuracy: { value: number; ci95: number[] };
      diff_vs_best_fixed: { ci95: number[] };
      phi_updates: { half: number; end: number };
      probes_in_range: Record<string, unknown>;
    };
    expect(t.phi_updates).toEqual({ half: 2 * 5, end: 4 * 5 });
    expect(t.accuracy.ci95[0]).toBeLessThanOrEqual(t.accuracy.value);
    expect(t.diff_vs_best_fixed.ci95).toHaveLength(2);
    expect(Object.keys(t.probes_in_range).length).toBeGreaterThan(0);
    const b = s.behaviour_cloning as { probe: string; deterministic: { diff_vs_best_fixed: unknown }; sampled: unknown; fit_error_tau: number[] };
    expect(typeof b.probe).toBe('string');
    expect(b.fit_error_tau[0]).toBeLessThan(0.6);
    expect(b.deterministic.diff_vs_best_fixed).toBeTruthy();
    const h = s.headroom_after_rl as Record<string, { best_fixed: string }>;
    expect(Object.keys(h)).toEqual(['fixed-1.0', 'introllm']);
    const th = s.theta_at_fixed_tau as Record<string, { value: number; diff_vs_fixed_1: unknown }>;
    expect(Object.keys(th)).toEqual(['fixed-0.6', 'fixed-1.0', 'head-mean', 'head-sample']);
    expect(th['fixed-1.0'].diff_vs_fixed_1).toBeNull();
    // the temperature-only run recorded the φ gradient's diagnostics at every step
    const metrics = fs
      .readFileSync(path.join(dir, 'out', 'runs', 'temperature-only', 'seed-0', 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(metrics).toHaveLength(4);
    // (null where a half of the batch has no gradient: all its groups' rewards equal)
    const cos = metrics.map((m) => m['diag/phi_half_cosine']);
    expect(cos.every((v) => v === null || (v >= -1 - 1e-6 && v <= 1 + 1e-6))).toBe(true);
    expect(cos.some((v) => typeof v === 'number')).toBe(true);
    // a figure per part
    const figs = fs.readdirSync(path.join(dir, 'out', 'figures'));
    for (const f of ['temperature_only', 'behaviour_cloning', 'headroom_after_rl-fixed-1.0', 'headroom_after_rl-introllm', 'theta_at_fixed_tau'])
      expect(figs).toContain(`${f}.html`);
  });

  it('resumes from its saved evaluations', async () => {
    const lines: string[] = [];
    await runInstruments(opts({ parts: ['temperature_only', 'theta_at_fixed_tau'], log: (l) => lines.push(l) }));
    expect(lines.filter((l) => l.includes('%'))).toEqual([]); // nothing evaluated again
  });

  it('a trained folder without the run is an error naming it', async () => {
    await expectKitErrorAsync(() => runInstruments(opts({ parts: ['headroom_after_rl'], trainedMethods: ['edt'] })), 'no run', "'edt'");
  });
});
