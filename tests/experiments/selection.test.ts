// The selection rule of `introllm select` (highest validation accuracy, first in grid order on a tie) and its guards.
import { describe, expect, it } from 'vitest';
import { methodOverride } from '../../src/experiments/methods';
import { chooseVariant, runSelection, SELECTION_GRIDS, selectionGrid } from '../../src/experiments/selection';
import type { MethodSummary } from '../../src/experiments/summary';
import { resolveConfig, parseSetting } from '../../src/config';
import { expectKitError } from '../helpers/kit';

const m = (accuracy: number) => ({ accuracy, ci95: [accuracy - 0.05, accuracy + 0.05], seeds: [0, 1] }) as unknown as MethodSummary;

describe('selection', () => {
  it('chooses the highest validation accuracy, the first on a tie', () => {
    const g = selectionGrid('lr-token');
    const labels = g.variants.map((v) => v.label);
    const scored = (acc: number[]) => Object.fromEntries(labels.map((l, i) => [l, m(acc[i] ?? 0)]));
    expect(chooseVariant(g, scored([0.2, 0.31, 0.3])).chosen.variant).toBe(labels[1]);
    expect(chooseVariant(g, scored([0.3, 0.3, 0.1])).chosen.variant).toBe(labels[0]);
    const { rows } = chooseVariant(g, scored([0.2, 0.31, 0.3]));
    expect(rows.map((r) => r.accuracy)).toEqual([0.2, 0.31, 0.3, ...labels.slice(3).map(() => 0)]);
  });

  it('refuses to choose while a variant is unfinished, and an unknown grid', () => {
    const g = selectionGrid('lr-temp');
    expectKitError(() => chooseVariant(g, { [g.variants[0].label]: m(0.2) }), `variant '${g.variants[1].label}' has no finished evaluation`);
    expectKitError(() => selectionGrid('nope'), "unknown selection grid 'nope'", 'lr-token, lr-temp');
  });

  it('every variant resolves to a valid config, and the split cannot be overridden to test', async () => {
    for (const g of Object.values(SELECTION_GRIDS)) {
      for (const v of g.variants) {
        const c = resolveConfig({
          preset: 'tiny',
          overrides: [{ source: 'm', value: methodOverride(v.method) }, ...v.sets.map((s) => ({ source: s, value: parseSetting(s) }))],
        });
        expect(c.controller.name).toBe(v.method === 'introllm' ? 'introllm' : 'fixed');
      }
    }
    await expect(
      runSelection({ grid: 'lr-token', preset: 'tiny', out: '/nonexistent', seeds: [0], jobs: 1, sets: ['eval.split="test"'], log: () => {} }),
    ).rejects.toThrow(/eval.split is always "validation"/);
  });
});
