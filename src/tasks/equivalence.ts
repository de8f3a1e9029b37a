// Answer equivalence (the second half of the RLVR verifier): isEquivalent(pred, gold) decides whether a predicted
// final answer matches the reference; judgeEquivalence also says which rule decided and how each side was parsed.
// Both are normalised (normalize.ts), parsed into a small structure — scalar, ordered tuple or interval (brackets must
// match), unordered list (top-level commas or semicolons, `\{...\}`, `\cup`, `\pm`), matrix, equation or relation
// (`<`, `<=`, `>`, `>=`, `!=`) — and compared: rationals exactly, other numbers with a relative tolerance (looser when a
// decimal is involved), expressions with free symbols at random points via mathjs. `A OR B` in a reference accepts
// either. Garbage is never an error: anything unparseable falls back to string comparison, and every path is guarded.
//
// Grader choices (Math-Verify is the anchor; NeMo-Skills' math_equal and lm-evaluation-harness next):
// * Equations: `k = 1/3` matches `1/3` when the left side is a single variable (Math-Verify); `7 = 11a+c` does not
//   match `11a+c`. A chain `x = 5+5+1 = 11` keeps its first variable and last member. Two equations are the same when
//   the differences of their sides are proportional (`2x+4y-3=0` is `y = -x/2 + 3/4`), as in Math-Verify.
// * Relations: flipped (`5 >= x` is `x <= 5`) and negated (`-x > -1` is `x < 1`) inequalities are the same relation;
//   strict and non-strict differ. A relation never matches a plain number or an interval.
// * Sets and lists: an unbracketed list (`1, 2` or `1; 2`) and a set `\{...\}` are unordered, as in Math-Verify and
//   math_equal; against a tuple `(1, 2)` an unbracketed list is read in order. Adjacent boxed answers form a list
//   (extract.ts).
// * Decimal comma: `1,22`, `1000,99` and `0,111` also read as 1.22, 1000.99 and 0.111 (Math-Verify); `1,000` reads as
//   one thousand or the list 1, 0 — both are tried; `32, 349` (with a space) is only a list.
// * Percent: `28\%` matches 28 and 0.28; a reference 0.28 does not match 28 (Math-Verify).
import { normalizeAnswer } from './normalize';
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
  | { kind: 'rel'; op: RelOp; lhs: string; rhs: string };

type RelOp = '<' | '<=' | '>' | '>=' | '!=';

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

/** Top-level relation operators of `s` (outside brackets) and the members between them; null when there are none. */
function splitRelations(s: string): { ops: RelOp[]; members: string[] } | null {
  const ops: RelOp[] = [];
  const members: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    if (ch === '\\') { i++; continue; }
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
    if (eqs.length > 2 && !SIMPLE_LHS.test(compact(lhs))) {
      const simple = eqs.slice(1, -1).reverse().find((e) => SIMPLE_LHS.test(compact(e)));
      if (simple) lhs = simple;
    }
    return { kind: 'eq', lhs: compact(lhs), rhs: parseShape(eqs[eqs.length - 1], depth + 1), chain: eqs.length > 2 };
  }
  const pm = s.split(/\\pm(?![a-zA-Z])/);
  if (pm.length === 2) {
    return { kind: 'list', items: [{ kind: 'scalar', text: `${pm[0]}+${pm[1]}` }, { kind: 'scalar', text: `${pm[0]}-${pm[1]}` }] };
  }
  return { kind: 'scalar', text: s };
}

