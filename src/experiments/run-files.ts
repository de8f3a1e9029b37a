// Where a reproduction keeps each run, and reading a run's evaluation back (shared by the pipeline and its figures).
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ExperimentConfig } from '../config';
import { EvalResult } from '../eval/evaluate';
import type { AblationTable, MethodTraces, MetricsRecord, RunMetrics } from '../plots/types';
import type { MethodSummary } from './summary';
import { readResultText } from '../io/packed';
import { KitError } from '../errors';

/** The folder of one run of a reproduction: <out>/runs/<method>/seed-<s>. */
export function runDirOf(out: string, method: string, seed: number): string {
  return path.join(out, 'runs', method, `seed-${seed}`);
}

/** An evaluation file (plain or packed), or null when it is not there or torn. */
export function readEvalFile(file: string): EvalResult | null {
  const text = readResultText(file);
  if (text === null) return null;
  try {
    return JSON.parse(text);
  } catch {
    return null; // a torn file is re-made by resuming the run or the evaluation
  }
}

/** The eval.json of a run folder (plain or packed), or null when the run has not been evaluated (or the file is torn). */
export function readEval(dir: string): EvalResult | null {
  return readEvalFile(path.join(dir, 'eval.json'));
}

/** An untrained evaluation's file (the eval command's `--out`, a before-rl folder): <dir>/evals/<label>/seed-<s>.json. */
export function evalFileOf(dir: string, label: string, seed: number): string {
  return path.join(dir, 'evals', label, `seed-${seed}.json`);
}

/** A run folder's resolved config (its config.json), or null when it has none or it does not parse. */
export function readRunConfig(dir: string): ExperimentConfig | null {
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')) as ExperimentConfig;
  } catch {
    return null;
  }
}

/** A run folder's metrics.jsonl (plain or packed) as records, or null when it has none. */
export function readMetrics(dir: string): MetricsRecord[] | null {
  const text = readResultText(path.join(dir, 'metrics.jsonl'));
  if (text === null) return null;
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as MetricsRecord);
}

/** The token traces of each method's run `seed` in a reproduction folder, for the methods whose eval.json has any. */
export function readMethodTraces(out: string, methods: readonly string[], seed = 0): MethodTraces[] {
  return methods.map((method) => ({ method, traces: readEval(runDirOf(out, method, seed))?.traces ?? [] })).filter((m) => m.traces.length > 0);
}

/** The metrics.jsonl of every (method, seed) run of a reproduction folder that has one, methods first. */
export function readRunMetrics(out: string, methods: readonly string[], seeds: readonly number[]): RunMetrics[] {
  const runs: RunMetrics[] = [];
  for (const method of methods) {
    for (const seed of seeds) {
      const metrics = readMetrics(runDirOf(out, method, seed));
      if (metrics) runs.push({ method, seed, metrics });
    }
  }
  return runs;
}

/** The table.json of each grid folder of an ablation study (`<dir>/<grid>/table.json`), grids in name order. */
export function readAblationTables(dir: string): AblationTable[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .sort()
    .map((g) => path.join(dir, g, 'table.json'))
    .filter((f) => fs.existsSync(f))
    .map((f) => JSON.parse(fs.readFileSync(f, 'utf8')) as AblationTable);
}

/** A reproduction folder's summary.json (parsed) and table.md (text, or null), or null without a summary.json. */
export function readSummary(out: string): { summary: { methods: Record<string, MethodSummary> }; tableMd: string | null } | null {
  const file = path.join(out, 'summary.json');
  if (!fs.existsSync(file)) return null;
  const tableFile = path.join(out, 'table.md');
  return {
    summary: JSON.parse(fs.readFileSync(file, 'utf8')),
    tableMd: fs.existsSync(tableFile) ? fs.readFileSync(tableFile, 'utf8') : null,
  };
}

/**
 * Every finished evaluation of `label` in a study folder, by seed: a trained run's `runs/<label>/seed-<s>/eval.json`
 * or an untrained one's `evals/<label>/seed-<s>.json` (the eval command, a before-rl folder), plain or packed.
 */
export function readLabelEvals(dir: string, label: string): { seed: number; eval: EvalResult }[] {
  const runs = path.join(dir, 'runs', label);
  const evals = path.join(dir, 'evals', label);
  const seedsIn = (d: string, re: RegExp) =>
    (fs.existsSync(d) ? fs.readdirSync(d) : []).flatMap((n) => {
      const m = re.exec(n);
      return m ? [Number(m[1])] : [];
    });
  const out = [
    ...seedsIn(runs, /^seed-(\d+)$/).map((seed) => ({ seed, eval: readEval(runDirOf(dir, label, seed)) })),
    ...[...new Set(seedsIn(evals, /^seed-(\d+)\.json(\.gz)?$/))].map((seed) => ({ seed, eval: readEvalFile(evalFileOf(dir, label, seed)) })),
  ].filter((x): x is { seed: number; eval: EvalResult } => x.eval !== null);
  if (out.length === 0) throw new KitError(`${dir}: no finished evaluation of '${label}' (looked in ${runs}/seed-*/eval.json and ${evals}/seed-*.json)`);
  return out.sort((a, b) => a.seed - b.seed);
}
