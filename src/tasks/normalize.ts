// String-level normalisation of a final answer before comparison (part of the verifier): strips math delimiters and
// `\boxed`, repairs JSON-damaged LaTeX escapes, removes `\left`/`\right` and spacing commands, maps `\dfrac`/`\tfrac`/
// `\cfrac` to `\frac`, writes relations in ASCII (`\geq` `\ge` `≥` → `>=`, `\neq` → `!=`, `\lt` → `<`, `\cong` → `=`), drops a trailing
// `\approx …` (`x = 1/3 \approx 0.33` is `x = 1/3`; `x \approx 11` alone is `x = 11`), removes degrees, currency,
// thousands separators (`1,234,567`, `1{,}000`, `1,\!000`, spaced `1 000`), `\text{}` units and trailing unit words after
// a number or a constant expression (`12 dollars`, `2\pi cm`), drops a trailing backslash or period (NeMo-Skills),
// halves doubled backslashes when every command has them (`\\left( 1, 2 \\right)`), reads `:=` as `=`, and records a
// percent sign (the comparison then also accepts the value divided by 100). Pure string work; never throws.
//
// Grader choices (where Math-Verify, NeMo-Skills and lm-evaluation-harness differ):
// * Units: dropped, as Math-Verify and the Hendrycks MATH normaliser do (`15\mbox{ cm}^2` is 15); a single letter after
//   a number stays, since `2 n` is a product.
// * Decimal comma: not rewritten here; equivalence.ts also reads `1,22` as 1.22 when the comma cannot separate
//   thousands (Math-Verify's reading), besides the list 1, 22.
import { lastBoxed, matchBraces } from './latex-scan';

export interface Normalized {
  /** The cleaned LaTeX answer. */
  text: string;
  /** True when a percent sign was removed. */
  percent: boolean;
}

// A JSON escape sometimes consumed the first letter of a LaTeX command (`\f`rac → form feed + "rac", see data/README).
const DAMAGED: Array<[RegExp, string]> = [
  [/\f(rac|box)/g, '\\f$1'],
  [/\t(imes|ext|heta|au|an|riangle|frac)/g, '\\t$1'],
  [/\x08(oxed|inom|eta|ar)/g, '\\b$1'],
  [/\r(ight)/g, '\\r$1'],
];

/** Repairs LaTeX commands whose backslash and first letter were eaten by a JSON escape. */
export function repairEscapes(s: string): string {
  let out = s;
  for (const [re, rep] of DAMAGED) out = out.replace(re, rep);
  return out;
}

