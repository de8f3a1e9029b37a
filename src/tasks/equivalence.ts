// Answer equivalence (the second half of the RLVR verifier): isEquivalent(pred, gold) decides whether a predicted
// final answer matches the reference; judgeEquivalence also says which rule decided and how each side was parsed.
// Both are normalised (normalize.ts), parsed into a small structure — scalar, ordered tuple or interval (brackets must
// match), unordered list (top-level commas or semicolons, `\{...\}`, `\cup`, `\pm`), matrix, ratio, equation or relation
// (`<`, `<=`, `>`, `>=`, `!=`) — and compared: rationals exactly, other numbers with a relative tolerance (looser when a
// decimal is involved), expressions with free symbols at random points via mathjs. `A OR B` in a reference accepts
// either. Garbage is never an error: anything unparseable falls back to string comparison, and every path is guarded.
//
// Grader choices (Math-Verify is the anchor; NeMo-Skills' math_equal and lm-evaluation-harness next):
// * Equations: `k = 1/3` matches `1/3` when the left side only names the value (Math-Verify): a variable, points
//   (`AB`, `|PQ|`), a tuple of variables (`(a, b) = (4, 1)`), a ratio of names (`S_1 : S_2 = 5 : 9`), on either
//   side; `7 = 11a+c` does not match `11a+c`. Choice: Math-Verify also strips a left side of symbols alone that
//   computes (`x + y = 5` matches 5); the kit keeps that an equation, since stripping it changes the value. A chain
//   `x = 5+5+1 = 11` keeps its first variable and last member. Two equations are the same when the differences of
//   their sides are proportional (`2x+4y-3=0` is `y = -x/2 + 3/4`), as in Math-Verify. `x \in S` is `x = S`.
// * Relations: flipped (`5 >= x` is `x <= 5`) and negated (`-x > -1` is `x < 1`) inequalities are the same relation;
//   strict and non-strict differ; chains are compared member by member. A relation never matches a plain number. A
//   reference inequality in one variable with constant bounds (`-1 <= x <= 4`, `x < 3`, `1 <= |t| <= 2`) matches
//   the predicted interval or union it describes (Math-Verify); a predicted inequality against a reference interval
//   does not (Math-Verify's default, kept by NeMo-Skills).
// * Ratios: `a : b` is a/b (Math-Verify). Choice: a ratio of three or more parts is compared up to a common factor
//   (`3 : 4 : 5` is `6 : 8 : 10`), where Math-Verify divides left to right (`2 : 3 : 4` would be 1/6).
// * Odd roots: `x^{1/3}` and `(-8)^{1/3}` are real roots like `\sqrt[3]{x}` (latex.ts); sympy, under Math-Verify,
//   takes the principal complex root of a negative number. Sums and products compare bound by bound and term by term.
// * Sets and lists: an unbracketed list (`1, 2` or `1; 2`) and a set `\{...\}` are unordered, as in Math-Verify and
//   math_equal, and repeated items count once (a set: `15\frac{39}{40}, \frac{639}{40}` is one answer); against a
//   tuple `(1, 2)` an unbracketed list is read in order, whichever side has the tuple (choice: Math-Verify sorts
//   both). Adjacent boxed answers form a list (extract.ts).
// * Decimal comma: `1,22`, `1000,99` and `0,111` also read as 1.22, 1000.99 and 0.111 (Math-Verify); `1,000` reads as
//   one thousand or the list 1, 0 — both are tried; `32, 349` (with a space) is only a list.
// * Percent: `28\%` matches 28 and 0.28; a reference 0.28 does not match 28 (Math-Verify).
import { normalizeAnswer } from './normalize';
import { firstUnclosedGroup, matchBraces } from './latex-scan';
import { latexToMath } from './latex';
import { safeParse, evaluateConstant, closeComplex, symbolicallyEqual, bigConstantsClose, proportionalRatio } from './math-eval';
import { parseRational, ratEq, rat, add, type Rational } from './rational';

export interface EquivalenceOptions {
  /** Relative tolerance when either side is a decimal literal (an approximate value). Default 1e-4. */
  decimalRelTol?: number;
  /** Relative tolerance for exact forms evaluated in floating point (surds, π, powers). Default 1e-9. */
  exactRelTol?: number;
  /** Wall-clock budget for one comparison, in ms. Default 2000. */
  timeBudgetMs?: number;
}

type Shape =
  | { kind: 'scalar'; text: string }
  | { kind: 'tuple'; open: string; close: string; items: Shape[] }
  | { kind: 'list'; items: Shape[] }
  | { kind: 'matrix'; rows: Shape[][] }
  | { kind: 'eq'; lhs: string; rhs: Shape; chain?: boolean }
  | { kind: 'rel'; op: RelOp; lhs: string; rhs: string }
  | { kind: 'ratio'; items: string[] };

type RelOp = '<' | '<=' | '>' | '>=' | '!=';

const MAX_INPUT = 3000;
const MAX_ITEMS = 64;

class Budget {
  private readonly until: number;
  constructor(ms: number) {
    this.until = Date.now() + ms;
  }
  check(): void {
    if (Date.now() > this.until) throw new Error('verifier time budget exceeded');
  }
}

/** Splits at top-level occurrences of `sep` (a literal), ignoring those inside (), [], {} or \{ \}. */
function splitTop(s: string, sep: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    if (ch === '\\') {
      if (s.startsWith(sep, i) && depth === 0) {
        parts.push(s.slice(start, i));
        start = i + sep.length;
        i += sep.length - 1;
        continue;
      }
      i++;
      if (s[i] === '{') depth++;
      else if (s[i] === '}') depth--;
      continue;
    }
    if ('([{'.includes(ch)) depth++;
    else if (')]}'.includes(ch)) depth--;
    else if (depth === 0 && s.startsWith(sep, i)) {
      parts.push(s.slice(start, i));
      start = i + sep.length;
      i += sep.length - 1;
    }
  }
  parts.push(s.slice(start));
  return parts.map((p) => p.trim());
}

