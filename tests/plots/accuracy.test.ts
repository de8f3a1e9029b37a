// Accuracy / Pass@k / ablation bar figures (src/plots/accuracy.ts): bar heights and asymmetric CI whiskers.
import { describe, expect, it } from 'vitest';
import { ablationFigure, accuracyFigure, benchmarkAccuracyFigure, passAtKCurveFigure, passKs } from '../../src/plots/accuracy';
import type { Summary } from '../../src/plots/types';

const summary: Summary = {
  methods: {
    introllm: { accuracy: 0.5, ci95: [0.4, 0.65], pass_at_k: { '4': 0.7, '8': 0.8 }, pass_ci95: { '4': [0.6, 0.75] }, seeds: [1, 2] },
    'fixed-1.0': { accuracy: 0.25, ci95: [0.2, 0.3], pass_at_k: { '4': 0.5, '8': 0.6 }, seeds: [1, 2] },
  },
  config: { ignored: true },
};

function close(a: readonly unknown[], b: number[]): void {
  expect(a.length).toBe(b.length);
  a.forEach((v, i) => expect(v as number).toBeCloseTo(b[i], 12));
}

describe('benchmarkAccuracyFigure', () => {
  it('one bar series per method over the benchmarks and the average, whiskers from each CI; null without benchmarks', () => {
    const withSets: Summary = { methods: {
      introllm: { ...summary.methods.introllm, per_benchmark: { aime24: { accuracy: 0.2, ci95: [0.1, 0.4] }, math500: { accuracy: 0.8, ci95: [0.75, 0.85] } } },
      'fixed-1.0': { ...summary.methods['fixed-1.0'], per_benchmark: { aime24: { accuracy: 0.1, ci95: [0, 0.2] }, math500: { accuracy: 0.4, ci95: [0.3, 0.5] } } },
    } };
    const fig = benchmarkAccuracyFigure(withSets)!;
    expect(fig.data.map((t) => t.name)).toEqual(['introllm', 'fixed-1.0']);
    expect(fig.data[0].x).toEqual(['aime24', 'math500', 'average']);
    expect(fig.data[0].y).toEqual([0.2, 0.8, 0.5]);
    const e = fig.data[0].error_y as { array: number[]; arrayminus: number[] };
    close(e.array, [0.2, 0.05, 0.15]);
    close(e.arrayminus, [0.1, 0.05, 0.1]);
    expect(benchmarkAccuracyFigure(summary)).toBeNull();
  });
});

describe('accuracyFigure', () => {
  it('has one bar series for accuracy and one per k, with whiskers from the CIs', () => {
    const fig = accuracyFigure(summary);
    expect(fig.data.map((t) => t.name)).toEqual(['accuracy (Avg@k)', 'Pass@4', 'Pass@8']);
    const [acc, p4, p8] = fig.data;
    expect(acc.x).toEqual(['introllm', 'fixed-1.0']);
    expect(acc.y).toEqual([0.5, 0.25]);
    const e = acc.error_y as { array: number[]; arrayminus: number[]; visible: boolean };
    // introllm: 0.65 − 0.5 = 0.15 up, 0.5 − 0.4 = 0.1 down; fixed-1.0: 0.05 both ways
    close(e.array, [0.15, 0.05]);
    close(e.arrayminus, [0.1, 0.05]);
    expect(e.visible).toBe(true);
    // Pass@4: only introllm recorded a CI; the other bar gets a zero whisker
    const e4 = p4.error_y as { array: number[]; arrayminus: number[] };
    close(e4.array, [0.05, 0]);
    close(e4.arrayminus, [0.1, 0]);
    expect((p8.error_y as { visible: boolean }).visible).toBe(false);
    expect(fig.layout.barmode).toBe('group');
  });

  it('leaves Pass@1 out by default: it equals the accuracy', () => {
    const fig = accuracyFigure({ methods: { a: { accuracy: 0.5, ci95: [0.4, 0.6], pass_at_k: { '1': 0.5, '4': 0.7 }, seeds: [0] } } });
    expect(fig.data.map((t) => t.name)).toEqual(['accuracy (Avg@k)', 'Pass@4']);
  });

  it('respects the requested methods and ks, and names a missing method', () => {
    const fig = accuracyFigure(summary, { methods: ['fixed-1.0'], ks: ['8'] });
    expect(fig.data.map((t) => [t.name, t.y])).toEqual([['accuracy (Avg@k)', [0.25]], ['Pass@8', [0.6]]]);
    expect(() => accuracyFigure(summary, { methods: ['edt'] })).toThrow(/edt/);
  });

  it('Pass@k curve: k on x, one line per method', () => {
    expect(passKs(summary)).toEqual(['4', '8']);
    const fig = passAtKCurveFigure(summary);
    expect(fig.data[0].x).toEqual([4, 8]);
    expect(fig.data[0].y).toEqual([0.7, 0.8]);
    expect(fig.data[1].y).toEqual([0.5, 0.6]);
  });
});

describe('ablationFigure', () => {
  it('bars per variant with CIs, Pass@k as extra series', () => {
    const fig = ablationFigure({ grid: 'gate', rows: [
      { variant: 'gate on', accuracy: 0.5, ci95: [0.45, 0.6], pass_at_k: { '4': 0.7 } },
      { variant: 'gate off', accuracy: 0.4, ci95: [0.3, 0.5] },
    ] });
    expect(fig.data[0].x).toEqual(['gate on', 'gate off']);
    expect(fig.data[0].y).toEqual([0.5, 0.4]);
    close((fig.data[0].error_y as { array: number[] }).array, [0.1, 0.1]);
    close((fig.data[0].error_y as { arrayminus: number[] }).arrayminus, [0.05, 0.1]);
    expect(fig.data[1]).toMatchObject({ name: 'Pass@4', y: [0.7, null] });
    expect(JSON.stringify(fig.layout.title)).toMatch(/gate/);
  });

  it('Pass@k bars carry the CIs that table.json records', () => {
    const fig = ablationFigure({ grid: 'head', rows: [
      { variant: 'beta', accuracy: 0.5, ci95: [0.4, 0.6], pass_at_k: { '1': 0.5, '4': 0.7 }, pass_ci95: { '4': [0.6, 0.9] } },
      { variant: 'gaussian', accuracy: 0.4, ci95: [0.3, 0.5], pass_at_k: { '4': 0.5 }, pass_ci95: { '4': [0.45, 0.55] } },
    ] });
    const e = fig.data[1].error_y as { array: number[]; arrayminus: number[]; visible: boolean };
    expect(fig.data.map((t) => t.name)).toEqual(['accuracy', 'Pass@4']);
    close(e.array, [0.2, 0.05]);
    close(e.arrayminus, [0.1, 0.05]);
    expect(e.visible).toBe(true);
  });
});
