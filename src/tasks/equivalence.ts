// Answer equivalence (the second half of the RLVR verifier): isEquivalent(pred, gold) decides whether a predicted
// final answer matches the reference. Both are normalised (normalize.ts), parsed into a small structure — scalar,
// ordered tuple or interval (brackets must match), unordered list (top-level commas, `\{...\}`, `\cup`, `\pm`),
// matrix, or equation — and compared: rationals exactly, other numbers with a relative tolerance (looser when a
// decimal is involved), expressions with free symbols at random points via mathjs. `A OR B` in a reference accepts
// either. Garbage is never an error: anything unparseable falls back to string comparison, and every path is guarded.
import { normalizeAnswer } from './normalize';
import { latexToMath } from './latex';
import { safeParse, evaluateConstant, closeComplex, symbolicallyEqual, bigConstantsClose } from './math-eval';
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
  | { kind: 'eq'; lhs: string; rhs: Shape; chain?: boolean };

const MAX_INPUT = 3000;
const MAX_ITEMS = 64;

class Budget {
  private readonly until: number;
  constructor(ms: number) { this.until = Date.now() + ms; }
  check(): void { if (Date.now() > this.until) throw new Error('verifier time budget exceeded'); }
}

/** Splits at top-level occurrences of `sep` (a literal), ignoring those inside (), [], {} or \{ \}. */
function splitTop(s: string, sep: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    if (ch === '\\') {
      if (s.startsWith(sep, i) && depth === 0) { parts.push(s.slice(start, i)); start = i + sep.length; i += sep.length - 1; continue; }
      i++;
      if (s[i] === '{') depth++;
      else if (s[i] === '}') depth--;
      continue;
    }
    if ('([{'.includes(ch)) depth++;
    else if (')]}'.includes(ch)) depth--;
    else if (depth === 0 && s.startsWith(sep, i)) { parts.push(s.slice(start, i)); start = i + sep.length; i += sep.length - 1; }
  }
  parts.push(s.slice(start));
  return parts.map((p) => p.trim());
}

/** True when the bracket at 0 closes exactly at the end of `s`. */
function outerBracketsWrapAll(s: string): boolean {
  let depth = 0;
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    if (ch === '\\') { i++; continue; }
    if ('([{'.includes(ch)) depth++;
    else if (')]}'.includes(ch)) {
      depth--;
      if (depth === 0 && i < s.length - 1) return false;
    }
  }
  return depth === 0;
}

const SIMPLE_LHS = /^(?:[a-zA-Z](?:_\{?[a-zA-Z0-9]+\}?)?|\\[a-zA-Z]+|[a-zA-Z]\s*\([a-zA-Z]\))$/;

function parseShape(s: string, depth = 0): Shape {
  s = s.trim();
  if (depth > 8) return { kind: 'scalar', text: s };
  const mat = /^\\begin\{([pbBvV]?matrix|array)\}(?:\{[^}]*\})?([\s\S]*)\\end\{\1\}$/.exec(s);
  if (mat) {
    const rows = mat[2].split(/\\\\/).map((r) => r.trim()).filter((r) => r.length > 0)
      .map((r) => r.split('&').map((c) => parseShape(c, depth + 1)));
    return { kind: 'matrix', rows };
  }
  const unions = splitTop(s, '\\cup');
  if (unions.length > 1) return { kind: 'list', items: unions.map((u) => parseShape(u, depth + 1)) };
  // `x \in [a, b]` and `x = ...` with a simple left side.
  const inSet = /^([a-zA-Z])\s*\\in\s*([\s\S]+)$/.exec(s);
  if (inSet) return { kind: 'eq', lhs: inSet[1], rhs: parseShape(inSet[2], depth + 1) };
  const commas = splitTop(s, ',');
  if (commas.length > 1) {
    if (commas.some((c) => c === '')) return { kind: 'scalar', text: s };
    return { kind: 'list', items: commas.slice(0, MAX_ITEMS).map((c) => parseShape(c, depth + 1)) };
  }
  if (s.startsWith('\\{') && s.endsWith('\\}')) {
    return { kind: 'list', items: splitTop(s.slice(2, -2), ',').map((c) => parseShape(c, depth + 1)) };
  }
  if ((s[0] === '(' || s[0] === '[') && (s.endsWith(')') || s.endsWith(']')) && outerBracketsWrapAll(s)) {
    const inner = splitTop(s.slice(1, -1), ',');
    if (inner.length > 1) return { kind: 'tuple', open: s[0], close: s[s.length - 1], items: inner.map((c) => parseShape(c, depth + 1)) };
  }
  // `x = 3`; a chain `a = b = c` keeps its first and last members.
  const eqs = splitTop(s, '=');
  if (eqs.length >= 2 && eqs.every((e) => e !== '')) {
    return { kind: 'eq', lhs: eqs[0].replace(/\s+/g, ''), rhs: parseShape(eqs[eqs.length - 1], depth + 1), chain: eqs.length > 2 };
  }
  const pm = s.split(/\\pm(?![a-zA-Z])/);
  if (pm.length === 2) {
    return { kind: 'list', items: [{ kind: 'scalar', text: `${pm[0]}+${pm[1]}` }, { kind: 'scalar', text: `${pm[0]}-${pm[1]}` }] };
  }
  return { kind: 'scalar', text: s };
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

