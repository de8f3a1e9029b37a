// A run folder's TensorBoard events (src/train/tensorboard.ts): the numeric keys of metrics.jsonl at the same steps,
// written as training goes, never a step twice across a kill and a resume, rebuilt from metrics.jsonl when lost,
// and `introllm tb` doing the same for finished runs, idempotently.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend';
import { command as tbCommand } from '../../src/commands/tb';
import { resolveConfig } from '../../src/config';
import { methodOverride } from '../../src/experiments/methods';
import { eventFilesIn, readEventFile, TfEvent } from '../../src/io/tfevents';
import { closeRun, openRun, trainRun } from '../../src/rl/trainer';
import { MetricsLog } from '../../src/train/run-dir';
import { findRunDirs, parseMetricsRows, scalarsOf, tbDirOf, TensorBoardLog, writeRunEvents } from '../../src/train/tensorboard';
import { expectKitError, expectKitErrorAsync, tempDir } from '../helpers/kit';
import { writeTinyTaskModel } from '../helpers/tiny-model';

const dir = tempDir();
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Every scalar event of a run's tb/ folder, in file and record order. */
function events(runDir: string): TfEvent[] {
  return eventFilesIn(tbDirOf(runDir))
    .flatMap((f) => readEventFile(f).events)
    .filter((e) => e.step > 0);
}

/** The events as metrics rows: step → { tag: value }. */
function asRows(evs: TfEvent[]): Record<string, number>[] {
  return evs.map((e) => ({ step: e.step, ...Object.fromEntries((e.scalars ?? []).map((s) => [s.tag, s.value])) }));
}

/** metrics.jsonl as TensorBoard should hold it: numeric keys only, values as float32. */
function expected(runDir: string): Record<string, number>[] {
  return parseMetricsRows(fs.readFileSync(path.join(runDir, 'metrics.jsonl'), 'utf8'), 'metrics.jsonl').map((r) => ({
    step: r.step,
    ...Object.fromEntries(scalarsOf(r).map((s) => [s.tag, Math.fround(s.value)])),
  }));
}

describe('rows to scalars', () => {
  it('keeps finite numbers; skips step, strings, booleans, objects, null, NaN and ±Infinity', () => {
    expect(scalarsOf({ step: 3, phase: 'token', 'train/loss': 0.25, 'loss/kl': null, ok: true, o: { a: 1 }, n: NaN, i: -Infinity, z: 0 })).toEqual([
      { tag: 'train/loss', value: 0.25 },
      { tag: 'z', value: 0 },
    ]);
  });

  it('a torn last line is left out; any other bad line is refused with its file and line', () => {
    expect(parseMetricsRows('{"step":1}\n\n{"step":2,"x":1}\n{"step": 3, "x', 'm')).toEqual([{ step: 1 }, { step: 2, x: 1 }]);
    expectKitError(() => parseMetricsRows('{"step":1}\n{"step": 2, "x\n{"step":3}\n', 'f/metrics.jsonl'), 'f/metrics.jsonl: line 2 is not a JSON object');
    expectKitError(() => parseMetricsRows('{"x":1}\n', 'm'), 'line 1', 'positive integer "step"');
    expectKitError(() => parseMetricsRows('{"step":0}\n', 'm'), 'line 1');
  });
});

