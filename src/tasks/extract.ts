// Final-answer extraction from a model completion or a reference solution (the first half of the RLVR verifier). The
// prediction and the reference go through the same extraction (verifier.ts), so a reference may be a bare answer, a
// `$…$` string, a `\boxed{}` or a whole solution.
//
// Order of preference, following Math-Verify (Hugging Face), the grader TRL and open-r1 use:
//  1. The last complete `\boxed{…}` / `\fbox{…}` (nested braces matched, the content may span lines). Boxes that
//     follow each other with only separators between them (`,` `;` `and` `or` `\quad` `$`) are one list of answers:
//     `\boxed{1}, \boxed{2}` is `1, 2`, `\boxed{(2, 5)} or \boxed{(5, 2)}` is both pairs (Math-Verify). A list is a set
//     (equivalence.ts), so one answer written in two equal forms (`\boxed{15\frac{39}{40}}, or $\boxed{\frac{639}{40}}$`)
//     is still that answer and a hedge between two values (`\boxed{3} or \boxed{5}`) is neither. Choice: "or" joins
//     only answers of one kind; after a derivation step it restates the step (`$3x = 58$ or $x = \frac{58}{3}$`) and
//     the last answer counts, where Math-Verify would list both. A "final answer is …" phrase that comes after the
//     last box overrides it.
//  2. The last `#### …` line (GSM8K and the synthetic tasks).
//  3. The last "the answer is …" / "final answer: …" phrase; in "Final Answer: the largest $n$ is 34" the value
//     after the inner "is" counts.
//  4. The whole text when it is a bare answer, not prose (`\frac{1}{2}`, `(2,4)`, `x+1`, `\text{east}`, `12 dollars`).
//  5. The last LaTeX math span (`$…$`, `$$…$$`, `\(…\)`, `\[…\]`) whose content is not prose and converts (see
//     spanParses), or the last number outside math spans, whichever ends later — Math-Verify ranks the two alike and
//     takes the rightmost. Inline spans stay on one line, as in Math-Verify. Spans joined only by `,` / `and` / `or`
//     are one list (`$-2$ and $1$` is `-2, 1`; "or" as for boxes). Numbers: thousands commas or spaces, decimals, a
//     decimal comma such as `2,74` where the comma cannot separate thousands, a/b fractions. A reference never uses
//     the number fallback, and a number inside a LaTeX group that never closes (`\frac{\frac{…1`) is no answer:
//     malformed math in the final answer is wrong, not its last number.
// Before all of this, a completion's reasoning in `<think>…</think>` is dropped: only the text after the last
// `</think>` is searched (an unclosed `<think>`, a truncated completion, is searched whole). Never throws; very long
// inputs are only searched in their last 20,000 characters, and every scan is linear in the input.
import { allBoxes, firstUnclosedGroup, lastBoxed } from './latex-scan';
import { normalizeAnswer, repairEscapes } from './normalize';
import { latexToMath } from './latex';

export type ExtractMethod = 'boxed' | 'hash' | 'answer-is' | 'math-span' | 'bare' | 'last-number';

export interface Extracted {
  answer: string;
  method: ExtractMethod;
}

const TAIL_CHARS = 20_000;

export { matchBraces, lastBoxedMatch, lastBoxed } from './latex-scan';

// What may stand between two answers that form one list: commas, semicolons, "and" and "or" (plain or in \text{}),
// \quad, math delimiters and spacing. As in Math-Verify, `\boxed{(2, 5)} or \boxed{(5, 2)}` is the list of both; a list
// is a set, so one answer given in two equal forms (`\boxed{15\frac{39}{40}}, or $\boxed{\frac{639}{40}}$`) is still
// that answer, while a hedge between two values (`\boxed{3} or \boxed{5}`) is neither of them.
const LIST_GAP = /^(?:[\s,;$]|\\[,;:! ]|\\q?quad(?![a-zA-Z])|\\\(|\\\)|\\\[|\\\]|\\(?:text|mbox|textrm)\s*\{\s*(?:and|or|,)?\s*\}|\b(?:and|or)\b)*$/;

/** Whether the text between two answers only separates them. */
function isListGap(gap: string): boolean {
  return gap.length <= 80 && LIST_GAP.test(gap);
}

const NAME = /^(?:[a-zA-Z](?:_\{?[a-zA-Z0-9]+\}?)?|\\[a-zA-Z]+|[A-Z]{2,4}|\((?:[a-zA-Z](?:_\{?[a-zA-Z0-9]+\}?)?,)+[a-zA-Z](?:_\{?[a-zA-Z0-9]+\}?)?\))$/;