/** True when the bracket at 0 closes exactly at the end of `s`. */
function outerBracketsWrapAll(s: string): boolean {
  let depth = 0;
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    if (ch === '\\') {
      i++;
      continue;
    }
    if ('([{'.includes(ch)) depth++;
    else if (')]}'.includes(ch)) {
      depth--;
      if (depth === 0 && i < s.length - 1) return false;
    }
  }
  return depth === 0;
}

const SIMPLE_LHS = /^(?:[a-zA-Z](?:_\{?[a-zA-Z0-9]+\}?)?|\\[a-zA-Z]+|[a-zA-Z]\s*\([a-zA-Z]\))$/;

/**
 * Whether the left side of an equation only names what the right side gives, so that `name = value` matches `value`:
 * a variable (`x`, `x_1`, `\alpha`, `f(x)`), a segment or figure named by its points (`AB`, `PQR`), its length or
 * vector (`|PQ|`, `\overline{AB}`, `\vec{v}`), an angle (`\angle ABC`), a tuple of variables (`(a, b)`,
 * `(p, q, r)`) or a ratio of names (`S_1 : S_2`, `V_1/V_2`). Anything that computes with its names (`2x`, `x+y`,
 * `a^2`) is not a name: stripping it would change the value. (Math-Verify strips any left side made of symbols alone,
 * `x+y = 5` included; the kit keeps that one an equation.)
 */
function isName(lhs: string, depth = 0): boolean {
  const t = compact(lhs);
  if (t.length === 0 || t.length > 80 || depth > 2) return false;
  if (SIMPLE_LHS.test(t) || /^[a-zA-Z](?:_\{?[a-zA-Z0-9]+\}?)?'+$/.test(t) || /^[A-Z]{2,4}$/.test(t)) return true;
  if (/^\\angle[A-Z]{1,3}$/.test(t) || /^\\angle\{?[A-Z]{1,3}\}?$/.test(t)) return true;
  const wrapped = /^\|(.+)\|$/.exec(t) ?? /^\\(?:overline|vec|overrightarrow|widehat|overarc)\{(.+)\}$/.exec(t);
  if (wrapped) return /^[A-Z]{1,4}$/.test(wrapped[1]) || SIMPLE_LHS.test(wrapped[1]);
  if (t.startsWith('(') && t.endsWith(')') && outerBracketsWrapAll(t)) {
    const parts = splitTop(t.slice(1, -1), ',');
    return parts.length > 1 && parts.every((q) => SIMPLE_LHS.test(q) || /^[A-Z]{2,4}$/.test(q));
  }
  for (const sep of [':', '/']) {
    const parts = splitTop(t, sep);
    if (parts.length > 1) return parts.every((q) => q !== '' && isName(q, depth + 1) && splitTop(q, sep).length === 1);
  }
  return false;
}

/** Top-level relation operators of `s` (outside brackets) and the members between them; null when there are none. */
function splitRelations(s: string): { ops: RelOp[]; members: string[] } | null {
  const ops: RelOp[] = [];
  const members: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    if (ch === '\\') {
      i++;
      continue;
    }
    if ('([{'.includes(ch)) depth++;
    else if (')]}'.includes(ch)) depth--;
    // `!=` after a digit or `)` is a factorial followed by `=` (`5!=120`), not "not equal".
    else if (depth === 0 && (ch === '<' || ch === '>' || (ch === '!' && s[i + 1] === '=' && !/[\d)]/.test(s[i - 1] ?? '')))) {
      const op = (s[i + 1] === '=' ? `${ch}=` : ch) as RelOp;
      members.push(s.slice(start, i).trim());
      ops.push(op);
      i += op.length - 1;
      start = i + 1;
    }
  }
  if (ops.length === 0) return null;
  members.push(s.slice(start).trim());
  return members.every((m) => m !== '') ? { ops, members } : null;
}

/** Splits at top-level commas, or at top-level semicolons when there are no commas (`1; 2; 3`, `(1; 2)`). */
function splitItems(s: string): string[] {
  const commas = splitTop(s, ',');
  return commas.length > 1 ? commas : splitTop(s, ';');
}

/** List items, with `\pm` items and nested unbracketed lists flattened into the list. */
function listItems(parts: string[], depth: number): Shape[] {
  const out: Shape[] = [];
  for (const part of parts.slice(0, MAX_ITEMS)) {
    const sh = parseShape(part, depth + 1);
    if (sh.kind === 'list') out.push(...sh.items);
    else out.push(sh);
  }
  return out;
}

