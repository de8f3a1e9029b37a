// Synthetic tasks by name (the kit's registry pattern): getTask('countdown'); an unknown name is a KitError that
// lists the valid ones.
import { KitError } from '../errors';
import { arithmeticTask } from './arithmetic';
import { createBenchmarkTask } from './benchmark-task';
import { countdownTask } from './countdown';
import { guessTask } from './guess';
import { createKnownAnswerTask, KnownAnswerSpec, writeKnownAnswerModel } from './known-answer';
import { storiesTask } from './stories';
import type { Task, TaskConfig } from './types';

const TASKS: ReadonlyMap<string, Task> = new Map([
  [arithmeticTask.name, arithmeticTask],
  [countdownTask.name, countdownTask],
  [guessTask.name, guessTask],
  [storiesTask.name, storiesTask],
]);

/** The names of all registered synthetic tasks, sorted ('known-answer' and 'benchmark' are made from a config's keys:
 *  taskFromConfig). */
export function taskNames(): string[] {
  return [...TASKS.keys()].sort();
}

/** The task registered under `name`. */
export function getTask(name: string): Task {
  const task = TASKS.get(name);
  if (name === 'known-answer') throw new KitError(`task 'known-answer' is made from a config's task keys (optimalTau, difficulty): use taskFromConfig`);
  if (!task) throw new KitError(`unknown task '${name}'. Valid tasks: ${taskNames().join(', ')}`);
  return task;
}

/** The task a run's config names: a synthetic task, or 'benchmark' (the JSONL files; see benchmark-task.ts). */
export function taskFromConfig(t: TaskConfig): Task {
  if (t.name === 'known-answer') return createKnownAnswerTask(knownAnswerSpec(t));
  if (t.name !== 'benchmark') return getTask(t.name);
  return createBenchmarkTask({
    trainBenchmark: t.trainBenchmark,
    evalBenchmarks: t.evalBenchmarks,
    dataDir: t.dataDir,
    chatTemplate: t.chatTemplate,
    instruction: t.instruction,
  });
}

function knownAnswerSpec(t: TaskConfig): KnownAnswerSpec {
  return { optimalTau: t.optimalTau, positions: t.difficulty };
}

/**
 * The model folder a run of `cfg` loads: model.dir, except for the known-answer task, whose model is constructed from
 * the task's keys and written under model.dir on first use (one subfolder per rule).
 */
export function modelDirFor(cfg: { model: { dir: string }; task: TaskConfig }): string {
  if (cfg.task.name === 'known-answer') return writeKnownAnswerModel(cfg.model.dir, knownAnswerSpec(cfg.task));
  return cfg.model.dir;
}
