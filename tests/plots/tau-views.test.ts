// τ against entropy and τ by token class (src/plots/tau-views.ts) on tiny hand-made traces.
import { describe, expect, it } from 'vitest';
import { tauByClassFigure, tauEntropyFigure, thin } from '../../src/plots/tau-views';
import type { TokenTrace } from '../../src/plots/types';

const t1: TokenTrace = { problemId: 'a', correct: true, text: ['1', '+', '2', '\n', '#', '#', '#', '#', ' ', '3'], tau: [0.2, 0.4, 0.6, 0.8, 1, 1, 1, 1, 1, 1.2], entropy: [0, 1, 2, 3, 4, 4, 4, 4, 4, 4], gate: Array(10).fill(0) };
const t2: TokenTrace = { problemId: 'b', correct: false, text: ['b', 'a', 'c', 'k'], tau: [1.5, 1.5, 1.5, NaN], entropy: [1, 1, 1, 1], gate: [1, 0, 0, 0] };

describe('tauEntropyFigure', () => {
  it('scatters (H, τ) per method and adds binned means over shared bins', () => {
    const fig = tauEntropyFigure([{ method: 'introllm', traces: [t1, t2] }], { bins: 2 });
    expect(fig.data.map((t) => t.name)).toEqual(['introllm', 'introllm: mean τ per entropy bin']);
    const [pts, curve] = fig.data;
    expect(pts.x).toEqual([0, 1, 2, 3, 4, 4, 4, 4, 4, 4, 1, 1, 1]); // the NaN τ token is left out
    expect(pts.y).toEqual([0.2, 0.4, 0.6, 0.8, 1, 1, 1, 1, 1, 1.2, 1.5, 1.5, 1.5]);
    // range [0, 4], 2 bins: [0, 2) holds H = 0, 1, 1, 1, 1 → τ (0.2 + 0.4 + 1.5·3)/5 = 1.02; [2, 4] the other 8 → 8.6/8
    expect(curve.x).toEqual([1, 3]);
    expect(curve.y![0]).toBeCloseTo(1.02, 12);
    expect(curve.y![1]).toBeCloseTo((0.6 + 0.8 + 6.2) / 8, 12);
    expect(curve.customdata).toEqual([5, 8]);
  });

  it('colours by correctness when asked', () => {
    const fig = tauEntropyFigure([{ method: 'introllm', traces: [t1, t2] }], { colorBy: 'correctness', bins: 0 });
    expect(fig.data.map((t) => [t.name, (t.x as number[]).length])).toEqual([['correct', 10], ['wrong', 3]]);
    const two = tauEntropyFigure([{ method: 'introllm', traces: [t1] }, { method: 'edt', traces: [t2] }], { colorBy: 'correctness', bins: 0 });
    expect(two.data.map((t) => t.name)).toEqual(['introllm, correct', 'edt, wrong']);
  });

  it('thins dense scatters by an even stride', () => {
    expect(thin([0, 1, 2, 3, 4, 5, 6], 3)).toEqual([0, 3, 6]);
    expect(thin([1, 2], 5)).toEqual([1, 2]);
  });
});

describe('tauByClassFigure', () => {
  it('box: one trace per method with the class of each token as x', () => {
    const fig = tauByClassFigure([{ method: 'introllm', traces: [t1, t2] }]);
    const box = fig.data[0];
    expect(box.type).toBe('box');
    expect(box.x).toEqual(['digit', 'operator', 'digit', 'newline', 'answer', 'answer', 'answer', 'answer', 'answer', 'answer', 'marker', 'marker', 'marker']);
    expect(box.y).toEqual([0.2, 0.4, 0.6, 0.8, 1, 1, 1, 1, 1, 1.2, 1.5, 1.5, 1.5]);
    expect((fig.layout.xaxis as { categoryarray: string[] }).categoryarray).toEqual(['digit', 'operator', 'newline', 'marker', 'answer']);
  });

  it('bar: mean τ per class present', () => {
    const fig = tauByClassFigure([{ method: 'introllm', traces: [t1, t2] }], { kind: 'bar', resamples: 50 });
    const bar = fig.data[0];
    expect(bar.x).toEqual(['digit', 'operator', 'newline', 'marker', 'answer']);
    // digit (0.2 + 0.6)/2 = 0.4; operator 0.4; newline 0.8; marker 1.5; answer (5·1 + 1.2)/6
    [0.4, 0.4, 0.8, 1.5, 6.2 / 6].forEach((v, i) => expect(bar.y![i] as number).toBeCloseTo(v, 12));
    expect(bar.customdata).toEqual([2, 1, 1, 3, 6]);
  });
});
