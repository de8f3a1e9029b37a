// Where a reproduction keeps each run, and reading a run's evaluation back (shared by the pipeline and its figures).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { EvalResult } from '../eval/evaluate';

/** The folder of one run of a reproduction: <out>/runs/<method>/seed-<s>. */
export function runDirOf(out: string, method: string, seed: number): string {
  return path.join(out, 'runs', method, `seed-${seed}`);
}

/** The eval.json of a run folder, or null when the run has not been evaluated (or the file is torn). */
export function readEval(dir: string): EvalResult | null {
  const f = path.join(dir, 'eval.json');
  if (!fs.existsSync(f)) return null;
  try {
    return JSON.parse(fs.readFileSync(f, 'utf8'));
  } catch {
    return null; // a torn file is re-made by resuming the run
  }
}
