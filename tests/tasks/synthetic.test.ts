// Tests of the synthetic tasks (arithmetic, countdown) and their registry: determinism from the seed, train/test
// disjointness, every reference solution passes its own verifier, the character set and length limits, real
// branching in countdown traces, and the exact countdown verifier.
import { describe, expect, it } from 'vitest';
import { KitError } from '../../src/errors';
import { Rng } from '../../src/rng';
import { arithmeticTask } from '../../src/tasks/arithmetic';
import { checkCountdown, countdownSpec, countdownTask, evalCountdownExpr } from '../../src/tasks/countdown';
import { getTask, taskNames } from '../../src/tasks/registry';
import { splitOf, TEST_FRACTION, VALIDATION_FRACTION } from '../../src/tasks/split';
import { inSyntheticCharset, SYNTHETIC_CHARSET, type Problem } from '../../src/tasks/types';

const canon = (p: Problem) => String(p.meta?.canonical);

describe.each([arithmeticTask, countdownTask])('task $name', (task) => {
  it('is deterministic from the seed and differs across seeds', () => {
    const a = task.generate(new Rng(7), 'train', 40, 2);
    const b = task.generate(new Rng(7), 'train', 40, 2);
    const c = task.generate(new Rng(8), 'train', 40, 2);
    expect(a).toEqual(b);
    expect(a.map((p) => p.id)).not.toEqual(c.map((p) => p.id));
  });

  it('keeps train, validation and test disjoint by canonical form', () => {
    const train = task.generate(new Rng(1), 'train', 600, 1);
    const validation = task.generate(new Rng(3), 'validation', 100, 1);
    const test = task.generate(new Rng(2), 'test', 200, 1);
    const trainForms = new Set(train.map(canon));
    const testForms = new Set(test.map(canon));
    expect(test.some((p) => trainForms.has(canon(p)))).toBe(false);
    expect(validation.some((p) => trainForms.has(canon(p)) || testForms.has(canon(p)))).toBe(false);
    expect(train.every((p) => splitOf(canon(p)) === 'train' && p.id.startsWith(`${task.name}-train-`))).toBe(true);
    expect(validation.every((p) => splitOf(canon(p)) === 'validation' && p.id.startsWith(`${task.name}-validation-`))).toBe(true);
    expect(test.every((p) => splitOf(canon(p)) === 'test' && p.id.startsWith(`${task.name}-test-`))).toBe(true);
    expect(new Set(train.map((p) => p.id)).size).toBe(train.length);
  });

  it('assigns about TEST_FRACTION of canonical forms to test and VALIDATION_FRACTION to validation', () => {
    const counts = { train: 0, validation: 0, test: 0 };
    for (let i = 0; i < 20000; i++) counts[splitOf(`form-${i}`)]++;
    expect(counts.test / 20000).toBeCloseTo(TEST_FRACTION, 1);
    expect(counts.validation / 20000).toBeCloseTo(VALIDATION_FRACTION, 1);
  });

  it.each([1, 2, 3, 5])('difficulty %i: every reference solution passes its verifier and uses the charset', (d) => {
    const problems = task.generate(new Rng(100 + d), 'train', 150, d);
    expect(problems.length).toBe(150);
    for (const p of problems) {
      expect(task.verify(p.solution, p)).toBe(true);
      expect(task.extractAnswer(p.solution)).toBe(p.answer);
      expect(p.solution.split('\n').pop()).toBe(`#### ${p.answer}`);
      expect(inSyntheticCharset(p.prompt + p.solution)).toBe(true);
      expect(p.prompt.endsWith('\n')).toBe(true);
    }
  });

  it('fits a 256-character context at difficulty 1 and 2', () => {
    for (const d of [1, 2]) {
      for (const p of task.generate(new Rng(d), 'train', 300, d)) expect(p.prompt.length + p.solution.length).toBeLessThanOrEqual(256);
    }
  });

  it('rejects wrong or missing answers without throwing', () => {
    const [p] = task.generate(new Rng(3), 'test', 1, 1);
    expect(task.verify('no answer here', p)).toBe(false);
    expect(task.verify('#### ', p)).toBe(false);
    expect(task.verify(`#### ${p.answer}9`, p)).toBe(false);
    expect(task.verify(undefined as unknown as string, p)).toBe(false);
  });

  it('rejects a bad difficulty or count with a KitError', () => {
    expect(() => task.generate(new Rng(1), 'train', 1, 0)).toThrow(KitError);
    expect(() => task.generate(new Rng(1), 'train', 1, 1.5)).toThrow(KitError);
    expect(() => task.generate(new Rng(1), 'train', -1, 1)).toThrow(KitError);
  });
});

