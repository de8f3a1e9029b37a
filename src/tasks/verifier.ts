// The math verifier's entry point for RLVR rewards and evaluation: extract the final answer of a completion
// (extract.ts) and of the reference, and compare them (equivalence.ts). The reference goes through the same extraction
// as the prediction, so it may be a bare answer (`1/3`), a `$…$` string, a `\boxed{}` or a whole reference solution;
// only the last-number fallback is off for it (a prose reference is compared whole). Omni-MATH's `A OR B` references
// keep each alternative. Never throws. The RL reward (benchmark-task.ts), `introllm eval` and `introllm verify` all call
// verifyCompletion.
import { extractAnswerDetailed, type ExtractMethod } from './extract';
import { judgeEquivalence, type EquivalenceOptions } from './equivalence';
import { firstUnclosedGroup } from './latex-scan';

export { extractAnswer, extractAnswerDetailed } from './extract';
export { isEquivalent, canonicalAnswer, judgeEquivalence } from './equivalence';
export type { EquivalenceOptions, Judgement } from './equivalence';

export interface Verdict {
  correct: boolean;
  /** The extracted final answer of the completion, or null when none was found. */
  predAnswer: string | null;
  /** The reference's final answer as extracted (the reference itself when it is a bare answer). */
  goldAnswer: string;
}

export interface DetailedVerdict extends Verdict {
  /** How each side's final answer was found: an extraction rule, 'whole' (a reference used as it is) or null. */
  predMethod: ExtractMethod | null;
  goldMethod: ExtractMethod | 'whole';
  /** Each side as the comparison parsed it, e.g. `{1, 2}` (unordered), `(1, 2)`, `x = 3`, `x < 1`; null if not reached. */
  predParsed: string | null;
  goldParsed: string | null;
  /** Which rule decided the verdict, e.g. "equal rationals", "same relation", "not equivalent (scalar vs list)". */
  reason: string;
}

/** The final answer of a reference (bare, `$…$`, `\boxed{}` or a whole solution) and how it was found. */
export function extractReference(gold: string): { answer: string; method: ExtractMethod | 'whole' } {
  const alternatives = gold.split(/\s+OR\s+/).filter((g) => g.trim() !== '');
  if (alternatives.length > 1) {
    const parts = alternatives.map((g) => extractReference(g));
    return { answer: parts.map((p) => p.answer).join(' OR '), method: parts[0].method };
  }
  let ex = null;
  try {
    ex = extractAnswerDetailed(gold, { lastNumber: false });
  } catch {
    ex = null;
  }
  return ex ? { answer: ex.answer, method: ex.method } : { answer: gold.trim(), method: 'whole' };
}

/** Grades one completion against a reference, with how both sides were read and which rule decided. */
export function verifyDetailed(completion: unknown, goldAnswer: unknown, options: EquivalenceOptions = {}): DetailedVerdict {
  const goldRaw = typeof goldAnswer === 'string' ? goldAnswer : String(goldAnswer ?? '');
  let pred = null;
  try {
    pred = extractAnswerDetailed(completion);
  } catch {
    pred = null;
  }
  const gold = extractReference(goldRaw);
  const base = { predAnswer: pred?.answer ?? null, goldAnswer: gold.answer, predMethod: pred?.method ?? null, goldMethod: gold.method };
  if (pred === null) {
    const malformed = typeof completion === 'string' && firstUnclosedGroup(completion.slice(-4000)) >= 0;
    const reason = malformed
      ? 'no final answer found in the prediction (it has malformed LaTeX: a group that never closes)'
      : 'no final answer found in the prediction';
    return { ...base, correct: false, predParsed: null, goldParsed: null, reason };
  }
  const j = judgeEquivalence(pred.answer, gold.answer, options);
  return { ...base, correct: j.equal, predParsed: j.predParsed, goldParsed: j.goldParsed, reason: j.reason };
}

/** Grades one completion against a reference final answer. */
export function verifyCompletion(completion: unknown, goldAnswer: unknown, options: EquivalenceOptions = {}): Verdict {
  const v = verifyDetailed(completion, goldAnswer, options);
  return { correct: v.correct, predAnswer: v.predAnswer, goldAnswer: v.goldAnswer };
}

/** Grades (completion, reference) pairs as table rows: the completion, the reference, the extracted answer, the verdict. */
export function verifyCases(
  cases: readonly (readonly [completion: string, gold: string])[],
  options: EquivalenceOptions = {},
): { completion: string; gold: string; extracted: string | null; correct: boolean }[] {
  return cases.map(([completion, gold]) => {
    const v = verifyCompletion(completion, gold, options);
    return { completion, gold, extracted: v.predAnswer, correct: v.correct };
  });
}