function parseShape(s: string, depth = 0): Shape {
  s = s.trim();
  if (depth > 8) return { kind: 'scalar', text: s };
  // `[\begin{array}{cc} … \end{array}]` (from `\left[ … \right]`) is the array's matrix.
  const bracketed = /^[[(]\s*(\\begin\{array\}[\s\S]*\\end\{array\})\s*[\])]$/.exec(s);
  if (bracketed && !bracketed[1].slice(1).includes('\\begin{array}')) s = bracketed[1];
  const mat = /^\\begin\{([pbBvV]?matrix|array)\}(?:\{[^}]*\})?([\s\S]*)\\end\{\1\}$/.exec(s);
  // One matrix, not `\begin{pmatrix}…\end{pmatrix} \begin{pmatrix}…\end{pmatrix} = …` (a product and its result).
  if (mat && !mat[2].includes(`\\end{${mat[1]}}`)) {
    const cells = mat[2]
      .split(/\\\\/)
      .map((r) => r.trim())
      .filter((r) => r.length > 0)
      .map((r) => r.split('&').map((c) => c.trim()));
    // `vmatrix` is a determinant, as in Math-Verify: a number, not a matrix; `Vmatrix` (a norm) is left as written.
    if (mat[1] === 'vmatrix') return { kind: 'scalar', text: determinant(cells) ?? s };
    if (mat[1] === 'Vmatrix') return { kind: 'scalar', text: s };
    return { kind: 'matrix', rows: cells.map((r) => r.map((c) => parseShape(c, depth + 1))) };
  }
  const unions = splitTop(s, '\\cup');
  if (unions.length > 1) return { kind: 'list', items: unions.map((u) => parseShape(u, depth + 1)) };
  // `x \in [a, b]`, `(m, n) \in \{(1, 1), (3, 2)\}`: a name's value is the set (Math-Verify reads \in as =).
  const inSet = s.includes('\\in') ? /^([^=<>]{1,80}?)\s*\\in(?![a-zA-Z])\s*([\s\S]+)$/.exec(s) : null;
  if (inSet && isName(inSet[1])) return { kind: 'eq', lhs: compact(inSet[1]), rhs: parseShape(inSet[2], depth + 1) };
  const items = splitItems(s);
  if (items.length > 1) {
    if (items.some((c) => c === '')) return { kind: 'scalar', text: s };
    return { kind: 'list', items: listItems(items, depth) };
  }
  if (s.startsWith('\\{') && s.endsWith('\\}')) {
    return { kind: 'list', items: listItems(splitItems(s.slice(2, -2)), depth) };
  }
  if ((s[0] === '(' || s[0] === '[') && (s.endsWith(')') || s.endsWith(']')) && outerBracketsWrapAll(s)) {
    const inner = splitItems(s.slice(1, -1));
    if (inner.length > 1) return { kind: 'tuple', open: s[0], close: s[s.length - 1], items: inner.map((c) => parseShape(c, depth + 1)) };
  }
  // Relations: `x >= 5`; a chain `a < b < c` is compared as written.
  const rel = splitRelations(s);
  if (rel) {
    if (rel.ops.length === 1) return { kind: 'rel', op: rel.ops[0], lhs: rel.members[0], rhs: rel.members[1] };
    return { kind: 'scalar', text: s };
  }
  // `x = 3`; a chain `x = 5+5+1 = 11` keeps its first variable and its last member.
  const eqs = splitTop(s, '=');
  if (eqs.length >= 2 && eqs.every((e) => e !== '')) {
    let lhs = eqs[0];
    if (eqs.length > 2 && !isName(lhs)) {
      const simple = eqs
        .slice(1, -1)
        .reverse()
        .find((e) => isName(e));
      if (simple) lhs = simple;
    }
    return { kind: 'eq', lhs: compact(lhs), rhs: parseShape(eqs[eqs.length - 1], depth + 1), chain: eqs.length > 2 };
  }
  // A ratio `5 : 9` or `3 : 4 : 5` (`:` read as division, as in Math-Verify, for two parts).
  const ratio = s.includes(':') ? splitTop(s, ':') : [s];
  if (ratio.length >= 2 && ratio.length <= MAX_ITEMS && ratio.every((r) => r !== '')) return { kind: 'ratio', items: ratio };
  const pm = s.split(/\\pm(?![a-zA-Z])/);
  if (pm.length === 2) {
    return {
      kind: 'list',
      items: [
        { kind: 'scalar', text: `${pm[0]}+${pm[1]}` },
        { kind: 'scalar', text: `${pm[0]}-${pm[1]}` },
      ],
    };
  }
  return { kind: 'scalar', text: s };
}

/** The determinant of a square matrix of LaTeX entries (1×1 to 3×3) as a LaTeX expression; null otherwise. */
function determinant(m: string[][]): string | null {
  const n = m.length;
  if (n < 1 || n > 3 || m.some((r) => r.length !== n || r.some((c) => c === ''))) return null;
  const e = (r: number, c: number) => `(${m[r][c]})`;
  if (n === 1) return e(0, 0);
  if (n === 2) return `${e(0, 0)}${e(1, 1)}-${e(0, 1)}${e(1, 0)}`;
  const terms = [0, 1, 2].map((c) => `${e(0, c)}${e(1, (c + 1) % 3)}${e(2, (c + 2) % 3)}-${e(0, c)}${e(1, (c + 2) % 3)}${e(2, (c + 1) % 3)}`);
  return terms.map((t) => `(${t})`).join('+');
}

/** A short, readable form of a parsed answer, for `introllm verify` output: `(1, 2)`, `{1, 2}`, `x = 3`, `x < 1`. */
export function describeShape(sh: Shape): string {
  switch (sh.kind) {
    case 'scalar':
      return compact(sh.text);
    case 'tuple':
      return `${sh.open}${sh.items.map(describeShape).join(', ')}${sh.close}`;
    case 'list':
      return `{${sh.items.map(describeShape).join(', ')}}`;
    case 'matrix':
      return `[${sh.rows.map((r) => `[${r.map(describeShape).join(', ')}]`).join(', ')}]`;
    case 'eq':
      return `${sh.lhs} = ${describeShape(sh.rhs)}`;
    case 'rel':
      return `${compact(sh.lhs)} ${sh.op} ${compact(sh.rhs)}`;
    case 'ratio':
      return sh.items.map(compact).join(' : ');
  }
}

const compact = (s: string): string => s.replace(/\s+/g, '');

