// Reading a reproduction folder back (src/experiments/run-files.ts): traces per method, metrics per run, ablation
// tables and summary.json + table.md, from folders written by hand.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readAblationTables, readMethodTraces, readRunMetrics, readSummary, runDirOf } from '../../src/experiments/run-files';
import { tempDir } from '../helpers/kit';

function write(file: string, text: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
}
const trace = { problemId: 'p0', correct: true, text: ['a', 'b'], tau: [1, 1], gate: [0, 0], entropy: [0.1, 0.2] };

describe('run files', () => {
  it('reads the traces of the methods whose eval.json has some, in the order asked', () => {
    const out = tempDir();
    write(path.join(runDirOf(out, 'edt', 0), 'eval.json'), JSON.stringify({ traces: [trace] }));
    write(path.join(runDirOf(out, 'fixed-1.0', 0), 'eval.json'), JSON.stringify({ traces: [] }));
    write(path.join(runDirOf(out, 'introllm', 1), 'eval.json'), JSON.stringify({ traces: [trace, trace] }));
    write(path.join(runDirOf(out, 'introllm', 0), 'eval.json'), JSON.stringify({ traces: [trace] }));
    const got = readMethodTraces(out, ['introllm', 'edt', 'fixed-1.0', 'missing']);
    expect(got.map((m) => [m.method, m.traces.length])).toEqual([
      ['introllm', 1],
      ['edt', 1],
    ]);
    expect(readMethodTraces(out, ['introllm'], 1)[0].traces).toHaveLength(2);
  });
  it('reads metrics.jsonl of every run that has one, methods first, skipping blank lines', () => {
    const out = tempDir();
    write(path.join(runDirOf(out, 'a', 2), 'metrics.jsonl'), '{"step":1,"x":0.5}\n{"step":2,"x":0.25}\n\n');
    write(path.join(runDirOf(out, 'a', 0), 'metrics.jsonl'), '{"step":1}\n');
    write(path.join(runDirOf(out, 'b', 0), 'metrics.jsonl'), '{"step":1}\n');
    const runs = readRunMetrics(out, ['a', 'b'], [0, 1, 2]);
    expect(runs.map((r) => [r.method, r.seed, r.metrics.length])).toEqual([
      ['a', 0, 1],
      ['a', 2, 2],
      ['b', 0, 1],
    ]);
    expect(runs[1].metrics[1]).toEqual({ step: 2, x: 0.25 });
    expect(readRunMetrics(path.join(out, 'none'), ['a'], [0])).toEqual([]);
  });
  it('reads the ablation grids that have a table.json, in name order', () => {
    const dir = tempDir();
    write(path.join(dir, 'tau-range', 'table.json'), JSON.stringify({ grid: 'tau-range', rows: [] }));
    write(path.join(dir, 'gate', 'table.json'), JSON.stringify({ grid: 'gate', rows: [] }));
    fs.mkdirSync(path.join(dir, 'unfinished'));
    expect(readAblationTables(dir).map((t) => t.grid)).toEqual(['gate', 'tau-range']);
    expect(readAblationTables(path.join(dir, 'absent'))).toEqual([]);
  });
  it('reads summary.json with table.md when there is one, and null without a summary', () => {
    const out = tempDir();
    expect(readSummary(out)).toBeNull();
    write(path.join(out, 'summary.json'), JSON.stringify({ methods: { introllm: { accuracy: 0.5 } } }));
    expect(readSummary(out)).toEqual({ summary: { methods: { introllm: { accuracy: 0.5 } } }, tableMd: null });
    write(path.join(out, 'table.md'), '| a |\n');
    expect(readSummary(out)!.tableMd).toBe('| a |\n');
  });
});