function scalarEqual(p: string, g: string, opts: Required<EquivalenceOptions>, budget: Budget): boolean {
  budget.check();
  if (compact(p) === compact(g)) return true;
  const ep = exactValue(p);
  const eg = exactValue(g);
  if (ep && eg) {
    if (ratEq(ep, eg)) return true;
    if (!hasDecimal(p) && !hasDecimal(g)) return false;
  }
  // Words (days, names, phrases): case and punctuation do not matter.
  const words = (t: string) => wordOnly(t) && /[A-Za-z]{3,}/.test(t);
  if (words(p) && words(g)) return p.replace(/[^A-Za-z]/g, '').toLowerCase() === g.replace(/[^A-Za-z]/g, '').toLowerCase();
  const mp = latexToMath(p);
  const mg = latexToMath(g);
  if (mp !== null && mg !== null) {
    const pp = safeParse(mp);
    const pg = safeParse(mg);
    if (pp && pg) {
      const tol = hasDecimal(p) || hasDecimal(g) ? opts.decimalRelTol : opts.exactRelTol;
      if (pp.free.length === 0 && pg.free.length === 0) {
        const big = bigConstantsClose(pp, pg, tol);
        if (big !== null) return big;
        const vp = evaluateConstant(pp);
        const vg = evaluateConstant(pg);
        if (vp && vg && closeComplex(vp, vg, tol)) return true;
        if (vp && vg) return false;
      } else {
        budget.check();
        return symbolicallyEqual(pp, pg, Math.max(tol, 1e-6));
      }
    }
  }
  // Words: multiple-choice letters, days, names. Case and parentheses do not matter.
  if (wordOnly(p) && wordOnly(g)) return p.replace(/[^A-Za-z]/g, '').toLowerCase() === g.replace(/[^A-Za-z]/g, '').toLowerCase();
  return false;
}

/** Whether every item of `a` can be paired with an equivalent, distinct item of `b` (equal sizes). */
function multisetEqual(a: Shape[], b: Shape[], opts: Required<EquivalenceOptions>, budget: Budget): boolean {
  if (a.length !== b.length) return false;
  const used = new Array<boolean>(b.length).fill(false);
  // Bipartite matching by augmenting paths (lists are short).
  const match = new Array<number>(b.length).fill(-1);
  const eq = a.map((x) => b.map((y) => shapeEqual(x, y, opts, budget)));
  const tryAssign = (i: number): boolean => {
    for (let j = 0; j < b.length; j++) {
      if (!eq[i][j] || used[j]) continue;
      used[j] = true;
      if (match[j] < 0 || tryAssign(match[j])) { match[j] = i; return true; }
    }
    return false;
  };
  for (let i = 0; i < a.length; i++) {
    used.fill(false);
    if (!tryAssign(i)) return false;
  }
  return true;
}

