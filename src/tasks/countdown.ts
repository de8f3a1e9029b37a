// Synthetic task "countdown": reach a target from 3–4 given numbers with + - * /, each number used exactly once.
// The worked solution is a written-out depth-first search, so that sampling temperature matters: each line combines
// two numbers ("9-5=4 (3 4 8)" lists what is left), a leaf that misses the target says "no", an abandoned branch
// says "back", the leaf that hits says "yes", and the last line is `#### <expression>`. The search visits children in
// a random order and tries at most BRANCH of them at an inner node (a heuristic search, like a person's, not an
// exhaustive one); every "no" is a real miss. Intermediate values are positive integers. The verifier parses the
// expression itself (no eval) and checks with exact rationals that it equals the target and uses each number once.
// Difficulty: 1 = three numbers in 1..9; 2 = four in 1..9; 3 = four in 1..19; d ≥ 4 = four in 1..(10d-1).
import { KitError } from '../errors';
import type { Rng } from '../rng';
import { hashAnswerOf } from './extract';
import { add, div, mul, rat, ratEq, sub, type Rational } from './rational';
import { problemId, splitOf } from './split';
import type { Problem, Split, Task } from './types';

interface Item {
  v: number;
  expr: string;
  compound: boolean;
}
interface Move {
  i: number;
  j: number;
  op: string;
  v: number;
}

const BRANCH = 3;

export interface CountdownSpec {
  numbers: number[];
  target: number;
}

function params(d: number): { count: number; max: number; maxTarget: number; budget: number } {
  if (!Number.isInteger(d) || d < 1 || d > 8) throw new KitError(`countdown: difficulty must be an integer in 1..8, got ${d}`);
  if (d === 1) return { count: 3, max: 9, maxTarget: 99, budget: 200 };
  if (d === 2) return { count: 4, max: 9, maxTarget: 99, budget: 220 };
  if (d === 3) return { count: 4, max: 19, maxTarget: 199, budget: 260 };
  return { count: 4, max: 10 * d - 1, maxTarget: 999, budget: 300 + 40 * (d - 4) };
}

/** Moves from a state: each unordered pair with +, - (larger minus smaller, > 0), *, / (exact, divisor > 1). */
function moves(items: Item[]): Move[] {
  const out: Move[] = [];
  for (let a = 0; a < items.length; a++) {
    for (let b = a + 1; b < items.length; b++) {
      const [i, j] = items[a].v >= items[b].v ? [a, b] : [b, a];
      const x = items[i].v;
      const y = items[j].v;
      out.push({ i, j, op: '+', v: x + y });
      if (x - y > 0) out.push({ i, j, op: '-', v: x - y });
      out.push({ i, j, op: '*', v: x * y });
      if (y > 1 && x % y === 0) out.push({ i, j, op: '/', v: x / y });
    }
  }
  return out;
}

function apply(items: Item[], m: Move): Item[] {
  const wrap = (it: Item) => (it.compound ? `(${it.expr})` : it.expr);
  const made: Item = { v: m.v, expr: `${wrap(items[m.i])}${m.op}${wrap(items[m.j])}`, compound: true };
  return [...items.filter((_, k) => k !== m.i && k !== m.j), made];
}

/** A random expression tree over all numbers with positive integer intermediates: its value is a solvable target. */
function randomTarget(rng: Rng, numbers: number[]): number | null {
  let items: Item[] = numbers.map((v) => ({ v, expr: String(v), compound: false }));
  while (items.length > 1) {
    const ms = moves(items);
    items = apply(items, rng.pick(ms));
  }
  return items[0].v;
}

/** The written-out search; returns the trace lines and the solving expression, or null when the budget runs out. */
function search(rng: Rng, numbers: number[], target: number, budget: number): { lines: string[]; expr: string } | null {
  const lines: string[] = [];
  let chars = 0;
  const emit = (l: string): boolean => {
    lines.push(l);
    chars += l.length + 1;
    return chars <= budget;
  };
  let found: string | null = null;
  const dfs = (items: Item[], root: boolean): boolean | 'abort' => {
    const ms = rng.shuffle(moves(items));
    if (items.length === 2) {
      for (const m of ms) {
        const hit = m.v === target;
        if (!emit(`${items[m.i].v}${m.op}${items[m.j].v}=${m.v} ${hit ? 'yes' : 'no'}`)) return 'abort';
        if (hit) {
          found = apply(items, m)[0].expr;
          return true;
        }
      }
      return false;
    }
    const tries = root ? ms : ms.slice(0, BRANCH);
    for (const m of tries) {
      const next = apply(items, m);
      if (!emit(`${items[m.i].v}${m.op}${items[m.j].v}=${m.v} (${next.map((x) => x.v).join(' ')})`)) return 'abort';
      const r = dfs(next, false);
      if (r === 'abort' || r === true) return r;
      if (!emit('back')) return 'abort';
    }
    return false;
  };
  const r = dfs(
    numbers.map((v) => ({ v, expr: String(v), compound: false })),
    true,
  );
  return r === true && found !== null ? { lines, expr: found } : null;
}

