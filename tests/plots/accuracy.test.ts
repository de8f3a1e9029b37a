// Accuracy / Pass@k / ablation / τ-sweep figures (src/plots/accuracy.ts): the data they are drawn from, in percent
// (as every table shows it), the before-RL reference, the paired Δ rows of an ablation, and the sweep's points;
// values hand-derived from the small summaries below.
import { describe, expect, it } from 'vitest';
import {
  ablationDeltaRows,
  ablationFigure,
  accuracyFigure,
  beforeRlOf,
  benchmarkAccuracyFigure,
  paddedRange,
  passAtKCurveFigure,
  passKs,
  scoreSeries,
  signedPointsText,
  tauSweepFigure,
  tauSweepPoints,
} from '../../src/plots/accuracy';
import type { AblationTable, Summary } from '../../src/plots/types';

const summary: Summary = {
  methods: {
    introllm: { accuracy: 0.5, ci95: [0.4, 0.65], pass_at_k: { '4': 0.7, '8': 0.8 }, pass_ci95: { '4': [0.6, 0.75] }, seeds: [1, 2] },
    'fixed-1.0': { accuracy: 0.25, ci95: [0.2, 0.3], pass_at_k: { '4': 0.5, '8': 0.6 }, seeds: [1, 2] },
  },
  config: { ignored: true },
};

const withBefore: Summary = {
  ...summary,
  before_rl: { accuracy: 0.125, ci95: [0.1, 0.15], pass_at_k: { '4': 0.375, '8': 0.5 }, pass_ci95: { '4': [0.3, 0.45] } },
};

function close(a: readonly unknown[], b: number[]): void {
  expect(a.length).toBe(b.length);
  a.forEach((v, i) => expect(v as number).toBeCloseTo(b[i], 10));
}

describe('scoreSeries (the accuracy figure in percent)', () => {
  it('Avg@k then each Pass@k per method, with CIs and the before-RL value, all × 100', () => {
    const s = scoreSeries(withBefore, ['introllm', 'fixed-1.0'], ['4'], beforeRlOf(withBefore));
    expect(s.map((x) => x.name)).toEqual(['accuracy (Avg@8)', 'Pass@4']); // Avg@k names the largest recorded k
    close(s[0].values, [50, 25]);
    close(s[0].cis[0]!, [40, 65]);
    close(s[0].cis[1]!, [20, 30]);
    expect(s[0].before!.value).toBeCloseTo(12.5, 10);
    close(s[0].before!.ci!, [10, 15]);
    close(s[1].values, [70, 50]);
    close(s[1].cis[0]!, [60, 75]);
    expect(s[1].cis[1]).toBeNull(); // fixed-1.0 recorded no Pass@4 CI
    expect(s[1].before!.value).toBeCloseTo(37.5, 10);
    close(s[1].before!.ci!, [30, 45]);
    expect(scoreSeries(summary, ['introllm'], ['4'], null, '4')[0]).toMatchObject({ name: 'accuracy (Avg@4)', before: null });
  });

  it("beforeRlOf: the summary's before_rl, or null", () => {
    expect(beforeRlOf(withBefore)!.accuracy).toBe(0.125);
    expect(beforeRlOf(summary)).toBeNull();
  });
});

