// The math verifier's entry point for RLVR rewards and evaluation: extract the final answer of a completion
// (extract.ts) and compare it with the reference answer (equivalence.ts). Never throws.
import { extractAnswer } from './extract';
import { isEquivalent, type EquivalenceOptions } from './equivalence';

export { extractAnswer, extractAnswerDetailed } from './extract';
export { isEquivalent, canonicalAnswer } from './equivalence';
export type { EquivalenceOptions } from './equivalence';

export interface Verdict {
  correct: boolean;
  /** The extracted final answer of the completion, or null when none was found. */
  predAnswer: string | null;
  goldAnswer: string;
}

/** Grades one completion against a reference final answer. */
export function verifyCompletion(completion: unknown, goldAnswer: unknown, options: EquivalenceOptions = {}): Verdict {
  const gold = typeof goldAnswer === 'string' ? goldAnswer : String(goldAnswer ?? '');
  let predAnswer: string | null = null;
  try {
    predAnswer = extractAnswer(completion);
  } catch {
    predAnswer = null;
  }
  const correct = predAnswer !== null && isEquivalent(predAnswer, gold, options);
  return { correct, predAnswer, goldAnswer: gold };
}
