// Tests of the benchmark loader: every shipped file loads with the documented row count, and each kind of bad line is
// a KitError naming the file, the line and the field.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { BENCHMARKS, loadBenchmark, loadJsonlFile, parseBenchmarkJsonl } from '../../src/tasks/benchmarks';
import { expectKitError } from '../helpers/kit';

// Row counts from data/README.md.
const EXPECTED_ROWS: Record<string, number> = {
  gsm8k_test: 1319,
  gsm8k_train: 7473,
  math500: 500,
  math_train: 7470,
  aime24: 30,
  amc23: 40,
  minerva_math: 272,
  olympiadbench: 675,
  omni_math_rule: 2821,
};

const good = (id: string) => JSON.stringify({ id, problem: 'p', answer: '1' });

describe('benchmark files', () => {
  it('lists exactly the documented benchmarks', () => {
    expect(Object.keys(BENCHMARKS).sort()).toEqual(Object.keys(EXPECTED_ROWS).sort());
  });
  it.each(Object.entries(EXPECTED_ROWS))('%s loads %i validated rows', (name, rows) => {
    const data = loadBenchmark(name);
    expect(data.length).toBe(rows);
    expect(new Set(data.map((r) => r.id)).size).toBe(rows);
  });
  it('keeps extra fields and the solution', () => {
    const [first] = loadBenchmark('gsm8k_test');
    expect(first.id).toBe('gsm8k-test-0000');
    expect(first.answer).toBe('18');
    expect(first.solution).toMatch(/#### 18$/);
    const m = loadBenchmark('math500')[0];
    expect(m.extra.subject).toBe('Precalculus');
  });
  it('rejects an unknown benchmark name and lists the valid ones', () => {
    expectKitError(() => loadBenchmark('gsm9k'), "unknown benchmark 'gsm9k'", 'aime24', 'omni_math_rule');
    expectKitError(() => loadBenchmark('constructor'), "unknown benchmark 'constructor'");
  });
});

describe('parseBenchmarkJsonl errors', () => {
  it('accepts a trailing newline and CRLF line ends', () => {
    expect(parseBenchmarkJsonl(`${good('a')}\r\n${good('b')}\n`, 'x.jsonl').map((r) => r.id)).toEqual(['a', 'b']);
  });
  it('malformed JSON names file and line', () => {
    expectKitError(() => parseBenchmarkJsonl(`${good('a')}\n{"id": "b",\n`, 'f.jsonl'), 'f.jsonl:2', 'malformed JSON');
  });
  it('a missing field names the field', () => {
    expectKitError(() => parseBenchmarkJsonl(`${good('a')}\n${good('b')}\n{"id":"c","problem":"p"}`, 'f.jsonl'), 'f.jsonl:3', "missing field 'answer'");
  });
  it('a non-string field names the field and the type', () => {
    expectKitError(() => parseBenchmarkJsonl('{"id":"a","problem":"p","answer":27}', 'f.jsonl'), 'f.jsonl:1', "field 'answer' must be a string", 'number');
    expectKitError(() => parseBenchmarkJsonl('{"id":"a","problem":"p","answer":"1","solution":null}', 'f.jsonl'), 'f.jsonl:1', "field 'solution'");
  });
  it('an empty field is an error', () => {
    expectKitError(() => parseBenchmarkJsonl('{"id":"a","problem":"  ","answer":"1"}', 'f.jsonl'), 'f.jsonl:1', "field 'problem' is empty");
  });
  it('a duplicate id names both lines', () => {
    expectKitError(() => parseBenchmarkJsonl([good('a'), good('b'), good('a')].join('\n'), 'f.jsonl'), 'f.jsonl:3', "duplicate id 'a'", 'first on line 1');
  });
  it('a non-object line and a blank line are errors', () => {
    expectKitError(() => parseBenchmarkJsonl('[1,2]', 'f.jsonl'), 'f.jsonl:1', 'expected a JSON object');
    expectKitError(() => parseBenchmarkJsonl(`${good('a')}\n\n${good('b')}`, 'f.jsonl'), 'f.jsonl:2', 'empty line');
  });
  it('a missing file is a KitError naming the path', () => {
    const missing = path.join(os.tmpdir(), 'introllm-no-such-file.jsonl');
    expectKitError(() => loadJsonlFile(missing), missing, 'ENOENT');
  });
  it('reads a file from disk', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'introllm-bench-'));
    const file = path.join(dir, 'x.jsonl');
    fs.writeFileSync(file, `${good('a')}\n{"id":"b","problem":"p"}\n`);
    expectKitError(() => loadJsonlFile(file), `${file}:2`, "missing field 'answer'");
    fs.rmSync(dir, { recursive: true });
  });
  it('a <name>.jsonl.gz set loads like the plain file, errors name the .gz, and a plain file wins over it', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'introllm-bench-'));
    fs.writeFileSync(path.join(dir, 'mine.jsonl.gz'), zlib.gzipSync(`${good('a')}\n${good('b')}\n`));
    expect(loadBenchmark('mine', dir).map((r) => r.id)).toEqual(['a', 'b']);
    fs.writeFileSync(path.join(dir, 'bad.jsonl.gz'), zlib.gzipSync(`${good('a')}\n{"id":"b","problem":"p"}\n`));
    expectKitError(() => loadBenchmark('bad', dir), `${path.join(dir, 'bad.jsonl.gz')}:2`, "missing field 'answer'");
    fs.writeFileSync(path.join(dir, 'torn.jsonl.gz'), zlib.gzipSync(good('a')).subarray(0, 10));
    expectKitError(() => loadBenchmark('torn', dir), path.join(dir, 'torn.jsonl.gz'), 'cannot read benchmark file');
    fs.writeFileSync(path.join(dir, 'mine.jsonl'), `${good('plain')}\n`);
    expect(loadBenchmark('mine', dir).map((r) => r.id)).toEqual(['plain']);
    expectKitError(() => loadBenchmark('nope', dir), 'Valid benchmarks', 'bad', 'mine', 'torn');
    fs.rmSync(dir, { recursive: true });
  });
});
