// The interface every synthetic task implements, and the character set their text is restricted to, so that the
// kit's character-level tokenizer covers every prompt and solution the tasks can produce.
import type { Tokenizer } from '../lm/tokenizer';
import type { Rng } from '../rng';

/** One problem. `solution` is a worked trace whose last line is `#### <answer>`. */
export interface Problem {
  id: string;
  prompt: string;
  answer: string;
  solution: string;
  meta?: Record<string, unknown>;
}

/** 'validation' is disjoint from both (src/tasks/split.ts): training never sees it, evaluation reports never use it. */
export type Split = 'train' | 'validation' | 'test';

export interface Task {
  name: string;
  /** A short description shown by registries and CLIs. */
  description: string;
  /**
   * `n` distinct problems of `split`, deterministic given the RNG state. Train, validation and test are disjoint by
   * construction: a hash of each problem's canonical form decides its split. `difficulty`: an integer ≥ 1 (task default if absent).
   */
  generate(rng: Rng, split: Split, n: number, difficulty?: number): Problem[];
  /** Whether a completion's final answer solves `problem`. Never throws. */
  verify(completion: string, problem: Problem): boolean;
  /** The final answer of a completion as the task's verifier reads it; null if there is none. Never throws. */
  extractAnswer(completion: string): string | null;
  /** Prompt token ids of a problem. Absent: `[BOS] + encode(problem.prompt)` (the synthetic tasks). */
  encodePrompt?(tok: Tokenizer, problem: Problem): number[];
  /**
   * The token class of each generated position of a completion (by name; null where it has none), given each
   * generated token's text in order. Tasks that define classes get per-class metrics (`tau_class/<name>` in a run's
   * metrics.jsonl). Never throws.
   */
  tokenClasses?(problem: Problem, pieces: string[]): (string | null)[];
  /** A finite training set (benchmark files): RL then walks it in shuffled epochs instead of calling `generate`. */
  trainingSet?(): Problem[];
  /** Named held-out sets (one per evaluation benchmark), each cut to its first `n` problems (0 = all). Absent: one
   *  set, `generate(·, 'test', n)`. */
  evalSets?(n: number): EvalSet[];
}

export interface EvalSet {
  name: string;
  problems: Problem[];
}

/**
 * Every character a synthetic prompt or solution may contain: lowercase letters, digits, space, newline and
 * `+ - * / = ( ) , . : ? #` plus `>` and `!` (unused today, reserved for trace markers). Tests check every generated text.
 */
export const SYNTHETIC_CHARSET = 'abcdefghijklmnopqrstuvwxyz0123456789 \n+-*/=(),.:?#>!';

/** True when every character of `text` is in SYNTHETIC_CHARSET. */
export function inSyntheticCharset(text: string): boolean {
  for (const ch of text) if (!SYNTHETIC_CHARSET.includes(ch)) return false;
  return true;
}

/** The config's `task` section (src/config.ts declares it with its defaults and meanings): which task a run trains
 *  and evaluates on. Declared here, beside the tasks that read it, so the task layer does not import the config. */
export interface TaskConfig {
  name: string;
  difficulty: number;
  optimalTau: number[];
  trainPool: number;
  trainBenchmark: string;
  evalBenchmarks: string[];
  dataDir: string;
  chatTemplate: boolean;
  instruction: string;
}
