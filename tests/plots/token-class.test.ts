// Token classes on real task traces (src/plots/token-class.ts): Countdown search markers, digits, operators and the
// final answer line; arithmetic solutions; BPE-style multi-character tokens and special tokens.
import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/rng';
import { getTask } from '../../src/tasks/registry';
import { classifyTokens, tokenClass, type TokenClass } from '../../src/plots/token-class';

/** Classes of a text tokenised one character per token (the kit's character-level tokenizer). */
function charClasses(text: string): TokenClass[] {
  return classifyTokens(Array.from(text));
}

describe('tokenClass on Countdown traces', () => {
  it('classifies a hand-written trace in the generator format character by character', () => {
    const text = '9-5=4 (3 4)\n4*3=12 no\nback\n4+3=7 yes\n#### (9-5)+3';
    const got = charClasses(text);
    const line = (k: number) => {
      const lines = text.split('\n');
      const start = lines.slice(0, k).join('\n').length + (k > 0 ? 1 : 0);
      return got.slice(start, start + lines[k].length);
    };
    // 9 - 5 = 4 ␣ ( 3 ␣ 4 )
    expect(line(0)).toEqual(['digit', 'operator', 'digit', 'operator', 'digit', 'space', 'marker', 'digit', 'space', 'digit', 'marker']);
    // 4 * 3 = 1 2 ␣ n o
    expect(line(1)).toEqual(['digit', 'operator', 'digit', 'operator', 'digit', 'digit', 'space', 'marker', 'marker']);
    expect(line(2)).toEqual(['marker', 'marker', 'marker', 'marker']);
    expect(line(3).slice(-3)).toEqual(['marker', 'marker', 'marker']);
    // the whole final line, '####', the space and the parentheses included, is the answer
    expect(line(4)).toEqual(Array('#### (9-5)+3'.length).fill('answer'));
    expect(got.filter((c) => c === 'newline')).toHaveLength(4);
  });

  it('classifies generated Countdown solutions consistently with their structure', () => {
    const problems = getTask('countdown').generate(new Rng(1), 'train', 5, 2);
    expect(problems).toHaveLength(5);
    let markers = 0;
    for (const p of problems) {
      const text = p.solution!;
      const got = charClasses(text);
      let at = 0;
      const lines = text.split('\n');
      lines.forEach((ln, k) => {
        const cls = got.slice(at, at + ln.length);
        if (k === lines.length - 1) {
          expect(ln.startsWith('#### ')).toBe(true);
          expect(new Set(cls)).toEqual(new Set(['answer']));
        } else if (ln === 'back') {
          expect(cls).toEqual(['marker', 'marker', 'marker', 'marker']);
        } else {
          Array.from(ln).forEach((ch, i) => {
            const c = cls[i];
            if (/\d/.test(ch)) expect(c).toBe('digit');
            else if (ch === ' ') expect(c).toBe('space');
            else if ('+-*/='.includes(ch)) expect(c).toBe('operator');
            else expect(c).toBe('marker'); // the letters of no / yes and the ( ) of the remaining-number list
          });
        }
        if (k < lines.length - 1) expect(got[at + ln.length]).toBe('newline');
        at += ln.length + 1;
      });
      markers += got.filter((c) => c === 'marker').length;
    }
    expect(markers).toBeGreaterThan(20);
  });
});

describe('tokenClass on arithmetic traces', () => {
  it('gives digits, operators, newlines and the answer', () => {
    const [p] = getTask('arithmetic').generate(new Rng(1), 'train', 1, 1);
    const text = p.solution!;
    const got = charClasses(text);
    const ansStart = text.lastIndexOf('\n') + 1;
    Array.from(text).forEach((ch, i) => {
      const want: TokenClass = i >= ansStart ? 'answer' : ch === '\n' ? 'newline' : /\d/.test(ch) ? 'digit' : 'operator';
      expect(got[i], `char ${i} ${JSON.stringify(ch)}`).toBe(want);
    });
    expect(got).not.toContain('marker');
  });

  it('keeps English words as words, even "no" outside a Countdown line', () => {
    expect(classifyTokens(['no', ' ', 'way', '.'])).toEqual(['word', 'space', 'word', 'word']);
    expect(classifyTokens(Array.from('so 3+4=7'))).toEqual(['word', 'word', 'space', 'digit', 'operator', 'digit', 'operator', 'digit']);
  });
});

describe('multi-character tokens and context', () => {
  it('classifies BPE-style tokens by their first non-space character', () => {
    const toks = ['8', '*', '4', '=', '32', ' no', '\n', 'back', '\n', '7', '+', '2', '=9', ' (', '12', ' 9', ')', '\n', '####', ' (8+4)', '<eos>'];
    expect(classifyTokens(toks)).toEqual([
      'digit',
      'operator',
      'digit',
      'operator',
      'digit',
      'marker',
      'newline',
      'marker',
      'newline',
      'digit',
      'operator',
      'digit',
      'operator',
      'marker',
      'digit',
      'digit',
      'marker',
      'newline',
      'answer',
      'answer',
      'special',
    ]);
  });

  it('uses the context when given and reads a lone token as its own text otherwise', () => {
    const text = '5+1=6 no\n#### 5';
    expect(tokenClass('n', { text, start: 6 })).toBe('marker');
    expect(tokenClass('5', { text, start: 14 })).toBe('answer');
    expect(tokenClass('5', { text, start: 0 })).toBe('digit');
    expect(tokenClass('back')).toBe('marker');
    expect(tokenClass('#### 7')).toBe('answer');
    expect(tokenClass('7')).toBe('digit');
    expect(tokenClass(' ')).toBe('space');
    expect(tokenClass('\n\n')).toBe('newline');
    expect(tokenClass('')).toBe('special');
    expect(tokenClass('<|im_end|>')).toBe('special');
    expect(tokenClass('<')).toBe('operator');
  });

  it('only the last #### line is the answer', () => {
    const got = classifyTokens(['#', '#', '#', '#', ' ', '1', '\n', '#', '#', '#', '#', ' ', '2']);
    expect(got.slice(0, 6)).toEqual(['word', 'word', 'word', 'word', 'space', 'digit']);
    expect(got.slice(7)).toEqual(Array(6).fill('answer'));
  });

  it('in math completions the last complete \\boxed{...} is the answer, as the verifier reads it', () => {
    // BPE-like tokens of "so x = 2, \boxed{\frac{1}{2}} then \boxed{3" (the second box is never closed).
    const toks = ['so', ' x', ' =', ' 2', ',', ' \\boxed', '{\\', 'frac', '{1}{', '2', '}}', ' then', ' \\boxed', '{3'];
    expect(classifyTokens(toks)).toEqual([
      'word',
      'word',
      'operator',
      'digit',
      'word',
      'answer',
      'answer',
      'answer',
      'answer',
      'answer',
      'answer',
      'word',
      'word',
      'word',
    ]);
    // A box wins over a #### line, as in the verifier's order of preference.
    expect(classifyTokens(['#### 5', '\n', '\\boxed{6}'])).toEqual(['word', 'newline', 'answer']);
    // The verifier also reads a bare argument, \boxed 7, so the class does too.
    expect(classifyTokens(['so', ' \\boxed', ' 7', ' then'])).toEqual(['word', 'answer', 'answer', 'word']);
  });
});
