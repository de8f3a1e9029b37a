// Agreement with the field's graders on answers in the style of OlympiadBench and Omni-MATH: labelled answers, ratios,
// intervals against inequalities, alternatives, matrices, expressions that sampling alone cannot settle, noise, and
// malformed LaTeX. verifyCompletion(pred, gold), as the RL reward calls it. One table per class; every case names the
// grader whose behaviour it follows (Math-Verify first, then NeMo-Skills' math_equal and lm-evaluation-harness), and
// every class has false cases (an equivalent-looking wrong answer). Where the kit departs from Math-Verify the case
// says "kit choice" and why; docs/verifier.md lists those choices.
import { describe, expect, it } from 'vitest';
import { verifyCompletion, verifyDetailed } from '../../src/tasks/verifier';

type Case = [pred: string, gold: string, expected: boolean, reason: string];

const LABELS: Case[] = [
  ['\\boxed{(4, 1)}', '(a, b) = (4, 1)', true, 'Math-Verify: a reference labelled by a tuple of names is its value'],
  ['\\boxed{(a, b) = (4, 1)}', '(4, 1)', true, 'Math-Verify: a labelled prediction is its right side'],
  ['\\boxed{(1, 4)}', '(a, b) = (4, 1)', false, 'Math-Verify: the same numbers in the other order'],
  ['\\boxed{3, 8}', 'AB = 3, CD = 8', true, 'Math-Verify: segment names as labels, item by item'],
  ['\\boxed{AB = 3, CD = 8}', '3, 8', true, 'Math-Verify: the labels on the prediction side'],
  ['\\boxed{3, 9}', 'AB = 3, CD = 8', false, 'Math-Verify: one value differs'],
  ['\\boxed{2}', '|PQ| = 2', true, 'Math-Verify: a length |PQ| is a name'],
  ['\\boxed{|PQ| = 2}', '2', true, 'Math-Verify: the same label on the prediction'],
  ['\\boxed{4}', '|PQ| = 2', false, 'Math-Verify: a different length'],
  ['\\boxed{5, -5}', 'x_1 = 5, x_2 = -5', true, 'Math-Verify: subscripted names'],
  ['\\boxed{5, 5}', 'x_1 = 5, x_2 = -5', false, 'Math-Verify: a sign lost'],
  ['\\boxed{(m, n) \\in \\{(1, 1), (3, 2)\\}}', '(1,1), (3,2)', true, 'Math-Verify: \\in after a tuple of names reads as ='],
  ['\\boxed{AB = 3}', 'CD = 3', false, 'Math-Verify: two labels that name different things (x = 1 is not y = 1)'],
  ['$(x, y, z)=(1,2,3)$', '1,2,3', true, 'Math-Verify: a labelled tuple against the bare values'],
  ['$(x, y, z)=(1,3,2)$', '1,2,3', false, 'kit choice: a tuple against an unbracketed list is read in order (Math-Verify sorts both)'],
  ['\\boxed{6}', '2x = 6', false, 'Math-Verify: 2x is not a name, so the equation is not its right side'],
  ['\\boxed{5}', 'x + y = 5', false, 'kit choice: Math-Verify strips any left side made of symbols alone; a sum is not a name, and 5 is not x + y'],
];

