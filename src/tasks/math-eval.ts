// Safe numeric and symbolic comparison of two mathjs expressions (part of the verifier). Expressions are parsed with
// mathjs, checked against an allow-list of node types, operators and functions (no assignment, no access, no
// strings, no function definitions) and a size limit, then compared numerically: constants directly, expressions
// with free symbols at fixed pseudo-random points (polynomial identity testing), with complex results allowed.
// Every entry point returns null/false instead of throwing.
import { create, all, type MathNode, type MathJsInstance } from 'mathjs';
import { Rng } from '../rng';

const math: MathJsInstance = create(all, { number: 'number' });
// Constants are also evaluated in 64-digit decimals, so that 2^2017 or 1/2^2006 neither overflow nor underflow.
const bigMath: MathJsInstance = create(all, { number: 'BigNumber', precision: 64 });

const ALLOWED_FUNCS = new Set([
  'sqrt',
  'nthRoot',
  'sin',
  'cos',
  'tan',
  'sec',
  'csc',
  'cot',
  'asin',
  'acos',
  'atan',
  'sinh',
  'cosh',
  'tanh',
  'exp',
  'log',
  'abs',
  'floor',
  'ceil',
  'combinations',
  'gamma',
]);
const ALLOWED_OPS = new Set(['add', 'subtract', 'multiply', 'divide', 'pow', 'unaryMinus', 'unaryPlus', 'factorial', 'dotDivide', 'dotMultiply']);
/** Symbols with a fixed meaning; every other symbol is a free variable. */
const CONSTANTS = new Set(['pi', 'e', 'i', 'Infinity']);
const MAX_NODES = 400;

export interface Parsed {
  source: string;
  node: MathNode;
  free: string[];
  evaluate: (scope: Record<string, number>) => unknown;
}

export interface Complex {
  re: number;
  im: number;
}

const cache = new Map<string, Parsed | null>();

/** Parses and validates a mathjs expression; null when it is invalid or outside the allow-list. */
export function safeParse(expr: string): Parsed | null {
  if (cache.has(expr)) return cache.get(expr)!;
  let result: Parsed | null = null;
  try {
    if (expr.length <= 4000) {
      const node = math.parse(expr);
      const free = new Set<string>();
      let count = 0;
      let ok = true;
      node.traverse((n: MathNode, _path: string, parent: MathNode | null) => {
        count++;
        const anyN = n as unknown as Record<string, unknown>;
        switch (n.type) {
          case 'ConstantNode':
            if (typeof anyN.value !== 'number') ok = false;
            break;
          case 'ParenthesisNode':
            break;
          case 'OperatorNode':
            if (!ALLOWED_OPS.has(String(anyN.fn))) ok = false;
            break;
          case 'FunctionNode': {
            const fnNode = anyN.fn as { type?: string; name?: string };
            if (fnNode?.type !== 'SymbolNode' || !ALLOWED_FUNCS.has(String(fnNode.name))) ok = false;
            break;
          }
          case 'SymbolNode': {
            const name = String(anyN.name);
            const isCallee = parent?.type === 'FunctionNode' && (parent as unknown as { fn: unknown }).fn === n;
            if (!/^[A-Za-z][A-Za-z0-9_]*$/.test(name)) ok = false;
            else if (!isCallee && !CONSTANTS.has(name)) free.add(name);
            break;
          }
          default:
            ok = false;
        }
      });
      if (ok && count <= MAX_NODES) {
        const compiled = node.compile();
        result = { source: expr, node, free: [...free].sort(), evaluate: (scope) => compiled.evaluate({ ...scope }) };
      }
    }
  } catch {
    result = null;
  }
  if (cache.size > 5000) cache.clear();
  cache.set(expr, result);
  return result;
}

/** A number or complex result as {re, im}; null for anything else (matrices, units, NaN). */
export function toComplex(value: unknown): Complex | null {
  if (typeof value === 'number') return Number.isNaN(value) ? null : { re: value, im: 0 };
  if (value && typeof value === 'object' && 're' in value && 'im' in value) {
    const c = value as { re: unknown; im: unknown };
    if (typeof c.re === 'number' && typeof c.im === 'number' && !Number.isNaN(c.re) && !Number.isNaN(c.im)) return { re: c.re, im: c.im };
  }
  return null;
}

function closeReal(a: number, b: number, relTol: number, absTol: number): boolean {
  if (!Number.isFinite(a) || !Number.isFinite(b)) return a === b;
  return Math.abs(a - b) <= Math.max(absTol, relTol * Math.max(Math.abs(a), Math.abs(b)));
}

/** Whether two complex values agree within a relative tolerance (an absolute floor handles values near zero). */
export function closeComplex(a: Complex, b: Complex, relTol: number, absTol = 1e-12): boolean {
  if (a.im === 0 && b.im === 0) return closeReal(a.re, b.re, relTol, absTol);
  const scale = Math.max(Math.hypot(a.re, a.im), Math.hypot(b.re, b.im));
  if (!Number.isFinite(scale)) return false;
  return Math.hypot(a.re - b.re, a.im - b.im) <= Math.max(absTol, relTol * scale);
}

/** The value of a constant expression (no free symbols), or null. */
export function evaluateConstant(p: Parsed): Complex | null {
  if (p.free.length > 0) return null;
  try {
    return toComplex(p.evaluate({}));
  } catch {
    return null;
  }
}

const N_POINTS = 6;