describe('a log of metrics rows', () => {
  it('writes only steps past the last one in the folder; writing nothing new makes no file', () => {
    const tb = path.join(dir, 'log', 'tb');
    const log = new TensorBoardLog(tb, () => 100);
    expect(
      log.write([
        { step: 1, x: 1 },
        { step: 2, x: 2 },
      ]),
    ).toBe(2);
    expect(
      log.write([
        { step: 2, x: 9 },
        { step: 3, x: 3 },
        { step: 3, x: 9 },
      ]),
    ).toBe(1);
    expect(eventFilesIn(tb).length).toBe(1);
    const again = new TensorBoardLog(tb, () => 200);
    expect(
      again.write([
        { step: 1, x: 9 },
        { step: 3, x: 9 },
      ]),
    ).toBe(0);
    expect(again.file).toBeNull();
    expect(eventFilesIn(tb).length).toBe(1);
    expect(again.write([{ step: 4, x: 4 }])).toBe(1);
    expect(eventFilesIn(tb).length).toBe(2); // a new file beside the first: TensorBoard reads both
    const evs = eventFilesIn(tb).flatMap((f) => readEventFile(f).events);
    expect(evs.map((e) => [e.step, e.wallTime])).toEqual([
      [0, 100],
      [1, 100],
      [2, 100],
      [3, 100],
      [0, 200],
      [4, 200],
    ]);
    expect(asRows(evs.filter((e) => e.step > 0))).toEqual([
      { step: 1, x: 1 },
      { step: 2, x: 2 },
      { step: 3, x: 3 },
      { step: 4, x: 4 },
    ]);
  });

  it('MetricsLog mirrors each appended row; a resumed log skips what tb/ holds and refills what it lost', () => {
    const run = path.join(dir, 'mlog');
    fs.mkdirSync(run);
    const log = new MetricsLog(path.join(run, 'metrics.jsonl'));
    for (let s = 1; s <= 4; s++) log.append({ step: s, x: s * 10, phase: 'token', nan: NaN });
    expect(asRows(events(run))).toEqual([1, 2, 3, 4].map((s) => ({ step: s, x: s * 10 })));
    // killed after step 4 with a checkpoint at 2: the resume cuts metrics.jsonl to 2 and trains 3, 4, 5 again
    const resumed = new MetricsLog(log.file);
    resumed.truncateAfter(2);
    for (let s = 3; s <= 5; s++) resumed.append({ step: s, x: s * 100 });
    expect(asRows(events(run))).toEqual([...[1, 2, 3, 4].map((s) => ({ step: s, x: s * 10 })), { step: 5, x: 500 }]);
    // tb/ deleted (or never written): the next process's first append writes every step of the log
    fs.rmSync(tbDirOf(run), { recursive: true });
    new MetricsLog(log.file).append({ step: 6, x: 600 });
    expect(asRows(events(run))).toEqual(expected(run));
    expect(events(run).map((e) => e.step)).toEqual([1, 2, 3, 4, 5, 6]);
    // opting out writes no tb/
    const quiet = path.join(dir, 'quiet');
    fs.mkdirSync(quiet);
    new MetricsLog(path.join(quiet, 'metrics.jsonl'), { tensorboard: false }).append({ step: 1, x: 1 });
    expect(fs.readdirSync(quiet)).toEqual(['metrics.jsonl']);
  });

  it('a corrupt event file fails the resume at once, naming the file and how to rebuild it', () => {
    const run = path.join(dir, 'corrupt');
    fs.mkdirSync(run);
    const log = new MetricsLog(path.join(run, 'metrics.jsonl'));
    log.append({ step: 1, x: 1 });
    const [f] = eventFilesIn(tbDirOf(run));
    const b = fs.readFileSync(f);
    b[b.length - 3] ^= 0xff;
    fs.writeFileSync(f, b);
    expectKitError(() => new MetricsLog(log.file).truncateAfter(1), f, 'wrong data checksum', 'delete it', 'introllm tb');
  });
});