/**
 * What kind of answer a box or span gives, for deciding whether "or" lists alternatives: `name:x` for a value given
 * to a name (`x = 2`), `step` for any other equation or inequality (`3x = 58`, a step of a derivation), `word` for
 * letters alone (`EDCF`, a figure's name), `value` for the rest.
 */
function answerKind(content: string): string {
  const t = normalizeAnswer(content).text.replace(/\s+/g, '');
  const eq = /^([^=<>]+)=([^=<>]+)$/.exec(t);
  if (eq) return NAME.test(eq[1]) ? `name:${eq[1]}` : 'step';
  if (/[=<>]/.test(t)) return 'step';
  return /^[A-Za-z]+$/.test(t) ? 'word' : 'value';
}

/**
 * Whether two neighbouring answers are one list. Separators other than "or" always join; "or" joins alternatives of
 * one kind (`\boxed{(2, 5)} or \boxed{(5, 2)}`, `$x = -1$ or $x = 2$`, as Math-Verify does), but not a result and the
 * step it restates (`$3x = 58$ or $x = \frac{58}{3}$`: the last counts).
 */
function joins(gap: string, before: string, after: string): boolean {
  if (!/\bor\b/.test(gap)) return true;
  const kind = answerKind(before);
  return kind !== 'step' && kind === answerKind(after);
}

/** The last box and the boxes right before it that form one list with it; null when there is no box. */
function boxedAnswer(text: string): { answer: string; end: number } | null {
  const boxes = allBoxes(text).filter((b) => b.content.length > 0);
  if (boxes.length === 0) return null;
  let k = boxes.length - 1;
  const parts = [boxes[k].content];
  while (
    k > 0 &&
    isListGap(text.slice(boxes[k - 1].end, boxes[k].start)) &&
    joins(text.slice(boxes[k - 1].end, boxes[k].start), boxes[k - 1].content, boxes[k].content)
  ) {
    k--;
    parts.unshift(boxes[k].content);
  }
  return { answer: parts.join(', '), end: boxes[boxes.length - 1].end };
}

/** The text after the last `####` marker, up to the end of its line, trimmed; null if absent or empty. */
export function hashAnswer(text: string): string | null {
  const at = text.lastIndexOf('####');
  if (at < 0) return null;
  const rest = text.slice(at + 4);
  const nl = rest.indexOf('\n');
  const ans = (nl < 0 ? rest : rest.slice(0, nl)).trim();
  return ans.length > 0 ? ans : null;
}

/** hashAnswer of a completion of any type: null for anything that is not a string (a task's extractAnswer never throws). */
export function hashAnswerOf(completion: unknown): string | null {
  return typeof completion === 'string' ? hashAnswer(completion) : null;
}

/** If `s` starts with a `$...$` / `\(...\)` / `\[...\]` span, that span's content; otherwise null. */
function leadingMath(s: string): string | null {
  if (s.startsWith('$$')) {
    const e = s.indexOf('$$', 2);
    return e > 2 ? s.slice(2, e) : null;
  }
  if (s.startsWith('$')) {
    const e = s.indexOf('$', 1);
    return e > 1 ? s.slice(1, e) : null;
  }
  if (s.startsWith('\\(')) {
    const e = s.indexOf('\\)', 2);
    return e > 2 ? s.slice(2, e) : null;
  }
  if (s.startsWith('\\[')) {
    const e = s.indexOf('\\]', 2);
    return e > 2 ? s.slice(2, e) : null;
  }
  return null;
}

const FUNCTION_WORDS = new Set([
  'sin',
  'cos',
  'tan',
  'sec',
  'csc',
  'cot',
  'log',
  'ln',
  'exp',
  'lg',
  'mod',
  'gcd',
  'lcm',
  'max',
  'min',
  'det',
  'arcsin',
  'arccos',
  'arctan',
  'sinh',
  'cosh',
  'tanh',
  'pmod',
  'bmod',
  'infty',
  'pi',
  'sqrt',
]);
const CONNECTORS = new Set(['and', 'or']);
const SHORT_WORDS = new Set([
  'is',
  'it',
  'of',
  'to',
  'so',
  'we',
  'be',
  'by',
  'if',
  'in',
  'on',
  'an',
  'as',
  'at',
  'no',
  'do',
  'me',
  'my',
  'up',
  'us',
  'am',
  'he',
  'go',
]);

/**
 * Whether `s` reads as prose rather than a bare answer. Letters inside `\text{}`-like groups and LaTeX commands do not
 * count; up to two words are an answer when there are no digits (`east`, `no solution`), and up to two unit words
 * may follow a number (`12 dollars`, `2\pi cm`); "and"/"or" between answers never count.
 */
