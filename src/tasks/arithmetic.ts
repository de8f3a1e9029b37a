// Synthetic task "arithmetic": short multi-step word problems (someone has some items, gains, loses, buys packs,
// doubles, halves, shares) with a worked solution of one equation per line and a final `#### n`. A tiny
// character-level model trained on the CPU can learn it; the exact verifier compares the final integer.
// Difficulty d (integer ≥ 1): d+1 steps, starting values up to 10·(d+1), operands up to 5·(d+1), values ≤ 99·10^(d-1)
// capped at 9999. Train and test are disjoint by the hash of the canonical form (start value and steps, not names).
import { KitError } from '../errors';
import type { Rng } from '../rng';
import { hashAnswerOf } from './extract';
import { parseRational, ratEq } from './rational';
import { problemId, splitOf } from './split';
import type { Problem, Split, Task } from './types';

const NAMES = ['ann', 'bob', 'cal', 'dee', 'eva', 'fin', 'gus', 'ida', 'jon', 'kim', 'lea', 'max', 'ned', 'ola', 'pam', 'ray', 'sam', 'tia', 'uma', 'vic'];
const ITEMS = ['apples', 'pens', 'cards', 'coins', 'books', 'eggs', 'shells', 'stamps', 'marbles', 'cups', 'rocks', 'beads'];

type Step =
  | { kind: 'gain'; k: number }
  | { kind: 'lose'; k: number }
  | { kind: 'packs'; p: number; q: number }
  | { kind: 'times'; k: number }
  | { kind: 'share'; k: number };

interface Draft {
  start: number;
  steps: Step[];
  values: number[]; // value after each step
}

const MULT_WORD: Record<number, string> = { 2: 'doubles', 3: 'triples' };

function checkDifficulty(difficulty: number): void {
  if (!Number.isInteger(difficulty) || difficulty < 1 || difficulty > 8) {
    throw new KitError(`arithmetic: difficulty must be an integer in 1..8, got ${difficulty}`);
  }
}

function draft(rng: Rng, d: number): Draft | null {
  const cap = Math.min(9999, 99 * 10 ** (d - 1));
  const kMax = 5 * (d + 1);
  const start = rng.range(2, 10 * (d + 1));
  let v = start;
  const steps: Step[] = [];
  const values: number[] = [];
  for (let s = 0; s <= d; s++) {
    const options: Step[] = [
      { kind: 'gain', k: rng.range(1, kMax) },
      { kind: 'packs', p: rng.range(2, Math.min(9, 1 + d * 2)), q: rng.range(2, Math.min(12, 3 + d * 2)) },
    ];
    const k = rng.range(1, kMax);
    if (k < v) options.push({ kind: 'lose', k });
    options.push({ kind: 'times', k: rng.range(2, 3) });
    const divisors = [2, 3, 4, 5].filter((x) => v % x === 0 && v / x >= 1);
    if (divisors.length > 0) options.push({ kind: 'share', k: rng.pick(divisors) });
    const step = rng.pick(options);
    if (step.kind === 'gain') v += step.k;
    else if (step.kind === 'lose') v -= step.k;
    else if (step.kind === 'packs') v += step.p * step.q;
    else if (step.kind === 'times') v *= step.k;
    else v /= step.k;
    if (v > cap) return null;
    steps.push(step);
    values.push(v);
  }
  return { start, steps, values };
}

function canonical(dr: Draft): string {
  const parts = dr.steps.map((s) => (s.kind === 'packs' ? `packs:${s.p}:${s.q}` : `${s.kind}:${s.k}`));
  return `${dr.start}|${parts.join('|')}`;
}

function render(dr: Draft, name: string, item: string): { prompt: string; solution: string; answer: string } {
  const sentences = [`${name} has ${dr.start} ${item}.`];
  const lines: string[] = [];
  let v = dr.start;
  dr.steps.forEach((s, idx) => {
    const next = dr.values[idx];
    switch (s.kind) {
      case 'gain':
        sentences.push(`${name} gets ${s.k} more.`);
        lines.push(`${v}+${s.k}=${next}`);
        break;
      case 'lose':
        sentences.push(`${name} gives away ${s.k}.`);
        lines.push(`${v}-${s.k}=${next}`);
        break;
      case 'packs':
        sentences.push(`${name} buys ${s.p} packs of ${s.q}.`);
        lines.push(`${s.p}*${s.q}=${s.p * s.q}`, `${v}+${s.p * s.q}=${next}`);
        break;
      case 'times':
        sentences.push(`${name} ${MULT_WORD[s.k]} them.`);
        lines.push(`${v}*${s.k}=${next}`);
        break;
      case 'share':
        sentences.push(`${name} splits them into ${s.k} equal piles and keeps one.`);
        lines.push(`${v}/${s.k}=${next}`);
        break;
    }
    v = next;
  });
  sentences.push(`how many ${item} now?`);
  const answer = String(v);
  return { prompt: `${sentences.join(' ')}\n`, solution: `${lines.join('\n')}\n#### ${answer}`, answer };
}

export const arithmeticTask: Task = {
  name: 'arithmetic',
  description: 'multi-step arithmetic word problems with a worked solution and a final #### n',

  generate(rng: Rng, split: Split, n: number, difficulty = 2): Problem[] {
    checkDifficulty(difficulty);
    if (!Number.isInteger(n) || n < 0) throw new KitError(`arithmetic: n must be a non-negative integer, got ${n}`);
    const out: Problem[] = [];
    const seen = new Set<string>();
    const maxTries = 200 * n + 1000;
    for (let tries = 0; out.length < n; tries++) {
      if (tries > maxTries) throw new KitError(`arithmetic: could only generate ${out.length} of ${n} distinct ${split} problems at difficulty ${difficulty}`);
      const dr = draft(rng, difficulty);
      if (!dr) continue;
      const canon = canonical(dr);
      if (splitOf(canon) !== split || seen.has(canon)) continue;
      seen.add(canon);
      const name = rng.pick(NAMES);
      const item = rng.pick(ITEMS);
      const { prompt, solution, answer } = render(dr, name, item);
      out.push({ id: problemId('arithmetic', split, canon), prompt, answer, solution, meta: { canonical: canon, difficulty, steps: dr.steps.length } });
    }
    return out;
  },

  extractAnswer: hashAnswerOf,

  verify(completion: string, problem: Problem): boolean {
    const pred = hashAnswerOf(completion);
    if (pred === null) return false;
    const a = parseRational(pred);
    const b = parseRational(problem.answer);
    return a !== null && b !== null && ratEq(a, b);
  },
};
