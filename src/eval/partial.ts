// The journal of an evaluation under way (eval.partial.jsonl beside the eval.json it becomes), so that a killed
// evaluation resumes where it stopped instead of starting over.
//
// Line 1 is a header: {"partial":"eval","version":1,"key":…}, the key naming what is evaluated (evaluatePolicy: the
// resolved config, the RL step and the split). Then one line per finished chunk of rows (src/eval/evaluate.ts), in
// order: {"scope","chunk","start","rows","problems":[{"p","id","correct","answers"}],"traces":[…],"sums":{…}}; each is
// appended and fsync'd as its chunk ends. Resuming gives exactly the uninterrupted result: each chunk samples from its
// own stream (rng.fork(`eval:${chunk}`), whatever ran before it) and the controller starts afresh on every rollout;
// `sums` carries the running token sums, so that the means add up in the same order to the last bit. A file with
// another key (another config) is started afresh; a torn last line (killed mid-write) is dropped. The owner of the
// final file removes the journal once that file is written (removeEvalJournal).
import * as fs from 'node:fs';
import { writeFileAtomic } from '../io/atomic';
import type { TokenTrace } from './evaluate';

/** One finished chunk of an evaluation. */
export interface ChunkRecord {
  /** Which evaluation of the file ('' for one; evaluateSets: 'set:<name>'). */
  scope: string;
  chunk: number;
  /** Its first row and its number of rows (problems × k rows in all, in problem order). */
  start: number;
  rows: number;
  /** The samples of each problem the chunk holds (its index in the evaluation and its id), in row order. */
  problems: { p: number; id: string; correct: boolean[]; answers: (string | null)[] }[];
  /** The traces kept in this chunk. */
  traces: TokenTrace[];
  /** The running sums over every token so far, after this chunk. */
  sums: { tau: number; gate: number; entropy: number; tokens: number };
}

/** The journal file of an evaluation written to `file` (eval.json → eval.partial.jsonl, x.jsonl → x.partial.jsonl). */
export function evalJournalFileOf(file: string): string {
  return file.replace(/\.jsonl?$/, '') + '.partial.jsonl';
}

/** Removes a journal (its final file is written). */
export function removeEvalJournal(file: string): void {
  fs.rmSync(file, { force: true });
}

export class EvalJournal {
  private constructor(
    readonly file: string,
    private readonly header: string,
    private records: ChunkRecord[],
  ) {}

  /** Opens `file` for the evaluation named by `key`: its chunks are kept when its key is the same, else it starts afresh. */
  static open(file: string, key: unknown): EvalJournal {
    const header = JSON.stringify({ partial: 'eval', version: 1, key });
    let text: string | null = null;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch {
      text = null;
    }
    const lines =
      text === null
        ? []
        : text
            .slice(0, text.lastIndexOf('\n') + 1)
            .split('\n')
            .slice(0, -1); // complete lines only
    const records: ChunkRecord[] = [];
    if (lines[0] === header) {
      for (const l of lines.slice(1)) {
        try {
          records.push(JSON.parse(l) as ChunkRecord);
        } catch {
          break;
        }
      }
    }
    const kept = [header, ...records.map((r) => JSON.stringify(r))].join('\n') + '\n';
    if (text !== kept) writeFileAtomic(file, kept);
    return new EvalJournal(file, header, records);
  }

  /** The chunks of `scope` recorded so far, in order. */
  recorded(scope: string): ChunkRecord[] {
    return this.records.filter((r) => r.scope === scope);
  }

  /** Records a finished chunk (appended and fsync'd). */
  append(rec: ChunkRecord): void {
    const fd = fs.openSync(this.file, 'a');
    try {
      fs.writeSync(fd, JSON.stringify(rec) + '\n');
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    this.records.push(rec);
  }

  /** Forgets every chunk (they do not fit this evaluation): the file holds its header only. */
  restart(): void {
    this.records = [];
    writeFileAtomic(this.file, this.header + '\n');
  }
}