export function isProse(s: string): boolean {
  if (s.length > 1000) return true;
  const stripped = s
    .replace(/\\(?:begin|end)\s*\{[a-zA-Z*]*\}/g, ' ')
    .replace(/\\(?:text|textbf|textit|textrm|texttt|textnormal|mbox|mathrm|mathbf|mathit|operatorname|hbox)\s*\{[^{}]*\}/g, ' ')
    .replace(/\\[a-zA-Z]+/g, ' ');
  // Words: runs of three or more letters with a lower-case one, or common two-letter English words; `xy`, `dt` are
  // products and `ABC` names a triangle.
  const words = [...stripped.matchAll(/[A-Za-z]{2,}/g)].filter(
    (m) => ((m[0].length > 2 && /[a-z]/.test(m[0])) || SHORT_WORDS.has(m[0].toLowerCase())) && !CONNECTORS.has(m[0].toLowerCase()) && !FUNCTION_WORDS.has(m[0]),
  );
  if (words.length === 0) return false;
  // Without digits: a word answer has at most two words (`east`, `no solution`); without math operators a single
  // letter is a word too (`I give up` is prose, `x+y` is not).
  if (!/\d/.test(stripped)) {
    const letters = /[+\-*/^=<>(),_|]/.test(stripped) ? words.length : (stripped.match(/[A-Za-z]+/g) ?? []).length;
    return letters > 2;
  }
  // Words only after the last digit: units.
  let lastDigit = stripped.length - 1;
  while (lastDigit >= 0 && !/\d/.test(stripped[lastDigit])) lastDigit--;
  return words.length > 2 || words.some((w) => (w.index ?? 0) < lastDigit);
}

/** The answer stated after the last "the answer is" / "final answer is" / "answer:" phrase, and where it starts. */
function answerPhrase(text: string): { answer: string; index: number; final: boolean } | null {
  const re = /\banswer\s*(?:is|:|=)\s*(?:therefore\s+|thus\s+)?:?\s*/gi;
  let last: RegExpExecArray | null = null;
  for (let m = re.exec(text); m; m = re.exec(text)) last = m;
  if (!last) return null;
  const final = /final\s*$/i.test(text.slice(Math.max(0, last.index - 12), last.index));
  const rest = text.slice(last.index + last[0].length);
  const found = (answer: string | null) => (answer ? { answer, index: last!.index, final } : null);
  const math = leadingMath(rest);
  if (math !== null) return found(math.trim() || null);
  if (/^\\boxed/.test(rest)) return found(lastBoxed(rest.slice(0, 2000)));
  // Up to the end of the line or a sentence end: a period, ! or ? followed by whitespace or the end.
  const line = rest.split('\n')[0];
  const end = /[.!?](?:\s|$)/.exec(line);
  let ans = (end ? line.slice(0, end.index) : line).trim();
  // "Final Answer: The largest $n$ is 34": the value after the inner "is".
  const inner = /^(?:.*\s)?(?:is|are|equals|was)\s+(.+)$/i.exec(ans);
  if (inner && isProse(ans)) {
    ans = inner[1].trim();
    const m2 = leadingMath(ans);
    if (m2 !== null) return found(m2.trim() || null);
  }
  // A math span a few words later: "the answer is just $x$".
  const span = /^(?:[a-zA-Z]+\s+){0,3}\$([^$]+)\$/.exec(ans) ?? /^(?:[a-zA-Z]+\s+){0,3}\\\((.+?)\\\)/.exec(ans);
  if (span) return found(span[1].trim() || null);
  ans = ans.replace(/^(?:(?:exactly|just|about|approximately|therefore|thus|equal to|given by|simply)\s+)+/i, '');
  ans = ans.replace(/[.,;:]+$/, '').trim();
  // Prose after the phrase ("Jane started growing Sphere 3 hours ago"): its last number.
  if (isProse(ans)) {
    const num = lastNumberMatch(ans);
    // …unless that number sits inside malformed LaTeX.
    if (num !== null && inUnclosedGroup(ans, num.start)) return null;
    return found(num?.value ?? (ans.length <= 200 ? ans : null));
  }
  return found(ans.length > 0 && ans.length <= 200 ? ans : null);
}

/** The answer stated after the last "the answer is" / "final answer is" / "answer:" phrase, or null. */
export function answerIsPhrase(text: string): string | null {
  return answerPhrase(text)?.answer ?? null;
}

interface Span {
  start: number;
  end: number;
  content: string;
}

