// Tokens coloured by τ (src/plots/token-view.ts): the grid layout, the heatmap cells and the HTML snippet.
import { describe, expect, it } from 'vitest';
import { tauColor } from '../../src/plots/style';
import {
  pickTraces,
  stackedTokenGrid,
  tauRangeOf,
  tauTraceFigure,
  tokenGrid,
  tokenHeatmapFigure,
  tokensToHtml,
  visibleToken,
} from '../../src/plots/token-view';
import type { TokenTrace } from '../../src/plots/types';

const trace: TokenTrace = {
  problemId: 'p<1>',
  correct: true,
  text: ['7', '+', '1', '\n', '#', ' ', '8'],
  tau: [0.5, 1.0, 1.5, 0.5, 0.5, 1.0, 0.5],
  gate: [1, 0, 1, 0, 0, 0, 0],
  entropy: [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7],
};

describe('tokenGrid', () => {
  it('breaks rows after line-break tokens and wraps long rows', () => {
    expect(tokenGrid(trace.text)).toEqual({ row: [0, 0, 0, 0, 1, 1, 1], col: [0, 1, 2, 3, 0, 1, 2], rows: 2, cols: 4 });
    expect(tokenGrid(['a', 'b', 'c', 'd', 'e'], 2)).toEqual({ row: [0, 0, 1, 1, 2], col: [0, 1, 0, 1, 0], rows: 3, cols: 2 });
    expect(tokenGrid(['a', '\n\n', 'b'])).toEqual({ row: [0, 0, 2], col: [0, 1, 0], rows: 3, cols: 2 });
  });
});

describe('tokenHeatmapFigure', () => {
  it('one cell per token, τ as z, visible text with gated tokens bold', () => {
    const fig = tokenHeatmapFigure(trace, { tauRange: [0.1, 2] });
    const h = fig.data[0];
    expect(h.type).toBe('heatmap');
    expect(h.z).toEqual([
      [0.5, 1.0, 1.5, 0.5],
      [0.5, 1.0, 0.5, null],
    ]);
    expect(h.text).toEqual([
      ['<b>7</b>', '+', '<b>1</b>', '↵'],
      ['#', '·', '8', ''],
    ]);
    expect([h.zmin, h.zmax]).toEqual([0.1, 2]);
    expect((fig.layout.yaxis as { autorange: string }).autorange).toBe('reversed');
    expect(JSON.stringify(fig.layout.title)).toContain('p&lt;1&gt;');
  });

  it('defaults the colour range to the trace’s τ range', () => {
    const h = tokenHeatmapFigure(trace).data[0];
    expect([h.zmin, h.zmax]).toEqual([0.5, 1.5]);
    const [lo, hi] = tauRangeOf([{ ...trace, tau: trace.tau.map(() => 0.7) }]);
    expect(lo).toBeCloseTo(0.2, 12);
    expect(hi).toBeCloseTo(1.2, 12);
    expect(tauRangeOf([])).toEqual([0, 1]);
  });
});

describe('tokensToHtml', () => {
  it('one span per token with its τ colour, escaped text, line breaks after ↵', () => {
    const html = tokensToHtml({ ...trace, text: ['<', '+', '&', '\n', '#', ' ', '8'] }, { tauRange: [0.5, 1.5] });
    expect(html.startsWith('<div class="introllm-tokens"')).toBe(true);
    expect((html.match(/<span style="background:/g) ?? []).length).toBe(7 + 2); // tokens + the two caption swatches
    // τ = 0.5 on [0.5, 1.5] is the low end of the scale, 1.0 the white middle, 1.5 the high end
    expect(tauColor(0.5, 0.5, 1.5)).toBe('rgb(103,169,207)');
    expect(tauColor(1.0, 0.5, 1.5)).toBe('rgb(247,247,247)');
    expect(tauColor(1.5, 0.5, 1.5)).toBe('rgb(239,138,98)');
    expect(html).toContain('<span style="background:rgb(103,169,207);font-weight:bold" title="t=0 τ=0.500 H=0.100 gate=1">&lt;</span>');
    expect(html).toContain('title="t=2 τ=1.500 H=0.300 gate=1">&amp;</span>');
    expect(html).toContain('>↵</span>\n<span');
    expect(html).toContain('p&lt;1&gt; · correct');
    expect(tokensToHtml(trace, { caption: false })).not.toContain('correct');
  });

  it('shows whitespace visibly in cells only', () => {
    expect(visibleToken(' a\tb\n')).toBe('·a→b↵');
  });
});

describe('stackedTokenGrid / pickTraces / tauTraceFigure', () => {
  it('stacks traces with one empty row between them', () => {
    // trace 0: "a b \n c" → rows 0-1; gap row 2; trace 1: "d e" → row 3
    const g = stackedTokenGrid(
      [
        ['a', 'b', '\n', 'c'],
        ['d', 'e'],
      ],
      10,
    );
    expect(g.rowOf).toEqual([
      [0, 0, 0, 1],
      [3, 3],
    ]);
    expect(g.colOf).toEqual([
      [0, 1, 2, 0],
      [0, 1],
    ]);
    expect(g.firstRow).toEqual([0, 3]);
    expect([g.rows, g.cols]).toEqual([4, 3]);
  });

  it('picks about half correct and half wrong, in input order, the other kind filling in', () => {
    const t = (id: string, correct: boolean, n = 1): TokenTrace => ({
      problemId: id,
      correct,
      text: Array(n).fill('x'),
      tau: Array(n).fill(1),
      gate: Array(n).fill(0),
      entropy: Array(n).fill(0),
    });
    const all = [t('w1', false), t('c1', true), t('w2', false), t('empty', true, 0), t('w3', false), t('c2', true), t('c3', true)];
    expect(pickTraces(all, 4).map((x) => x.problemId)).toEqual(['c1', 'c2', 'w1', 'w2']);
    expect(pickTraces(all, 3).map((x) => x.problemId)).toEqual(['c1', 'c2', 'w1']);
    expect(pickTraces([t('c1', true), t('w1', false), t('w2', false), t('w3', false)], 4).map((x) => x.problemId)).toEqual(['c1', 'w1', 'w2', 'w3']);
    expect(() => pickTraces(all, 0)).toThrow(/count/);
  });

  it('one heatmap: τ per cell on the given range, each trace labelled at its first row', () => {
    const other: TokenTrace = { ...trace, problemId: 'q', correct: false, text: ['9'], tau: [1.2], gate: [0], entropy: [0.3] };
    const fig = tauTraceFigure([trace, other], { tauRange: [0.4, 1.6], subtitle: ['guess testbed'] });
    const h = fig.data[0];
    const z = h.z as (number | null)[][];
    // trace: rows 0 ("7+1↵") and 1 ("# 8"), gap row 2, other: row 3
    expect(z[0].slice(0, 4)).toEqual([0.5, 1.0, 1.5, 0.5]);
    expect(z[1].slice(0, 3)).toEqual([0.5, 1.0, 0.5]);
    expect(z[2].every((v) => v === null)).toBe(true);
    expect(z[3][0]).toBe(1.2);
    expect([h.zmin, h.zmax]).toEqual([0.4, 1.6]);
    expect((h.text as string[][])[0][0]).toBe('<b>7</b>');
    expect(fig.layout.yaxis).toMatchObject({ tickvals: [0, 3], ticktext: ['1 · correct', '2 · wrong'] });
    expect((fig.layout.title as { text: string }).text).toContain('<sup>guess testbed</sup>');
  });
});
