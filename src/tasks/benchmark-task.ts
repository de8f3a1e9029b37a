// The benchmark task (the `paper` preset): RL on a benchmark JSONL file (MATH train by default) and evaluation on a
// list of benchmarks, each reported on its own. Prompts go through the model's chat template with an instruction to
// box the final answer; the reward is the math verifier (extract the final answer, compare it with the reference).
import { KitError } from '../errors';
import type { Tokenizer } from '../lm/tokenizer';
import type { Rng } from '../rng';
import { BenchmarkProblem, defaultDataDir, loadBenchmark } from './benchmarks';
import type { EvalSet, Problem, Split, Task } from './types';
import { extractAnswer, verifyCompletion } from './verifier';

export const DEFAULT_INSTRUCTION = 'Please reason step by step, and put your final answer within \\boxed{}.';

export interface BenchmarkTaskOptions {
  /** Training set: a benchmark name (src/tasks/benchmarks.ts) or a `<name>.jsonl` in `dataDir`. */
  trainBenchmark: string;
  /** Evaluation sets, reported separately. */
  evalBenchmarks: string[];
  /** Folder of the JSONL files; '' = the kit's data/. */
  dataDir?: string;
  /** Render prompts with the tokenizer's chat template (instruct / chat models); false = plain text (base models). */
  chatTemplate?: boolean;
  /** Appended to every problem (after a blank line). */
  instruction?: string;
}

function toProblem(bp: BenchmarkProblem, set: string, instruction: string): Problem {
  return {
    id: bp.id,
    prompt: instruction ? `${bp.problem}\n\n${instruction}` : bp.problem,
    answer: bp.answer,
    solution: bp.solution ?? '',
    meta: { set, ...bp.extra },
  };
}

/** Builds the task; the files are read (and validated, with file:line errors) when first needed. */
export function createBenchmarkTask(o: BenchmarkTaskOptions): Task {
  const dataDir = o.dataDir || defaultDataDir();
  const instruction = o.instruction ?? DEFAULT_INSTRUCTION;
  const chat = o.chatTemplate ?? true;
  if (o.evalBenchmarks.length === 0) throw new KitError(`config key 'task.evalBenchmarks' is empty: name at least one benchmark to evaluate on`);
  const dup = o.evalBenchmarks.find((b, i) => o.evalBenchmarks.indexOf(b) !== i);
  if (dup) throw new KitError(`config key 'task.evalBenchmarks' names '${dup}' twice`);
  const cache = new Map<string, Problem[]>();
  const load = (name: string): Problem[] => {
    let ps = cache.get(name);
    if (!ps) {
      ps = loadBenchmark(name, dataDir).map((bp) => toProblem(bp, name, instruction));
      cache.set(name, ps);
    }
    return ps;
  };
  const task: Task = {
    name: 'benchmark',
    description: `RL on ${o.trainBenchmark}, evaluated on ${o.evalBenchmarks.join(', ')} (math verifier reward)`,
    generate(rng: Rng, split: Split, n: number): Problem[] {
      if (split === 'test')
        return task.evalSets!(0)
          .flatMap((s) => s.problems)
          .slice(0, n);
      // 'train' and 'validation' alike: a seeded sample of the training file (a benchmark has no separate validation
      // file, so here the validation sample is not held out from RL training).
      const pool = load(o.trainBenchmark);
      return rng
        .shuffle(pool.map((_, i) => i))
        .slice(0, Math.min(n, pool.length))
        .map((i) => pool[i]);
    },
    verify: (completion, problem) => verifyCompletion(completion, problem.answer).correct,
    extractAnswer: (completion) => extractAnswer(completion),
    encodePrompt(tok: Tokenizer, problem: Problem): number[] {
      if (!chat) return [...(tok.bosId !== null ? [tok.bosId] : []), ...tok.encode(problem.prompt)];
      if (!tok.hasChatTemplate) {
        throw new KitError(
          `${tok.dir}: the tokenizer has no chat_template; the benchmark task renders prompts with it (set task.chatTemplate=false for a base model)`,
        );
      }
      // The template writes any BOS itself, so the rendered text is encoded without adding special tokens (as HF does).
      return tok.encode(tok.chat([{ role: 'user', content: problem.prompt }]));
    },
    trainingSet: () => load(o.trainBenchmark),
    evalSets: (n: number): EvalSet[] =>
      o.evalBenchmarks.map((name) => {
        const ps = load(name);
        return { name, problems: n > 0 ? ps.slice(0, n) : ps };
      }),
  };
  return task;
}