/** Every LaTeX math span (`$…$` on one line, `$$…$$`, `\(…\)` on one line, `\[…\]`), in text order; one linear scan. */
function mathSpans(text: string): Span[] {
  const out: Span[] = [];
  const noClose = new Set<string>();
  let i = 0;
  const close = (open: number, len: number, delim: string, oneLine: boolean): number => {
    if (noClose.has(delim)) return -1;
    let e = text.indexOf(delim, open + len);
    while (e > 0 && delim === '$' && text[e - 1] === '\\') e = text.indexOf(delim, e + 1);
    if (e < 0) {
      noClose.add(delim);
      return -1;
    }
    if (oneLine && text.slice(open + len, e).includes('\n')) return -1;
    return e;
  };
  while (i < text.length) {
    const ch = text[i];
    let open = 0;
    let delim = '';
    let oneLine = false;
    if (ch === '\\') {
      const nx = text[i + 1];
      if (nx === '(') {
        open = 2;
        delim = '\\)';
        oneLine = true;
      } else if (nx === '[') {
        open = 2;
        delim = '\\]';
      } else {
        i += 2;
        continue;
      }
    } else if (ch === '$') {
      if (text[i + 1] === '$') {
        open = 2;
        delim = '$$';
      } else {
        open = 1;
        delim = '$';
        oneLine = true;
      }
    } else {
      i++;
      continue;
    }
    const e = close(i, open, delim, oneLine);
    if (e < 0) {
      i += open;
      continue;
    }
    out.push({ start: i, end: e + delim.length, content: text.slice(i + open, e) });
    i = e + delim.length;
  }
  return out;
}

const SPAN_GAP = /^\s*(?:,|;|,?\s*\b(?:and|or)\b)\s*$/;

/**
 * Whether a math span's content reads as an answer the comparison can use: it converts to an expression, or it is a
 * list, tuple, equation, relation, set or matrix, or a word answer. `\angle ABP - \angle BAP` or `\mathcal{F}_{17}` do
 * not, and, as in Math-Verify, such a span is passed over (and so are the numbers inside it).
 */