/** An exact rational for integer/decimal/fraction literals, `\frac{a}{b}`, `-\frac ab` and mixed numbers `1\frac{4}{5}`. */
function exactValue(s: string): Rational | null {
  const t = compact(s);
  const direct = parseRational(t);
  if (direct) return direct;
  const frac = /^([+-]?)\\frac\{?([+-]?\d+)\}?\{?([+-]?\d+)\}?$/.exec(t);
  if (frac && /^\\frac(\{[^{}]*\}|\d)(\{[^{}]*\}|\d)$/.test(t.replace(/^[+-]/, ''))) {
    const r = parseRational(`${frac[2]}/${frac[3]}`);
    return r && frac[1] === '-' ? rat(-r.n, r.d) : r;
  }
  const mixed = /^([+-]?)(\d+)\\frac\{(\d+)\}\{(\d+)\}$/.exec(t);
  if (mixed && mixed[4] !== '0') {
    const v = add(rat(BigInt(mixed[2])), rat(BigInt(mixed[3]), BigInt(mixed[4])));
    return mixed[1] === '-' ? rat(-v.n, v.d) : v;
  }
  return null;
}

const hasDecimal = (s: string): boolean => /\d\.\d|(?:^|[^\d])\.\d|\d[eE][+-]?\d/.test(s);
const wordOnly = (s: string): boolean => /^[\sA-Za-z()'.]*[A-Za-z][\sA-Za-z()'.]*$/.test(s);

/** The comparison state: options, the time budget, and the rule that decided (for `reason`). */
interface Ctx {
  opts: Required<EquivalenceOptions>;
  budget: Budget;
  reason: string;
}

function scalarEqual(p: string, g: string, ctx: Ctx): boolean {
  const { opts, budget } = ctx;
  budget.check();
  if (compact(p) === compact(g)) {
    ctx.reason = 'same text';
    return true;
  }
  const ep = exactValue(p);
  const eg = exactValue(g);
  if (ep && eg) {
    if (ratEq(ep, eg)) {
      ctx.reason = 'equal rationals';
      return true;
    }
    if (!hasDecimal(p) && !hasDecimal(g)) return false;
  }
  // Chains of inequalities (`n <= k <= \lceil 3n/2 \rceil`): the same relations between equal members, in either
  // direction (Math-Verify compares a chain relation by relation).
  const cp = /[<>]/.test(p) ? splitRelations(p) : null;
  const cg = cp && cp.ops.length > 1 ? splitRelations(g) : null;
  if (cp && cg && cg.ops.length === cp.ops.length) {
    const flip = (op: RelOp): RelOp => (({ '<': '>', '<=': '>=', '>': '<', '>=': '<=', '!=': '!=' }) as const)[op];
    const forward = cp.ops.every((op, k) => op === cg.ops[k]);
    const backward = cp.ops.every((op, k) => flip(op) === cg.ops[cg.ops.length - 1 - k]);
    const members = backward && !forward ? [...cp.members].reverse() : cp.members;
    const same = (forward || backward) && members.every((m, k) => scalarEqual(m, cg.members[k], ctx));
    if (same) ctx.reason = 'same chain of relations, member by member';
    return same;
  }
  // Sums and products with symbolic bounds: the same bounds and equal summands (`\sum_{k=1}^{n} k \cdot 2` is
  // `\sum_{i=1}^{n} 2i`), which Math-Verify settles symbolically and sampling cannot.
  const bp = p.includes('\\sum') || p.includes('\\prod') ? bigOperator(p) : null;
  const bg = g.includes('\\sum') || g.includes('\\prod') ? bigOperator(g) : null;
  if (bp || bg) {
    const same = bigOperatorsEqual(bp, bg, ctx);
    if (same) ctx.reason = `same ${bg!.op === 'sum' ? 'sum' : 'product'}: equal bounds and equal terms`;
    return same;
  }
  // Words (days, names, phrases): case and punctuation do not matter.
  const words = (t: string) => wordOnly(t) && /[A-Za-z]{3,}/.test(t);
  if (words(p) && words(g)) {
    const same = p.replace(/[^A-Za-z]/g, '').toLowerCase() === g.replace(/[^A-Za-z]/g, '').toLowerCase();
    if (same) ctx.reason = 'same words';
    return same;
  }
  const mp = latexToMath(p);
  const mg = latexToMath(g);
  if (mp !== null && mg !== null) {
    const pp = safeParse(mp);
    const pg = safeParse(mg);
    if (pp && pg) {
      const tol = hasDecimal(p) || hasDecimal(g) ? opts.decimalRelTol : opts.exactRelTol;
      if (pp.free.length === 0 && pg.free.length === 0) {
        const big = bigConstantsClose(pp, pg, tol);
        if (big !== null) {
          if (big) ctx.reason = `equal values (relative tolerance ${tol})`;
          return big;
        }
        const vp = evaluateConstant(pp);
        const vg = evaluateConstant(pg);
        if (vp && vg && closeComplex(vp, vg, tol)) {
          ctx.reason = `equal values (relative tolerance ${tol})`;
          return true;
        }
        if (vp && vg) return false;
      } else {
        budget.check();
        const same = symbolicallyEqual(pp, pg, Math.max(tol, 1e-6));
        if (same) ctx.reason = 'equal expressions at random points';
        return same;
      }
    }
  }
  // Words: multiple-choice letters, days, names. Case and parentheses do not matter.
  if (wordOnly(p) && wordOnly(g)) {
    const same = p.replace(/[^A-Za-z]/g, '').toLowerCase() === g.replace(/[^A-Za-z]/g, '').toLowerCase();
    if (same) ctx.reason = 'same words';
    return same;
  }
  return false;
}

interface BigOperator {
  op: 'sum' | 'prod';
  index: string;
  lo: string;
  hi: string;
  body: string;
}