/** Removes enclosing `$...$`, `$$...$$`, `\(...\)`, `\[...\]`, a whole-answer `\boxed{...}` and a trailing period. */
export function stripWrappers(s: string): string {
  let cur = s.trim();
  // A reference that is a sentence around a boxed answer: keep the boxed part.
  if (/\\boxed\s*\{/.test(cur) && !/^\\boxed/.test(cur)) cur = lastBoxed(cur) ?? cur;
  for (let guard = 0; guard < 10; guard++) {
    const before = cur;
    cur = cur
      .replace(/^\\displaystyle\s*/, '')
      .replace(/[.\s]+$/, '')
      .trim();
    if (cur.startsWith('$$') && cur.endsWith('$$') && cur.length >= 4) cur = cur.slice(2, -2).trim();
    else if (cur.startsWith('$') && cur.endsWith('$') && cur.length >= 2 && !cur.slice(1, -1).includes('$')) cur = cur.slice(1, -1).trim();
    else if (cur.startsWith('\\(') && cur.endsWith('\\)')) cur = cur.slice(2, -2).trim();
    else if (cur.startsWith('\\[') && cur.endsWith('\\]')) cur = cur.slice(2, -2).trim();
    const boxed = /^\\(?:boxed|fbox)\s*(?=\{)/.exec(cur);
    if (boxed) {
      const g = matchBraces(cur, boxed[0].length);
      if (g && g.end === cur.length) cur = g.content.trim();
    }
    // Braces around the whole answer: `{m \leq 3}`, however deeply nested (`{{{7}}}` is 7).
    for (let k = 0; k < 1000 && cur.startsWith('{'); k++) {
      const g = matchBraces(cur, 0);
      if (!g || g.end !== cur.length) break;
      cur = g.content.trim();
    }
    if (cur === before) break;
  }
  return cur;
}

const TEXT_CMD = /\\(?:text|textbf|textit|textrm|texttt|mbox|mathrm|mathbf|mathit|mathsf|operatorname|textnormal|hbox)\s*(?=\{)/g;

/** Replaces each `\text{...}`-like group by a marker-free form: units are dropped when a number or math remains. */
function handleTextGroups(s: string): string {
  const groups: Array<{ start: number; end: number; content: string }> = [];
  TEXT_CMD.lastIndex = 0;
  for (let m = TEXT_CMD.exec(s); m; m = TEXT_CMD.exec(s)) {
    const g = matchBraces(s, m.index + m[0].length);
    if (!g) return s;
    groups.push({ start: m.index, end: g.end, content: g.content });
    TEXT_CMD.lastIndex = g.end;
  }
  if (groups.length === 0) return s;
  let without = '';
  let inlined = '';
  let pos = 0;
  for (const g of groups) {
    without += s.slice(pos, g.start);
    inlined += s.slice(pos, g.start) + g.content;
    const isWordy = /^[\s~a-zA-Z.\\$\/]*$/.test(g.content);
    if (!isWordy) without += g.content;
    pos = g.end;
    // Units often carry an exponent right after the group: `\mbox{ cm}^2`; it goes with them.
    const exp = isWordy ? /^\s*\^\s*(?:\{\s*\d\s*\}|\d)/.exec(s.slice(g.end)) : null;
    if (exp) {
      inlined += exp[0];
      pos += exp[0].length;
    }
  }
  without += s.slice(pos);
  inlined += s.slice(pos);
  // Units: only when something numeric is left once the word groups are gone.
  return /\d/.test(without) ? without : inlined;
}

const UNIT_STOP = new Set(['sin', 'cos', 'tan', 'sec', 'csc', 'cot', 'log', 'ln', 'exp', 'and', 'or', 'mod', 'pmod']);

/**
 * `2\pi cm` → `2\pi`: unit words after an expression that has a digit and no letters of its own (only commands such as
 * `\pi`, `\sqrt`, `\frac`).
 */
function stripUnitAfterExpression(s: string): string {
  const m = /^(.*?)\s+([a-zA-Z]{2,}\.?(?:\s+[a-zA-Z]{2,}\.?)?)(?:\^\{?\d\}?)?$/.exec(s);
  if (!m || !/\d/.test(m[1]) || /[a-zA-Z]/.test(m[1].replace(/\\[a-zA-Z]+/g, ''))) return s;
  if (m[2].split(/\s+/).some((w) => UNIT_STOP.has(w.replace('.', '')))) return s;
  return m[1].trim();
}

/**
 * Relations in ASCII (`\geq`, `\ge`, `\geqslant`, `≥` → `>=`; `\leq`… → `<=`; `\neq`, `\ne`, `≠` → `!=`; `\lt`, `\gt`),
 * and `\approx`: a trailing approximation is dropped, `x \approx 11` alone means `x = 11`.
 */
export function normalizeRelations(s: string): string {
  let out = s
    .replace(/\\(?:geqslant|geq|ge)(?![a-zA-Z])|≥/g, ' >= ')
    .replace(/\\(?:leqslant|leq|le)(?![a-zA-Z])|≤/g, ' <= ')
    .replace(/\\(?:neq|ne)(?![a-zA-Z])|≠/g, ' != ')
    .replace(/\\lt(?![a-zA-Z])/g, ' < ')
    .replace(/\\doteq(?![a-zA-Z])/g, ' \\approx ')
    .replace(/\\cong(?![a-zA-Z])/g, ' = ')
    .replace(/\\gt(?![a-zA-Z])/g, ' > ');
  const parts = out.split(/\\approx(?![a-zA-Z])|≈/);
  if (parts.length > 1) {
    const head = parts[0].trim();
    const tail = parts[parts.length - 1].trim();
    if (head === '') out = tail;
    else if (/^(?:[a-zA-Z](?:_\{?[a-zA-Z0-9]+\}?)?|\\[a-zA-Z]+)$/.test(head)) out = `${head} = ${tail}`;
    else out = head;
  }
  return out;
}

/**
 * A multi-line derivation (`aligned`, `align*`, `gathered`, `split`, `eqnarray`) stands for its last line, with the
 * alignment marks removed: `\begin{aligned} 4x &= 17 \\ x &= 4.25 \end{aligned}` is `x = 4.25`, and a last line
 * `&= 590` is `590`.
 */
function lastAlignedLine(s: string): string {
  const m = /^\\begin\{(aligned|align\*?|gathered|split|eqnarray\*?|array)\}(?:\{[^}]*\})?([\s\S]*)\\end\{\1\}$/.exec(s);
  if (!m || (m[1] === 'array' && !/&\s*=/.test(m[2]))) return s;
  const rows = m[2]
    .split(/\\\\(?:\[[^\]]*\])?/)
    .map((r) => r.replace(/&/g, ' ').trim())
    .filter((r) => r.length > 0);
  if (rows.length === 0) return s;
  return rows[rows.length - 1]
    .replace(/^(?:=|\\Leftrightarrow|\\Rightarrow|\\implies)\s*/, '')
    .replace(/[.,;]\s*$/, '')
    .trim();
}

/**
 * An answer whose every LaTeX command has a doubled backslash (`\\\\left( 1, 2 \\\\right)`, escaped twice on its way
 * into a data file) with the backslashes halved; any other answer unchanged. A matrix keeps its `\\\\` row breaks.
 */
export function undoubleBackslashes(s: string): string {
  if (!s.includes('\\\\') || !/\\\\[a-zA-Z]{2,}/.test(s) || /(?<!\\)\\[a-zA-Z]/.test(s.replace(/\\\\/g, '')) || s.includes('&')) return s;
  return s.replace(/\\\\/g, '\\');
}

/**
 * Noise at the end of an answer: a stray backslash or a LaTeX line break (`5\\`, `5 \\\\`) and a sentence's period
 * (NeMo-Skills strips both). `\\}` and `\\)` stay.
 */
function stripTrailingNoise(s: string): string {
  let end = s.length;
  while (end > 0 && (s[end - 1] === '\\' || s[end - 1] === '.' || /\s/.test(s[end - 1]))) end--;
  return s.slice(0, end);
}

/** `s` without the `/` and `\\cdot` (and spaces) at its end. Linear. */
function trimTrailingOperators(s: string): string {
  let end = s.length;
  for (;;) {
    while (end > 0 && /\s/.test(s[end - 1])) end--;
    if (end > 0 && s[end - 1] === '/') end--;
    else if (end >= 5 && s.slice(end - 5, end) === '\\cdot') end -= 5;
    else break;
  }
  return s.slice(0, end);
}

/** Normalises one answer string (see the file comment). */
export function normalizeAnswer(raw: string): Normalized {
  let s = lastAlignedLine(stripWrappers(stripTrailingNoise(undoubleBackslashes(repairEscapes(String(raw))))));
  s = stripTrailingNoise(s);
  // `:=` is `=`.
  if (s.includes(':=')) s = s.replace(/:=/g, '=');
  s = s.replace(/\\(?:left|right|bigl|bigr|Bigl|Bigr|big|Big)(?![a-zA-Z])\s*\.?/g, '');
  s = s.replace(/\\[dtc]frac(?![a-zA-Z])/g, '\\frac').replace(/\\[dt]binom(?![a-zA-Z])/g, '\\binom');
  // Degrees.
  s = s.replace(/\^\s*\{\s*\\circ\s*\}|\^\s*\\circ|\\circ|°|\\degree(?![a-zA-Z])|\^\s*\{\s*\\text\{\s*o\s*\}\s*\}/g, '');
  // Percent.
  let percent = false;
  s = s.replace(/\\%|%|\\text\{\s*percent\s*\}|\s+percent\b/g, () => {
    percent = true;
    return '';
  });
  // Currency.
  s = s.replace(/\\\$|\$|\\text\{\s*\\\$\s*\}|\\euro|€|£|\bUSD\b/g, '');
  // Thousands separators: `{,}` and `,\!` always; `1,234,567` when the whole answer is one such number.
  s = s.replace(/\{,\}/g, '').replace(/(\d),\\!\s*(?=\d{3})/g, '$1');
  // Word list separators: `2, 3, \text{ and } 4`, `x=1 \text{ or } x=2`.
  s = s.replace(/,?\s*\\(?:text|mbox)\{\s*(?:and|or)\s*\}\s*/g, ', ').replace(/,?\s+(?:and|or)\s+/g, ', ');
  const withUnits = s;
  s = handleTextGroups(s);
  // A unit made of \text groups leaves its operators behind: `\frac{600}{7} \mathrm{~km} / \mathrm{h}`.
  if (s !== withUnits && /\d/.test(s)) s = trimTrailingOperators(s);
  // Spacing commands.
  s = s.replace(/(?<!\\)\\(?:!|,|;|:|>|quad|qquad)(?![a-zA-Z])|(?<!\\)\\ |~/g, ' ');
  s = s.replace(/\\displaystyle/g, '');
  s = normalizeRelations(s);
  s = stripWrappers(s.replace(/\s+/g, ' ').trim());
  // Single-character exponents and subscripts without braces: `x^{3}` → `x^3`, `a_{1}` → `a_1`.
  s = s.replace(/([\^_])\{\s*([a-zA-Z0-9])\s*\}/g, '$1$2');
  if (/^[+-]?\d{1,3}(?:(?:,\d{3}){2,}(?:\.\d+)?|(?:,\d{3})+\.\d+)$/.test(s)) s = s.replace(/,/g, '');
  if (/^[+-]?\d{1,3}(?: \d{3})+(?:\.\d+)?$/.test(s)) s = s.replace(/ /g, '');
  // A worked line ending in a thousands-formatted number, `2^{10} = 1,024` (no other comma before it).
  const eqThousands = /^([^,]*=\s*[+-]?)(\d{1,3}(?:,\d{3})+(?:\.\d+)?)$/.exec(s);
  if (eqThousands) s = eqThousands[1] + eqThousands[2].replace(/,/g, '');
  // Trailing unit words after a plain number and a space: `12 dollars`, `15 cm^2` (single letters stay: `2 n` is a
  // product; so do glued letters: `3ab` is 3·a·b).
  const unit = /^([+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)\s+(?:[a-zA-Z]{2,}\.?)(?:\s+[a-zA-Z]{2,}\.?)*(?:\^\{?\d\}?)?$/.exec(s);
  if (unit) s = unit[1];
  else s = stripUnitAfterExpression(s);
  if (/^[+-]?\d{1,3}(?: \d{3})+(?:\.\d+)?$/.test(s)) s = s.replace(/ /g, '');
  // Trailing zeros of decimals (`2.50` → `2.5`, `3.0` → `3`).
  s = s.replace(/(\d+\.\d*?)0+(?!\d)/g, '$1').replace(/(\d)\.(?!\d)/g, '$1');
  return { text: s.trim(), percent };
}