describe('introllm tb', () => {
  it('finds every run folder below a folder (plain or packed logs), writes each once, and again writes nothing', async () => {
    const root = path.join(dir, 'study');
    const a = path.join(root, 'runs', 'm1', 'seed-0');
    const b = path.join(root, 'runs', 'm2', 'seed-1');
    for (const d of [a, b, path.join(a, 'ckpt')]) fs.mkdirSync(d, { recursive: true });
    const rows = (n: number) =>
      Array.from({ length: n }, (_, i) => JSON.stringify({ step: i + 1, 'train/reward_mean': i / 8, phase: 'token', 'loss/kl': null })).join('\n') + '\n';
    fs.writeFileSync(path.join(a, 'metrics.jsonl'), rows(3));
    fs.writeFileSync(path.join(a, 'ckpt', 'metrics.jsonl'), rows(1)); // not a run: checkpoints are not entered
    fs.writeFileSync(path.join(b, 'metrics.jsonl.gz'), zlib.gzipSync(rows(5)));
    expect(findRunDirs(root)).toEqual([a, b]);
    expect(findRunDirs(a)).toEqual([a]);

    const out: string[] = [];
    const log = console.log;
    console.log = (s: string) => out.push(s);
    try {
      expect(await tbCommand.run([root])).toBe(0);
      expect(out[0]).toMatch(new RegExp(`^${a}: wrote 3 steps \\(to step 3\\) to ${tbDirOf(a)}/events\\.out\\.tfevents\\.`));
      expect(out[2]).toBe(`${root}: 2 runs, 8 steps written`);
      expect(asRows(events(a))).toEqual(expected(a));
      expect(asRows(events(b))).toEqual([0, 1, 2, 3, 4].map((i) => ({ step: i + 1, 'train/reward_mean': i / 8 })));
      const files = [...eventFilesIn(tbDirOf(a)), ...eventFilesIn(tbDirOf(b))];
      out.length = 0;
      expect(await tbCommand.run([root, a])).toBe(0);
      expect(out).toEqual([`${a}: up to date (step 3)`, `${b}: up to date (step 5)`, `${root}: 2 runs, 0 steps written`, `${a}: up to date (step 3)`]);
      expect([...eventFilesIn(tbDirOf(a)), ...eventFilesIn(tbDirOf(b))]).toEqual(files);
      // a run that went on: only its new steps are written
      fs.appendFileSync(path.join(a, 'metrics.jsonl'), JSON.stringify({ step: 4, 'train/reward_mean': 1 }) + '\n');
      expect(writeRunEvents(a).written).toBe(1);
      expect(events(a).map((e) => e.step)).toEqual([1, 2, 3, 4]);
    } finally {
      console.log = log;
    }
    await expectKitErrorAsync(() => tbCommand.run([]), 'name at least one folder');
    await expectKitErrorAsync(() => tbCommand.run([path.join(dir, 'nowhere')]), 'nowhere: not a folder');
    fs.mkdirSync(path.join(root, 'empty'));
    await expectKitErrorAsync(() => tbCommand.run([path.join(root, 'empty')]), 'empty: no run folder');
    fs.writeFileSync(path.join(b, 'metrics.jsonl'), '{"step":1}\nnot json\n{"step":3}\n');
    await expectKitErrorAsync(() => tbCommand.run([b]), path.join(b, 'metrics.jsonl'), 'line 2');
  });
});

// The setup of tests/rl/trainer.test.ts: a tiny random Qwen3 on the wasm backend, the smoke preset, 2 × 2 rollouts.
describe('training writes tb/ as it goes', () => {
  const modelDir = path.join(dir, 'model');
  beforeAll(async () => {
    await initBackend('wasm', { log: () => {} });
    await writeTinyTaskModel(modelDir);
  });

  it('the same keys and steps as metrics.jsonl; a kill past the checkpoint and a resume write no step twice', async () => {
    const cfg = resolveConfig({
      preset: 'smoke',
      overrides: [
        { source: 'method', value: methodOverride('introllm') },
        {
          source: 'test',
          value: { model: { dir: modelDir }, rollout: { promptsPerStep: 2, groupSize: 2, maxNewTokens: 12 }, train: { steps: 4, checkpointEvery: 2 } },
        },
      ],
    });
    const out = path.join(dir, 'train');
    const first = await openRun(cfg, out);
    // "killed" once step 3 is logged: the checkpoint holds step 2
    await expect(
      trainRun(first, (rec) => {
        if (rec.step === 3) throw new Error('killed');
      }),
    ).rejects.toThrow('killed');
    closeRun(first);
    expect(events(out).map((e) => e.step)).toEqual([1, 2, 3]);
    const before = asRows(events(out));

    const second = await openRun(cfg, out);
    expect(second.step).toBe(2);
    await trainRun(second);
    closeRun(second);
    const rows = expected(out);
    expect(rows.map((r) => r.step)).toEqual([1, 2, 3, 4]);
    const evs = events(out);
    expect(evs.map((e) => e.step)).toEqual([1, 2, 3, 4]); // step 3 once: the first process's, kept
    expect(eventFilesIn(tbDirOf(out)).length).toBe(2);
    const got = asRows(evs);
    for (let i = 0; i < 4; i++) expect(Object.keys(got[i]).sort()).toEqual(Object.keys(rows[i]).sort());
    expect(Object.keys(rows[0])).toContain('train/reward_mean');
    expect(got.slice(0, 3)).toEqual(before);
    // the resumed steps equal the uninterrupted ones but for wall-clock and memory readings
    const steady = (r: Record<string, number>) => Object.fromEntries(Object.entries(r).filter(([k]) => !k.startsWith('time/') && !k.startsWith('mem/')));
    expect(got.map(steady)).toEqual(rows.map(steady));
    expect(got[3]).toEqual(rows[3]);
  });
});
