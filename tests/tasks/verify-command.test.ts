// Tests of `introllm verify`: the per-line grading function and the command end to end through the CLI binary.
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { KitError } from '../../src/errors';
import { gradeLine } from '../../src/commands/verify';

describe('gradeLine', () => {
  it('grades a line', () => {
    expect(JSON.parse(gradeLine('{"pred": "so \\\\boxed{\\\\frac{1}{2}}", "gold": "0.5"}', 'stdin:1'))).toEqual({
      correct: true,
      pred_answer: '\\frac{1}{2}',
      gold_answer: '0.5',
      pred_parsed: '\\frac{1}{2}',
      gold_parsed: '0.5',
      pred_method: 'boxed',
      gold_method: 'bare',
      reason: 'equal rationals',
    });
    expect(JSON.parse(gradeLine('{"pred": null, "gold": 3}', 'stdin:1'))).toMatchObject({
      correct: false,
      pred_answer: null,
      gold_answer: '3',
      reason: 'no final answer found in the prediction',
    });
  });
  it('parses the reference like the prediction and says which rule decided', () => {
    // A reference that is a whole solution: its boxed answer is the gold answer.
    const sol = JSON.stringify({ pred: 'Thus $5 \\geq x$.', gold: 'Solving, we get $\\boxed{x \\le 5}$.' });
    expect(JSON.parse(gradeLine(sol, 'stdin:1'))).toEqual({
      correct: true,
      pred_answer: '5 \\geq x',
      gold_answer: 'x \\le 5',
      pred_parsed: '5 >= x',
      gold_parsed: 'x <= 5',
      pred_method: 'math-span',
      gold_method: 'boxed',
      reason: 'same relation',
    });
    // The same relation reversed is wrong, and the reason says what was compared.
    const wrong = JSON.parse(gradeLine(JSON.stringify({ pred: '$x \\geq 5$', gold: '$x \\le 5$' }), 'stdin:2'));
    expect(wrong).toMatchObject({ correct: false, gold_answer: 'x \\le 5', gold_method: 'math-span', reason: 'not equivalent (rel vs rel)' });
    // Several boxed answers form a list; `{...}` in pred_parsed marks an unordered list.
    const list = JSON.parse(gradeLine(JSON.stringify({ pred: '\\boxed{2}, \\boxed{1}', gold: '1, 2' }), 'stdin:3'));
    expect(list).toMatchObject({ correct: true, pred_answer: '2, 1', pred_parsed: '{2, 1}', gold_parsed: '{1, 2}' });
  });
  it('names the line and the field of bad input', () => {
    expect(() => gradeLine('{"pred": "1"}', 'stdin:4')).toThrow(/stdin:4: missing field 'gold'/);
    expect(() => gradeLine('{"gold": "1"}', 'stdin:2')).toThrow(/stdin:2: missing field 'pred'/);
    expect(() => gradeLine('{"pred": 5, "gold": "1"}', 'stdin:2')).toThrow(/field 'pred' must be a string/);
    expect(() => gradeLine('not json', 'stdin:9')).toThrow(KitError);
    expect(() => gradeLine('not json', 'stdin:9')).toThrow(/stdin:9: malformed JSON/);
  });
});

describe('introllm verify (CLI)', () => {
  const bin = path.resolve(__dirname, '../../bin/introllm.js');
  it('writes one verdict per input line, in order', () => {
    const input = [
      { pred: 'The answer is $\\boxed{(3, \\frac{\\pi}{2})}$', gold: '\\left( 3, \\frac{\\pi}{2} \\right)' },
      { pred: '#### 17', gold: '18' },
      { pred: '}{ garbage \\frac{', gold: '1' },
    ]
      .map((x) => JSON.stringify(x))
      .join('\n');
    const r = spawnSync(process.execPath, [bin, 'verify'], { input, encoding: 'utf8', timeout: 60_000 });
    expect(r.status).toBe(0);
    const out = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(out.map((o) => o.correct)).toEqual([true, false, false]);
    expect(out[1]).toMatchObject({ correct: false, pred_answer: '17', gold_answer: '18', pred_method: 'hash', gold_method: 'bare' });
    expect(out[0].reason).toMatch(/tuple/);
  });
  it('exits 2 with a message naming the line on malformed input', () => {
    const r = spawnSync(process.execPath, [bin, 'verify'], { input: '{"pred":"1","gold":"1"}\n{"pred":"1"}\n', encoding: 'utf8', timeout: 60_000 });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("stdin:2: missing field 'gold'");
    expect(r.stderr).not.toContain('    at ');
  });
});