/** A short, readable form of a parsed answer, for `introllm verify` output: `(1, 2)`, `{1, 2}`, `x = 3`, `x < 1`. */
export function describeShape(sh: Shape): string {
  switch (sh.kind) {
    case 'scalar': return compact(sh.text);
    case 'tuple': return `${sh.open}${sh.items.map(describeShape).join(', ')}${sh.close}`;
    case 'list': return `{${sh.items.map(describeShape).join(', ')}}`;
    case 'matrix': return `[${sh.rows.map((r) => `[${r.map(describeShape).join(', ')}]`).join(', ')}]`;
    case 'eq': return `${sh.lhs} = ${describeShape(sh.rhs)}`;
    case 'rel': return `${compact(sh.lhs)} ${sh.op} ${compact(sh.rhs)}`;
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
  if (compact(p) === compact(g)) { ctx.reason = 'same text'; return true; }
  const ep = exactValue(p);
  const eg = exactValue(g);
  if (ep && eg) {
    if (ratEq(ep, eg)) { ctx.reason = 'equal rationals'; return true; }
    if (!hasDecimal(p) && !hasDecimal(g)) return false;
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
        if (vp && vg && closeComplex(vp, vg, tol)) { ctx.reason = `equal values (relative tolerance ${tol})`; return true; }
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
  if (compact(a.lo) === compact(b.lo) && compact(a.hi) === compact(b.hi)) { ctx.reason = 'same relation'; return true; }
  if (a.op === '!=' && compact(a.lo) === compact(b.hi) && compact(a.hi) === compact(b.lo)) { ctx.reason = 'same relation'; return true; }
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
  if (p.kind === 'rel' || g.kind === 'rel') return p.kind === 'rel' && g.kind === 'rel' && relationEqual(p, g, ctx);
  // Equations: `x = 3` matches `3`; two equations with simple left sides need the same left side.
  if (g.kind === 'eq' && p.kind === 'eq') {
    if (compact(g.lhs) === compact(p.lhs)) return shapeEqual(p.rhs, g.rhs, ctx);
    if (SIMPLE_LHS.test(g.lhs) && SIMPLE_LHS.test(p.lhs)) return false;
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
    if (!SIMPLE_LHS.test(g.lhs)) return false;
    const same = shapeEqual(p, g.rhs, ctx);
    if (same) ctx.reason = `reference assignment ${g.lhs} = …: ${ctx.reason}`;
    return same;
  }
  // A prediction `x = 3` or a worked chain `8 \cdot 6 \cdot 2 = 96` against a plain reference: its last member counts.
  if (p.kind === 'eq') {
    const same = shapeEqual(p.rhs, g, ctx);
    if (same) ctx.reason = `right side of ${p.lhs} = …: ${ctx.reason}`;
    return same;
  }
  if (p.kind === 'scalar' && g.kind === 'scalar') return scalarEqual(p.text, g.text, ctx);
  if (p.kind === 'list' && g.kind === 'list') {
    const same = multisetEqual(p.items, g.items, ctx);
    if (same) ctx.reason = 'same elements in any order (set / list)';
    return same;
  }
  if (p.kind === 'tuple' && g.kind === 'tuple') {
    const same = p.open === g.open && p.close === g.close && p.items.length === g.items.length
      && p.items.every((x, k) => shapeEqual(x, g.items[k], ctx));
    if (same) ctx.reason = `same ${p.open}${p.close} tuple or interval, element by element`;
    return same;
  }
  // A tuple written without its parentheses: `3, 4` for `(3, 4)`, in order.
  if (g.kind === 'tuple' && g.open === '(' && g.close === ')' && p.kind === 'list') {
    const same = p.items.length === g.items.length && p.items.every((x, k) => shapeEqual(x, g.items[k], ctx));
    if (same) ctx.reason = 'a tuple written without parentheses, in order';
    return same;
  }
  // A one-element list is its element.
  if (g.kind === 'list' && g.items.length === 1) return shapeEqual(p, g.items[0], ctx);
  if (p.kind === 'list' && p.items.length === 1) return shapeEqual(p.items[0], g, ctx);
  if (p.kind === 'matrix' && g.kind === 'matrix') {
    const same = p.rows.length === g.rows.length && p.rows.every((row, r) => row.length === g.rows[r].length
      && row.every((cell, c) => shapeEqual(cell, g.rows[r][c], ctx)));
    if (same) ctx.reason = 'same matrix, entry by entry';
    return same;
  }
  // A column or row vector written as a tuple.
  const asVector = (m: Shape & { kind: 'matrix' }): Shape[] | null => (m.rows.every((r) => r.length === 1)
    ? m.rows.map((r) => r[0]) : m.rows.length === 1 ? m.rows[0] : null);
  let vp: Shape[] | null = null;
  let vg: Shape[] | null = null;
  if (g.kind === 'matrix' && p.kind === 'tuple') { vg = asVector(g); vp = p.items; }
  if (p.kind === 'matrix' && g.kind === 'tuple') { vp = asVector(p); vg = g.items; }
  if (vp && vg) {
    const same = vp.length === vg.length && vp.every((x, k) => shapeEqual(x, vg![k], ctx));
    if (same) ctx.reason = 'a vector written as a tuple, entry by entry';
    return same;
  }
  return false;
}

const DEFAULTS: Required<EquivalenceOptions> = { decimalRelTol: 1e-4, exactRelTol: 1e-9, timeBudgetMs: 2000 };

interface Variant { shape: Shape; note: string }

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
  const no = (reason: string, predParsed: string | null = null, goldParsed: string | null = null): Judgement => ({ equal: false, reason, predParsed, goldParsed });
  if (typeof pred !== 'string' || pred.trim() === '') return no('no predicted answer');
  if (typeof gold !== 'string' || gold.trim() === '') return no('empty reference');
  const opts = { ...DEFAULTS, ...options };
  let predParsed: string | null = null;
  let goldParsed: string | null = null;
  try {
    if (pred.length > MAX_INPUT || gold.length > MAX_INPUT) {
      const same = compact(pred) === compact(gold);
      return { equal: same, reason: same ? 'same text (over-long input)' : `over-long input (> ${MAX_INPUT} characters), compared as text`, predParsed: null, goldParsed: null };
    }
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