/** `\sum_{k=a}^{b} body` or `\prod_{k=a}^{b} body` (the bounds in either order, braced or one token); null otherwise. */
function bigOperator(text: string): BigOperator | null {
  const t = text.trim();
  const m = /^\\(sum|prod)(?![a-zA-Z])\s*(?:\\limits\s*)?/.exec(t);
  if (!m) return null;
  let i = m[0].length;
  let sub: string | null = null;
  let sup: string | null = null;
  for (let k = 0; k < 2; k++) {
    const mark = t[i];
    if (mark !== '_' && mark !== '^') break;
    i++;
    while (t[i] === ' ') i++;
    let arg: string;
    if (t[i] === '{') {
      const g = matchBraces(t, i);
      if (!g) return null;
      arg = g.content;
      i = g.end;
    } else {
      if (i >= t.length) return null;
      arg = t[i];
      i++;
    }
    if (mark === '_') sub = arg;
    else sup = arg;
    while (t[i] === ' ') i++;
  }
  const lower = sub === null ? null : /^\s*([a-zA-Z])\s*=\s*(.+)$/.exec(sub);
  const body = t.slice(i).trim();
  if (!lower || sup === null || body === '') return null;
  return { op: m[1] as 'sum' | 'prod', index: lower[1], lo: lower[2].trim(), hi: sup.trim(), body };
}

/** Two sums (or products) with equal bounds whose terms are equal once the index is renamed; false for anything else. */
function bigOperatorsEqual(p: BigOperator | null, g: BigOperator | null, ctx: Ctx): boolean {
  if (!p || !g || p.op !== g.op || !scalarEqual(p.lo, g.lo, ctx) || !scalarEqual(p.hi, g.hi, ctx)) return false;
  let body = p.body;
  if (p.index !== g.index) {
    const other = new RegExp(`(?<![\\\\a-zA-Z])${g.index}(?![a-zA-Z])`);
    if (other.test(body)) return false;
    body = body.replace(new RegExp(`(?<![\\\\a-zA-Z])${p.index}(?![a-zA-Z])`, 'g'), g.index);
  }
  return scalarEqual(body, g.body, ctx);
}

/** Whether every item of `a` can be paired with an equivalent, distinct item of `b` (equal sizes). */
function multisetEqual(a: Shape[], b: Shape[], ctx: Ctx): boolean {
  if (a.length !== b.length) return false;
  const used = new Array<boolean>(b.length).fill(false);
  // Bipartite matching by augmenting paths (lists are short).
  const match = new Array<number>(b.length).fill(-1);
  const eq = a.map((x) => b.map((y) => shapeEqual(x, y, ctx)));
  const tryAssign = (i: number): boolean => {
    for (let j = 0; j < b.length; j++) {
      if (!eq[i][j] || used[j]) continue;
      used[j] = true;
      if (match[j] < 0 || tryAssign(match[j])) {
        match[j] = i;
        return true;
      }
    }
    return false;
  };
  for (let i = 0; i < a.length; i++) {
    used.fill(false);
    if (!tryAssign(i)) return false;
  }
  return true;
}

/** The mathjs form of `lhs − rhs` for an equation or relation; null when either side does not convert. */
function difference(lhs: string, rhs: string): ReturnType<typeof safeParse> {
  const l = latexToMath(lhs);
  const r = latexToMath(rhs);
  return l === null || r === null ? null : safeParse(`(${l})-(${r})`);
}

/** `a op b` with op in <, <=, != (a > b is b < a): the form two relations are compared in. */
function orient(r: Shape & { kind: 'rel' }): { op: RelOp; lo: string; hi: string } {
  if (r.op === '>' || r.op === '>=') return { op: r.op === '>' ? '<' : '<=', lo: r.rhs, hi: r.lhs };
  return { op: r.op, lo: r.lhs, hi: r.rhs };
}

function relationEqual(p: Shape & { kind: 'rel' }, g: Shape & { kind: 'rel' }, ctx: Ctx): boolean {
  const a = orient(p);
  const b = orient(g);
  if (a.op !== b.op) return false;
  if (compact(a.lo) === compact(b.lo) && compact(a.hi) === compact(b.hi)) {
    ctx.reason = 'same relation';
    return true;
  }
  if (a.op === '!=' && compact(a.lo) === compact(b.hi) && compact(a.hi) === compact(b.lo)) {
    ctx.reason = 'same relation';
    return true;
  }
  // hi − lo must be a positive multiple of the other's (any non-zero multiple for !=): `-x > -1` is `x < 1`.
  const da = difference(a.hi, a.lo);
  const db = difference(b.hi, b.lo);
  if (!da || !db) return false;
  const c = proportionalRatio(da, db);
  const same = c !== null && (a.op === '!=' || c > 0);
  if (same) ctx.reason = 'same relation (sides rearranged or scaled)';
  return same;
}

