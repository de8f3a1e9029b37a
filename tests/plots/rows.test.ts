// Notebook table rows (src/plots/rows.ts): training logs, side-by-side runs, evaluation results, summary.json,
// ablation tables and trace counts, from hand-made inputs.
import { describe, expect, it } from 'vitest';
import type { EvalResult } from '../../src/eval/evaluate';
import {
  ablationRows,
  evalResultRow,
  pctInterval,
  sideBySideTrainingLog,
  summaryRows,
  traceCounts,
  trainingLogRow,
  trainingLogTable,
} from '../../src/plots/rows';

const rec1 = {
  step: 1,
  phase: 'token',
  'train/reward_mean': 0.12345,
  'policy/tau_mean': 1,
  'policy/gate_rate': 0.5,
  'time/rollout_ms': 1500,
  'time/update_ms': 250,
};
const rec2 = {
  step: 2,
  phase: 'temperature',
  'train/reward_mean': 0.5,
  'policy/tau_mean': 0.98765,
  'policy/gate_rate': null,
  'time/rollout_ms': 1000,
  'time/update_ms': 1000,
};

describe('training logs', () => {
  it('rounds numbers to 3 decimals, keeps strings, shows a missing metric as – and sums rollout + update seconds', () => {
    expect(trainingLogRow(rec1)).toEqual({
      phase: 'token',
      reward: 0.123,
      'τ mean': 1,
      'τ std': '–',
      'gate rate': 0.5,
      'H mean': '–',
      len: '–',
      'loss θ': '–',
      'loss φ': '–',
      s: 1.75,
    });
    expect(
      trainingLogRow(rec2, [
        ['gate', 'policy/gate_rate'],
        ['s', 'time/step_s'],
      ]),
    ).toEqual({ gate: '–', s: 2 });
  });
  it("keys a run's table by step", () => {
    const t = trainingLogTable([rec1, rec2], [['reward', 'train/reward_mean']]);
    expect(t).toEqual({ 'step 1': { reward: 0.123 }, 'step 2': { reward: 0.5 } });
  });
  it('puts several runs side by side: a row per step and phase, a column per method and metric, methods in order', () => {
    const side = sideBySideTrainingLog({ a: [rec1, rec2], b: [{ ...rec1, 'train/reward_mean': 0.9 }] }, [
      ['reward', 'train/reward_mean'],
      ['τ', 'policy/tau_mean'],
    ]);
    expect(Object.keys(side)).toEqual(['step 1 (token)', 'step 2 (temperature)']);
    expect(side['step 1 (token)']).toEqual({ 'a: reward': 0.123, 'a: τ': 1, 'b: reward': 0.9, 'b: τ': 1 });
    expect(Object.keys(side['step 1 (token)'])).toEqual(['a: reward', 'a: τ', 'b: reward', 'b: τ']);
    expect(side['step 2 (temperature)']).toEqual({ 'a: reward': 0.5, 'a: τ': 0.988 });
  });
});

describe('evaluation and results rows', () => {
  it('formats an interval in percent', () => {
    expect(pctInterval({ value: 0.1234, lo: 0.05, hi: 0.2 })).toBe('12.3 [5.0, 20.0]');
    expect(pctInterval({ value: 0.5, lo: 0.25, hi: 0.75 }, 0)).toBe('50 [25, 75]');
  });
  it('shows an evaluation result with k from its report', () => {
    const r = {
      report: { k: 4, problems: 2, avg: { value: 0.25, lo: 0, hi: 0.5 }, pass: { value: 0.5, lo: 0, hi: 1 }, majority: { value: 0.5, lo: 0, hi: 1 } },
      tauMean: 0.87654,
      gateRate: 0.1,
      entropyMean: 1.23456,
      meanLength: 17.25,
      problems: [],
      traces: [],
    } as unknown as EvalResult;
    expect(evalResultRow(r)).toEqual({
      'Avg@4 % [95% CI]': '25.0 [0.0, 50.0]',
      'Pass@4 % [95% CI]': '50.0 [0.0, 100.0]',
      'maj@4 %': '50.0',
      'mean τ': 0.877,
      'gate rate': 0.1,
      'mean H': 1.235,
      'mean length': 17.3,
    });
  });
  it('shows summary.json methods with pass@k per k and the seeds', () => {
    const rows = summaryRows({ introllm: { accuracy: 0.123456, ci95: [0.1, 0.15], pass_at_k: { 1: 0.123456, 4: 0.3 }, seeds: [0, 1, 2], tau_mean: 0.9876 } });
    expect(rows).toEqual({ introllm: { accuracy: 0.1235, ci95: '0.100 – 0.150', 'pass@1': 0.1235, 'pass@4': 0.3, seeds: '0,1,2', 'mean τ': 0.988 } });
  });
  it("shows an ablation table's variants", () => {
    expect(ablationRows({ grid: 'gate', rows: [{ variant: 'with gate', accuracy: 0.23456, ci95: [0.2, 0.3] }] })).toEqual([
      { variant: 'with gate', accuracy: 0.2346, ci95: '0.200 – 0.300' },
    ]);
    const withDefault = ablationRows({
      grid: 'gate',
      default_variant: 'introllm',
      rows: [
        { variant: 'introllm', accuracy: 0.2, ci95: [0.18, 0.22] },
        { variant: 'nogate', accuracy: 0.185, ci95: [0.17, 0.2], vs_default: { diff: -0.015, ci95: [-0.0312, 0.004], mde80: 0.02 } },
      ],
    });
    expect(withDefault.map((r) => r.vs_default)).toEqual(['(the default)', '−1.5 [−3.1, +0.4] points']);
  });
  it('counts completions, tokens and correct completions per method', () => {
    const t = (correct: boolean, n: number) => ({ problemId: 'p', correct, text: Array(n).fill('x'), tau: [], gate: [], entropy: [] });
    expect(
      traceCounts([
        { method: 'edt', traces: [t(true, 3), t(false, 4)] },
        { method: 'x', traces: [] },
      ]),
    ).toEqual([
      { method: 'edt', completions: 2, tokens: 7, correct: 1 },
      { method: 'x', completions: 0, tokens: 0, correct: 0 },
    ]);
  });
});
