// Tests of the 'guess' task (the kit's controlled testbed, src/tasks/guess.ts): the moves and the verifier by hand,
// every generated problem has exactly one solving move and a trace whose every line is right, the split discipline,
// and the two designed biases: the problems' operation mix (PROBLEM_OP) and the guesser's first-try preference
// (GUESSER_OP), measured over many problems.
import { describe, expect, it } from 'vitest';
import { KitError } from '../../src/errors';
import { Rng } from '../../src/rng';
import { allMoves, checkGuess, GUESSER_OP, guessSpec, guessTask, guesserTries, PROBLEM_OP, TRIES } from '../../src/tasks/guess';
import { getTask } from '../../src/tasks/registry';
import { splitOf } from '../../src/tasks/split';
import { inSyntheticCharset, type Problem } from '../../src/tasks/types';

const spec = { numbers: [7, 3, 5], target: 21 };
const problem: Problem = { id: 'x', prompt: 'make 21 from 7 3 5\n', answer: '7*3', solution: '7*3=21 yes\n#### 7*3' };

describe('guess task', () => {
  it('is registered', () => expect(getTask('guess')).toBe(guessTask));

  it('lists every pair, larger number first, with + - *', () => {
    const m = allMoves([7, 3, 5]).map((x) => `${x.a}${x.op}${x.b}=${x.v}`);
    expect(m).toEqual(['7+3=10', '7-3=4', '7*3=21', '7+5=12', '7-5=2', '7*5=35', '5+3=8', '5-3=2', '5*3=15']);
  });

  it('verifies one operation on two different given numbers', () => {
    expect(checkGuess('7*3', spec)).toBe(true);
    expect(checkGuess('3*7', spec)).toBe(true);
    expect(checkGuess(' 7 * 3 ', spec)).toBe(true);
    expect(checkGuess('7*3=21', spec)).toBe(true);
    expect(checkGuess('7*7', spec)).toBe(false); // 7 given once
    expect(checkGuess('7*3*1', spec)).toBe(false); // two operations
    expect(checkGuess('(7*3)', spec)).toBe(false);
    expect(checkGuess('21', spec)).toBe(false);
    expect(checkGuess('7+5', spec)).toBe(false); // 12
    expect(checkGuess('none', spec)).toBe(false);
    expect(guessTask.verify('7+3=10 no\n7*3=21 yes\n#### 7*3', problem)).toBe(true);
    expect(guessTask.verify('7*3=21 yes\n#### none', problem)).toBe(false);
    expect(guessTask.verify('7*3=21 yes', problem)).toBe(false); // no answer line
    expect(guessTask.verify(undefined as unknown as string, problem)).toBe(false);
    expect(guessSpec(problem)).toEqual(spec);
  });

  it('makes problems with exactly one solving move and traces whose every line is right', () => {
    const ps = guessTask.generate(new Rng(5), 'train', 300, 1);
    for (const p of ps) {
      const s = guessSpec(p)!;
      expect(s.numbers.length).toBe(3);
      expect(new Set(s.numbers).size).toBe(3);
      expect(s.numbers.includes(s.target)).toBe(false);
      expect(allMoves(s.numbers).filter((m) => m.v === s.target).length).toBe(1);
      expect(checkGuess(p.answer, s)).toBe(true);
      const lines = p.solution.split('\n');
      const tries = lines.slice(0, -1);
      expect(tries.length).toBeGreaterThan(0);
      expect(tries.length).toBeLessThanOrEqual(TRIES);
      tries.forEach((l, i) => {
        const m = /^(\d+)([+\-*])(\d+)=(\d+) (yes|no)$/.exec(l)!;
        expect(m).not.toBeNull();
        const [a, op, b, v] = [Number(m[1]), m[2], Number(m[3]), Number(m[4])];
        expect(a).toBeGreaterThanOrEqual(b);
        expect(v).toBe(op === '+' ? a + b : op === '-' ? a - b : a * b);
        expect(m[5]).toBe(v === s.target ? 'yes' : 'no');
        if (m[5] === 'yes') expect(i).toBe(tries.length - 1);
      });
      expect(new Set(tries.map((l) => l.split('=')[0])).size).toBe(tries.length); // never the same try twice
      const hit = tries[tries.length - 1].endsWith('yes');
      expect(p.meta?.guesserHit).toBe(hit);
      expect(lines[lines.length - 1]).toBe(hit ? `#### ${tries[tries.length - 1].split('=')[0]}` : '#### none');
      expect(guessTask.verify(p.solution, p)).toBe(hit);
      expect(inSyntheticCharset(p.prompt + p.solution)).toBe(true);
    }
  });

  it('keeps train, validation and test disjoint and is deterministic from the seed', () => {
    const a = guessTask.generate(new Rng(1), 'validation', 100, 1);
    expect(guessTask.generate(new Rng(1), 'validation', 100, 1)).toEqual(a);
    for (const split of ['train', 'validation', 'test'] as const) {
      for (const p of guessTask.generate(new Rng(2), split, 100, 1)) {
        expect(splitOf(String(p.meta?.canonical))).toBe(split);
        expect(p.id.startsWith(`guess-${split}-`)).toBe(true);
      }
    }
  });

  it('draws the solving operation from PROBLEM_OP and the first try from GUESSER_OP', () => {
    const ps = guessTask.generate(new Rng(9), 'train', 3000, 1);
    const total = (w: Record<string, number>) => Object.values(w).reduce((s, x) => s + x, 0);
    for (const op of ['+', '-', '*'] as const) {
      const share = ps.filter((p) => p.meta?.op === op).length / ps.length;
      expect(Math.abs(share - PROBLEM_OP[op] / total(PROBLEM_OP))).toBeLessThan(0.03);
    }
    // On the first try every operation still has untried pairs, so its share is GUESSER_OP's.
    const rng = new Rng(4);
    const firsts = Array.from({ length: 4000 }, () => guesserTries(rng, [9, 4, 6], 1000)[0].op);
    for (const op of ['+', '-', '*'] as const) {
      expect(Math.abs(firsts.filter((o) => o === op).length / 4000 - GUESSER_OP[op] / total(GUESSER_OP))).toBeLessThan(0.03);
    }
    // A target nobody reaches: the guesser stops after TRIES distinct tries.
    const tries = guesserTries(new Rng(1), [9, 4, 6], 1000);
    expect(tries.length).toBe(TRIES);
  });

  it('rejects a bad difficulty or count with a KitError', () => {
    expect(() => guessTask.generate(new Rng(1), 'train', 1, 0)).toThrow(KitError);
    expect(() => guessTask.generate(new Rng(1), 'train', 1, 5)).toThrow(KitError);
    expect(() => guessTask.generate(new Rng(1), 'train', -1, 1)).toThrow(KitError);
  });
});
