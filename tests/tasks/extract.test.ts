// Tests of final-answer extraction and of verifyCompletion: \boxed with nested braces, several boxes, #### lines,
// "the answer is", bare answers, math spans, the last-number fallback, and the order of preference between them.
import { describe, expect, it } from 'vitest';
import { extractAnswer, extractAnswerDetailed, lastBoxed, matchBraces } from '../../src/tasks/extract';
import { verifyCompletion } from '../../src/tasks/verifier';

type Case = [completion: string, answer: string | null, method: string | null, reason: string];

const CASES: Case[] = [
  ['so $x = \\boxed{\\frac{1}{2}}$.', '\\frac{1}{2}', 'boxed', 'nested braces inside \\boxed'],
  ['\\boxed{1} then \\boxed{\\left\\{ 2 \\right\\}}', '\\left\\{ 2 \\right\\}', 'boxed', 'the last box wins; escaped braces do not count'],
  ['first \\boxed{3} and a broken \\boxed{4', '3', 'boxed', 'an unclosed last box falls back to the last complete one'],
  ['\\boxed 5', '5', 'boxed', '\\boxed without braces'],
  ['\\fbox{7}', '7', 'boxed', '\\fbox'],
  ['She makes 9 * 2 = $18.\n#### 18', '18', 'hash', 'GSM8K final line'],
  ['#### 1 \n#### 2', '2', 'hash', 'the last #### line'],
  ['The answer is 42.', '42', 'answer-is', 'sentence-final period is not part of the answer'],
  ['The answer is 3.5.', '3.5', 'answer-is', 'a decimal point is kept'],
  ['So the final answer is $\\frac{3}{4}$. I hope', '\\frac{3}{4}', 'answer-is', 'a math span after the phrase'],
  ['Answer: (1, 2)', '(1, 2)', 'answer-is', '"Answer:" form'],
  ['the answer is just $7$', '7', 'answer-is', 'filler words before the math span'],
  ['We get 12 apples and then 15 more', '15', 'last-number', 'fallback: the last number'],
  ['total: 1,234,567 people', '1,234,567', 'last-number', 'the fallback keeps thousands groups together'],
  ['ratio -3/4', '-3/4', 'last-number', 'the fallback reads a fraction'],
  ['\\boxed{1}, \\boxed{2}', '1, 2', 'boxed', 'boxes separated only by a comma are one list (Math-Verify)'],
  ['\\boxed{1} is a guess; so \\boxed{2}', '2', 'boxed', 'boxes separated by prose: the last one'],
  ['\\boxed{3}, or equivalently $\\boxed{\\frac{6}{2}}$', '\\frac{6}{2}', 'boxed', '"or" gives the same answer twice: the last box'],
  ['\\boxed{\n\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}\n}', '\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}', 'boxed', 'a box spanning lines'],
  ['\\boxed{200} ... Final Answer: The final answer is $10,455$.', '10,455', 'answer-is', 'a final answer after the last box wins (Math-Verify)'],
  ['<think>\\boxed{4}</think> so \\boxed{6}', '6', 'boxed', 'reasoning inside <think> is skipped'],
  ['Final Answer: The largest $n$ is 34.', '34', 'answer-is', 'the value after the inner "is"'],
  ['\\frac{1}{2}', '\\frac{1}{2}', 'bare', 'a bare answer is taken whole, not its last number'],
  ['\\text{east}', '\\text{east}', 'bare', 'a bare word answer'],
  ['$\\frac{1}{3}$', '\\frac{1}{3}', 'math-span', 'an answer that is one math span'],
  ['We get $x = 5$ here.', 'x = 5', 'math-span', 'the last math span after the last number'],
  ['The roots are $-2$ and $1$.', '-2, 1', 'math-span', 'spans joined by "and" are one list'],
  ['Since $n = 4$, there are 13 ways.', '13', 'last-number', 'a number after the last span wins (Math-Verify ranks them alike)'],
  ['So $\\angle ABP - \\angle BAP$ and 7 more', '7', 'last-number', 'a span that does not convert is passed over'],
  ['It costs $5 and the other costs $10 in total', '10', 'last-number', 'dollar signs as currency are not a math span'],
  ['Soucis : 2,74 $ a..', '2,74', 'last-number', 'a decimal comma in running text'],
  ['about 1 000 people', '1000', 'last-number', 'spaced thousands in running text'],
  ['no digits at all', null, null, 'nothing answer-like'],
  ['', null, null, 'empty completion'],
];

describe('extractAnswerDetailed', () => {
  it.each(CASES)('%j → %j via %s (%s)', (completion, answer, method) => {
    const ex = extractAnswerDetailed(completion);
    expect(ex?.answer ?? null).toBe(answer);
    expect(ex?.method ?? null).toBe(method);
  });
  it('prefers \\boxed over a later #### line', () => {
    expect(extractAnswer('\\boxed{3}\n#### 4')).toBe('3');
  });
  it('never throws on non-strings', () => {
    expect(extractAnswer(undefined)).toBeNull();
    expect(extractAnswer(12 as unknown)).toBeNull();
  });
  it('matchBraces reports the end index after the closing brace', () => {
    // "{a{b}c}d": the group opens at 0 and closes at 6, so the end is 7.
    expect(matchBraces('{a{b}c}d', 0)).toEqual({ content: 'a{b}c', end: 7 });
    expect(matchBraces('{a{b}', 0)).toBeNull();
    expect(lastBoxed('no box')).toBeNull();
  });
  it('handles a very long completion quickly', () => {
    const long = `${'blah 1 '.repeat(200_000)}\\boxed{9}`;
    const t0 = Date.now();
    expect(extractAnswer(long)).toBe('9');
    expect(Date.now() - t0).toBeLessThan(1000);
  });
});

describe('verifyCompletion', () => {
  it('grades a boxed completion against a LaTeX reference', () => {
    expect(verifyCompletion('Thus $r = \\boxed{\\dfrac{\\sqrt{21}}{5}}$.', '\\frac{\\sqrt{21}}{5}')).toEqual({
      correct: true,
      predAnswer: '\\dfrac{\\sqrt{21}}{5}',
      goldAnswer: '\\frac{\\sqrt{21}}{5}',
    });
  });
  it('reports a wrong answer with the extracted prediction', () => {
    expect(verifyCompletion('#### 17', '18')).toEqual({ correct: false, predAnswer: '17', goldAnswer: '18' });
  });
  it('is incorrect when nothing can be extracted', () => {
    expect(verifyCompletion('I give up', '18')).toEqual({ correct: false, predAnswer: null, goldAnswer: '18' });
  });
});