describe('accuracyFigure', () => {
  it('bars in percent with whiskers from the CIs, and a dashed before-RL line per series', () => {
    const fig = accuracyFigure(withBefore);
    expect(fig.data.map((t) => t.name)).toEqual(['accuracy (Avg@8)', 'Pass@4', 'Pass@8']);
    const [acc, p4, p8] = fig.data;
    expect(acc.x).toEqual(['introllm', 'fixed-1.0']);
    close(acc.y!, [50, 25]);
    const e = acc.error_y as { array: number[]; arrayminus: number[]; visible: boolean };
    // introllm: 65 − 50 = 15 up, 50 − 40 = 10 down; fixed-1.0: 5 both ways
    close(e.array, [15, 5]);
    close(e.arrayminus, [10, 5]);
    const e4 = p4.error_y as { array: number[]; arrayminus: number[] };
    close(e4.array, [5, 0]);
    close(e4.arrayminus, [10, 0]);
    expect((p8.error_y as { visible: boolean }).visible).toBe(false);
    const lines = (fig.layout.shapes as { type: string; y0: number; name?: string }[]).filter((s) => s.type === 'line');
    expect(lines.map((l) => [l.y0, l.name])).toEqual([
      [12.5, 'before RL: accuracy (Avg@8) 12.5%'],
      [37.5, 'before RL: Pass@4 37.5%'],
      [50, 'before RL: Pass@8 50.0%'],
    ]);
    // Pass@4 and Avg have a CI: a band each; Pass@8 none
    expect((fig.layout.shapes as { type: string }[]).filter((s) => s.type === 'rect')).toHaveLength(2);
    expect(accuracyFigure(summary).layout.shapes).toEqual([]);
  });

  it('names the testbed and n under the title', () => {
    const fig = accuracyFigure(summary, { context: { task: 'guess', params: 412_000, sft: true, problems: 400, k: 4, seeds: [0, 1, 2] } });
    expect((fig.layout.title as { text: string }).text).toContain('guess testbed, 412k-param SFT model · 400 problems × 4 samples, 3 seeds');
  });

  it('leaves Pass@1 out by default, respects the requested methods and ks, and names a missing method', () => {
    expect(
      accuracyFigure({ methods: { a: { accuracy: 0.5, ci95: [0.4, 0.6], pass_at_k: { '1': 0.5, '4': 0.7 }, seeds: [0] } } }).data.map((t) => t.name),
    ).toEqual(['accuracy (Avg@4)', 'Pass@4']);
    const fig = accuracyFigure(summary, { methods: ['fixed-1.0'], ks: ['8'] });
    expect(fig.data.map((t) => [t.name, t.y])).toEqual([
      ['accuracy (Avg@8)', [25]],
      ['Pass@8', [60]],
    ]);
    expect(() => accuracyFigure(summary, { methods: ['edt'] })).toThrow(/edt/);
  });
});

describe('benchmarkAccuracyFigure', () => {
  it('one bar series per method over the benchmarks and the average, in percent; null without benchmarks', () => {
    const withSets: Summary = {
      methods: {
        introllm: {
          ...summary.methods.introllm,
          per_benchmark: { aime24: { accuracy: 0.2, ci95: [0.1, 0.4] }, math500: { accuracy: 0.8, ci95: [0.75, 0.85] } },
        },
        'fixed-1.0': {
          ...summary.methods['fixed-1.0'],
          per_benchmark: { aime24: { accuracy: 0.1, ci95: [0, 0.2] }, math500: { accuracy: 0.4, ci95: [0.3, 0.5] } },
        },
      },
    };
    const fig = benchmarkAccuracyFigure(withSets)!;
    expect(fig.data.map((t) => t.name)).toEqual(['introllm', 'fixed-1.0']);
    expect(fig.data[0].x).toEqual(['aime24', 'math500', 'average']);
    close(fig.data[0].y!, [20, 80, 50]);
    const e = fig.data[0].error_y as { array: number[]; arrayminus: number[] };
    close(e.array, [20, 5, 15]);
    close(e.arrayminus, [10, 5, 10]);
    expect(benchmarkAccuracyFigure(summary)).toBeNull();
  });
});

describe('passAtKCurveFigure', () => {
  it('two k: markers only, k as groups, the before-RL model as its own series', () => {
    expect(passKs(summary)).toEqual(['4', '8']);
    const fig = passAtKCurveFigure(withBefore);
    expect(fig.data.map((t) => [t.name, t.mode])).toEqual([
      ['introllm', 'markers'],
      ['fixed-1.0', 'markers'],
      ['before RL (base model, τ = 1)', 'markers'],
    ]);
    expect(fig.data[0].x).toEqual(['Pass@4', 'Pass@8']);
    close(fig.data[0].y!, [70, 80]);
    close(fig.data[2].y!, [37.5, 50]);
    expect(fig.layout.scattermode).toBe('group');
  });

  it('three or more k: a line per method over k on a log axis', () => {
    const three: Summary = { methods: { a: { accuracy: 0.2, ci95: [0.1, 0.3], pass_at_k: { '1': 0.2, '4': 0.5, '16': 0.75 }, seeds: [0] } } };
    const fig = passAtKCurveFigure(three);
    expect(fig.data[0]).toMatchObject({ mode: 'lines+markers', x: [1, 4, 16] });
    close(fig.data[0].y!, [20, 50, 75]);
    expect((fig.layout.xaxis as { type: string }).type).toBe('log');
  });
});

