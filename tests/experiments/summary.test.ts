// summary.json arithmetic: per-method accuracy and Pass@k over seeds, two-level bootstrap intervals, and the table.
import { describe, expect, it } from 'vitest';
import { ablationGrid, ABLATION_GRIDS } from '../../src/experiments/ablations';
import { methodOverride } from '../../src/experiments/methods';
import { seedProblemBootstrap, SeedEval, summariseMethod, summaryTable } from '../../src/experiments/summary';
import { Rng } from '../../src/rng';
import { expectKitError } from '../helpers/kit';

const seedEval = (seed: number, rows: boolean[][]): SeedEval => ({
  seed,
  eval: { problems: rows.map((correct, i) => ({ id: `p${i}`, correct, answers: correct.map(() => null) })), tauMean: 1, gateRate: 0.5, entropyMean: 2, meanLength: 10 },
});

describe('summary', () => {
  it('averages Avg@k and Pass@k over seeds (hand-computed)', () => {
    // Seed 0: problem scores avg = [2/4, 0/4] → 0.25; pass@2 = [1 − C(2,2)/C(4,2), 0] = [1 − 1/6, 0] → mean 5/12.
    // Seed 1: avg = [4/4, 1/4] → 0.625; pass@2 = [1, 1 − C(3,2)/C(4,2) = 1/2] → mean 3/4.
    const s = summariseMethod([
      seedEval(0, [[true, true, false, false], [false, false, false, false]]),
      seedEval(1, [[true, true, true, true], [true, false, false, false]]),
    ], [1, 2], new Rng(0));
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
    expect(seedProblemBootstrap([[1, 1], [1, 1]], new Rng(1))).toEqual({ value: 1, ci: [1, 1] });
    const agree = seedProblemBootstrap([[0, 1, 0, 1], [0, 1, 0, 1], [0, 1, 0, 1]], new Rng(2));
    const disagree = seedProblemBootstrap([[0, 0, 0, 0], [1, 1, 1, 1], [0, 1, 0, 1]], new Rng(2));
    expect(agree.value).toBe(0.5);
    expect(disagree.value).toBe(0.5);
    expect(disagree.ci[1] - disagree.ci[0]).toBeGreaterThan(agree.ci[1] - agree.ci[0]);
  });

  it('prints a Markdown table with percentages', () => {
    const s = summariseMethod([seedEval(0, [[true, false], [true, true]])], [1, 2], new Rng(0));
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
    expectKitError(() => ablationGrid('dropout'), "unknown ablation grid 'dropout'", 'gate, head, tau-range, schedule, head-input, group-size');
  });
});