function shapeEqual(p: Shape, g: Shape, opts: Required<EquivalenceOptions>, budget: Budget): boolean {
  budget.check();
  // Equations: `x = 3` matches `3`; two equations with simple left sides need the same left side.
  if (g.kind === 'eq' && p.kind === 'eq') {
    if (compact(g.lhs) === compact(p.lhs)) return shapeEqual(p.rhs, g.rhs, opts, budget);
    if (SIMPLE_LHS.test(g.lhs) && SIMPLE_LHS.test(p.lhs)) return false;
    // General equations: compare lhs − rhs up to sign.
    if (p.rhs.kind !== 'scalar' || g.rhs.kind !== 'scalar') return false;
    const dp = `${p.lhs}-(${p.rhs.text})`;
    return scalarEqual(dp, `${g.lhs}-(${g.rhs.text})`, opts, budget) || scalarEqual(dp, `(${g.rhs.text})-(${g.lhs})`, opts, budget);
  }
  if (g.kind === 'eq') return SIMPLE_LHS.test(g.lhs) && shapeEqual(p, g.rhs, opts, budget);
  // A prediction `x = 3` or a worked chain `8 \cdot 6 \cdot 2 = 96` against a plain reference: its last member counts.
  if (p.kind === 'eq') return shapeEqual(p.rhs, g, opts, budget);
  if (p.kind === 'scalar' && g.kind === 'scalar') return scalarEqual(p.text, g.text, opts, budget);
  if (p.kind === 'list' && g.kind === 'list') return multisetEqual(p.items, g.items, opts, budget);
  if (p.kind === 'tuple' && g.kind === 'tuple') {
    return p.open === g.open && p.close === g.close && p.items.length === g.items.length
      && p.items.every((x, k) => shapeEqual(x, g.items[k], opts, budget));
  }
  // A tuple written without its parentheses: `3, 4` for `(3, 4)`, in order.
  if (g.kind === 'tuple' && g.open === '(' && g.close === ')' && p.kind === 'list') {
    return p.items.length === g.items.length && p.items.every((x, k) => shapeEqual(x, g.items[k], opts, budget));
  }
  // A one-element list is its element.
  if (g.kind === 'list' && g.items.length === 1) return shapeEqual(p, g.items[0], opts, budget);
  if (p.kind === 'list' && p.items.length === 1) return shapeEqual(p.items[0], g, opts, budget);
  if (p.kind === 'matrix' && g.kind === 'matrix') {
    return p.rows.length === g.rows.length && p.rows.every((row, r) => row.length === g.rows[r].length
      && row.every((cell, c) => shapeEqual(cell, g.rows[r][c], opts, budget)));
  }
  // A column or row vector written as a tuple.
  const asVector = (m: Shape & { kind: 'matrix' }): Shape[] | null => (m.rows.every((r) => r.length === 1)
    ? m.rows.map((r) => r[0]) : m.rows.length === 1 ? m.rows[0] : null);
  if (g.kind === 'matrix' && p.kind === 'tuple') { const v = asVector(g); return !!v && v.length === p.items.length && v.every((x, k) => shapeEqual(p.items[k], x, opts, budget)); }
  if (p.kind === 'matrix' && g.kind === 'tuple') { const v = asVector(p); return !!v && v.length === g.items.length && v.every((x, k) => shapeEqual(x, g.items[k], opts, budget)); }
  return false;
}

const DEFAULTS: Required<EquivalenceOptions> = { decimalRelTol: 1e-4, exactRelTol: 1e-9, timeBudgetMs: 2000 };

/** The variants of a normalised answer to try: itself, and value/100 when it carried a percent sign. */
function variants(raw: string): Shape[] {
  const n = normalizeAnswer(raw);
  const out: Shape[] = [parseShape(n.text)];
  if (n.percent && n.text) out.push({ kind: 'scalar', text: `\\frac{${n.text}}{100}` });
  // `1,000` is a list of two numbers or one thousand: try both.
  if (/^[+-]?\d{1,3},\d{3}$/.test(n.text)) out.push({ kind: 'scalar', text: n.text.replace(',', '') });
  return out;
}

/** Whether `pred` is an equivalent final answer to `gold`. Never throws; non-strings are never equivalent. */
export function isEquivalent(pred: unknown, gold: unknown, options: EquivalenceOptions = {}): boolean {
  if (typeof pred !== 'string' || typeof gold !== 'string') return false;
  if (pred.trim() === '' || gold.trim() === '') return false;
  const opts = { ...DEFAULTS, ...options };
  try {
    if (pred.length > MAX_INPUT || gold.length > MAX_INPUT) return compact(pred) === compact(gold);
    const budget = new Budget(opts.timeBudgetMs);
    // A reference may list alternatives joined by an upper-case OR (Omni-MATH).
    const golds = gold.split(/\s+OR\s+/).filter((g) => g.trim() !== '');
    const preds = variants(pred);
    for (const g of golds) {
      for (const gv of variants(g)) {
        for (const pv of preds) if (shapeEqual(pv, gv, opts, budget)) return true;
      }
    }
    return false;
  } catch {
    return false;
  }
}

/** The normalised text of an answer, for display and for grouping votes (majority@k). Never throws. */
export function canonicalAnswer(answer: string): string {
  try {
    return compact(normalizeAnswer(answer).text);
  } catch {
    return answer;
  }
}