const RATIOS: Case[] = [
  ['\\boxed{5:9}', 'S_1 : S_2 = 5 : 9', true, 'Math-Verify: a ratio of names labels the ratio'],
  ['\\boxed{S_1 : S_2 = 5 : 9}', '5:9', true, 'Math-Verify: the label on the prediction'],
  ['\\boxed{10 : 18}', '5:9', true, 'Math-Verify: `:` divides, so 10 : 18 is 5 : 9'],
  ['\\boxed{\\frac{5}{9}}', 'S_1 : S_2 = 5 : 9', true, 'Math-Verify: 5 : 9 is 5/9'],
  ['\\boxed{9:5}', 'S_1 : S_2 = 5 : 9', false, 'Math-Verify: the inverse ratio'],
  ['\\boxed{V_1 : V_2 = 9 : 5}', '5:9', false, 'Math-Verify: a labelled inverse ratio'],
  ['\\boxed{3:4:5}', '6:8:10', true, 'kit choice: a ratio of three parts up to a common factor (Math-Verify divides left to right)'],
  ['\\boxed{1:6}', '2:3:4', false, 'kit choice: Math-Verify reads 2:3:4 as (2/3)/4 = 1/6; three parts are not one number'],
  ['\\boxed{3:5:4}', '3:4:5', false, 'kit choice: parts in another order'],
];

const INTERVALS: Case[] = [
  ['\\boxed{x \\in [-1, 4]}', '-1 \\le x \\le 4', true, 'Math-Verify: a reference inequality is read as the set it describes'],
  ['\\boxed{[-1, 4]}', '-1 \\leq x \\leq 4', true, 'Math-Verify: the bare interval'],
  ['\\boxed{(-1, 4]}', '-1 \\le x \\le 4', false, 'Math-Verify: an open end is another set'],
  ['\\boxed{(0, 2)}', '0 < y < 2', true, 'Math-Verify: (0, 2) as an open interval'],
  ['\\boxed{[0, 2]}', '0 < y < 2', false, 'Math-Verify: closed ends'],
  ['\\boxed{[-2,-1] \\cup [1,2]}', '1 \\le |t| \\le 2', true, 'Math-Verify: |t| between two positive bounds is a union of two intervals'],
  ['\\boxed{[-2,-1] \\cup [1,2]}', '1 < |t| \\le 2', false, 'Math-Verify: the inner ends are open in the reference'],
  ['\\boxed{[1, 2]}', '1 \\le |t| \\le 2', false, 'Math-Verify: half of the set'],
  ['\\boxed{(-\\infty, 3)}', 'x < 3', true, 'Math-Verify: a one-sided inequality is a ray'],
  ['\\boxed{(-\\infty, 3]}', '3 > x', false, 'Math-Verify: the flipped strict inequality excludes 3'],
  ['\\boxed{(-2, 2)}', '|x| < 2', true, 'Math-Verify: |x| < 2'],
  ['\\boxed{(0, 2)}', '0 < x < y', false, 'Math-Verify: an inequality with a variable bound is not a fixed interval'],
  [
    '$-1 \\le x \\le 4$',
    '[-1, 4]',
    false,
    'Math-Verify: by default a predicted inequality is not compared with a reference set (NeMo-Skills keeps that default)',
  ],
];

const ALTERNATIVES: Case[] = [
  ['\\boxed{(2, 5) \\text{ or } (5, 2)}', '(2,5), (5,2)', true, 'Math-Verify: "or" inside one box lists both tuples'],
  ['\\boxed{(2, 5)} or \\boxed{(5, 2)}', '(2,5), (5,2)', true, 'Math-Verify: boxes joined by "or" form one list'],
  ['\\boxed{(2, 5)} \\text{ and } \\boxed{(5, 2)}', '(5,2), (2,5)', true, 'Math-Verify: boxes joined by \\text{and}, in another order'],
  ['\\boxed{(2, 5); (5, 2)}', '(5,2), (2,5)', true, 'NeMo-Skills math_equal: a ;-separated list of tuples'],
  ['$(2, 5)$ or $(5, 2)$', '\\{(5,2), (2,5)\\}', true, 'Math-Verify: math spans joined by "or", against a set'],
  ['$x = -1$ or $x = 2$', '2, -1', true, 'Math-Verify: alternative values of one variable'],
  ['\\boxed{(2, 5)}', '(2,5), (5,2)', false, 'Math-Verify: one of the two solutions'],
  ['\\boxed{(2, 5)} or \\boxed{(5, 3)}', '(2,5), (5,2)', false, 'Math-Verify: one tuple differs'],
  ['$x = -1$ or $x = 3$', '2, -1', false, 'Math-Verify: one alternative differs'],
  ['\\boxed{3} or \\boxed{5}', '3', false, 'Math-Verify: a hedge between two values is a list, not either value'],
  [
    '\\boxed{15\\frac{39}{40}}, or $\\boxed{\\frac{639}{40}}$',
    '\\frac{639}{40}',
    true,
    'Math-Verify: a list is a set, so one answer in two equal forms is that answer',
  ],
  [
    'Thus $3 x=58$ or $x=\\frac{58}{3}$.',
    '\\frac{58}{3}',
    true,
    'kit choice: an "or" after a derivation step restates it and the last counts (Math-Verify would list both)',
  ],
  ['Thus $3 x=58$ or $x=\\frac{58}{5}$.', '\\frac{58}{3}', false, 'kit choice: the restated result is wrong'],
];