describe('arithmetic', () => {
  it('difficulty sets the number of steps (d + 1)', () => {
    for (const d of [1, 3]) for (const p of arithmeticTask.generate(new Rng(d), 'train', 20, d)) expect(p.meta?.steps).toBe(d + 1);
  });
  it('verifies the final integer exactly', () => {
    const p: Problem = { id: 'x', prompt: 'ann has 3 pens. ann gets 4 more. how many pens now?\n', answer: '7', solution: '3+4=7\n#### 7' };
    expect(arithmeticTask.verify('3+4=7\n#### 7', p)).toBe(true);
    expect(arithmeticTask.verify('3+4=7\n#### 7.0', p)).toBe(true); // 7.0 is exactly 7
    expect(arithmeticTask.verify('3+4=8\n#### 8', p)).toBe(false);
  });
});

describe('countdown', () => {
  it('traces contain real branching: dead ends and backtracking', () => {
    const problems = countdownTask.generate(new Rng(11), 'train', 200, 2);
    const withDeadEnd = problems.filter((p) => Number(p.meta?.deadEnds) > 0).length;
    const withBack = problems.filter((p) => p.solution.split('\n').includes('back')).length;
    expect(withDeadEnd).toBeGreaterThan(100);
    expect(withBack).toBeGreaterThan(20);
    // Every "no" line is a genuine miss and the "yes" line hits the target.
    for (const p of problems) {
      const spec = countdownSpec(p)!;
      for (const line of p.solution.split('\n')) {
        const m = /^(\d+)([+\-*/])(\d+)=(\d+) (yes|no)$/.exec(line);
        if (!m) continue;
        expect(m[5] === 'yes').toBe(Number(m[4]) === spec.target);
      }
    }
  });
  it('uses three numbers at difficulty 1 and four at difficulty 2', () => {
    expect((countdownTask.generate(new Rng(1), 'train', 5, 1)[0].meta!.numbers as number[]).length).toBe(3);
    expect((countdownTask.generate(new Rng(1), 'train', 5, 2)[0].meta!.numbers as number[]).length).toBe(4);
  });
  it('evaluates expressions exactly with rationals', () => {
    // (8/3)*3 = 8 exactly; in floating point 8/3*3 is also 8, but 1/3 steps below would not be.
    expect(evalCountdownExpr('(8/3)*3')?.value).toEqual({ n: 8n, d: 1n });
    // 4/(1-5/6) = 4/(1/6) = 24.
    expect(evalCountdownExpr('4/(1-5/6)')?.value).toEqual({ n: 24n, d: 1n });
    expect(evalCountdownExpr('6×4')?.value).toEqual({ n: 24n, d: 1n });
    expect(evalCountdownExpr('3/(2-2)')).toBeNull();
    expect(evalCountdownExpr('-3+5')).toBeNull();
    expect(evalCountdownExpr('2+')).toBeNull();
    expect(evalCountdownExpr('(2+3')).toBeNull();
    expect(evalCountdownExpr('process.exit(1)')).toBeNull();
  });
  it('checks the target and that each number is used exactly once', () => {
    const spec = { numbers: [4, 1, 5, 6], target: 24 };
    expect(checkCountdown('4/(1-5/6)', spec)).toBe(true);
    expect(checkCountdown('4/(1-5/6)=24', spec)).toBe(true);
    expect(checkCountdown('4*6', spec)).toBe(false); // 24, but 1 and 5 unused
    expect(checkCountdown('4*6*1*5/5', spec)).toBe(false); // 5 used twice
    expect(checkCountdown('4*(6+1-5)', spec)).toBe(false); // uses all once but equals 8
  });
  it('reads numbers and target from the prompt when meta is missing', () => {
    const p: Problem = { id: 'x', prompt: 'make 24 from 4 1 5 6\n', answer: '4/(1-5/6)', solution: '' };
    expect(countdownSpec(p)).toEqual({ target: 24, numbers: [4, 1, 5, 6] });
    expect(countdownTask.verify('#### 4/(1-5/6)', p)).toBe(true);
  });
});

describe('registry', () => {
  it('finds tasks by name', () => {
    expect(taskNames()).toEqual(['arithmetic', 'countdown', 'guess', 'stories']);
    expect(getTask('countdown')).toBe(countdownTask);
  });
  it('an unknown name lists the valid ones', () => {
    expect(() => getTask('sudoku')).toThrow(/unknown task 'sudoku'. Valid tasks: arithmetic, countdown, guess, stories/);
  });
  it('SYNTHETIC_CHARSET has no duplicates and no upper case', () => {
    expect(new Set(SYNTHETIC_CHARSET).size).toBe(SYNTHETIC_CHARSET.length);
    expect(SYNTHETIC_CHARSET).toBe(SYNTHETIC_CHARSET.toLowerCase());
  });
});
