// Training-curve figures (src/plots/training.ts): mean over seeds with a min–max or standard-error band, EMA
// smoothing, several metrics as stacked panels. Expected arrays are computed by hand from a 3-seed toy input.
import { describe, expect, it } from 'vitest';
import { aggregateSeeds, metricSeries, trainingCurvesFigure } from '../../src/plots/training';
import type { RunMetrics } from '../../src/plots/types';

// Three seeds of one method; seed 2 logged null at step 3, seed 3 has no 'policy/gate_rate' at all.
const runs: RunMetrics[] = [
  {
    method: 'introllm',
    seed: 1,
    metrics: [
      { step: 1, phase: 'token', 'train/reward_mean': 0.1, 'policy/gate_rate': 0.5 },
      { step: 2, phase: 'temperature', 'train/reward_mean': 0.2, 'policy/gate_rate': 0.4 },
      { step: 3, phase: 'token', 'train/reward_mean': 0.3, 'policy/gate_rate': 0.3 },
    ],
  },
  {
    method: 'introllm',
    seed: 2,
    metrics: [
      { step: 1, phase: 'token', 'train/reward_mean': 0.3, 'policy/gate_rate': 0.7 },
      { step: 2, phase: 'temperature', 'train/reward_mean': 0.4, 'policy/gate_rate': 0.6 },
      { step: 3, phase: 'token', 'train/reward_mean': null, 'policy/gate_rate': 0.5 },
    ],
  },
  {
    method: 'introllm',
    seed: 3,
    metrics: [
      { step: 1, phase: 'token', 'train/reward_mean': 0.2 },
      { step: 2, phase: 'temperature', 'train/reward_mean': 0.6 },
      { step: 3, phase: 'token', 'train/reward_mean': 0.5 },
    ],
  },
  {
    method: 'fixed-1.0',
    seed: 1,
    metrics: [
      { step: 2, phase: 'token', 'train/reward_mean': 0.25 },
      { step: 1, phase: 'token', 'train/reward_mean': 0.15 },
    ],
  },
];

function close(a: readonly (number | string | null)[] | undefined, b: number[]): void {
  expect(a).toBeDefined();
  expect(a!.length).toBe(b.length);
  a!.forEach((v, i) => expect(v as number).toBeCloseTo(b[i], 12));
}

describe('aggregateSeeds', () => {
  it('min–max band: mean and bounds per step over the seeds that logged a value', () => {
    // step 1: 0.1 0.3 0.2 → mean 0.2, [0.1, 0.3]; step 2: 0.2 0.4 0.6 → 0.4, [0.2, 0.6]; step 3: 0.3 0.5 → 0.4, [0.3, 0.5]
    const a = aggregateSeeds(runs.slice(0, 3), 'train/reward_mean');
    expect(a.steps).toEqual([1, 2, 3]);
    close(a.mean, [0.2, 0.4, 0.4]);
    close(a.lo, [0.1, 0.2, 0.3]);
    close(a.hi, [0.3, 0.6, 0.5]);
    expect(a.n).toEqual([3, 3, 2]);
  });

  it('standard-error band: mean ± sample sd / √n', () => {
    // step 1: sd(0.1, 0.2, 0.3) = 0.1 → se = 0.1/√3; step 3: sd(0.3, 0.5) = √0.02 → se = √0.02/√2 = 0.1
    const a = aggregateSeeds(runs.slice(0, 3), 'train/reward_mean', 0, 'stderr');
    expect(a.lo[0]).toBeCloseTo(0.2 - 0.1 / Math.sqrt(3), 12);
    expect(a.hi[0]).toBeCloseTo(0.2 + 0.1 / Math.sqrt(3), 12);
    expect(a.lo[2]).toBeCloseTo(0.3, 12);
    expect(a.hi[2]).toBeCloseTo(0.5, 12);
  });

  it('smooths each seed with an EMA before averaging', () => {
    // w = 0.5. seed 1: 0.1, 0.15, 0.225; seed 2: 0.3, 0.35 (step 3 missing); seed 3: 0.2, 0.4, 0.45
    // step 2 mean = (0.15 + 0.35 + 0.4)/3 = 0.3; step 3 mean = (0.225 + 0.45)/2 = 0.3375
    const a = aggregateSeeds(runs.slice(0, 3), 'train/reward_mean', 0.5);
    close(a.mean, [0.2, 0.3, 0.3375]);
  });

  it('sorts steps and lets a repeated step keep its last value', () => {
    expect(metricSeries(runs[3], 'train/reward_mean')).toEqual({ steps: [1, 2], values: [0.15, 0.25] });
    const rerun: RunMetrics = {
      method: 'm',
      seed: 0,
      metrics: [
        { step: 1, x: 1 },
        { step: 2, x: 2 },
        { step: 2, x: 5 },
      ],
    };
    expect(metricSeries(rerun, 'x')).toEqual({ steps: [1, 2], values: [1, 5] });
  });
});

describe('trainingCurvesFigure', () => {
  it('draws a band polygon and a mean line per method', () => {
    const fig = trainingCurvesFigure(runs);
    expect(fig.data.map((t) => t.name)).toEqual(['introllm min–max', 'introllm', 'fixed-1.0 min–max', 'fixed-1.0']);
    const [band, line] = fig.data;
    expect(band.x).toEqual([1, 2, 3, 3, 2, 1]);
    close(band.y, [0.3, 0.6, 0.5, 0.3, 0.2, 0.1]);
    expect(band.fill).toBe('toself');
    expect(line.x).toEqual([1, 2, 3]);
    close(line.y, [0.2, 0.4, 0.4]);
    expect(line.customdata).toEqual([3, 3, 2]);
    expect(JSON.stringify(fig.layout)).toMatch(/min–max over seeds/);
  });

  it('puts several metrics in stacked panels sharing the step axis, one legend entry per method', () => {
    const fig = trainingCurvesFigure(runs, { metrics: ['policy/tau_mean', 'policy/gate_rate'], band: 'none', methods: ['introllm'] });
    // no run logs policy/tau_mean → panel 1 is empty; gate rate: step 1 (0.5+0.7)/2, step 2 (0.4+0.6)/2, step 3 (0.3+0.5)/2
    expect(fig.data).toHaveLength(1);
    expect(fig.data[0].yaxis).toBe('y2');
    close(fig.data[0].y, [0.6, 0.5, 0.4]);
    const y1 = fig.layout.yaxis as { domain: number[] };
    const y2 = fig.layout.yaxis2 as { domain: number[] };
    expect(y1.domain[0]).toBeGreaterThan(y2.domain[1]);
    expect((fig.layout.xaxis as { anchor: string }).anchor).toBe('y2');
  });

  it('rejects an unknown method', () => {
    expect(() => trainingCurvesFigure(runs, { methods: ['tampo'] })).toThrow(/tampo/);
  });
});