const PMATRIX = '\\begin{pmatrix} 1 & 2 \\\\ 3 & 4 \\end{pmatrix}';
const MATRICES: Case[] = [
  ['\\boxed{\\left[\\begin{array}{cc} 1 & 2 \\\\ 3 & 4 \\end{array}\\right]}', PMATRIX, true, 'Math-Verify: an array in brackets is a matrix'],
  ['\\boxed{\\left[\\begin{array}{cc} 1 & 2 \\\\ 4 & 3 \\end{array}\\right]}', PMATRIX, false, 'Math-Verify: two entries swapped'],
  ['\\boxed{\\begin{bmatrix} 1 & 2 \\\\ 3 & 4 \\end{bmatrix}}', PMATRIX, true, 'Math-Verify: bmatrix and pmatrix'],
  ['\\boxed{\\begin{bmatrix} 1 & 3 \\\\ 2 & 4 \\end{bmatrix}}', PMATRIX, false, 'Math-Verify: the transpose'],
  ['\\boxed{\\begin{vmatrix} 1 & 2 \\\\ 3 & 4 \\end{vmatrix}}', PMATRIX, false, 'Math-Verify: vmatrix is a determinant, not the matrix'],
  ['\\boxed{\\begin{vmatrix} 1 & 2 \\\\ 3 & 4 \\end{vmatrix}}', '-2', true, "Math-Verify: the determinant's value"],
  ['\\boxed{\\begin{vmatrix} a & b & 0 \\\\ 0 & 1 & 0 \\\\ 0 & 0 & 2 \\end{vmatrix}}', '2a', true, 'Math-Verify: a 3×3 determinant with symbols'],
  [
    '\\boxed{\\begin{pmatrix} x^{1/3} & 0 \\\\ 0 & 1 \\end{pmatrix}}',
    '\\begin{pmatrix} \\sqrt[3]{x} & 0 \\\\ 0 & 1 \\end{pmatrix}',
    true,
    'Math-Verify: x^{1/3} is the cube root of x',
  ],
  [
    '\\boxed{\\begin{pmatrix} x^{2/3} & 0 \\\\ 0 & 1 \\end{pmatrix}}',
    '\\begin{pmatrix} \\sqrt[3]{x} & 0 \\\\ 0 & 1 \\end{pmatrix}',
    false,
    'Math-Verify: x^{2/3} is not the cube root of x',
  ],
  [
    `\\boxed{\\begin{pmatrix} 1 & 0 \\\\ 0 & 1 \\end{pmatrix} ${PMATRIX} = ${PMATRIX}}`,
    PMATRIX,
    true,
    'Math-Verify: a predicted equation is its right side, the last matrix',
  ],
  [`\\boxed{${PMATRIX} ${PMATRIX} = \\begin{pmatrix} 7 & 10 \\\\ 15 & 22 \\end{pmatrix}}`, PMATRIX, false, 'Math-Verify: the result is another matrix'],
];