function spanParses(content: string): boolean {
  const n = normalizeAnswer(content).text;
  if (n === '') return false;
  if (latexToMath(n) !== null) return true;
  if (/[,;=<>]|\\cup|\\begin\{|\\\{|\\pm/.test(n)) return true;
  return /^[\sA-Za-z()'.]*[A-Za-z][\sA-Za-z()'.]*$/.test(n);
}

/**
 * Whether the content of a `$…$` span is prose (`$5 and the other $`, dollar signs used as currency): two words in a
 * row outside `\text{}` and commands. Letters in math mode are otherwise symbols (`RS+SQ`, `ab`).
 */
function isProseInMath(content: string): boolean {
  const stripped = content.replace(/\\(?:text|textbf|textit|textrm|mbox|mathrm|mathbf|operatorname)\s*\{[^{}]*\}/g, ' ').replace(/\\[a-zA-Z]+/g, ' ');
  return /[A-Za-z]{2,}\s+[A-Za-z]{2,}\s+[A-Za-z]{2,}|\b(?:and|or|the|is|of|to|for|with|then)\s+[A-Za-z]{2,}/i.test(stripped);
}

/** The last usable math span (joined with the spans listed right before it) and where it ends; null if none. */
function lastSpanAnswer(text: string, spans: Span[]): { answer: string; end: number } | null {
  const good = spans.filter((s) => /[A-Za-z0-9]/.test(s.content) && !isProseInMath(s.content) && spanParses(s.content));
  if (good.length === 0) return null;
  let k = good.length - 1;
  const parts = [good[k].content.trim()];
  while (
    k > 0 &&
    SPAN_GAP.test(text.slice(good[k - 1].end, good[k].start)) &&
    joins(text.slice(good[k - 1].end, good[k].start), good[k - 1].content, good[k].content)
  ) {
    k--;
    parts.unshift(good[k].content.trim());
  }
  return { answer: parts.join(', '), end: good[good.length - 1].end };
}

// Numbers: thousands commas, thousands spaces, a decimal comma with one or two digits, decimals, a/b fractions.
const NUMBER =
  /-?\d{1,3}(?:,\d{3})+(?:\.\d+)?(?![\d,])|-?[1-9]\d{0,2}(?: \d{3})+(?![\d,.])|(?<![\d,.])-?\d+,\d{1,2}(?![\d,])|-?\d+(?:\.\d+)?(?:\s*\/\s*\d+)?|-?\.\d+/g;

/** The last number in `text` and the index where it ends, or null. */
function lastNumberMatch(text: string): { value: string; start: number; end: number } | null {
  NUMBER.lastIndex = 0;
  let last: RegExpExecArray | null = null;
  for (let m = NUMBER.exec(text); m; m = NUMBER.exec(text)) last = m;
  if (last === null) return null;
  return { value: last[0].replace(/(\d) (?=\d{3})/g, '$1').replace(/\s+/g, ''), start: last.index, end: last.index + last[0].length };
}

/**
 * The last number in the text (sign, thousands commas or single spaces, decimals, a decimal comma with one or two
 * digits, a/b fractions), or null.
 */
export function lastNumber(text: string): string | null {
  return lastNumberMatch(text)?.value ?? null;
}

/** `text` with every math span blanked out (same length), so that numbers inside spans are not found. */
function outsideSpans(text: string, spans: Span[]): string {
  if (spans.length === 0) return text;
  let out = '';
  let pos = 0;
  for (const sp of spans) {
    out += text.slice(pos, sp.start) + ' '.repeat(sp.end - sp.start);
    pos = sp.end;
  }
  return out + text.slice(pos);
}

/**
 * Whether the number starting at `at` is inside malformed math: a LaTeX group that never closes (see
 * firstUnclosedGroup) opens before it with no words in between (`\frac{\frac{…1`). A typo far back in the prose
 * (`… \frac{1 … so we get 7`) does not count.
 */
function inUnclosedGroup(text: string, at: number): boolean {
  // Only the last 4,000 characters before the number are searched (with everything after it).
  const from = Math.max(0, at - 4000);
  const found = firstUnclosedGroup(text.slice(from));
  const open = found < 0 ? -1 : from + found;
  if (open < 0 || open >= at) return false;
  return !/[a-zA-Z]{3,}/.test(text.slice(open, at).replace(/\\[a-zA-Z]+/g, ' '));
}

/** The part of a completion to search: after the last `</think>` (when something follows it), without think tags. */
export function stripThinking(text: string): string {
  const close = text.lastIndexOf('</think>');
  if (close >= 0) {
    const after = text.slice(close + '</think>'.length);
    if (after.trim() !== '') return after;
  }
  return text.replace(/<\/?think>/g, ' ');
}

export interface ExtractOptions {
  /** Use the last-number fallback (default true). References turn it off: a prose reference is compared whole. */
  lastNumber?: boolean;
}

/** The final answer of a completion and how it was found, or null when nothing answer-like is present. */
export function extractAnswerDetailed(completion: unknown, options: ExtractOptions = {}): Extracted | null {
  if (typeof completion !== 'string' || completion.length === 0) return null;
  let text = completion.length > TAIL_CHARS ? completion.slice(-TAIL_CHARS) : completion;
  text = stripThinking(repairEscapes(text));
  const boxed = boxedAnswer(text);
  const phrase = answerPhrase(text);
  if (boxed !== null) {
    // "…\boxed{200}… Final Answer: The final answer is $10,455$": a final answer stated after the last box wins.
    if (phrase && phrase.final && phrase.index >= boxed.end && /\d/.test(phrase.answer)) return { answer: phrase.answer, method: 'answer-is' };
    return { answer: boxed.answer, method: 'boxed' };
  }
  const hash = hashAnswer(text);
  if (hash !== null) return { answer: hash, method: 'hash' };
  if (phrase !== null) return { answer: phrase.answer, method: 'answer-is' };
  const trimmed = text.trim();
  const spans = mathSpans(text);
  if (trimmed.length > 0 && !isProse(trimmed)) {
    // `$\frac{1}{3}$` alone is its span's content.
    const only = spans.length === 1 && spans[0].start === text.length - text.trimStart().length && spans[0].end === text.trimEnd().length;
    return only ? { answer: spans[0].content.trim(), method: 'math-span' } : { answer: trimmed, method: 'bare' };
  }
  // As in Math-Verify, a math span and a plain number have the same rank: the one that ends last wins.
  const span = lastSpanAnswer(text, spans);
  const outside = outsideSpans(text, spans);
  const num = options.lastNumber === false ? null : lastNumberMatch(outside);
  if (num !== null && (span === null || num.end > span.end)) {
    // A number inside a LaTeX group that never closes (`\frac{\frac{…1`) is part of malformed math, not an answer.
    if (inUnclosedGroup(outside, num.start)) return null;
    return { answer: num.value, method: 'last-number' };
  }
  if (span !== null) return { answer: span.answer, method: 'math-span' };
  return null;
}

/** The final answer of a completion, or null. */
export function extractAnswer(completion: unknown): string | null {
  return extractAnswerDetailed(completion)?.answer ?? null;
}
