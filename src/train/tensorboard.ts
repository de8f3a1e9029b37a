// A run folder's TensorBoard view: DIR/tb/events.out.tfevents.*, holding every numeric key of DIR/metrics.jsonl at the
// same step (docs/tensorboard.md). Training writes it as it goes (MetricsLog.append); `introllm tb` writes it for runs
// that have only their metrics.jsonl. Either way a step already in the folder's event files is never written again:
// the writer starts past their largest step, in a new file (TensorBoard reads every event file of a folder).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { KitError } from '../errors';
import { readResultText } from '../io/packed';
import { EventFileWriter, maxStepIn, TfEvent } from '../io/tfevents';

/** The folder of a run's event files. */
export function tbDirOf(runDir: string): string {
  return path.join(runDir, 'tb');
}

export type MetricsRow = { step: number } & Record<string, unknown>;

/**
 * The scalars TensorBoard gets from one metrics row: every key but `step` whose value is a finite number, as a float32
 * (TensorBoard's simple_value). Anything else is left out at that step: strings (`phase`), booleans, objects, and null,
 * which is what metrics.jsonl holds for a metric that does not apply to a step and for NaN and ±Infinity (JSON has no
 * such numbers). A live row's NaN is skipped the same way, so the events equal those `introllm tb` makes from the file.
 */
export function scalarsOf(row: Record<string, unknown>): { tag: string; value: number }[] {
  const out: { tag: string; value: number }[] = [];
  for (const [tag, value] of Object.entries(row)) if (tag !== 'step' && typeof value === 'number' && Number.isFinite(value)) out.push({ tag, value });
  return out;
}

/**
 * The rows of a metrics.jsonl text. A last line that does not parse and has no newline after it is a kill's torn
 * append and is left out (the run's resume cuts it too); any other bad line is a KitError naming the file and line.
 */
export function parseMetricsRows(text: string, file: string): MetricsRow[] {
  const lines = text.split('\n');
  const rows: MetricsRow[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (!lines[i].trim()) continue;
    let r: unknown;
    try {
      r = JSON.parse(lines[i]);
    } catch {
      r = undefined;
    }
    if (r && typeof r === 'object' && !Array.isArray(r) && Number.isSafeInteger((r as MetricsRow).step) && (r as MetricsRow).step > 0) {
      rows.push(r as MetricsRow);
    } else if (i === lines.length - 1) {
      break;
    } else {
      throw new KitError(`${file}: line ${i + 1} is not a JSON object with a positive integer "step"`);
    }
  }
  return rows;
}

/**
 * Appends metrics rows to the event files of one folder. The folder's largest step is read once, on the first write;
 * after that only rows with a larger step are written, in order (a row at or below it is already there). The event
 * file is created on the first row actually written, so a write with nothing new leaves the folder as it was.
 */
export class TensorBoardLog {
  private last: number | null = null;
  private writer: EventFileWriter | null = null;

  constructor(
    readonly dir: string,
    private readonly now: () => number = () => Date.now() / 1000,
  ) {}

  /** The largest step in the folder's event files (0 for none). */
  lastStep(): number {
    if (this.last === null) {
      try {
        this.last = maxStepIn(this.dir);
      } catch (e) {
        if (!(e instanceof KitError)) throw e;
        throw new KitError(`${e.message}. The folder ${this.dir} only mirrors metrics.jsonl: delete it, and the next run or \`introllm tb\` writes it again`);
      }
    }
    return this.last;
  }

  /** The event file this log appends to, once it has written a row. */
  get file(): string | null {
    return this.writer?.file ?? null;
  }

  /** Writes the rows past lastStep() in one append, all at the current wall time; returns how many. */
  write(rows: Iterable<MetricsRow>): number {
    let last = this.lastStep();
    const wallTime = this.now();
    const events: TfEvent[] = [];
    for (const r of rows) {
      if (!(r.step > last)) continue;
      events.push({ wallTime, step: r.step, scalars: scalarsOf(r) });
      last = r.step;
    }
    if (events.length === 0) return 0;
    this.writer ??= new EventFileWriter(this.dir, this.now);
    this.writer.writeEvents(events);
    this.last = last;
    return events.length;
  }
}

/** Writes a run folder's metrics.jsonl (plain or packed) into its tb/ folder: the steps not there yet. */
export function writeRunEvents(runDir: string, now?: () => number): { written: number; lastStep: number; file: string | null } {
  const file = path.join(runDir, 'metrics.jsonl');
  const text = readResultText(file);
  if (text === null) throw new KitError(`${runDir}: no metrics.jsonl (nor metrics.jsonl.gz)`);
  const tb = new TensorBoardLog(tbDirOf(runDir), now);
  const written = tb.write(parseMetricsRows(text, file));
  return { written, lastStep: tb.lastStep(), file: tb.file };
}

/** The run folders at or below `root`: those holding a metrics.jsonl (or .gz), in name order; checkpoints are not entered. */
export function findRunDirs(root: string): string[] {
  if (!fs.existsSync(root) || !fs.statSync(root).isDirectory()) throw new KitError(`${root}: not a folder`);
  const out: string[] = [];
  const walk = (dir: string) => {
    const entries = fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    if (entries.some((e) => e.isFile() && (e.name === 'metrics.jsonl' || e.name === 'metrics.jsonl.gz'))) out.push(dir);
    for (const e of entries) {
      if (!e.isDirectory() || e.name.startsWith('.') || e.name.startsWith('ckpt') || e.name === 'tb' || e.name === 'node_modules') continue;
      walk(path.join(dir, e.name));
    }
  };
  walk(root);
  return out;
}