const EXPRESSIONS: Case[] = [
  ['\\boxed{\\sum_{k=1}^{n} k \\cdot 2}', '\\sum_{k=1}^{n} 2k', true, 'Math-Verify: two sums whose factors commute'],
  ['\\boxed{\\sum_{i=1}^{n} \\binom{n}{i} 2^i}', '\\sum_{k=1}^{n} 2^k \\binom{n}{k}', true, 'Math-Verify: the same sum with another index'],
  ['\\boxed{\\sum_{k=1}^{n} k \\cdot 3}', '\\sum_{k=1}^{n} 2k', false, 'Math-Verify: another factor'],
  ['\\boxed{\\sum_{k=1}^{2n} 2k}', '\\sum_{k=1}^{n} 2k', false, 'Math-Verify: another upper bound'],
  ['\\boxed{\\prod_{k=1}^{n} (1+\\frac{1}{k})}', '\\prod_{j=1}^{n} \\frac{j+1}{j}', true, 'Math-Verify: products with equal factors'],
  ['\\boxed{(2(x-1)^2+3, 1)}', '(2x^2-4x+5, 1)', true, 'Math-Verify: a vertex form against the expanded polynomial, per component'],
  ['\\boxed{y = 2(x-1)^2+3, x = 1}', 'y = 2x^2-4x+5, x = 1', true, 'Math-Verify: the same with labelled components'],
  ['\\boxed{(2(x-1)^2+3, 1)}', '(2x^2-4x+3, 1)', false, 'Math-Verify: a different constant term'],
  ['\\boxed{\\binom{n}{2}}', '\\frac{n(n-1)}{2}', true, 'Math-Verify: a binomial coefficient with a symbol in it'],
  ['\\boxed{\\binom{n}{2}}', '\\frac{n(n+1)}{2}', false, 'Math-Verify: off by one'],
  [
    '\\boxed{c \\left\\lfloor \\frac{c^2}{4} \\right\\rfloor}',
    'c\\lfloor\\frac{c^2}4\\rfloor',
    true,
    'Math-Verify: a floor that is zero at most sample points',
  ],
  ['\\boxed{c \\left\\lfloor \\frac{c^2}{4} \\right\\rfloor}', 'c\\lfloor\\frac{c^2}3\\rfloor', false, 'Math-Verify: another divisor'],
  [
    '\\boxed{n \\leq k \\leq \\left\\lceil \\frac{3n}{2} \\right\\rceil}',
    'n \\leq k \\leq \\lceil \\tfrac32n \\rceil',
    true,
    'Math-Verify: a chain of inequalities, member by member',
  ],
  [
    '\\boxed{n < k \\leq \\left\\lceil \\frac{3n}{2} \\right\\rceil}',
    'n \\leq k \\leq \\lceil \\tfrac32n \\rceil',
    false,
    'Math-Verify: strict is not non-strict',
  ],
  ['\\boxed{(-8)^{1/3}}', '-2', true, 'kit choice: an odd root of a negative number is real, as \\sqrt[3]{-8} is (sympy takes the principal complex root)'],
];

const NOISE: Case[] = [
  ['\\boxed{5\\\\}', '5', true, 'NeMo-Skills math_equal: a trailing backslash is stripped'],
  ['The answer is 5\\', '5', true, 'NeMo-Skills math_equal: the same after "the answer is"'],
  ['\\boxed{6\\\\}', '5', false, 'NeMo-Skills math_equal: still another number'],
  ['\\boxed{(1, 2)}', '\\\\left( 1, 2 \\\\right)', true, 'Math-Verify: \\left( … \\right) written with doubled backslashes is a tuple'],
  ['\\boxed{(2, 1)}', '\\\\left( 1, 2 \\\\right)', false, 'Math-Verify: the tuple reversed'],
  ['$\\frac{600}{7} \\mathrm{~km} / \\mathrm{h}$', '\\frac{600}{7}', true, 'Math-Verify: a unit written as \\mathrm groups with a slash is dropped'],
  ['$5 \\cdot$', '5', false, 'Math-Verify: a dangling operator is malformed, not a unit'],
  [
    '\\boxed{\\begin{pmatrix} a & b \\\\ c & d \\end{pmatrix}}',
    '\\begin{pmatrix} a & b \\\\ c & d \\end{pmatrix}',
    true,
    'Math-Verify: a matrix keeps its \\\\ row breaks',
  ],
];