/**
 * Whether two expressions agree at N_POINTS fixed pseudo-random points in their free symbols (shared by both).
 * Points where either side fails or is non-finite are skipped; at least 3 valid points must remain.
 */
export function symbolicallyEqual(a: Parsed, b: Parsed, relTol = 1e-6): boolean {
  const names = [...new Set([...a.free, ...b.free])].sort();
  const rng = new Rng(0x5eed + names.length);
  let valid = 0;
  let zeros = 0;
  for (let k = 0; k < N_POINTS * 3 && valid < N_POINTS; k++) {
    const scope: Record<string, number> = {};
    // Values in ±[0.3, 2.3) and, every third round, in [0.9, 1.1] where huge powers neither overflow nor underflow;
    // this avoids the special points 0, ±1 and the integers.
    for (const name of names) {
      const mag = k % 3 === 2 ? 0.9 + 0.2 * rng.next() : 0.3 + 2 * rng.next();
      scope[name] = mag * (k % 2 === 1 && rng.next() < 0.5 ? -1 : 1);
    }
    const pair = evaluatePair(a, b, scope);
    if (pair === null) continue;
    const [va, vb] = pair;
    if (va === null || vb === null) {
      if ((va === null) !== (vb === null)) return false;
      continue;
    }
    const finite = (c: Complex) => Number.isFinite(c.re) && Number.isFinite(c.im);
    if (!finite(va) || !finite(vb)) continue;
    if (!closeComplex(va, vb, relTol, 1e-9)) return false;
    // Both exactly zero says little (x^9900 underflows): counted apart.
    if (va.re === 0 && va.im === 0 && vb.re === 0 && vb.im === 0) zeros++;
    else valid++;
  }
  // Three agreeing zeros also do, with or without non-zero points: step functions (`c \lfloor c^2/4 \rfloor`) are zero
  // at most sample points, and any point where the two differ has already returned false.
  return valid >= 3 || zeros >= 3;
}

/** Both expressions at one point, as complex numbers (null where a value is not a number); null when either throws. */
function evaluatePair(a: Parsed, b: Parsed, scope: Record<string, number>): [Complex | null, Complex | null] | null {
  try {
    return [toComplex(a.evaluate(scope)), toComplex(b.evaluate(scope))];
  } catch {
    return null;
  }
}

/**
 * The constant c with a ≡ c·b, found at N_POINTS fixed pseudo-random points of their free symbols (which must not be
 * empty): the ratio a/b must be real, finite, non-zero and the same at every valid point. Null when there is none.
 * Two equations are the same when their sides' differences are proportional; two inequalities when c > 0.
 */
export function proportionalRatio(a: Parsed, b: Parsed, relTol = 1e-6): number | null {
  const names = [...new Set([...a.free, ...b.free])].sort();
  if (names.length === 0) return null;
  const rng = new Rng(0x7a710 + names.length);
  let ratio: number | null = null;
  let valid = 0;
  for (let k = 0; k < N_POINTS * 3 && valid < N_POINTS; k++) {
    const scope: Record<string, number> = {};
    for (const name of names) scope[name] = (0.3 + 2 * rng.next()) * (rng.next() < 0.5 ? -1 : 1);
    const pair = evaluatePair(a, b, scope);
    if (pair === null) continue;
    const [va, vb] = pair;
    if (va === null || vb === null || va.im !== 0 || vb.im !== 0) continue;
    if (!Number.isFinite(va.re) || !Number.isFinite(vb.re) || Math.abs(vb.re) < 1e-12) continue;
    const r = va.re / vb.re;
    if (!Number.isFinite(r) || r === 0) return null;
    if (ratio === null) ratio = r;
    else if (Math.abs(r - ratio) > relTol * Math.max(Math.abs(r), Math.abs(ratio))) return null;
    valid++;
  }
  return valid >= 3 ? ratio : null;
}

interface Decimalish {
  isFinite(): boolean;
  isNaN(): boolean;
  isZero(): boolean;
  abs(): Decimalish;
  minus(x: Decimalish): Decimalish;
  times(x: number): Decimalish;
  lte(x: Decimalish): boolean;
  gt(x: Decimalish): boolean;
  eq(x: Decimalish): boolean;
}

function bigConstant(p: Parsed): Decimalish | null {
  // Factorials and binomials of big arguments are slow in decimals: those stay in floating point.
  if (p.free.length > 0 || /!|combinations|gamma/.test(p.source)) return null;
  try {
    const v = bigMath.evaluate(p.source) as unknown;
    if (v && typeof v === 'object' && (v as { isBigNumber?: boolean }).isBigNumber === true) {
      const d = v as Decimalish;
      return d.isNaN() ? null : d;
    }
  } catch {
    // fall through
  }
  return null;
}

/**
 * Compares two constant expressions in 64-digit decimals: true/false when both are real decimals, null when
 * either is not (complex, or unsupported), in which case the caller falls back to floating point.
 */
export function bigConstantsClose(a: Parsed, b: Parsed, relTol: number): boolean | null {
  const x = bigConstant(a);
  const y = bigConstant(b);
  if (x === null || y === null) return null;
  if (!x.isFinite() || !y.isFinite()) return x.eq(y);
  const diff = x.minus(y).abs();
  if (diff.isZero()) return true;
  const scale = x.abs().gt(y.abs()) ? x.abs() : y.abs();
  // Purely relative: 1/2^2017 is not 0 (so sin(pi), a rounding residue of ~1e-64, is not 0 either).
  return diff.lte(scale.times(relTol));
}
