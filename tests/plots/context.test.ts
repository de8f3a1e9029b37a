// What a results figure says about its numbers (src/plots/context.ts): the testbed and n lines, parameter counts as
// people write them, and fractions as the percentages every table shows.
import { describe, expect, it } from 'vitest';
import { contextLine, formatParams, sampleLabel, testbedLabel, toPercent, toPercentCi } from '../../src/plots/context';

describe('figure context', () => {
  it('formatParams: three significant digits at most, k / M / B', () => {
    expect([412_345, 201_000, 1_720_000_000, 596_049_920, 999, 12_345_678].map(formatParams)).toEqual(['412k', '201k', '1.7B', '596M', '999', '12M']);
    expect(formatParams(NaN)).toBe('?');
  });

  it('testbedLabel and sampleLabel name what is known', () => {
    expect(testbedLabel({ task: 'guess', params: 412_345, sft: true })).toBe('guess testbed, 412k-param SFT model');
    expect(testbedLabel({ task: 'countdown', params: 201_000 })).toBe('countdown testbed, 201k-param model');
    expect(testbedLabel({ model: 'Qwen3-1.7B' })).toBe('model Qwen3-1.7B');
    expect(sampleLabel({ problems: 400, k: 4, seeds: [0, 1, 2] })).toBe('400 problems × 4 samples, 3 seeds');
    expect(sampleLabel({ problems: 100, k: 1, seeds: [7] })).toBe('100 problems × 1 sample, 1 seed');
    expect(sampleLabel({ seeds: [] })).toBe('');
    expect(contextLine({ task: 'guess', params: 412_345, sft: true, problems: 400, k: 4, seeds: [0, 1, 2] })).toBe(
      'guess testbed, 412k-param SFT model · 400 problems × 4 samples, 3 seeds',
    );
    expect(contextLine(undefined)).toBe('');
  });

  it('percent conversion', () => {
    expect(toPercent(0.221)).toBeCloseTo(22.1, 12);
    expect(toPercent(NaN)).toBeNaN();
    expect(toPercentCi([0.1, 0.125])).toEqual([10, 12.5]);
    expect(toPercentCi(undefined)).toBeNull();
  });
});