const NESTED_FRACS = `${'\\frac{'.repeat(300)}1`;
const MALFORMED: Case[] = [
  [NESTED_FRACS, '1', false, 'Math-Verify: malformed LaTeX in the final answer cannot be parsed, so it is wrong, not its last number'],
  [`$${NESTED_FRACS}$`, '1', false, 'Math-Verify: the same inside a math span'],
  [`The answer: ${NESTED_FRACS}`, '1', false, 'Math-Verify: the same after an answer phrase'],
  ['We get {1, 2 and finally 7', '7', true, 'lm-eval-harness: a brace in prose is not LaTeX, and the last number still counts'],
  [`${'x '.repeat(600)}\\frac{1}{2} so 7`, '7', true, 'lm-eval-harness: closed LaTeX before the last number does not stop it'],
  [
    'So \\frac{1 was a typo here, and the total count is 7',
    '7',
    true,
    'lm-eval-harness: an unclosed group far back in the prose does not make the last number malformed',
  ],
  ['So the total count is \\frac{7', '7', false, 'Math-Verify: the final answer itself is an unclosed \\frac'],
];

const CLASSES: Array<[string, Case[]]> = [
  ['labelled answers', LABELS],
  ['ratios', RATIOS],
  ['intervals against inequalities', INTERVALS],
  ['alternatives', ALTERNATIVES],
  ['matrices', MATRICES],
  ['expressions that need more than sampling', EXPRESSIONS],
  ['noise', NOISE],
  ['malformed LaTeX', MALFORMED],
];

describe.each(CLASSES)('olympiad-style answers: %s', (_name, cases) => {
  it('has true and false cases', () => {
    expect(cases.some((c) => c[2])).toBe(true);
    expect(cases.some((c) => !c[2])).toBe(true);
  });
  it.each(cases)('%j vs %j → %s (%s)', (pred, gold, expected) => {
    expect(verifyCompletion(pred, gold).correct).toBe(expected);
  });
});

describe('verdicts say which rule decided', () => {
  it.each([
    ['\\boxed{(4, 1)}', '(a, b) = (4, 1)', 'reference label (a,b) = …'],
    ['\\boxed{10:18}', '5:9', 'equal ratios'],
    ['\\boxed{(0, 2)}', '0 < y < 2', 'the reference inequality describes the predicted interval(s)'],
    ['\\boxed{\\sum_{k=1}^{n} k \\cdot 2}', '\\sum_{k=1}^{n} 2k', 'same sum'],
  ])('%s vs %s', (pred, gold, reason) => {
    const v = verifyDetailed(pred, gold);
    expect(v.correct).toBe(true);
    expect(v.reason).toContain(reason);
  });
  it('a malformed final answer is no answer, and the reason says why', () => {
    expect(verifyDetailed(NESTED_FRACS, '1')).toMatchObject({
      correct: false,
      predAnswer: null,
      reason: 'no final answer found in the prediction (it has malformed LaTeX: a group that never closes)',
    });
    expect(verifyDetailed('\\frac{\\frac{1', '1')).toMatchObject({
      correct: false,
      predAnswer: '\\frac{\\frac{1',
      reason: 'the predicted answer is malformed LaTeX (a group that never closes)',
    });
    // The same text as a malformed reference is still wrong: the prediction is judged, not matched as a string.
    expect(verifyDetailed('\\frac{1}{2', '\\frac{1}{2').correct).toBe(false);
  });
});