function shapeEqual(p: Shape, g: Shape, ctx: Ctx): boolean {
  ctx.budget.check();
  // A reference inequality against a predicted interval or union (`0 < y < 2` and `(0, 2)`): the reference is read as
  // the set it describes, as Math-Verify does. Not the other way round: against a reference interval a predicted
  // inequality is wrong (Math-Verify's default, which NeMo-Skills keeps).
  const pSet = p.kind === 'eq' && isName(p.lhs) ? p.rhs : p;
  if ((g.kind === 'rel' || (g.kind === 'scalar' && /[<>]/.test(g.text))) && (pSet.kind === 'tuple' || pSet.kind === 'list')) {
    const gi = relationIntervals(g);
    const pi = shapeIntervals(pSet);
    if (gi === null || pi === null) return false;
    const same = intervalsEqual(pi, gi, ctx);
    if (same) ctx.reason = 'the reference inequality describes the predicted interval(s)';
    return same;
  }
  if (p.kind === 'rel' || g.kind === 'rel') return p.kind === 'rel' && g.kind === 'rel' && relationEqual(p, g, ctx);
  // Equations: `x = 3` matches `3`; two equations with simple left sides need the same left side.
  if (g.kind === 'eq' && p.kind === 'eq') {
    if (compact(g.lhs) === compact(p.lhs)) return shapeEqual(p.rhs, g.rhs, ctx);
    if (isName(g.lhs) && isName(p.lhs)) return false;
    // General equations: lhs − rhs proportional (`2x+4y-3=0` is `y=-x/2+3/4`).
    if (p.rhs.kind !== 'scalar' || g.rhs.kind !== 'scalar') return false;
    const dp = difference(p.lhs, p.rhs.text);
    const dg = difference(g.lhs, g.rhs.text);
    if (!dp || !dg) return false;
    const same = proportionalRatio(dp, dg) !== null;
    if (same) ctx.reason = 'same equation (sides rearranged or scaled)';
    return same;
  }
  if (g.kind === 'eq') {
    if (!isName(g.lhs)) return false;
    const same = shapeEqual(p, g.rhs, ctx);
    if (same) ctx.reason = `reference label ${g.lhs} = …: ${ctx.reason}`;
    return same;
  }
  // A prediction `x = 3` or a worked chain `8 \cdot 6 \cdot 2 = 96` against a plain reference: its last member counts.
  if (p.kind === 'eq') {
    const same = shapeEqual(p.rhs, g, ctx);
    if (same) ctx.reason = `right side of ${p.lhs} = …: ${ctx.reason}`;
    return same;
  }
  if (p.kind === 'scalar' && g.kind === 'scalar') return scalarEqual(p.text, g.text, ctx);
  if (p.kind === 'ratio' || g.kind === 'ratio') return ratioEqual(p, g, ctx);
  if (p.kind === 'list' && g.kind === 'list') {
    // Lists are sets, as in Math-Verify: `A, or A'` written twice in two forms is one answer.
    const [a, b] = p.items.length === g.items.length ? [p.items, g.items] : [distinct(p.items, ctx), distinct(g.items, ctx)];
    const same = multisetEqual(a, b, ctx);
    if (same) ctx.reason = 'same elements in any order (set / list)';
    return same;
  }
  if (p.kind === 'tuple' && g.kind === 'tuple') {
    const same = p.open === g.open && p.close === g.close && p.items.length === g.items.length && p.items.every((x, k) => shapeEqual(x, g.items[k], ctx));
    if (same) ctx.reason = `same ${p.open}${p.close} tuple or interval, element by element`;
    return same;
  }
  // A tuple written without its parentheses: `3, 4` for `(3, 4)`, in order, on either side (`(x, y, z) = (1, 2, 3)`
  // against `1, 2, 3`; Math-Verify compares such a pair after sorting both, the kit in the order written).
  const [tp, lp] = g.kind === 'tuple' && p.kind === 'list' ? [g, p] : p.kind === 'tuple' && g.kind === 'list' ? [p, g] : [null, null];
  if (tp && lp && tp.open === '(' && tp.close === ')') {
    const same =
      lp.items.length === tp.items.length && lp.items.every((x, k) => (tp === g ? shapeEqual(x, tp.items[k], ctx) : shapeEqual(tp.items[k], x, ctx)));
    if (same) ctx.reason = 'a tuple written without parentheses, in order';
    return same;
  }
  // A one-element list is its element; so is a list of one answer written in several equal forms.
  if (g.kind === 'list' && g.items.length === 1) return shapeEqual(p, g.items[0], ctx);
  if (p.kind === 'list' && p.items.length === 1) return shapeEqual(p.items[0], g, ctx);
  if (g.kind === 'list' && p.kind !== 'tuple') {
    const d = distinct(g.items, ctx);
    if (d.length === 1) return shapeEqual(p, d[0], ctx);
  }
  if (p.kind === 'list' && g.kind !== 'tuple') {
    const d = distinct(p.items, ctx);
    if (d.length === 1) return shapeEqual(d[0], g, ctx);
  }
  if (p.kind === 'matrix' && g.kind === 'matrix') {
    const same =
      p.rows.length === g.rows.length &&
      p.rows.every((row, r) => row.length === g.rows[r].length && row.every((cell, c) => shapeEqual(cell, g.rows[r][c], ctx)));
    if (same) ctx.reason = 'same matrix, entry by entry';
    return same;
  }
  // A column or row vector written as a tuple.
  const asVector = (m: Shape & { kind: 'matrix' }): Shape[] | null =>
    m.rows.every((r) => r.length === 1) ? m.rows.map((r) => r[0]) : m.rows.length === 1 ? m.rows[0] : null;
  let vp: Shape[] | null = null;
  let vg: Shape[] | null = null;
  if (g.kind === 'matrix' && p.kind === 'tuple') {
    vg = asVector(g);
    vp = p.items;
  }
  if (p.kind === 'matrix' && g.kind === 'tuple') {
    vp = asVector(p);
    vg = g.items;
  }
  if (vp && vg) {
    const same = vp.length === vg.length && vp.every((x, k) => shapeEqual(x, vg![k], ctx));
    if (same) ctx.reason = 'a vector written as a tuple, entry by entry';
    return same;
  }
  return false;
}

/** The items of a list with repeats (equivalent items) removed; lists longer than 16 items are kept as they are. */
function distinct(items: Shape[], ctx: Ctx): Shape[] {
  if (items.length > 16) return items;
  const out: Shape[] = [];
  const reason = ctx.reason;
  for (const it of items) if (!out.some((o) => shapeEqual(it, o, ctx))) out.push(it);
  ctx.reason = reason;
  return out;
}

/**
 * Ratios: `a : b` is a/b (Math-Verify reads `:` as division), so `5 : 9`, `10 : 18` and `\frac{5}{9}` are equal and
 * `9 : 5` is not. A ratio of three or more parts is compared part by part up to a common factor (`3 : 4 : 5` is
 * `6 : 8 : 10`); Math-Verify divides left to right, which would make `2 : 3 : 4` equal to `1 : 6`, and the kit does
 * not follow it there. A ratio of several parts is never a single number.
 */