const table: AblationTable = {
  grid: 'group-size',
  default_variant: 'G16',
  rows: [
    { variant: 'G2', accuracy: 0.2, ci95: [0.18, 0.22], pass_at_k: { '1': 0.2, '4': 0.5 }, vs_default: { diff: -0.025, ci95: [-0.04, -0.01], mde80: 0.02 } },
    { variant: 'G16', accuracy: 0.225, ci95: [0.2, 0.25], pass_at_k: { '1': 0.225, '4': 0.55 } },
    { variant: 'G8', accuracy: 0.23, ci95: [0.21, 0.25], vs_default: { diff: 0.005, ci95: [-0.01, 0.02], mde80: 0.021 } },
  ],
};

describe('ablationDeltaRows', () => {
  it("each variant in table order, the default at Δ 0 and marked, the others' paired Δ in points", () => {
    const rows = ablationDeltaRows(table);
    expect(rows.map((r) => [r.variant, r.isDefault])).toEqual([
      ['G2', false],
      ['G16', true],
      ['G8', false],
    ]);
    close(
      rows.map((r) => r.accuracy),
      [20, 22.5, 23],
    );
    close(
      rows.map((r) => r.delta!),
      [-2.5, 0, 0.5],
    );
    close(rows[0].ci!, [-4, -1]);
    expect(rows[1].ci).toBeNull();
    close(rows[2].ci!, [-1, 2]);
    expect(rows[0].mde80).toBeCloseTo(2, 10);
    expect(rows[1].mde80).toBeNull();
  });

  it('a variant without a recorded difference has no Δ; a table without its default is refused', () => {
    const partial = { ...table, rows: [table.rows[1], { variant: 'G4', accuracy: 0.21, ci95: [0.2, 0.22] as [number, number] }] };
    expect(ablationDeltaRows(partial)[1]).toMatchObject({ variant: 'G4', delta: null, ci: null });
    expect(() => ablationDeltaRows({ ...table, default_variant: undefined })).toThrow(/no default_variant/);
    expect(() => ablationDeltaRows({ ...table, default_variant: 'G32' })).toThrow(/G32/);
  });

  it('signed points with a true minus sign', () => {
    expect([signedPointsText(2.54), signedPointsText(-0.04), signedPointsText(0)]).toEqual(['+2.5', '−0.0', '+0.0']);
  });
});

