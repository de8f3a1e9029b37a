// Table-driven tests of isEquivalent(pred, gold): the answer styles that occur in data/ (GSM8K integers, MATH LaTeX,
// Minerva decimals and scientific notation, OlympiadBench tuples/lists/expressions, Omni-MATH wrappers), each case
// with the reason it must hold. Negative cases guard against a verifier that accepts too much.
import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/rng';
import { isEquivalent, canonicalAnswer } from '../../src/tasks/equivalence';

type Case = [pred: string, gold: string, expected: boolean, reason: string];

const CASES: Case[] = [
  // Integers and plain numbers (GSM8K, AIME, AMC).
  ['18', '18', true, 'identical integers'],
  ['18.0', '18', true, 'trailing zero decimal equals the integer'],
  ['018', '18', true, 'AIME-style leading zero is the same number'],
  ['17', '18', false, 'different integers'],
  ['-3', '3', false, 'sign matters'],
  ['1,450,000', '1450000', true, 'thousands separators are removed'],
  ['1{,}000', '1000', true, 'LaTeX {,} thousands separator'],
  ['29,\\!322,\\!216', '29322216', true, 'MATH-style ,\\! thousands separator'],
  ['1,000', '1000', true, 'one thousands group: the number reading is also tried'],
  ['\\$18.90', '18.9', true, 'currency sign and trailing zero are dropped'],
  ['$42409', '\\$42409', true, 'bare and escaped dollar signs'],
  ['12 dollars', '12', true, 'trailing unit word after a number'],
  ['2.50', '2.5', true, 'trailing zeros of a decimal'],
  ['.0000672', '0.0000672', true, 'decimal without a leading zero'],
  // Fractions and exact rationals.
  ['\\frac{1}{2}', '0.5', true, '1/2 = 0.5 exactly'],
  ['\\dfrac12', '\\frac{1}{2}', true, '\\dfrac and single-digit arguments'],
  ['\\tfrac{3}{4}', '3/4', true, '\\tfrac and a slash fraction'],
  ['\\frac65', '1.2', true, '6/5 = 1.2'],
  ['\\frac{2}{4}', '\\frac{1}{2}', true, 'unreduced fraction'],
  ['\\frac{1}{3}', '0.33', false, '0.33 is not 1/3 (relative error 1%)'],
  ['0.33333', '\\frac{1}{3}', true, '|0.33333 − 1/3| / (1/3) = 1e-5, inside the 1e-4 decimal tolerance'],
  ['1\\frac{4}{5}', '\\frac{9}{5}', true, 'mixed number 1 4/5 = 9/5'],
  ['-\\frac{1}{4}', '\\frac{-1}{4}', true, 'sign outside or inside the fraction'],
  ['\\frac{3}{2}', '\\frac{2}{3}', false, 'numerator and denominator swapped'],
  ['\\frac{10}{11}', '\\frac{10}{11}', true, 'identical LaTeX'],
  // Surds, pi, powers (exact forms compared numerically with a tight tolerance).
  ['2\\sqrt{3}', '\\sqrt{12}', true, '2√3 = √12'],
  ['\\frac{\\sqrt{21}}{5}', '\\sqrt{21}/5', true, 'fraction bar vs slash'],
  ['11 \\sqrt{5} + 11', '11+11\\sqrt5', true, 'commuted sum, unbraced sqrt argument'],
  ['\\sqrt{2}', '1.4142', true, 'decimal approximation within 1e-4 relative'],
  ['\\sqrt{2}', '1.41', false, '1.41 is 0.3% off √2'],
  ['\\sqrt{3}', '\\sqrt{2}', false, 'different surds'],
  ['\\sqrt[3]{8}', '2', true, 'cube root'],
  ['10\\pi', '10 \\pi', true, 'spacing around pi'],
  ['\\frac{\\pi}{2}', '\\pi/2', true, 'pi over two in two notations'],
  ['\\pi', '3.14', false, '3.14 is 0.05% off pi, more than the 1e-4 tolerance'],
  ['2^{10}', '1024', true, 'power evaluates exactly'],
  ['\\frac{2^{2005}+1}{3 \\cdot 2^{2006}}', '\\frac{1+2^{2005}}{3\\cdot 2^{2006}}', true, 'huge powers compared in 64-digit decimals'],
  ['\\frac{1}{2^{2017}}', '0', false, 'a tiny positive number is not zero (no underflow)'],
  ['\\binom{5}{2}', '10', true, 'binomial coefficient'],
  ['\\log_2 8', '3', true, 'logarithm with a base'],
  ['100!', '100!', true, 'identical factorial expressions'],
  // Scientific notation (Minerva).
  ['4.5e33', '4.5 \\times 10^{33}', true, 'e-notation vs \\times 10^'],
  ['2.26e-10', '2.26 \\cdot 10^{-10}', true, 'negative exponent with \\cdot'],
  ['7.4e-12', '7.5e-12', false, '1.3% apart'],
  ['1.6', '1.60', true, 'trailing zero in a decimal answer'],
  ['-3./2', '-1.5', true, 'Minerva writes -3./2'],
  // Degrees, percent, units.
  ['120^\\circ', '120', true, 'degree sign is dropped'],
  ['30^{\\circ}', '30', true, 'braced degree sign'],
  ['25^{\\circ} \\mathrm{C}', '25', true, 'degrees with a unit'],
  ['50\\%', '50', true, 'percent sign dropped'],
  ['50\\%', '0.5', true, 'percent also read as a fraction of 100'],
  ['0.15', '15\\%', true, 'reference in percent, prediction as a fraction'],
  ['15\\mbox{ cm}^2', '15', true, '\\mbox unit with an exponent'],
  ['864 \\mbox{ inches}^2', '864', true, 'unit words in \\mbox'],
  ['2 \\text{ euros}', '2', true, 'unit in \\text'],
  ['5 cm', '6', false, 'units stripped but numbers differ'],
  ['3ab', '3', false, 'letters glued to a number are factors, not a unit'],
  // Wrappers (Omni-MATH references carry them).
  ['$\\frac{40}{9}$', '\\frac{40}{9}', true, 'dollar delimiters'],
  ['\\frac{40}{9}', '\\[\n\\boxed{\\frac{40}{9}}\n\\]', true, 'display math and \\boxed around the reference'],
  ['\\boxed{2^{mn} - 1}', '2^{mn}-1', true, 'a boxed prediction'],
  ['6', 'The number of distinct such colorings of \\( P \\) is \\(\\boxed{6}\\).', true, 'a sentence reference with a boxed answer'],
  ['\\left( \\frac{3}{2}, -13 \\right)', '(1.5,-13)', true, '\\left/\\right removed'],
  ['\\frac{1}{4}', '$\\frac{1}{4}$ OR $0.25$', true, 'Omni-MATH alternatives joined by OR'],
  ['\\frac{1}{5}', '$\\frac{1}{4}$ OR $0.25$', false, 'neither alternative'],
  // Tuples and intervals (order and brackets matter).
  ['(3,\\frac{\\pi}{2})', '\\left( 3, \\frac{\\pi}{2} \\right)', true, 'polar point from MATH-500'],
  ['(\\frac{\\pi}{2}, 3)', '\\left( 3, \\frac{\\pi}{2} \\right)', false, 'tuple order matters'],
  ['(15,-29)', '(15, -29)', true, 'spacing inside a tuple'],
  ['(3,4]', '(3,4]', true, 'half-open interval'],
  ['[3,4)', '(3,4]', false, 'interval brackets matter'],
  ['(3,4)', '[3,4]', false, 'open vs closed interval'],
  ['[-2,7]', 'x \\in [-2,7]', true, 'x \\in prefix in the reference'],
  ['(-\\infty,5)\\cup(5,\\infty)', '(5,\\infty) \\cup (-\\infty,5)', true, 'union of intervals is unordered'],
  ['(-\\infty,-5)', '(-\\infty,-5]', false, 'closing bracket differs'],
  ['3, 4', '(3,4)', true, 'a tuple written without parentheses, same order'],
  ['(1,2,3)', '(1,2)', false, 'different lengths'],
  // Unordered lists of roots, sets, \pm.
  ['1, 2', '2, 1', true, 'list of roots in any order'],
  ['1, 2, 10', '10,2,1', true, 'three roots reordered'],
  ['1, 2', '1, 2, 3', false, 'a root missing'],
  ['1, 1', '1, 2', false, 'multiplicity: a repeated root does not cover another'],
  ['\\{1, 2\\}', '2, 1', true, 'set braces'],
  ['(1,1), (3,2)', '(3,2),(1,1)', true, 'list of tuples, reordered'],
  ['(1,1), (2,3)', '(3,2),(1,1)', false, 'a tuple reversed inside a list'],
  ['-\\frac94, \\frac94', '\\pm \\frac{9}{4}', true, '\\pm expands to two roots'],
  ['2, 3, and 4', '2, 3, \\text{ and } 4', true, 'word separators'],
  ['69,84', '84, 69', true, 'OlympiadBench multiple answers'],
  // Matrices and vectors.
  ['\\begin{pmatrix} 1/5 \\\\ -18/5 \\end{pmatrix}', '\\begin{pmatrix} 0.2 \\\\ -3.6 \\end{pmatrix}', true, 'column vector, entries compared numerically'],
  ['\\begin{pmatrix} -1 & 0 \\\\ 0 & -1 \\end{pmatrix}', '\\begin{bmatrix} -1 & 0 \\\\ 0 & -1 \\end{bmatrix}', true, 'pmatrix vs bmatrix'],
  ['\\begin{pmatrix} 0 & 1 \\\\ 1 & 0 \\end{pmatrix}', '\\begin{pmatrix} 1 & 0 \\\\ 0 & 1 \\end{pmatrix}', false, 'different matrices'],
  ['(1, 2)', '\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}', true, 'vector as a tuple'],
  // Symbolic expressions (random-point identity test with mathjs).
  ['x^5+x^3+x-x^4-x^2-1', 'x^5 - x^4 + x^3 - x^2 + x - 1', true, 'reordered polynomial'],
  ['1+4n+8n^2', '8n^2 + 4n + 1', true, 'reordered quadratic'],
  ['8n^3+4n+1', '8n^2 + 4n + 1', false, 'different degree'],
  ['(a+5)(b+2)', 'ab+2a+5b+10', true, 'factored vs expanded (adjacent letters multiply)'],
  ['\\frac{n(n+1)(2 n+1)}{6}', '\\frac{2n^3+3n^2+n}{6}', true, 'sum of squares formula expanded'],
  ['\\sin^2 x + \\cos^2 x', '1', true, 'trigonometric identity'],
  ['e^{-2t}', '\\exp(-2 t)', true, 'e^x vs exp'],
  ['\\frac{1}{s+a}', '1/(s+a)', true, 'Minerva Laplace transform'],
  ['2^{k-1}', '2^{k}', false, 'off by a factor of 2'],
  ['2n', '2 n', true, 'spacing in a product'],
  ['1 - 12i', '1-12 i', true, 'complex number with the imaginary unit'],
  ['I(0) e^{-t}', '0', false, 'function notation I(0) is not I times 0'],
  // Equations.
  ['x = \\frac{3}{2}', '\\frac32', true, 'a variable assignment matches its value'],
  ['\\frac{3}{2}', 'x = \\frac{3}{2}', true, 'reference is an assignment'],
  ['k=1', 'k=1', true, 'identical assignment'],
  ['y=1', 'k=1', false, 'different variables on the left'],
  ['f(n)=n', 'f(n)=n', true, 'functional equation answer'],
  ['8 \\cdot 6 \\cdot 2=96', '96', true, 'a worked chain ending in the answer'],
  ['y = 3 + 2x', 'y=2x+3', true, 'same line, terms reordered'],
  ['x + y - z + 1 = 0', '-x - y + z - 1 = 0', true, 'plane equation multiplied by -1'],
  // Text answers.
  ['\\text{(B)}', 'B', true, 'multiple-choice letter in \\text'],
  ['\\text{(E)}', '(B)', false, 'different letter'],
  ['\\text{Sunday}', 'sunday', true, 'words compare case-insensitively'],
  ['52_8', '52_8', true, 'number in base 8, compared as written'],
  ['52_8', '42', false, 'a base-8 numeral is not compared as decimal'],
  // Garbage never throws and is never correct.
  ['', '1', false, 'empty prediction'],
  ['}{\\frac{', '1', false, 'unbalanced LaTeX'],
  ['\\undefinedcommand{3}', '3', false, 'unknown command'],
  ['1/0', '1', false, 'division by zero'],
  ['a'.repeat(5000), '1', false, 'over-long input'],
  [`x^${'('.repeat(30)}2${')'.repeat(30)}`, 'x^2', true, 'deep but valid nesting'],
  [`x^${'('.repeat(30)}2${')'.repeat(29)}`, 'x^2', false, 'one parenthesis short'],
  ['constructor', 'toString', false, 'object-property names as answers'],
];