function ratioEqual(p: Shape, g: Shape, ctx: Ctx): boolean {
  const parts = (sh: Shape): string[] | null => (sh.kind === 'ratio' ? sh.items : sh.kind === 'scalar' ? [sh.text] : null);
  const a = parts(p);
  const b = parts(g);
  if (a === null || b === null) return false;
  const quotients = (xs: string[]): string[] => (xs.length === 1 ? xs : xs.slice(1).map((x) => `\\frac{${xs[0]}}{${x}}`));
  const qa = quotients(a);
  const qb = quotients(b);
  if (qa.length !== qb.length || (a.length > 2 && a.length !== b.length)) return false;
  const same = qa.every((x, k) => scalarEqual(x, qb[k], ctx));
  if (same) ctx.reason = 'equal ratios';
  return same;
}

/** An interval of the real line; the ends are LaTeX (`-\infty` and `\infty` for unbounded ends). */
interface Interval {
  lo: string;
  hi: string;
  loOpen: boolean;
  hiOpen: boolean;
}

const VARIABLE = /^(?:[a-zA-Z](?:_\{?[a-zA-Z0-9]+\}?)?|\\(?:alpha|beta|gamma|theta|lambda|mu|phi|varphi|omega|sigma|tau|rho)(?![a-zA-Z]))$/;

/** The value of a constant LaTeX expression as a float, or null when it has free symbols or does not convert. */
function constantValue(t: string): number | null {
  const m = latexToMath(t);
  const parsed = m === null ? null : safeParse(m);
  if (!parsed || parsed.free.length > 0) return null;
  const v = evaluateConstant(parsed);
  return v && v.im === 0 && Number.isFinite(v.re) ? v.re : null;
}

/**
 * The set an inequality in one variable describes, as intervals: `x < 3`, `3 >= x`, `-1 <= x <= 4`, `x != 2`,
 * `|t| < 2`, `1 <= |t| <= 2` (two intervals). Null for anything else (two variables, non-constant bounds).
 */
function relationIntervals(g: Shape): Interval[] | null {
  const text = g.kind === 'rel' ? `${g.lhs}${g.op}${g.rhs}` : g.kind === 'scalar' ? g.text : null;
  const rel = text === null ? null : splitRelations(text);
  if (rel === null || rel.ops.length > 2) return null;
  let ops: RelOp[] = [...rel.ops];
  let members = rel.members.map(compact);
  const flip = (op: RelOp): RelOp => (({ '<': '>', '<=': '>=', '>': '<', '>=': '<=', '!=': '!=' }) as const)[op];
  const neg = (t: string): string => (t === '\\infty' ? '-\\infty' : `-(${t})`);
  const varOf = (m: string): { abs: boolean } | null =>
    VARIABLE.test(m) ? { abs: false } : /^\|(.+)\|$/.test(m) && VARIABLE.test(m.slice(1, -1)) ? { abs: true } : null;
  const isConst = (m: string): boolean => constantValue(m) !== null;
  if (ops.length === 1) {
    // `c op x` is `x flip(op) c`.
    if (varOf(members[1]) && isConst(members[0]) && !varOf(members[0])) {
      members = [members[1], members[0]];
      ops = [flip(ops[0])];
    }
    const v = varOf(members[0]);
    const c = members[1];
    if (!v || !isConst(c)) return null;
    const op = ops[0];
    const strict = op === '<' || op === '>' || op === '!=';
    if (!v.abs) {
      if (op === '!=')
        return [
          { lo: '-\\infty', hi: c, loOpen: true, hiOpen: true },
          { lo: c, hi: '\\infty', loOpen: true, hiOpen: true },
        ];
      return op === '<' || op === '<=' ? [{ lo: '-\\infty', hi: c, loOpen: true, hiOpen: strict }] : [{ lo: c, hi: '\\infty', loOpen: strict, hiOpen: true }];
    }
    if (op === '!=' || (constantValue(c) ?? 0) <= 0) return null;
    return op === '<' || op === '<='
      ? [{ lo: neg(c), hi: c, loOpen: strict, hiOpen: strict }]
      : [
          { lo: '-\\infty', hi: neg(c), loOpen: true, hiOpen: strict },
          { lo: c, hi: '\\infty', loOpen: strict, hiOpen: true },
        ];
  }
  // `a op x op b` with both relations pointing the same way.
  const up = (op: RelOp) => op === '<' || op === '<=';
  const down = (op: RelOp) => op === '>' || op === '>=';
  if (down(ops[0]) && down(ops[1])) {
    members = [...members].reverse();
    ops = [flip(ops[1]), flip(ops[0])];
  } else if (!(up(ops[0]) && up(ops[1]))) return null;
  const v = varOf(members[1]);
  const [lo, hi] = [members[0], members[2]];
  if (!v || !isConst(lo) || !isConst(hi) || varOf(lo) || varOf(hi)) return null;
  const [loOpen, hiOpen] = [ops[0] === '<', ops[1] === '<'];
  if (!v.abs) return [{ lo, hi, loOpen, hiOpen }];
  const low = constantValue(lo)!;
  if (low < 0 || (low === 0 && !loOpen)) return [{ lo: neg(hi), hi, loOpen: hiOpen, hiOpen }];
  return [
    { lo: neg(hi), hi: neg(lo), loOpen: hiOpen, hiOpen: loOpen },
    { lo, hi, loOpen, hiOpen },
  ];
}

/** A predicted interval `(a, b)`, `[a, b)`, … or a union (list) of them; null for anything else. */
function shapeIntervals(p: Shape): Interval[] | null {
  const one = (sh: Shape): Interval | null =>
    sh.kind === 'tuple' && sh.items.length === 2 && sh.items.every((x) => x.kind === 'scalar')
      ? {
          lo: compact((sh.items[0] as { text: string }).text),
          hi: compact((sh.items[1] as { text: string }).text),
          loOpen: sh.open === '(',
          hiOpen: sh.close === ')',
        }
      : null;
  if (p.kind === 'tuple') {
    const iv = one(p);
    return iv ? [iv] : null;
  }
  if (p.kind !== 'list' || p.items.length > 8) return null;
  const ivs = p.items.map(one);
  return ivs.every((x) => x !== null) ? (ivs as Interval[]) : null;
}