describe('ablationFigure', () => {
  it('Δ bars for the non-default variants with their CIs, the default marked at 0, the before-RL line', () => {
    const fig = ablationFigure(table, { beforeRlDelta: -0.1 });
    const [bars, def] = fig.data;
    expect(bars.type).toBe('bar');
    expect((bars.x as string[]).map((x) => x.split('<br>')[0])).toEqual(['G2', 'G8']);
    close(bars.y!, [-2.5, 0.5]);
    const e = bars.error_y as { array: number[]; arrayminus: number[] };
    close(e.array, [1.5, 1.5]);
    close(e.arrayminus, [1.5, 1.5]);
    expect((bars.marker as { color: string[] }).color).toEqual(['#d62728', '#4c72b0']); // CI below 0; CI includes 0
    expect(def).toMatchObject({ y: [0], x: ['<b>G16</b><br>Avg@4 22.5%<br>the default'] });
    expect((bars.x as string[])[0]).toBe('G2<br>Avg@4 20.0%<br>Δ −2.5 [−4.0, −1.0]');
    const line = (fig.layout.shapes as { y0: number; name: string }[])[0];
    expect(line.y0).toBeCloseTo(-10, 10);
    expect(line.name).toContain('−10.0 vs the default');
  });

  it('without a default: accuracy and Pass@k per variant in percent, said so under the title', () => {
    const fig = ablationFigure({
      grid: 'head',
      rows: [
        { variant: 'beta', accuracy: 0.5, ci95: [0.4, 0.6], pass_at_k: { '1': 0.5, '4': 0.7 }, pass_ci95: { '4': [0.6, 0.9] } },
        { variant: 'gaussian', accuracy: 0.4, ci95: [0.3, 0.5], pass_at_k: { '4': 0.5 }, pass_ci95: { '4': [0.45, 0.55] } },
      ],
    });
    expect(fig.data.map((t) => t.name)).toEqual(['accuracy (Avg@4)', 'Pass@4']);
    close(fig.data[0].y!, [50, 40]);
    const e = fig.data[1].error_y as { array: number[]; arrayminus: number[] };
    close(e.array, [20, 5]);
    close(e.arrayminus, [10, 5]);
    expect((fig.layout.title as { text: string }).text).toContain('no default variant');
  });
});

describe('tauSweepPoints / tauSweepFigure', () => {
  const sweep: Summary = {
    methods: {
      'fixed-1.2': { accuracy: 0.1, ci95: [0.09, 0.11], pass_at_k: { '1': 0.1, '4': 0.3 }, pass_ci95: { '4': [0.25, 0.35] }, seeds: [0] },
      'fixed-0.6': { accuracy: 0.08, ci95: [0.07, 0.09], pass_at_k: { '1': 0.08, '4': 0.25 }, seeds: [0] },
      edt: { accuracy: 0.5, ci95: [0.4, 0.6], pass_at_k: {}, seeds: [0] },
      'fixed-1.0': { accuracy: 0.11, ci95: [0.1, 0.12], pass_at_k: { '1': 0.11, '4': 0.32 }, seeds: [0] },
    },
  };

  it('the fixed-τ methods sorted by τ, in percent, with Pass@ the largest k; other methods ignored', () => {
    const p = tauSweepPoints(sweep);
    expect(p.map((x) => [x.method, x.tau])).toEqual([
      ['fixed-0.6', 0.6],
      ['fixed-1.0', 1],
      ['fixed-1.2', 1.2],
    ]);
    close(
      p.map((x) => x.accuracy),
      [8, 11, 10],
    );
    close(
      p.map((x) => x.pass!),
      [25, 32, 30],
    );
    close(p[2].passCi!, [25, 35]);
    expect(p[0].passCi).toBeNull();
  });

  it('lines for three or more τ, the best Avg marked; refuses a summary with no fixed τ', () => {
    const fig = tauSweepFigure(sweep);
    expect(fig.data.map((t) => [t.name, t.mode])).toEqual([
      ['accuracy (Avg@4)', 'lines+markers'],
      ['Pass@4', 'lines+markers'],
    ]);
    expect((fig.layout.shapes as { x0: number }[])[0].x0).toBe(1);
    expect((fig.layout.title as { text: string }).text).toContain('best Avg: τ = 1 (11.0%)');
    const two = tauSweepFigure({ methods: { 'fixed-0.6': sweep.methods['fixed-0.6'], 'fixed-1.0': sweep.methods['fixed-1.0'] } });
    expect(two.data[0].mode).toBe('markers');
    expect(() => tauSweepFigure({ methods: { edt: sweep.methods.edt } })).toThrow(/no fixed-<τ> methods/);
  });
});

describe('paddedRange', () => {
  it('the span of the finite values with a padding on each side; a single value gets a unit span', () => {
    close(paddedRange([0, -7.2, 2.8, null, NaN, undefined], 0.1)!, [-8.2, 3.8]); // span 10 → ±1
    close(paddedRange([5], 0.5)!, [2.5, 7.5]); // span max(1, 5) = 5 → ±2.5
    expect(paddedRange([null, NaN])).toBeNull();
  });
});
