// Synthetic task "guess": reach a target with ONE operation on two of the given numbers ("make 56 from 7 3 8 11" →
// 8*7). It is the kit's controlled testbed for a per-token temperature policy, built so that the two kinds of token
// the paper talks about are separate and both matter:
//   * the choice: which two numbers and which operation to try next (the start of each line, up to '=');
//   * the computation: the result after '=', the verdict 'yes' / 'no' and the final '#### a op b' line.
// The worked solution is guess-and-check, one try per line ("8+7=15 no", "11*3=33 no", "8*7=56 yes") and, after at
// most TRIES tries, `#### <expression>` (the hit) or `#### none`. The tries come from a *heuristic guesser* that
// anchors on sums (GUESSER_OP weights: '+' three times as often as '-' or '*' while untried sums remain), whereas the
// problems are mostly differences and products (PROBLEM_OP). A model trained on these traces therefore inherits a
// guesser that is over-confident exactly where it chooses (a sharper τ there makes it worse, a flatter one better) and
// whose arithmetic is learned but not perfect (a sharper τ there makes it better). This is a designed proxy, stated as
// such in docs/testbed.md: it gives a per-token policy something to gain, and RL something to fix (the op prior, cues
// from the target's size), without touching the evaluation. Each problem has exactly one solving (pair, op), and the
// target is none of the numbers, so a try is right or wrong and the answer cannot be copied from the prompt.
// Difficulty d: 2 + d distinct numbers in 2..(20 + 4d) (d = 1: three numbers in 2..24).
import { KitError } from '../errors';
import type { Rng } from '../rng';
import { countdownSpec, CountdownSpec, evalCountdownExpr } from './countdown';
import { hashAnswerOf } from './extract';
import { rat, ratEq } from './rational';
import { problemId, splitOf } from './split';
import type { Problem, Split, Task } from './types';

export type GuessOp = '+' | '-' | '*';

/** Tries per worked solution. */
export const TRIES = 3;
/** How often each operation solves a problem (relative weights before the uniqueness filter). */
export const PROBLEM_OP: Readonly<Record<GuessOp, number>> = { '+': 1, '-': 4, '*': 4 };
/** The heuristic guesser's preference among the operations that still have an untried pair. */
export const GUESSER_OP: Readonly<Record<GuessOp, number>> = { '+': 3, '-': 1, '*': 1 };

const OPS: readonly GuessOp[] = ['+', '-', '*'];

export interface GuessMove {
  a: number;
  b: number;
  op: GuessOp;
  v: number;
}

function params(d: number): { count: number; max: number } {
  if (!Number.isInteger(d) || d < 1 || d > 4) throw new KitError(`guess: difficulty must be an integer in 1..4, got ${d}`);
  return { count: 2 + d, max: 20 + 4 * d };
}

function apply(a: number, b: number, op: GuessOp): number {
  return op === '+' ? a + b : op === '-' ? a - b : a * b;
}

/** Every try a worked solution may write: each pair (larger number first) with each operation. */
export function allMoves(numbers: number[]): GuessMove[] {
  const out: GuessMove[] = [];
  for (let i = 0; i < numbers.length; i++) {
    for (let j = i + 1; j < numbers.length; j++) {
      const [a, b] = numbers[i] >= numbers[j] ? [numbers[i], numbers[j]] : [numbers[j], numbers[i]];
      for (const op of OPS) out.push({ a, b, op, v: apply(a, b, op) });
    }
  }
  return out;
}

function pickWeighted<T extends string>(rng: Rng, keys: readonly T[], weight: Readonly<Record<T, number>>): T {
  const total = keys.reduce((s, k) => s + weight[k], 0);
  let u = rng.next() * total;
  for (const k of keys) if ((u -= weight[k]) < 0) return k;
  return keys[keys.length - 1];
}

/** The heuristic guesser's tries, in order, until it hits `target` or has made TRIES tries. */
export function guesserTries(rng: Rng, numbers: number[], target: number): GuessMove[] {
  const untried = allMoves(numbers);
  const out: GuessMove[] = [];
  while (out.length < TRIES && untried.length > 0) {
    const ops = OPS.filter((op) => untried.some((m) => m.op === op));
    const op = pickWeighted(rng, ops, GUESSER_OP);
    const pool = untried.filter((m) => m.op === op);
    const m = rng.pick(pool);
    untried.splice(untried.indexOf(m), 1);
    out.push(m);
    if (m.v === target) break;
  }
  return out;
}

