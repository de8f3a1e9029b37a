// A run folder: config.json (the fully resolved config), metrics.jsonl (one JSON line per step), tb/ (the same steps as
// TensorBoard event files, src/train/tensorboard.ts) and ckpt/. Running the
// same command on the same folder resumes it; a folder holding a run with another config is refused, not overwritten.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { KitError } from '../errors';
import { writeFileAtomic, writeJsonAtomic } from '../io/atomic';
import { parseMetricsRows, tbDirOf, TensorBoardLog } from './tensorboard';

function firstDifference(a: unknown, b: unknown, where = ''): string | null {
  if (JSON.stringify(a) === JSON.stringify(b)) return null;
  if (typeof a === 'object' && a && typeof b === 'object' && b && !Array.isArray(a) && !Array.isArray(b)) {
    for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
      const d = firstDifference((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], where ? `${where}.${k}` : k);
      if (d) return d;
    }
  }
  return `${where || 'config'}: ${JSON.stringify(a)} there, ${JSON.stringify(b)} now`;
}

/**
 * Creates `dir` with config.json, or checks that an existing run there has the same config. Returns true if it existed.
 * `fillMissing` completes the stored config before the comparison (a run made before a config key existed ran as its
 * default: withConfigDefaults in src/config.ts).
 */
export function openRunDir(dir: string, config: unknown, o: { fillMissing?: (old: unknown) => unknown } = {}): boolean {
  const file = path.join(dir, 'config.json');
  if (fs.existsSync(file)) {
    let old: unknown;
    try {
      old = JSON.parse(fs.readFileSync(file, 'utf8'));
    } catch (e) {
      throw new KitError(`${file}: unreadable (${(e as Error).message}); remove the folder or choose another --out`);
    }
    const diff = firstDifference(o.fillMissing ? o.fillMissing(old) : old, config);
    if (diff) throw new KitError(`${dir} holds a run with a different config (${diff}); choose another --out or delete the folder`);
    return true;
  }
  fs.mkdirSync(dir, { recursive: true });
  writeJsonAtomic(file, config);
  return false;
}

/**
 * metrics.jsonl: one line per step, appended; on resume, cut back to the checkpointed step. Each row also goes to the
 * TensorBoard event files in tb/ beside it (unless `tensorboard: false`). The first append of a process brings tb/ up
 * to the log: the rows past the largest step already there, which leaves out the steps a killed process logged past
 * its checkpoint (they stay as that process wrote them) and restores any tb/ lost or never made.
 */
export class MetricsLog {
  private readonly tb: TensorBoardLog | null;
  private tbSynced = false;

  constructor(
    readonly file: string,
    opts: { tensorboard?: boolean } = {},
  ) {
    this.tb = opts.tensorboard === false ? null : new TensorBoardLog(tbDirOf(path.dirname(file)));
  }

  /** Keeps the complete lines whose step ≤ lastStep (a kill may leave a partial line or steps past the checkpoint). */
  truncateAfter(lastStep: number): void {
    if (!fs.existsSync(this.file)) return;
    const keep = fs
      .readFileSync(this.file, 'utf8')
      .split('\n')
      .filter((line) => {
        if (!line.trim()) return false;
        try {
          const r = JSON.parse(line);
          return typeof r.step === 'number' && r.step <= lastStep;
        } catch {
          return false;
        }
      });
    writeFileAtomic(this.file, keep.map((l) => l + '\n').join(''));
    this.tb?.lastStep(); // a corrupt event file fails the resume now, not after its first step
  }

  /**
   * After truncateAfter(n) on a run whose checkpoint covers steps 1 … n: the log must hold exactly one row for each of
   * those steps. A row lost (a torn last line, a file edited or restored from elsewhere) cannot be recomputed from the
   * checkpoint, so the run is refused with what is missing rather than resumed with a silent gap in its curves.
   */
  requireSteps(n: number): void {
    const steps = this.read().map((r) => r.step);
    const seen = new Set(steps);
    const missing: number[] = [];
    for (let s = 1; s <= n; s++) if (!seen.has(s)) missing.push(s);
    const dup = steps.length !== seen.size;
    if (missing.length === 0 && !dup) return;
    const what = missing.length
      ? `no row for step${missing.length > 1 ? 's' : ''} ${missing.length > 8 ? `${missing.slice(0, 8).join(', ')}, …` : missing.join(', ')}`
      : 'a step logged twice';
    throw new KitError(
      `${this.file}: the checkpoint covers steps 1–${n} but the metrics log has ${steps.length} row${steps.length === 1 ? '' : 's'} (${what}); ` +
        'lost rows cannot be recomputed from the checkpoint. Restore the file, or delete the run folder to train it again from the start',
    );
  }

  append(record: { step: number } & Record<string, unknown>): void {
    const fd = fs.openSync(this.file, 'a');
    try {
      fs.writeSync(fd, JSON.stringify(record) + '\n');
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    if (this.tbSynced) this.tb?.write([record]);
    else this.syncTensorBoard();
  }

  /** Writes to tb/ the rows of the file past the largest step already there. */
  private syncTensorBoard(): void {
    if (!this.tb) return;
    this.tb.write(parseMetricsRows(fs.readFileSync(this.file, 'utf8'), this.file));
    this.tbSynced = true;
  }

  read(): ({ step: number } & Record<string, unknown>)[] {
    if (!fs.existsSync(this.file)) return [];
    return fs
      .readFileSync(this.file, 'utf8')
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => JSON.parse(l));
  }
}
