// Committed studies keep every run's per-problem records, and those records are most of the repository's size. So the
// committed copies are gzip-compressed ("packed"): `eval.json` → `eval.json.gz`, `metrics.jsonl` → `metrics.jsonl.gz`,
// and the per-method files under an `evals/` folder (the eval command's and the headroom study's). Every reader of
// these files goes through readResultText, which takes either form, so a packed folder summarises, re-renders and
// resumes (it is finished) exactly like the folder it came from. `introllm pack DIR` packs, `--unpack` restores;
// `zcat FILE.gz` reads one by hand. The gzip stream is deterministic (no timestamp), so re-packing is byte-identical.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { KitError } from '../errors';
import { writeFileAtomic } from './atomic';

const GZ = '.gz';

/** The text of a result file, read from `file` or, when only its packed copy exists, from `file`.gz; null when neither. */
export function readResultText(file: string): string | null {
  if (fs.existsSync(file)) return fs.readFileSync(file, 'utf8');
  if (fs.existsSync(file + GZ)) {
    try {
      return zlib.gunzipSync(fs.readFileSync(file + GZ)).toString('utf8');
    } catch (e) {
      throw new KitError(`${file + GZ}: not a readable gzip file (${(e as Error).message}); restore it from git or delete it to re-run`);
    }
  }
  return null;
}

/** Whether `file` exists, plain or packed. */
export function resultExists(file: string): boolean {
  return fs.existsSync(file) || fs.existsSync(file + GZ);
}

/** The packed result files directly in `dir` (a run folder holding them is finished and must not be trained into). */
export function packedFilesIn(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((n) => n.endsWith(GZ) && isPackable(path.join(dir, n.slice(0, -GZ.length))))
    .sort();
}

/** Which files a study packs: a run's eval.json and metrics.jsonl, and the .json/.jsonl files below an evals/ folder. */
export function isPackable(file: string): boolean {
  const name = path.basename(file);
  if (name === 'eval.json' || name === 'metrics.jsonl') return true;
  return /\.jsonl?$/.test(name) && file.split(path.sep).includes('evals');
}

export interface PackReport {
  /** Files written (packed: the .gz; unpacked: the plain file). */
  written: string[];
  /** Files left alone, with the reason (e.g. an unfinished run, whose metrics.jsonl a resume appends to). */
  skipped: { file: string; why: string }[];
  bytesBefore: number;
  bytesAfter: number;
}

function walk(dir: string, out: string[] = []): string[] {
  for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) {
      if (e.name !== 'ckpt' && e.name !== 'node_modules' && !e.name.startsWith('.')) walk(p, out);
    } else if (e.isFile()) {
      out.push(p);
    }
  }
  return out;
}

/**
 * Packs (or with `unpack`, restores) every packable file below `root`. Each new file is written atomically and checked
 * to decode to the original bytes before the original is removed, so a kill at any point loses nothing. A run folder
 * without its eval.json is unfinished: its metrics.jsonl stays plain, for the resume that will append to it.
 */
export function packResults(root: string, opts: { unpack?: boolean } = {}): PackReport {
  if (!fs.existsSync(root) || !fs.statSync(root).isDirectory()) throw new KitError(`${root}: not a folder`);
  const report: PackReport = { written: [], skipped: [], bytesBefore: 0, bytesAfter: 0 };
  for (const f of walk(root)) {
    if (opts.unpack) {
      if (!f.endsWith(GZ) || !isPackable(f.slice(0, -GZ.length))) continue;
      const plain = f.slice(0, -GZ.length);
      if (fs.existsSync(plain)) {
        report.skipped.push({ file: f, why: `${path.basename(plain)} exists beside it` });
        continue;
      }
      const packed = fs.readFileSync(f);
      const data = zlib.gunzipSync(packed);
      writeFileAtomic(plain, data);
      fs.rmSync(f);
      report.written.push(plain);
      report.bytesBefore += packed.byteLength;
      report.bytesAfter += data.byteLength;
      continue;
    }
    if (!isPackable(f)) continue;
    if (path.basename(f) === 'metrics.jsonl' && !resultExists(path.join(path.dirname(f), 'eval.json'))) {
      report.skipped.push({ file: f, why: 'the run has no eval.json yet (unfinished: a resume appends to this file)' });
      continue;
    }
    const data = fs.readFileSync(f);
    const packed = zlib.gzipSync(data, { level: 9 });
    writeFileAtomic(f + GZ, packed);
    if (!zlib.gunzipSync(fs.readFileSync(f + GZ)).equals(data)) throw new KitError(`${f + GZ}: the packed copy does not decode to ${f}; kept the original`);
    fs.rmSync(f);
    report.written.push(f + GZ);
    report.bytesBefore += data.byteLength;
    report.bytesAfter += packed.byteLength;
  }
  return report;
}
