// Token classes for the "τ by token class" view (paper, interpretability: high temperature at uncertain reasoning
// pivots, low temperature for arithmetic, copying and writing the final answer). A generated token is put in one
// class, decided in this order:
//   special   a whole special token such as '<eos>' or '<|im_end|>', or an empty decoded string (not in the brief's
//             list; added so that end-of-sequence tokens do not pollute 'word');
//   newline   whitespace only, containing a line break (also the one that ends the answer line);
//   answer    its first non-space character (a space token: its first character) lies in the final answer, found
//             as the math verifier finds it (src/tasks/extract.ts, lastBoxedMatch): the last complete `\boxed{...}`
//             (from the backslash to the closing brace; also `\boxed 5`), else the line holding the last '####'
//             (from the start of that line to its end: '####' itself, the spaces and the expression after it);
//   space     whitespace only, no line break;
//   marker    its first non-space character belongs to a search marker of the Countdown traces
//             (src/tasks/countdown.ts): the word of a 'back' line, the trailing 'no' / 'yes' of a leaf line
//             '8*4=32 no', or the '(' and ')' around the remaining-number list of an inner line '8-3=5 (1 1 5)';
//             the numbers inside that list are digits, and parentheses elsewhere are operators;
//   digit     first non-space character 0-9;   operator  first non-space character one of + - * / = × ÷ ^ ( ) < > %;
//   word      anything else (letters and other punctuation).
// Multi-character (BPE) tokens are classified by their first non-space character. Markers are only recognised on
// lines that have the Countdown shape, so an English 'no' in free text stays a word.
// Used by the figures (src/plots) and the in-range probe policy (src/policy/probe.ts).

import { lastBoxedMatch } from './extract';

export type TokenClass = 'digit' | 'operator' | 'space' | 'newline' | 'word' | 'answer' | 'marker' | 'special';

/** All classes, in the order the figures show them. */
export const TOKEN_CLASSES: readonly TokenClass[] = ['digit', 'operator', 'space', 'newline', 'word', 'marker', 'answer', 'special'];

/** Where a token sits: `text` is the whole decoded completion (the tokens joined), `start` the token's offset in it. */
export interface TokenContext {
  text: string;
  start: number;
}

const NONE = 0;
const ANSWER = 1;
const MARKER = 2;

const SPECIAL = /^<\|?[A-Za-z_][\w.|-]*\|?>$/;
const OPERATOR = /[+\-*/=×÷^()<>%]/;
const BACK_LINE = /^(\s*)back\s*$/;
const LEAF_LINE = /\d\s*[+\-*/×÷]\s*\d+\s*=\s*-?\d+\s+(no|yes)\s*$/;
const INNER_LINE = /^\s*\d+\s*[+\-*/×÷]\s*\d+\s*=\s*-?\d+\s*\(/;

/** Per-character roles of a completion: final answer, Countdown markers, or neither. */
function roles(text: string): Uint8Array {
  const role = new Uint8Array(text.length);
  const boxed = lastBoxedMatch(text);
  if (boxed) role.fill(ANSWER, boxed.start, boxed.end);
  const at = boxed ? -1 : text.lastIndexOf('####');
  let ansStart = -1;
  let ansEnd = -1;
  if (at >= 0) {
    ansStart = text.lastIndexOf('\n', at - 1) + 1;
    const nl = text.indexOf('\n', at);
    ansEnd = nl < 0 ? text.length : nl;
    role.fill(ANSWER, ansStart, ansEnd);
  }
  let lineStart = 0;
  while (lineStart <= text.length) {
    const nl = text.indexOf('\n', lineStart);
    const lineEnd = nl < 0 ? text.length : nl;
    if (lineStart !== ansStart) {
      const line = text.slice(lineStart, lineEnd);
      const back = BACK_LINE.exec(line);
      const leaf = LEAF_LINE.exec(line);
      const inner = INNER_LINE.exec(line);
      if (back) {
        role.fill(MARKER, lineStart + back[1].length, lineStart + back[1].length + 4);
      } else if (leaf) {
        const wordEnd = line.trimEnd().length;
        role.fill(MARKER, lineStart + wordEnd - leaf[1].length, lineStart + wordEnd);
      } else if (inner) {
        const open = inner[0].length - 1;
        role[lineStart + open] = MARKER;
        const close = line.indexOf(')', open);
        if (close >= 0) role[lineStart + close] = MARKER;
      }
    }
    if (nl < 0) break;
    lineStart = nl + 1;
  }
  return role;
}

function classify(token: string, start: number, role: Uint8Array): TokenClass {
  if (token.length === 0 || SPECIAL.test(token)) return 'special';
  const lead = token.search(/\S/);
  if (lead < 0 && /[\n\r]/.test(token)) return 'newline';
  const r = role[start + Math.max(0, lead)] ?? NONE;
  if (r === ANSWER) return 'answer';
  if (lead < 0) return 'space';
  if (r === MARKER) return 'marker';
  const ch = token[lead];
  if (ch >= '0' && ch <= '9') return 'digit';
  if (OPERATOR.test(ch)) return 'operator';
  return 'word';
}

let cache: { text: string; role: Uint8Array } | null = null;

/**
 * The class of one generated token. Without a context the token is read as a text of its own (so 'back' is a
 * marker and '#### 7' an answer, but a lone '7' is a digit).
 */
export function tokenClass(tokenText: string, context?: TokenContext): TokenClass {
  const text = context ? context.text : tokenText;
  const start = context ? context.start : 0;
  if (!cache || cache.text !== text) cache = { text, role: roles(text) };
  return classify(tokenText, start, cache.role);
}

/** The classes of all tokens of one completion (its decoded tokens in order). */
export function classifyTokens(tokens: readonly string[]): TokenClass[] {
  const text = tokens.join('');
  const role = roles(text);
  let start = 0;
  return tokens.map((t) => {
    const c = classify(t, start, role);
    start += t.length;
    return c;
  });
}
