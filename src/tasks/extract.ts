// Final-answer extraction from a model completion or a reference solution (the first half of the RLVR verifier).
// Order of preference: the last complete `\boxed{...}` / `\fbox{...}` (nested braces matched), the last `#### ...`
// line (GSM8K and the synthetic tasks), the last "the answer is ..." / "final answer: ..." phrase, and as a fallback
// the last number in the text. Never throws; very long inputs are only searched in their last 20,000 characters.

export type ExtractMethod = 'boxed' | 'hash' | 'answer-is' | 'last-number';

export interface Extracted {
  answer: string;
  method: ExtractMethod;
}

const TAIL_CHARS = 20_000;

/**
 * The content of the braced group opening at `open` (which must be '{'), with escaped `\{` `\}` not counted;
 * returns the content and the index after the closing brace, or null when unbalanced.
 */
export function matchBraces(text: string, open: number): { content: string; end: number } | null {
  if (text[open] !== '{') return null;
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    const ch = text[i];
    if (ch === '\\') { i++; continue; }
    if (ch === '{') depth++;
    else if (ch === '}') {
      depth--;
      if (depth === 0) return { content: text.slice(open + 1, i), end: i + 1 };
    }
  }
  return null;
}

/**
 * The last complete `\boxed{...}` or `\fbox{...}` (also `\boxed 5`): its span [start, end) in `text`, from the backslash
 * to the closing brace (or the end of the bare argument), and its content; null when there is none.
 */
export function lastBoxedMatch(text: string): { start: number; end: number; content: string } | null {
  const re = /\\(?:boxed|fbox)(?![a-zA-Z])/g;
  const starts: [number, number][] = [];
  for (let m = re.exec(text); m; m = re.exec(text)) starts.push([m.index, m.index + m[0].length]);
  for (let k = starts.length - 1; k >= 0; k--) {
    let i = starts[k][1];
    while (text[i] === ' ') i++;
    if (text[i] === '{') {
      const g = matchBraces(text, i);
      if (g) return { start: starts[k][0], end: g.end, content: g.content.trim() };
    } else {
      const m = /^[^\s$\\{}]+/.exec(text.slice(i));
      if (m) return { start: starts[k][0], end: i + m[0].length, content: m[0] };
    }
  }
  return null;
}

/** The content of the last complete `\boxed{...}` or `\fbox{...}` (also `\boxed 5`), or null. */
export function lastBoxed(text: string): string | null {
  return lastBoxedMatch(text)?.content ?? null;
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

/** If `s` starts with a `$...$` / `\(...\)` span, that span's content; otherwise null. */
function leadingMath(s: string): string | null {
  if (s.startsWith('$$')) { const e = s.indexOf('$$', 2); return e > 2 ? s.slice(2, e) : null; }
  if (s.startsWith('$')) { const e = s.indexOf('$', 1); return e > 1 ? s.slice(1, e) : null; }
  if (s.startsWith('\\(')) { const e = s.indexOf('\\)', 2); return e > 2 ? s.slice(2, e) : null; }
  if (s.startsWith('\\[')) { const e = s.indexOf('\\]', 2); return e > 2 ? s.slice(2, e) : null; }
  return null;
}

/** The answer stated after the last "the answer is" / "final answer is" / "answer:" phrase, or null. */
export function answerIsPhrase(text: string): string | null {
  const re = /\banswer\s*(?:is|:|=)\s*(?:therefore\s+|thus\s+)?:?\s*/gi;
  let last: RegExpExecArray | null = null;
  for (let m = re.exec(text); m; m = re.exec(text)) last = m;
  if (!last) return null;
  const rest = text.slice(last.index + last[0].length);
  const math = leadingMath(rest);
  if (math !== null) return math.trim() || null;
  const boxed = /^\\boxed/.test(rest) ? lastBoxed(rest.slice(0, 2000)) : null;
  if (boxed) return boxed;
  // Up to the end of the line or a sentence end: a period, ! or ? followed by whitespace or the end.
  const line = rest.split('\n')[0];
  const end = /[.!?](?:\s|$)/.exec(line);
  let ans = (end ? line.slice(0, end.index) : line).trim();
  // A math span a few words later: "the answer is just $x$".
  const span = /^(?:[a-zA-Z]+\s+){0,3}\$([^$]+)\$/.exec(ans) ?? /^(?:[a-zA-Z]+\s+){0,3}\\\((.+?)\\\)/.exec(ans);
  if (span) return span[1].trim() || null;
  ans = ans.replace(/^(?:(?:exactly|just|about|approximately|therefore|thus|equal to|given by|simply)\s+)+/i, '');
  ans = ans.replace(/[.,;:]+$/, '').trim();
  return ans.length > 0 && ans.length <= 200 ? ans : null;
}

/** The last number in the text (sign, thousands commas, decimals, a/b fractions allowed), or null. */
export function lastNumber(text: string): string | null {
  const re = /-?\d{1,3}(?:,\d{3})+(?:\.\d+)?|-?\d+(?:\.\d+)?(?:\s*\/\s*\d+)?|-?\.\d+/g;
  let last: string | null = null;
  for (let m = re.exec(text); m; m = re.exec(text)) last = m[0];
  return last === null ? null : last.replace(/\s+/g, '');
}

/** The final answer of a completion and how it was found, or null when nothing answer-like is present. */
export function extractAnswerDetailed(completion: unknown): Extracted | null {
  if (typeof completion !== 'string' || completion.length === 0) return null;
  const text = completion.length > TAIL_CHARS ? completion.slice(-TAIL_CHARS) : completion;
  const boxed = lastBoxed(text);
  if (boxed !== null && boxed.length > 0) return { answer: boxed, method: 'boxed' };
  const hash = hashAnswer(text);
  if (hash !== null) return { answer: hash, method: 'hash' };
  const phrase = answerIsPhrase(text);
  if (phrase !== null) return { answer: phrase, method: 'answer-is' };
  const num = lastNumber(text);
  if (num !== null) return { answer: num, method: 'last-number' };
  return null;
}

/** The final answer of a completion, or null. */
export function extractAnswer(completion: unknown): string | null {
  return extractAnswerDetailed(completion)?.answer ?? null;
}
