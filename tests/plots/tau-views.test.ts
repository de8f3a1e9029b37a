// τ against entropy and τ by token class (src/plots/tau-views.ts) on tiny hand-made traces: the binned means, the
// class selection with its n labels and threshold, the constant-τ methods left out, and the texts the titles carry.
import { describe, expect, it } from 'vitest';
import { constantTau, rhoText, selectClasses, tauByClassFigure, tauEntropyBins, tauEntropyFigure, traceCountText } from '../../src/plots/tau-views';
import type { TokenTrace } from '../../src/plots/types';

const t1: TokenTrace = {
  problemId: 'a',
  correct: true,
  text: ['1', '+', '2', '\n', '#', '#', '#', '#', ' ', '3'],
  tau: [0.2, 0.4, 0.6, 0.8, 1, 1, 1, 1, 1, 1.2],
  entropy: [0, 1, 2, 3, 4, 4, 4, 4, 4, 4],
  gate: Array(10).fill(0),
};
const t2: TokenTrace = { problemId: 'b', correct: false, text: ['b', 'a', 'c', 'k'], tau: [1.5, 1.5, 1.5, NaN], entropy: [1, 1, 1, 1], gate: [1, 0, 0, 0] };
const fixed: TokenTrace = { problemId: 'a', correct: true, text: ['1', '+', '2'], tau: [1, 1, 1], entropy: [0.5, 1, 2], gate: [0, 0, 0] };

describe('tauEntropyBins', () => {
  it("cuts the pooled entropies into quantile bins and takes each group's mean τ per bin", () => {
    // 13 finite tokens, H sorted: 0 1 1 1 1 2 3 4 4 4 4 4 4 → quantiles at 0, 0.5, 1: edges [0, 3, 4]
    const { edges, perGroup } = tauEntropyBins([{ label: 'introllm', traces: [t1, t2] }], 2, { resamples: 50 });
    expect(edges).toEqual([0, 3, 4]);
    const [lo, hi] = perGroup[0].bins;
    // [0, 3): H 0, 1, 2 of t1 (τ 0.2, 0.4, 0.6) and H 1 ×3 of t2 (τ 1.5 each) → (1.2 + 4.5) / 6 = 0.95
    expect(lo.count).toBe(6);
    expect(lo.value).toBeCloseTo(0.95, 12);
    expect(lo.entropyMean).toBeCloseTo((0 + 1 + 2 + 1 + 1 + 1) / 6, 12);
    expect(lo.problems).toBe(2);
    // [3, 4]: H 3 (τ 0.8) and H 4 ×6 (τ 1 ×5, 1.2) → 7 / 7 = 1
    expect(hi.count).toBe(7);
    expect(hi.value).toBeCloseTo(7 / 7, 12);
    expect([hi.from, hi.to]).toEqual([3, 4]);
  });
});