describe('isEquivalent', () => {
  it('has at least 80 cases', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(80);
  });
  it.each(CASES)('%j vs %j → %s (%s)', (pred, gold, expected) => {
    expect(isEquivalent(pred, gold)).toBe(expected);
  });
  it('is not fooled by non-string input and never throws', () => {
    for (const bad of [null, undefined, 3, {}, [], Symbol('x')]) {
      expect(isEquivalent(bad as unknown, '3')).toBe(false);
      expect(isEquivalent('3', bad as unknown)).toBe(false);
    }
  });
  it('random garbage never throws and stays fast', () => {
    const rng = new Rng(2024);
    const alphabet = [
      '\\frac',
      '\\sqrt',
      '{',
      '}',
      '(',
      ')',
      '[',
      ']',
      '^',
      '_',
      ',',
      '=',
      '\\pm',
      '\\cup',
      '$',
      '\\boxed{',
      'x',
      '1',
      '0',
      '.',
      '-',
      '/',
      '!',
      '\\left(',
      '\\text{',
      ' ',
      '%',
      '\\begin{pmatrix}',
      '&',
      '\\\\',
    ];
    const t0 = Date.now();
    for (let i = 0; i < 300; i++) {
      const make = () => Array.from({ length: 1 + rng.int(25) }, () => rng.pick(alphabet)).join('');
      const a = make();
      expect(typeof isEquivalent(a, make())).toBe('boolean');
      expect(isEquivalent(a, a)).toBeTypeOf('boolean');
    }
    // 600 comparisons; each is bounded by the 2 s budget but in practice takes well under a millisecond or two.
    expect(Date.now() - t0).toBeLessThan(20_000);
  });
  it('canonicalAnswer groups equal spellings for majority vote', () => {
    expect(canonicalAnswer('\\dfrac{1}{2}')).toBe(canonicalAnswer('\\frac{1}{2}'));
    expect(canonicalAnswer('$1{,}000$')).toBe('1000');
  });
});
