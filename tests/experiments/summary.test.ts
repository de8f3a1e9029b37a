// summary.json arithmetic: per-method accuracy and Pass@k over seeds, two-level bootstrap intervals, and the table.
import { describe, expect, it } from 'vitest';
import { ablationGrid, ABLATION_GRIDS, defaultVariantOf } from '../../src/experiments/ablations';
import { parseSetting, resolveConfig } from '../../src/config';
import { methodOverride } from '../../src/experiments/methods';
import {
  benchmarkTable,
  compareWithReference,
  MethodSummary,
  pairedDifference,
  seedProblemBootstrap,
  SeedEval,
  stratifiedSeedProblemBootstrap,
  summariseMethod,
  summaryTable,
} from '../../src/experiments/summary';
import { Rng } from '../../src/rng';
import { expectKitError } from '../helpers/kit';

const seedEval = (seed: number, rows: boolean[][]): SeedEval => ({
  seed,
  eval: {
    problems: rows.map((correct, i) => ({ id: `p${i}`, correct, answers: correct.map(() => null) })),
    tauMean: 1,
    gateRate: 0.5,
    entropyMean: 2,
    meanLength: 10,
  },
});

describe('summary', () => {
  it('averages Avg@k and Pass@k over seeds (hand-computed)', () => {
    // Seed 0: problem scores avg = [2/4, 0/4] → 0.25; pass@2 = [1 − C(2,2)/C(4,2), 0] = [1 − 1/6, 0] → mean 5/12.
    // Seed 1: avg = [4/4, 1/4] → 0.625; pass@2 = [1, 1 − C(3,2)/C(4,2) = 1/2] → mean 3/4.
    const s = summariseMethod(
      [
        seedEval(0, [
          [true, true, false, false],
          [false, false, false, false],
        ]),
        seedEval(1, [
          [true, true, true, true],
          [true, false, false, false],
        ]),
      ],
      [1, 2],
      new Rng(0),
    );
    expect(s.accuracy).toBeCloseTo((0.25 + 0.625) / 2, 12);
    expect(s.pass_at_k['1']).toBeCloseTo(s.accuracy, 12); // pass@1 is avg@k
    expect(s.pass_at_k['2']).toBeCloseTo((5 / 12 + 3 / 4) / 2, 12);
    expect(s.seeds).toEqual([0, 1]);
    expect(s.per_seed.map((x) => x.accuracy)).toEqual([0.25, 0.625]);
    expect(s.ci95[0]).toBeLessThanOrEqual(s.accuracy);
    expect(s.ci95[1]).toBeGreaterThanOrEqual(s.accuracy);
    // The extremes of the resampling: all draws from problem 1 of seed 0 (0) … all from problem 0 of seed 1 (1).
    expect(s.ci95[0]).toBeGreaterThanOrEqual(0);
    expect(s.ci95[1]).toBeLessThanOrEqual(1);
  });

  it('the bootstrap interval is a point when nothing varies, and widens with seed disagreement', () => {
    expect(
      seedProblemBootstrap(
        [
          [1, 1],
          [1, 1],
        ],
        new Rng(1),
      ),
    ).toEqual({ value: 1, ci: [1, 1] });
    const agree = seedProblemBootstrap(
      [
        [0, 1, 0, 1],
        [0, 1, 0, 1],
        [0, 1, 0, 1],
      ],
      new Rng(2),
    );
    const disagree = seedProblemBootstrap(
      [
        [0, 0, 0, 0],
        [1, 1, 1, 1],
        [0, 1, 0, 1],
      ],
      new Rng(2),
    );
    expect(agree.value).toBe(0.5);
    expect(disagree.value).toBe(0.5);
    expect(disagree.ci[1] - disagree.ci[0]).toBeGreaterThan(agree.ci[1] - agree.ci[0]);
  });

  it('with several benchmarks the headline is the unweighted mean over benchmarks, not the pooled mean (hand-computed)', () => {
    // Seed 0: aime [1 of 2 correct, 0 of 2] → 0.25; math [2/2, 2/2, 1/2, 1/2] → 0.75. Macro 0.5 (pooled would be 7/12).
    // Seed 1: aime [2/2, 0/2] → 0.5; math [1/2 ×4] → 0.5. Macro 0.5. Over seeds: 0.5.
    const rows = (set: string, r: boolean[][]) => r.map((correct, i) => ({ id: `${set}-${i}`, set, correct, answers: correct.map(() => null) }));
    const ev = (seed: number, aime: boolean[][], math: boolean[][]): SeedEval => ({
      seed,
      eval: { problems: [...rows('aime', aime), ...rows('math', math)], tauMean: 1, gateRate: 0.5, entropyMean: 2, meanLength: 10 },
    });
    const T = true,
      F = false;
    const s = summariseMethod(
      [
        ev(
          0,
          [
            [T, F],
            [F, F],
          ],
          [
            [T, T],
            [T, T],
            [T, F],
            [F, T],
          ],
        ),
        ev(
          1,
          [
            [T, T],
            [F, F],
          ],
          [
            [T, F],
            [F, T],
            [T, F],
            [F, T],
          ],
        ),
      ],
      [1, 2],
      new Rng(0),
    );
    expect(s.accuracy).toBeCloseTo(0.5, 12);
    expect(s.per_seed.map((x) => x.accuracy)).toEqual([0.5, 0.5]);
    expect(s.per_benchmark!.aime.accuracy).toBeCloseTo((0.25 + 0.5) / 2, 12);
    expect(s.per_benchmark!.math.accuracy).toBeCloseTo((0.75 + 0.5) / 2, 12);
    expect(s.per_benchmark!.aime.problems).toBe(2);
    // pass@2 with 2 samples: solved or not. aime: seed 0 [1, 0], seed 1 [1, 0] → 0.5; math: seed 0 all 1, seed 1 all 1.
    expect(s.per_benchmark!.aime.pass_at_k['2']).toBeCloseTo(0.5, 12);
    expect(s.per_benchmark!.math.pass_at_k['2']).toBeCloseTo(1, 12);
    expect(s.pass_at_k['2']).toBeCloseTo(0.75, 12);
    const table = benchmarkTable({ introllm: s }, 2)!.split('\n');
    expect(table[0]).toBe('| method (Avg@2 %, 95% CI) | aime | math | average |');
    expect(table[2]).toMatch(/^\| introllm \| 37\.5 \[[\d.]+, [\d.]+\] \| 62\.5 \[[\d.]+, [\d.]+\] \| 50\.0 \[/);
    // A seed evaluated on fewer sets is an error, not a silently different average.
    expectKitError(
      () =>
        summariseMethod(
          [ev(0, [[T, F]], [[T, T]]), { seed: 1, eval: { ...ev(1, [[T, F]], [[T, T]]).eval, problems: rows('aime', [[T, F]]) } }],
          [1],
          new Rng(0),
        ),
      "seed 1: evaluation set 'math' is missing",
    );
  });

  it('the stratified bootstrap resamples within each set: constant sets give a point interval, and one set is the plain bootstrap', () => {
    expect(
      stratifiedSeedProblemBootstrap(
        [
          [
            [1, 1],
            [0, 0, 0],
          ],
          [[1], [0]],
        ],
        new Rng(3),
      ),
    ).toEqual({ value: 0.5, ci: [0.5, 0.5] });
    const scores = [
      [0, 1, 1, 0, 1],
      [1, 1, 0, 0, 0],
    ];
    expect(
      stratifiedSeedProblemBootstrap(
        scores.map((x) => [x]),
        new Rng(4),
      ),
    ).toEqual(seedProblemBootstrap(scores, new Rng(4)));
    // Synthetic runs (no named sets) carry no per-benchmark block and the benchmark table is absent.
    const plain = summariseMethod([seedEval(0, [[true, false]])], [1], new Rng(0));
    expect(plain.per_benchmark).toBeUndefined();
    expect(benchmarkTable({ fixed: plain }, 1)).toBeNull();
  });

  it('prints a Markdown table with percentages', () => {
    const s = summariseMethod(
      [
        seedEval(0, [
          [true, false],
          [true, true],
        ]),
      ],
      [1, 2],
      new Rng(0),
    );
    const t = summaryTable({ introllm: s }, 2).split('\n');
    expect(t[0]).toContain('accuracy (Avg@2) %');
    expect(t[2]).toMatch(/^\| introllm \| 75\.0 \| \[/);
  });
});

describe('methods and ablation grids', () => {
  it('maps method names to controllers and schedules', () => {
    expect(methodOverride('fixed-1.2')).toEqual({ controller: { name: 'fixed', fixedTau: 1.2 }, schedule: { mode: 'token-only' } });
    expect(methodOverride('introllm-gaussian')).toEqual({ controller: { name: 'introllm-gaussian' } });
    expect(methodOverride('tampo').schedule).toEqual({ mode: 'token-only' });
  });

  it('every grid has distinct labels and valid methods; unknown grids list the valid ones', () => {
    for (const [name, g] of Object.entries(ABLATION_GRIDS)) {
      const labels = g.variants.map((v) => v.label);
      expect(new Set(labels).size, name).toBe(labels.length);
      for (const v of g.variants) expect(() => methodOverride(v.method)).not.toThrow();
    }
    expectKitError(() => ablationGrid('dropout'), "unknown ablation grid 'dropout'", 'gate, head, tau-range, schedule, head-input, group-size, lr-token');
  });

  it("each grid's default variant is the tiny preset's own configuration (its --set overrides change nothing)", () => {
    const resolve = (v: { method: string; sets: string[] }) =>
      resolveConfig({
        preset: 'tiny',
        overrides: [{ source: 'method', value: methodOverride(v.method) }, ...v.sets.map((x) => ({ source: x, value: parseSetting(x) }))],
      });
    const defaults: Record<string, string> = {};
    for (const [name, g] of Object.entries(ABLATION_GRIDS)) {
      const d = g.variants.find((v) => v.label === defaultVariantOf(g));
      expect(d, name).toBeDefined();
      defaults[name] = d!.label;
      expect(resolve(d!), name).toEqual(resolve({ method: d!.method, sets: [] }));
      // and every other variant does change something
      for (const v of g.variants.filter((x) => x !== d)) expect(resolve(v), `${name}/${v.label}`).not.toEqual(resolve({ method: d!.method, sets: [] }));
    }
    expect(defaults).toEqual({
      gate: 'introllm',
      head: 'beta',
      'tau-range': 'range-0.4-1.6',
      schedule: 'sequential',
      'head-input': 'hidden-detached',
      'group-size': 'G16',
      'lr-token': 'lr-1e-4',
    });
  });
});

describe('compareWithReference', () => {
  const m = (accuracy: number, lo: number, hi: number) => ({ accuracy, ci95: [lo, hi] }) as unknown as MethodSummary;
  it('says per method whether this run falls inside the reference CI, and lists methods on one side only', () => {
    const r = compareWithReference(
      { a: m(0.1, 0.05, 0.15), b: m(0.3, 0.2, 0.4), c: m(0.5, 0.4, 0.6) },
      { a: m(0.12, 0.1, 0.14), b: m(0.2, 0.15, 0.25), d: m(0.9, 0.8, 1) },
      'results/tiny',
    );
    expect(r.inside).toEqual({ a: true, b: false });
    expect(r.table.split('\n')).toEqual([
      '| method | this run | 95% CI | reference | reference 95% CI | inside the reference CI |',
      '| --- | ---: | --- | ---: | --- | --- |',
      '| a | 10.0% | [5.0%, 15.0%] | 12.0% | [10.0%, 14.0%] | yes |',
      '| b | 30.0% | [20.0%, 40.0%] | 20.0% | [15.0%, 25.0%] | **no** |',
      '| c | 50.0% | [40.0%, 60.0%] | – | – | not in results/tiny |',
      '| d | – | – | 90.0% | [80.0%, 100.0%] | not run here |',
    ]);
  });
});

describe('pairedDifference', () => {
  const ev = (seed: number, rows: [string, boolean[]][], set?: string) => ({
    seed,
    eval: {
      problems: rows.map(([id, correct]) => ({ id, correct, answers: [], ...(set ? { set } : {}) })),
      tauMean: 1,
      gateRate: 1,
      entropyMean: 0,
      meanLength: 1,
    },
  });
  it('is the seed-averaged per-problem difference, with a CI from resampling seeds, then problems (hand-derived)', () => {
    // Problem p1: a 1/2 vs b 0/2 in seed 0, a 2/2 vs b 1/2 in seed 1 → 0.5 in both seeds; p2: 0 in both seeds.
    const a = [
      ev(0, [
        ['p1', [true, false]],
        ['p2', [false, false]],
      ]),
      ev(1, [
        ['p1', [true, true]],
        ['p2', [true, false]],
      ]),
    ];
    const b = [
      ev(0, [
        ['p1', [false, false]],
        ['p2', [false, false]],
      ]),
      ev(1, [
        ['p1', [true, false]],
        ['p2', [true, false]],
      ]),
    ];
    const d = pairedDifference(a, b, new Rng(1), 4000);
    expect(d.diff).toBeCloseTo(0.25, 12);
    expect(d.problems).toBe(2);
    expect(d.seeds).toEqual([0, 1]);
    // Both seeds hold the differences (0.5, 0); a seed's resampled mean is 0, 0.25 or 0.5 (1/4, 1/2, 1/4), and the
    // mean of two such draws is 0 or 0.5 with probability 1/16 each (> 2.5%): the interval is [0, 0.5].
    expect(d.ci95).toEqual([0, 0.5]);
    expect(d.mde80).toBeCloseTo((2.8 * 0.5) / 3.92, 12);
  });
  it('keeps the variation between training seeds in the interval', () => {
    // Seed 0: a beats b on every problem by 1; seed 1: no difference. Averaging per problem first would give 0.5 on
    // every problem and a zero-width interval; resampling seeds draws (0, 0), (0, 1), (1, 1) → 0, 0.5, 1.
    const rows = (x: boolean): [string, boolean[]][] => ['p1', 'p2', 'p3'].map((id) => [id, [x]]);
    const a = [ev(0, rows(true)), ev(1, rows(false))];
    const b = [ev(0, rows(false)), ev(1, rows(false))];
    const d = pairedDifference(a, b, new Rng(2), 4000);
    expect(d.diff).toBeCloseTo(0.5, 12);
    expect(d.ci95).toEqual([0, 1]);
  });
  it('with several sets is the unweighted mean over sets; identical methods give exactly 0', () => {
    const a = [
      {
        seed: 0,
        eval: {
          ...ev(0, [['x', [true]]], 's1').eval,
          problems: [
            ...ev(0, [['x', [true]]], 's1').eval.problems,
            ...ev(
              0,
              [
                ['y', [false]],
                ['z', [false]],
                ['w', [false]],
              ],
              's2',
            ).eval.problems,
          ],
        },
      },
    ];
    const b = [{ seed: 0, eval: { ...a[0].eval, problems: a[0].eval.problems.map((p) => ({ ...p, correct: [false] })) } }];
    expect(pairedDifference(a, b, new Rng(0)).diff).toBeCloseTo(0.5, 12); // s1: +1, s2: 0 → mean over sets 0.5 (pooled would be 0.25)
    const same = pairedDifference(a, a, new Rng(0));
    expect([same.diff, ...same.ci95, same.mde80]).toEqual([0, 0, 0, 0]);
  });
  it('refuses problems that one side lacks, and seeds that do not overlap', () => {
    expect(() => pairedDifference([ev(0, [['p1', [true]]])], [ev(0, [['p2', [true]]])], new Rng(0))).toThrow(/'p1' is missing/);
    expect(() => pairedDifference([ev(0, [['p1', [true]]])], [ev(1, [['p1', [true]]])], new Rng(0))).toThrow(/share no seed/);
  });
});
