// Brace matching and \boxed{} search shared by the verifier's extraction (extract.ts) and normalisation (normalize.ts),
// and by the token-class plots. Linear scans; never throw.

/**
 * The content of the braced group opening at `open` (which must be '{'), with escaped `\{` `\}` not counted;
 * returns the content and the index after the closing brace, or null when unbalanced.
 */
export function matchBraces(text: string, open: number): { content: string; end: number } | null {
  if (text[open] !== '{') return null;
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    const ch = text[i];
    if (ch === '\\') {
      i++;
      continue;
    }
    if (ch === '{') depth++;
    else if (ch === '}') {
      depth--;
      if (depth === 0) return { content: text.slice(open + 1, i), end: i + 1 };
    }
  }
  return null;
}

export interface BoxMatch {
  start: number;
  end: number;
  content: string;
}

/** Every complete `\boxed{...}` / `\fbox{...}` (also `\boxed 5`), in text order. Unbalanced boxes are skipped. */
export function allBoxes(text: string): BoxMatch[] {
  const re = /\\(?:boxed|fbox)(?![a-zA-Z])/g;
  const out: BoxMatch[] = [];
  let after = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    if (m.index < after) continue; // a box inside an earlier box: the outer one counts
    let i = m.index + m[0].length;
    while (text[i] === ' ') i++;
    if (text[i] === '{') {
      const g = matchBraces(text, i);
      if (g) {
        out.push({ start: m.index, end: g.end, content: g.content.trim() });
        after = g.end;
      }
      // An unclosed box stays unclosed for every later start too, but a later box may still be complete.
    } else {
      const b = /^[^\s$\\{}]+/.exec(text.slice(i, i + 200));
      if (b) {
        out.push({ start: m.index, end: i + b[0].length, content: b[0] });
        after = i + b[0].length;
      }
    }
  }
  return out;
}

/**
 * The last complete `\boxed{...}` or `\fbox{...}` (also `\boxed 5`): its span [start, end) in `text`, from the backslash
 * to the closing brace (or the end of the bare argument), and its content; null when there is none.
 */
export function lastBoxedMatch(text: string): BoxMatch | null {
  const boxes = allBoxes(text);
  return boxes.length > 0 ? boxes[boxes.length - 1] : null;
}

/** The content of the last complete `\boxed{...}` or `\fbox{...}` (also `\boxed 5`), or null. */
export function lastBoxed(text: string): string | null {
  return lastBoxedMatch(text)?.content ?? null;
}

/**
 * Where the first LaTeX group that is never closed opens — a `{` right after a command, `^`, `_` or another group
 * (`\frac{`, `x^{`, `\frac{1}{`) with no matching `}` — or -1. A `{` in prose (`S = {1, 2`) does not count. Linear.
 */
export function firstUnclosedGroup(text: string): number {
  const stack: number[] = []; // the braces still open, innermost last
  const latex: boolean[] = []; // whether each opens a LaTeX group
  let prev = ''; // the last character that is not a space
  let afterCommand = false; // whether the last token was a command such as \\frac
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === ' ' || ch === '\n' || ch === '\t' || ch === '\r') continue;
    if (ch === '\\') {
      let j = i + 1;
      while (j < text.length && isLetter(text[j])) j++;
      afterCommand = j > i + 1;
      prev = afterCommand ? 'a' : (text[j] ?? '');
      i = afterCommand ? j - 1 : j; // an escaped character such as \\{ is skipped
      continue;
    }
    if (ch === '{') {
      stack.push(i);
      latex.push(afterCommand || prev === '^' || prev === '_' || prev === '}');
    } else if (ch === '}' && stack.length > 0) {
      stack.pop();
      latex.pop();
    }
    prev = ch;
    afterCommand = false;
  }
  const k = latex.indexOf(true);
  return k < 0 ? -1 : stack[k];
}

const isLetter = (c: string | undefined): boolean => c !== undefined && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'));
