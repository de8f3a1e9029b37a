// An evaluation killed part-way resumes from its journal (eval.partial.jsonl, src/eval/partial.ts) to exactly the
// result of an uninterrupted one: every chunk samples from its own stream, and the running token sums are carried.
// The kill is simulated by an onProgress hook that throws after a few chunks (the journal then holds just those).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend';
import { resolveConfig } from '../../src/config';
import { evaluate, EvalOptions, EvalResult } from '../../src/eval/evaluate';
import { EvalJournal, evalJournalFileOf } from '../../src/eval/partial';
import { methodOverride } from '../../src/experiments/methods';
import { loadModel } from '../../src/lm/load';
import { loadTokenizer } from '../../src/lm/tokenizer';
import { createController } from '../../src/policy/registry';
import { Rng } from '../../src/rng';
import { closeRun, evaluateRun, openRun } from '../../src/rl/trainer';
import { getTask } from '../../src/tasks/registry';
import { tempDir } from '../helpers/kit';

const dir = tempDir();
const modelDir = 'data/models/tiny-guess';
beforeAll(async () => {
  await initBackend(process.env.INTROLLM_TEST_BACKEND ?? 'wasm', { log: () => {} });
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

class Killed extends Error {}
/** An onProgress that "kills" the evaluation once `chunks` chunks are done (its first call is the start). */
const killAfter = (chunks: number) => {
  let calls = 0;
  return () => {
    if (calls++ === chunks) throw new Killed();
  };
};
const journalLines = (file: string) => fs.readFileSync(file, 'utf8').trim().split('\n');

describe('evaluate with a journal', () => {
  it('killed after 2 of 4 chunks (and again with a torn last line), it resumes to the uninterrupted result, bit for bit', async () => {
    const { model } = loadModel(modelDir, { trainable: false });
    const tok = await loadTokenizer(modelDir);
    const task = getTask('guess');
    const problems = task.generate(new Rng(3), 'test', 8, 1);
    // IntroLLM's head sampling τ at evaluation: the controller's own draws must not depend on where the run resumed.
    const ctl = createController('introllm', { evalAction: 'sample' }, model.cfg.hiddenSize, 0);
    const o: EvalOptions = { k: 4, maxNewTokens: 16, tau0: 1, batchRows: 8, keepTraces: 3 }; // 2 problems a chunk, 4 chunks
    const run = (extra: Partial<EvalOptions> = {}): EvalResult => evaluate(model, tok, ctl, problems, task, { ...o, ...extra }, new Rng(5).fork('eval'));
    const whole = run();

    const file = path.join(dir, 'a', 'eval.partial.jsonl');
    const key = { config: 'x', step: 0 };
    const progress: [number, number][] = [];
    expect(() =>
      run({
        journal: EvalJournal.open(file, key),
        onProgress: (d, t) => {
          progress.push([d, t]);
          if (progress.length === 3) throw new Killed();
        },
      }),
    ).toThrow(Killed);
    expect(progress).toEqual([
      [0, 8],
      [2, 8],
      [4, 8],
    ]);
    expect(journalLines(file)).toHaveLength(3); // the header and 2 chunks
    expect(JSON.parse(journalLines(file)[0])).toEqual({ partial: 'eval', version: 1, key });

    const resumedProgress: [number, number][] = [];
    const resumed = run({ journal: EvalJournal.open(file, key), onProgress: (d, t) => resumedProgress.push([d, t]) });
    expect(resumedProgress).toEqual([
      [4, 8],
      [6, 8],
      [8, 8],
    ]); // starts where it stopped
    expect(resumed).toEqual(whole);
    expect(resumed.tauMean).toBe(whole.tauMean);
    expect(resumed.entropyMean).toBe(whole.entropyMean);
    expect(JSON.stringify(resumed)).toBe(JSON.stringify(whole));
    expect(journalLines(file)).toHaveLength(5);

    // Killed after 1 chunk, mid-write of the next line: the torn line is dropped on opening.
    const torn = path.join(dir, 'b', 'eval.partial.jsonl');
    expect(() => run({ journal: EvalJournal.open(torn, key), onProgress: killAfter(1) })).toThrow(Killed);
    fs.appendFileSync(torn, journalLines(file)[2].slice(0, 40));
    const j = EvalJournal.open(torn, key);
    expect(j.recorded('')).toHaveLength(1);
    expect(fs.readFileSync(torn, 'utf8').endsWith('\n')).toBe(true);
    expect(JSON.stringify(run({ journal: j }))).toBe(JSON.stringify(whole));

    // Another key (another config) starts afresh; so does a journal of other chunks (another chunk size).
    const other = EvalJournal.open(file, { config: 'y', step: 0 });
    expect(other.recorded('')).toHaveLength(0);
    expect(journalLines(file)).toHaveLength(1);
    expect(() => run({ journal: EvalJournal.open(file, key), onProgress: killAfter(2) })).toThrow(Killed);
    const wider = run({ journal: EvalJournal.open(file, key), batchRows: 16 });
    expect(wider).toEqual(run({ batchRows: 16 }));
    expect(journalLines(file)).toHaveLength(3); // header + the 2 chunks of 16 rows

    ctl.dispose();
    model.dispose();
  });
});

describe('evaluateRun', () => {
  it('a run killed while evaluating writes, when run again, the same eval.json as an uninterrupted one, and removes its journal', async () => {
    const cfg = resolveConfig({
      preset: 'smoke',
      overrides: [
        { source: 'method', value: methodOverride('introllm') },
        { source: 'test', value: { model: { dir: modelDir }, controller: { evalAction: 'sample' }, eval: { problems: 40, k: 4, maxNewTokens: 12 } } },
      ],
    }); // 160 rows: chunks of 64, 64 and 32 at the default of 64 rows a chunk
    const evalOnce = async (out: string, onProgress?: (d: number, t: number) => void) => {
      const run = await openRun(cfg, out);
      try {
        return evaluateRun(run, onProgress);
      } finally {
        closeRun(run);
      }
    };
    const a = path.join(dir, 'run-a');
    await evalOnce(a);
    expect(fs.existsSync(evalJournalFileOf(path.join(a, 'eval.json')))).toBe(false);

    const b = path.join(dir, 'run-b');
    const journal = path.join(b, 'eval.partial.jsonl');
    await expect(evalOnce(b, killAfter(1))).rejects.toThrow(Killed);
    expect(fs.existsSync(path.join(b, 'eval.json'))).toBe(false);
    expect(journalLines(journal)).toHaveLength(2);
    const seen: number[] = [];
    await evalOnce(b, (d) => seen.push(d));
    expect(seen[0]).toBeGreaterThan(0); // resumed after the recorded chunk
    expect(seen.at(-1)).toBe(40);
    expect(fs.readFileSync(path.join(b, 'eval.json'), 'utf8')).toBe(fs.readFileSync(path.join(a, 'eval.json'), 'utf8'));
    expect(fs.existsSync(journal)).toBe(false);
  });
});