describe('tauEntropyFigure', () => {
  it('one line of binned means per method whose τ varies, the Spearman ρ in its legend name, fixed τ named under the title', () => {
    const fig = tauEntropyFigure(
      [
        { method: 'introllm', traces: [t1, t2] },
        { method: 'fixed-1.0', traces: [fixed] },
      ],
      { bins: 2, resamples: 50 },
    );
    expect(fig.data).toHaveLength(1);
    expect(fig.data[0].name).toMatch(/^introllm \(Spearman ρ = /);
    expect(fig.data[0].y![0] as number).toBeCloseTo(0.95, 12);
    expect(fig.data[0].x![0] as number).toBeCloseTo(1, 12);
    const title = (fig.layout.title as { text: string }).text;
    expect(title).toContain('introllm Spearman ρ');
    expect(title).toContain('not shown (τ constant): fixed-1.0');
    expect(title).toContain('2 completions, 14 tokens');
    expect((fig.layout.xaxis as { type: string }).type).toBe('log');
  });

  it("takes the correlations it is given (summary.json's) instead of computing them", () => {
    const est = { value: -0.07, lo: -0.12, hi: -0.02, resamplesUsed: 1000 };
    const fig = tauEntropyFigure([{ method: 'introllm', traces: [t1, t2] }], {
      bins: 2,
      resamples: 20,
      correlations: { introllm: { tokens: 13, problems: 2, pearson: est, spearman: est } },
    });
    expect(fig.data[0].name).toBe('introllm (Spearman ρ = −0.07 [−0.12, −0.02])');
  });

  it('colours by correctness when asked', () => {
    const wrong = { ...t2, tau: [1.5, 1.3, 1.5, NaN] };
    const fig = tauEntropyFigure([{ method: 'introllm', traces: [t1, wrong] }], { colorBy: 'correctness', bins: 2, resamples: 20 });
    expect(fig.data.map((t) => (t.name as string).split(' (')[0])).toEqual(['correct', 'wrong']);
    // a group whose τ does not vary (t2 alone) is left out and named
    const one = tauEntropyFigure([{ method: 'introllm', traces: [t1, t2] }], { colorBy: 'correctness', bins: 2, resamples: 20 });
    expect(one.data.map((t) => (t.name as string).split(' (')[0])).toEqual(['correct']);
    expect((one.layout.title as { text: string }).text).toContain('not shown (τ constant): wrong');
  });
});

describe('small texts and checks', () => {
  it('constantTau: every finite τ equal', () => {
    expect(constantTau([fixed])).toBe(true);
    expect(constantTau([t1])).toBe(false);
    expect(constantTau([{ ...t2, tau: [1.5, 1.5, 1.5, NaN] }])).toBe(true);
  });

  it('rhoText and traceCountText', () => {
    expect(rhoText({ value: 0.6712, lo: 0.66, hi: 0.684, resamplesUsed: 10 })).toBe('ρ = 0.67 [0.66, 0.68]');
    expect(rhoText({ value: NaN, lo: NaN, hi: NaN, resamplesUsed: 0 })).toBe('ρ undefined');
    expect(traceCountText([{ traces: [t1, t2] }])).toBe('2 completions, 14 tokens');
    expect(traceCountText([{ traces: [t1, t2] }, { traces: [t1] }])).toBe('1–2 completions, 10–14 tokens');
  });
});

describe('selectClasses', () => {
  it('keeps a (method, class) with at least minTokens tokens, labels each class with n, lists the classes left out', () => {
    const sel = selectClasses(
      [
        { method: 'introllm', count: { digit: 1234, operator: 150, answer: 99, special: 12 } },
        { method: 'edt', count: { digit: 1200, operator: 90, answer: 40 } },
      ],
      100,
    );
    expect(sel.classes).toEqual(['digit', 'operator']);
    expect(sel.labels).toEqual(['digit<br>n = 1 200–1 234', 'operator<br>n = 150']);
    expect(sel.shown).toEqual({ introllm: ['digit', 'operator'], edt: ['digit'] });
    expect(sel.omitted).toEqual([
      { cls: 'answer', count: 99 },
      { cls: 'special', count: 12 },
    ]);
  });
});

describe('tauByClassFigure', () => {
  it('bar (default): mean τ per class shown, n in the labels, small classes left out', () => {
    const fig = tauByClassFigure(
      [
        { method: 'introllm', traces: [t1, t2] },
        { method: 'fixed-1.0', traces: [fixed] },
      ],
      { resamples: 50, minTokens: 2 },
    );
    expect(fig.data).toHaveLength(1); // fixed-1.0's τ is constant
    const bar = fig.data[0];
    // digit: 0.2, 0.6 (n 2); answer: 5 × 1 and 1.2 (n 6); marker 1.5 × 3 (n 3); operator and newline have 1 token each
    expect(bar.x).toEqual(['digit<br>n = 2', 'marker<br>n = 3', 'answer<br>n = 6']);
    [0.4, 1.5, 6.2 / 6].forEach((v, i) => expect(bar.y![i] as number).toBeCloseTo(v, 12));
    const title = (fig.layout.title as { text: string }).text;
    expect(title).toContain('classes left out: operator (at most 1), newline (at most 1)');
    expect(title).toContain('not shown (τ constant): fixed-1.0');
  });

  it('box: the tokens of the classes shown, labelled with n', () => {
    const fig = tauByClassFigure([{ method: 'introllm', traces: [t1, t2] }], { kind: 'box', minTokens: 3 });
    const box = fig.data[0];
    expect(box.type).toBe('box');
    expect(box.x).toEqual([...Array(6).fill('answer<br>n = 6'), ...Array(3).fill('marker<br>n = 3')]);
    expect(box.y).toEqual([1, 1, 1, 1, 1, 1.2, 1.5, 1.5, 1.5]);
    expect((fig.layout.xaxis as { categoryarray: string[] }).categoryarray).toEqual(['marker<br>n = 3', 'answer<br>n = 6']);
  });
});