/** The numbers and target of a guess problem, from its meta or its prompt (the prompt is Countdown's "make T from …"). */
export const guessSpec: (problem: Problem) => CountdownSpec | null = countdownSpec;

/** Whether `expression` (before any '=') is one operation on two different given numbers that equals `target`. */
export function checkGuess(expression: string, spec: CountdownSpec): boolean {
  const lhs = expression.split('=')[0];
  if (!/^\s*\d+\s*[+\-*]\s*\d+\s*$/.test(lhs)) return false;
  const r = evalCountdownExpr(lhs.trim());
  if (r === null || r.numbers.length !== 2 || !ratEq(r.value, rat(BigInt(spec.target)))) return false;
  const left = [...spec.numbers];
  return r.numbers.every((x) => {
    const k = left.indexOf(x);
    if (k < 0) return false;
    left.splice(k, 1);
    return true;
  });
}

export const guessTask: Task = {
  name: 'guess',
  description: 'reach a target with one + - * on two of 4 numbers; solutions are guess-and-check traces of a sum-anchored guesser',

  generate(rng: Rng, split: Split, n: number, difficulty = 1): Problem[] {
    const p = params(difficulty);
    if (!Number.isInteger(n) || n < 0) throw new KitError(`guess: n must be a non-negative integer, got ${n}`);
    const out: Problem[] = [];
    const seen = new Set<string>();
    const maxTries = 500 * n + 2000;
    let op = pickWeighted(rng, OPS, PROBLEM_OP);
    for (let tries = 0; out.length < n; tries++) {
      if (tries > maxTries) throw new KitError(`guess: could only generate ${out.length} of ${n} distinct ${split} problems at difficulty ${difficulty}`);
      // The operation is drawn first and kept until a problem for it is accepted, so PROBLEM_OP is the mix of the
      // problems (the uniqueness filter rejects differences and sums more often than products).
      const numbers: number[] = [];
      while (numbers.length < p.count) {
        const x = rng.range(2, p.max);
        if (!numbers.includes(x)) numbers.push(x);
      }
      const [i, j] = pairOf(rng, p.count);
      const a = Math.max(numbers[i], numbers[j]);
      const b = Math.min(numbers[i], numbers[j]);
      const target = apply(a, b, op);
      if (target < 1 || numbers.includes(target)) continue;
      if (allMoves(numbers).filter((m) => m.v === target).length !== 1) continue;
      const canon = `${[...numbers].sort((x, y) => x - y).join(',')}>${target}`;
      if (splitOf(canon) !== split || seen.has(canon)) continue;
      seen.add(canon);
      const solved = op;
      op = pickWeighted(rng, OPS, PROBLEM_OP);
      const tried = guesserTries(rng, numbers, target);
      const last = tried[tried.length - 1];
      const hit = last.v === target;
      const lines = tried.map((m) => `${m.a}${m.op}${m.b}=${m.v} ${m.v === target ? 'yes' : 'no'}`);
      const answer = `${a}${solved}${b}`;
      const solution = `${lines.join('\n')}\n#### ${hit ? answer : 'none'}`;
      out.push({
        id: problemId('guess', split, canon),
        prompt: `make ${target} from ${numbers.join(' ')}\n`,
        answer,
        solution,
        meta: { numbers, target, op: solved, difficulty, canonical: canon, guesserTries: tried.length, guesserHit: hit },
      });
    }
    return out;
  },

  extractAnswer: hashAnswerOf,

  verify(completion: string, problem: Problem): boolean {
    const pred = hashAnswerOf(completion);
    const spec = guessSpec(problem);
    return pred !== null && spec !== null && checkGuess(pred, spec);
  },
};

function pairOf(rng: Rng, count: number): [number, number] {
  const i = rng.range(0, count - 1);
  let j = rng.range(0, count - 2);
  if (j >= i) j++;
  return [i, j];
}