/** Whether two unions of intervals have the same intervals (same ends and the same open or closed ends), in any order. */
function intervalsEqual(a: Interval[], b: Interval[], ctx: Ctx): boolean {
  if (a.length !== b.length) return false;
  const end = (x: string, y: string) => compact(x).replace(/^\+/, '') === compact(y).replace(/^\+/, '') || scalarEqual(x, y, ctx);
  const used = new Array<boolean>(b.length).fill(false);
  return a.every((x) => {
    const k = b.findIndex((y, j) => !used[j] && x.loOpen === y.loOpen && x.hiOpen === y.hiOpen && end(x.lo, y.lo) && end(x.hi, y.hi));
    if (k < 0) return false;
    used[k] = true;
    return true;
  });
}

const DEFAULTS: Required<EquivalenceOptions> = { decimalRelTol: 1e-4, exactRelTol: 1e-9, timeBudgetMs: 2000 };

interface Variant {
  shape: Shape;
  note: string;
}

/** The readings of a normalised answer to try: itself, value/100 with a percent sign, thousands and decimal commas. */
function variants(raw: string): Variant[] {
  const n = normalizeAnswer(raw);
  const out: Variant[] = [{ shape: parseShape(n.text), note: '' }];
  if (n.percent && n.text) out.push({ shape: { kind: 'scalar', text: `\\frac{${n.text}}{100}` }, note: 'percent read as /100' });
  // `1,000` is a list of two numbers or one thousand: try both (a leading zero cannot start a thousands group).
  if (/^[+-]?[1-9]\d{0,2},\d{3}$/.test(n.text)) out.push({ shape: { kind: 'scalar', text: n.text.replace(',', '') }, note: 'thousands comma' });
  // A decimal comma where the comma cannot separate thousands: `1,22`, `1000,99`, `0,111` (Math-Verify).
  else if (/^[+-]?\d+,\d+$/.test(n.text)) out.push({ shape: { kind: 'scalar', text: n.text.replace(',', '.') }, note: 'decimal comma' });
  return out;
}

/** A verdict on two final answers: whether they are equivalent, the rule that decided, and each side as parsed. */
export interface Judgement {
  equal: boolean;
  reason: string;
  predParsed: string | null;
  goldParsed: string | null;
}

/** Like isEquivalent, with the rule that decided and the parsed form of both sides. Never throws. */
export function judgeEquivalence(pred: unknown, gold: unknown, options: EquivalenceOptions = {}): Judgement {
  const no = (reason: string, predParsed: string | null = null, goldParsed: string | null = null): Judgement => ({
    equal: false,
    reason,
    predParsed,
    goldParsed,
  });
  if (typeof pred !== 'string' || pred.trim() === '') return no('no predicted answer');
  if (typeof gold !== 'string' || gold.trim() === '') return no('empty reference');
  const opts = { ...DEFAULTS, ...options };
  let predParsed: string | null = null;
  let goldParsed: string | null = null;
  try {
    if (pred.length > MAX_INPUT || gold.length > MAX_INPUT) {
      const same = compact(pred) === compact(gold);
      return {
        equal: same,
        reason: same ? 'same text (over-long input)' : `over-long input (> ${MAX_INPUT} characters), compared as text`,
        predParsed: null,
        goldParsed: null,
      };
    }
    // Malformed math in the final answer is wrong whatever it resembles (Math-Verify cannot parse it either).
    if (pred.includes('{') && firstUnclosedGroup(pred) >= 0) return no('the predicted answer is malformed LaTeX (a group that never closes)', pred.trim());
    const ctx: Ctx = { opts, budget: new Budget(opts.timeBudgetMs), reason: '' };
    // A reference may list alternatives joined by an upper-case OR (Omni-MATH).
    const alternatives = gold.split(/\s+OR\s+/).filter((g) => g.trim() !== '');
    const golds = alternatives.length > 0 ? alternatives : [gold];
    const preds = variants(pred);
    predParsed = describeShape(preds[0].shape);
    const goldForms: string[] = [];
    const goldKinds: string[] = [];
    for (const g of golds) {
      const gvs = variants(g);
      goldForms.push(describeShape(gvs[0].shape));
      goldKinds.push(gvs[0].shape.kind);
      for (const gv of gvs) {
        for (const pv of preds) {
          ctx.reason = '';
          if (shapeEqual(pv.shape, gv.shape, ctx)) {
            const notes = [pv.note && `prediction: ${pv.note}`, gv.note && `reference: ${gv.note}`].filter(Boolean);
            return { equal: true, reason: notes.length ? `${ctx.reason} (${notes.join('; ')})` : ctx.reason, predParsed, goldParsed: goldForms.join(' OR ') };
          }
        }
      }
    }
    goldParsed = goldForms.join(' OR ');
    return no(`not equivalent (${preds[0].shape.kind} vs ${goldKinds.join(' OR ')})`, predParsed, goldParsed);
  } catch (err) {
    const budget = err instanceof Error && /time budget/.test(err.message);
    return no(budget ? `time budget of ${opts.timeBudgetMs} ms exceeded` : 'comparison failed', predParsed, goldParsed);
  }
}

/** Whether `pred` is an equivalent final answer to `gold`. Never throws; non-strings are never equivalent. */
export function isEquivalent(pred: unknown, gold: unknown, options: EquivalenceOptions = {}): boolean {
  return judgeEquivalence(pred, gold, options).equal;
}

/** The normalised text of an answer, for display and for grouping votes (majority@k). Never throws. */
export function canonicalAnswer(answer: string): string {
  try {
    return compact(normalizeAnswer(answer).text);
  } catch {
    return answer;
  }
}
