// A problem's prompt as token ids: what the rollouts of training and of evaluation feed the model. Below both
// (src/rl, src/eval), so that neither imports the other for it.
import type { Tokenizer } from '../lm/tokenizer';
import type { Problem, Task } from './types';

/** Prompt ids for generation: [BOS] prompt. */
export function encodePrompt(tok: Tokenizer, prompt: string): number[] {
  return [...(tok.bosId !== null ? [tok.bosId] : []), ...tok.encode(prompt)];
}

/** A problem's prompt ids as its task renders them (a chat template for the benchmark task), else [BOS] prompt. */
export function problemPromptIds(tok: Tokenizer, problem: Problem, task: Pick<Task, 'encodePrompt'>): number[] {
  return task.encodePrompt ? task.encodePrompt(tok, problem) : encodePrompt(tok, problem.prompt);
}
