// verifyCases (src/tasks/verifier.ts): (completion, reference) pairs graded into table rows.
import { describe, expect, it } from 'vitest';
import { verifyCases } from '../../src/tasks/verifier';

describe('verifyCases', () => {
  it('gives each pair its extracted answer and verdict, in order', () => {
    expect(
      verifyCases([
        ['so \\boxed{\\frac{1}{2}}.', '0.5'],
        ['\\boxed{0.333}', '\\frac13'],
        ['no answer here at all', '7'],
      ]),
    ).toEqual([
      { completion: 'so \\boxed{\\frac{1}{2}}.', gold: '0.5', extracted: '\\frac{1}{2}', correct: true },
      { completion: '\\boxed{0.333}', gold: '\\frac13', extracted: '0.333', correct: false },
      { completion: 'no answer here at all', gold: '7', extracted: null, correct: false },
    ]);
  });
  it('returns no rows for no cases', () => {
    expect(verifyCases([])).toEqual([]);
  });
});