/** Numbers and target of a countdown problem, from its meta or, failing that, its prompt. */
export function countdownSpec(problem: Problem): CountdownSpec | null {
  const meta = problem.meta as { numbers?: unknown; target?: unknown } | undefined;
  if (meta && Array.isArray(meta.numbers) && meta.numbers.every((x) => Number.isInteger(x)) && Number.isInteger(meta.target)) {
    return { numbers: meta.numbers as number[], target: meta.target as number };
  }
  const m = /^make (\d+) from ((?:\d+ ?)+)/.exec(problem.prompt ?? '');
  return m ? { target: Number(m[1]), numbers: m[2].trim().split(' ').map(Number) } : null;
}

/**
 * Evaluates a countdown expression exactly: non-negative integer literals, + - * / (also × ÷), parentheses, no unary
 * signs. Returns the value and the literals used, or null for anything malformed (including division by zero).
 */
export function evalCountdownExpr(text: string): { value: Rational; numbers: number[] } | null {
  if (text.length > 200) return null;
  const tokens =
    text
      .replace(/×/g, '*')
      .replace(/÷/g, '/')
      .match(/\d+|[+\-*/()]|\S/g) ?? [];
  let pos = 0;
  const numbers: number[] = [];
  const fail = (): never => {
    throw new Error('bad');
  };
  const expr = (depth: number): Rational => {
    if (depth > 40) fail();
    let v = term(depth);
    while (tokens[pos] === '+' || tokens[pos] === '-') {
      const op = tokens[pos++];
      const r = term(depth);
      v = op === '+' ? add(v, r) : sub(v, r);
    }
    return v;
  };
  const term = (depth: number): Rational => {
    let v = factor(depth);
    while (tokens[pos] === '*' || tokens[pos] === '/') {
      const op = tokens[pos++];
      const r = factor(depth);
      v = op === '*' ? mul(v, r) : (div(v, r) ?? fail());
    }
    return v;
  };
  const factor = (depth: number): Rational => {
    const t = tokens[pos++];
    if (t === '(') {
      const v = expr(depth + 1);
      if (tokens[pos++] !== ')') fail();
      return v;
    }
    if (t !== undefined && /^\d+$/.test(t) && t.length <= 12) {
      numbers.push(Number(t));
      return rat(BigInt(t));
    }
    return fail();
  };
  try {
    if (tokens.length === 0) return null;
    const value = expr(0);
    return pos === tokens.length ? { value, numbers } : null;
  } catch {
    return null;
  }
}

function sameMultiset(a: number[], b: number[]): boolean {
  if (a.length !== b.length) return false;
  const x = [...a].sort((p, q) => p - q);
  const y = [...b].sort((p, q) => p - q);
  return x.every((v, k) => v === y[k]);
}

/** Whether `expression` (the part before any `=`) reaches `target` using each of `numbers` exactly once. */
export function checkCountdown(expression: string, spec: CountdownSpec): boolean {
  const lhs = expression.split('=')[0];
  const r = evalCountdownExpr(lhs);
  return r !== null && sameMultiset(r.numbers, spec.numbers) && ratEq(r.value, rat(BigInt(spec.target)));
}

export const countdownTask: Task = {
  name: 'countdown',
  description: 'reach a target from 3-4 numbers with + - * /, each used once; solutions are written-out searches',

  generate(rng: Rng, split: Split, n: number, difficulty = 1): Problem[] {
    const p = params(difficulty);
    if (!Number.isInteger(n) || n < 0) throw new KitError(`countdown: n must be a non-negative integer, got ${n}`);
    const out: Problem[] = [];
    const seen = new Set<string>();
    const maxTries = 500 * n + 2000;
    for (let tries = 0; out.length < n; tries++) {
      if (tries > maxTries) throw new KitError(`countdown: could only generate ${out.length} of ${n} distinct ${split} problems at difficulty ${difficulty}`);
      const numbers = Array.from({ length: p.count }, () => rng.range(1, p.max));
      const target = randomTarget(rng, numbers);
      if (target === null || target > p.maxTarget || target < 2 || numbers.includes(target)) continue;
      const sorted = [...numbers].sort((a, b) => a - b);
      const canon = `${sorted.join(',')}>${target}`;
      if (splitOf(canon) !== split || seen.has(canon)) continue;
      const prompt = `make ${target} from ${numbers.join(' ')}\n`;
      let traced: { lines: string[]; expr: string } | null = null;
      for (let attempt = 0; attempt < 8 && !traced; attempt++) traced = search(rng, numbers, target, p.budget - prompt.length - 24);
      if (!traced) continue;
      seen.add(canon);
      const solution = `${traced.lines.join('\n')}\n#### ${traced.expr}`;
      const deadEnds = traced.lines.filter((l) => l.endsWith(' no')).length;
      const backtracks = traced.lines.filter((l) => l === 'back').length;
      out.push({
        id: problemId('countdown', split, canon),
        prompt,
        answer: traced.expr,
        solution,
        meta: { numbers, target, difficulty, canonical: canon, deadEnds, backtracks },
      });
    }
    return out;
  },

  extractAnswer: hashAnswerOf,

  verify(completion: string, problem: Problem): boolean {
    const pred = hashAnswerOf(completion);
    const spec = countdownSpec(problem);
    return pred !== null && spec !== null && checkCountdown(pred, spec);
  },
};
