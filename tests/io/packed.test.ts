// Packed study records (src/io/packed.ts): packing a reproduction folder keeps every reader's view identical, leaves an
// unfinished run resumable, is deterministic and idempotent, and unpacking restores the original bytes.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { readBeforeRl } from '../../src/experiments/reproduce';
import { readEval, readRunMetrics, runDirOf } from '../../src/experiments/run-files';
import { isPackable, packedFilesIn, packResults, readResultText } from '../../src/io/packed';
import { expectKitError, tempDir } from '../helpers/kit';

const root = tempDir();
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

const evalOf = (v: number) => ({ step: 2, report: { avg: { value: v } }, problems: [{ id: 'p1', correct: [true, false], answers: ['3', '4'] }] });
const metrics = '{"step":1,"train/reward_mean":0.25}\n{"step":2,"train/reward_mean":0.5}\n';

function study(dir: string): Record<string, Buffer> {
  const files: Record<string, string> = {
    'config.json': '{"preset":"tiny"}',
    'summary.json': '{"methods":{}}',
    'runs/introllm/seed-0/config.json': '{"seed":0}',
    'runs/introllm/seed-0/eval.json': JSON.stringify(evalOf(0.5)),
    'runs/introllm/seed-0/metrics.jsonl': metrics,
    'runs/introllm/seed-1/metrics.jsonl': metrics, // unfinished: no eval.json yet
    'before-rl/evals/fixed-1.0/seed-0.json': JSON.stringify(evalOf(0.25)),
  };
  for (const [f, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
    fs.writeFileSync(path.join(dir, f), text);
  }
  return Object.fromEntries(Object.keys(files).map((f) => [f, Buffer.from(files[f])]));
}

const views = (dir: string) => ({
  eval: readEval(runDirOf(dir, 'introllm', 0)),
  metrics: readRunMetrics(dir, ['introllm'], [0, 1]),
  before: readBeforeRl(dir, 0),
});

describe('packed study records', () => {
  it('packs eval.json, metrics.jsonl of finished runs and evals/*; every reader sees the same data; unpack restores the bytes', () => {
    const dir = path.join(root, 'study');
    const original = study(dir);
    const before = views(dir);
    expect(before.eval?.report.avg.value).toBe(0.5);
    expect(before.metrics.map((r) => r.metrics.length)).toEqual([2, 2]);

    const r = packResults(dir);
    expect(r.written.map((f) => path.relative(dir, f)).sort()).toEqual([
      'before-rl/evals/fixed-1.0/seed-0.json.gz',
      'runs/introllm/seed-0/eval.json.gz',
      'runs/introllm/seed-0/metrics.jsonl.gz',
    ]);
    expect(r.skipped.map((s) => path.relative(dir, s.file))).toEqual(['runs/introllm/seed-1/metrics.jsonl']);
    expect(r.skipped[0].why).toContain('unfinished');
    expect(fs.existsSync(path.join(dir, 'runs/introllm/seed-0/eval.json'))).toBe(false);
    expect(fs.readFileSync(path.join(dir, 'summary.json'), 'utf8')).toBe('{"methods":{}}'); // not a per-run record
    expect(views(dir)).toEqual(before);
    expect(packedFilesIn(runDirOf(dir, 'introllm', 0))).toEqual(['eval.json.gz', 'metrics.jsonl.gz']);
    expect(packedFilesIn(runDirOf(dir, 'introllm', 1))).toEqual([]);

    // Deterministic (no timestamp in the gzip header) and idempotent.
    const gz = fs.readFileSync(path.join(dir, 'runs/introllm/seed-0/eval.json.gz'));
    expect(gz.equals(zlib.gzipSync(original['runs/introllm/seed-0/eval.json'], { level: 9 }))).toBe(true);
    expect(packResults(dir).written).toEqual([]);

    const u = packResults(dir, { unpack: true });
    expect(u.written.length).toBe(3);
    for (const [f, bytes] of Object.entries(original)) expect(fs.readFileSync(path.join(dir, f)).equals(bytes), f).toBe(true);
    expect(fs.readdirSync(runDirOf(dir, 'introllm', 0)).sort()).toEqual(['config.json', 'eval.json', 'metrics.jsonl']);
  });

  it('reads the plain file first, the packed one otherwise, null for neither; a corrupt .gz names the file', () => {
    const dir = path.join(root, 'read');
    fs.mkdirSync(dir, { recursive: true });
    const f = path.join(dir, 'eval.json');
    expect(readResultText(f)).toBeNull();
    fs.writeFileSync(f + '.gz', zlib.gzipSync('packed'));
    expect(readResultText(f)).toBe('packed');
    fs.writeFileSync(f, 'plain');
    expect(readResultText(f)).toBe('plain');
    fs.rmSync(f);
    fs.writeFileSync(f + '.gz', 'not gzip');
    expectKitError(() => readResultText(f), `${f}.gz: not a readable gzip file`);
    expectKitError(() => packResults(path.join(dir, 'nope')), 'nope: not a folder');
  });

  it('which files are per-run records', () => {
    expect(isPackable(path.join('r', 'runs', 'm', 'seed-0', 'eval.json'))).toBe(true);
    expect(isPackable(path.join('r', 'runs', 'm', 'seed-0', 'metrics.jsonl'))).toBe(true);
    expect(isPackable(path.join('r', 'evals', 'fixed-1.0.jsonl'))).toBe(true);
    expect(isPackable(path.join('r', 'evals', 'm', 'seed-2.json'))).toBe(true);
    expect(isPackable(path.join('r', 'summary.json'))).toBe(false);
    expect(isPackable(path.join('r', 'runs', 'm', 'seed-0', 'config.json'))).toBe(false);
  });
});
