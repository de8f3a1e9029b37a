// Loader for the benchmark JSONL files in data/ (GSM8K, MATH-500, MATH train, AIME24, AMC23, Minerva Math,
// OlympiadBench, Omni-MATH-Rule; see data/README.md). A set `<name>.jsonl` may be stored gzip-compressed as
// `<name>.jsonl.gz` (the kit's own copies are, to keep the repository small); the plain file wins where both exist.
// Every line is validated: malformed JSON, a missing or empty
// `id` / `problem` / `answer`, a non-string `solution`, or a duplicate id is a KitError naming file, line and field.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { KitError } from '../errors';

export interface BenchmarkProblem {
  id: string;
  problem: string;
  /** The reference final answer (LaTeX or plain text), as stored. */
  answer: string;
  /** A worked reference solution, where the benchmark has one. */
  solution?: string;
  /** Every other field of the line, unchanged (subject, level, url, ...). */
  extra: Record<string, unknown>;
}

/** Benchmark name → file in the data directory. */
export const BENCHMARKS: Readonly<Record<string, string>> = {
  gsm8k_train: 'gsm8k_train.jsonl',
  gsm8k_test: 'gsm8k_test.jsonl',
  math500: 'math500.jsonl',
  math_train: 'math_train.jsonl',
  aime24: 'aime24.jsonl',
  amc23: 'amc23.jsonl',
  minerva_math: 'minerva_math.jsonl',
  olympiadbench: 'olympiadbench.jsonl',
  omni_math_rule: 'omni_math_rule.jsonl',
};

/** The kit's data/ folder (works from src/ through tsx and from dist/ after a build). */
export function defaultDataDir(): string {
  return path.resolve(__dirname, '..', '..', 'data');
}

/** Parses and validates JSONL text; `file` is only used in error messages. */
export function parseBenchmarkJsonl(text: string, file: string): BenchmarkProblem[] {
  const lines = text.split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  const seen = new Map<string, number>();
  const out: BenchmarkProblem[] = [];
  lines.forEach((rawLine, idx) => {
    const lineNo = idx + 1;
    const line = rawLine.endsWith('\r') ? rawLine.slice(0, -1) : rawLine;
    const where = `${file}:${lineNo}`;
    if (line.trim() === '') throw new KitError(`${where}: empty line (every line must be one JSON object)`);
    let row: unknown;
    try {
      row = JSON.parse(line);
    } catch (err) {
      throw new KitError(`${where}: malformed JSON: ${(err as Error).message}`);
    }
    if (row === null || typeof row !== 'object' || Array.isArray(row))
      throw new KitError(`${where}: expected a JSON object, got ${Array.isArray(row) ? 'an array' : row === null ? 'null' : typeof row}`);
    const rec = row as Record<string, unknown>;
    for (const field of ['id', 'problem', 'answer'] as const) {
      const v = rec[field];
      if (v === undefined) throw new KitError(`${where}: missing field '${field}'`);
      if (typeof v !== 'string') throw new KitError(`${where}: field '${field}' must be a string, got ${v === null ? 'null' : typeof v}`);
      if (v.trim() === '') throw new KitError(`${where}: field '${field}' is empty`);
    }
    if (rec.solution !== undefined && typeof rec.solution !== 'string') {
      throw new KitError(`${where}: field 'solution' must be a string when present, got ${rec.solution === null ? 'null' : typeof rec.solution}`);
    }
    const id = rec.id as string;
    const first = seen.get(id);
    if (first !== undefined) throw new KitError(`${where}: field 'id': duplicate id '${id}' (first on line ${first})`);
    seen.set(id, lineNo);
    const { id: _id, problem, answer, solution, ...extra } = rec;
    out.push({ id, problem: problem as string, answer: answer as string, ...(solution !== undefined ? { solution: solution as string } : {}), extra });
  });
  return out;
}

/** Loads and validates one JSONL file. */
export function loadJsonlFile(file: string): BenchmarkProblem[] {
  let text: string;
  try {
    text = readDataFile(file).toString('utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const gz = code === 'Z_DATA_ERROR' || code === 'Z_BUF_ERROR' ? ' (not a complete gzip file)' : '';
    throw new KitError(`${file}: cannot read benchmark file: ${code ?? (err as Error).message}${gz}`);
  }
  return parseBenchmarkJsonl(text, file);
}

/**
 * Loads a benchmark by name: one of BENCHMARKS, or any `<name>.jsonl` in `dataDir` (a user's own set in the same
 * format). An unknown name is a KitError listing the sets that exist.
 */
export function loadBenchmark(name: string, dataDir: string = defaultDataDir()): BenchmarkProblem[] {
  const known = Object.prototype.hasOwnProperty.call(BENCHMARKS, name) ? BENCHMARKS[name] : undefined;
  const own = /^[A-Za-z0-9_.-]+$/.test(name) && dataFile(dataDir, `${name}.jsonl`) !== null ? `${name}.jsonl` : undefined;
  const file = known ?? own;
  if (!file) {
    const present = fs.existsSync(dataDir)
      ? fs
          .readdirSync(dataDir)
          .filter((f) => /\.jsonl(\.gz)?$/.test(f))
          .map((f) => f.replace(/\.jsonl(\.gz)?$/, ''))
      : [];
    const valid = [...new Set([...Object.keys(BENCHMARKS), ...present])].sort();
    throw new KitError(`unknown benchmark '${name}' (no ${path.join(dataDir, `${name}.jsonl`)}). Valid benchmarks: ${valid.join(', ')}`);
  }
  return loadJsonlFile(dataFile(dataDir, file) ?? path.join(dataDir, file));
}

/** The path of data file `file` in `dir`: itself, else its gzip-compressed `<file>.gz`; null when neither exists. */
export function dataFile(dir: string, file: string): string | null {
  for (const f of [file, `${file}.gz`]) if (fs.existsSync(path.join(dir, f))) return path.join(dir, f);
  return null;
}

/** A data file's bytes, decompressed when its name ends in .gz. */
export function readDataFile(file: string): Buffer {
  const bytes = fs.readFileSync(file);
  return file.endsWith('.gz') ? zlib.gunzipSync(bytes) : bytes;
}
