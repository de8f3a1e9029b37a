// Crash-safe checkpoints and metrics logs: a save/load round trip restores variables and Adam exactly; a kill between
// the two renames of a save (only ckpt.old/ left) or during the write of ckpt.tmp/ still loads the last complete
// checkpoint; metrics.jsonl is cut back to the checkpointed step, dropping a torn last line.
import * as tf from '@tensorflow/tfjs';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend';
import { applyGroupGradients, createParamGroup } from '../../src/rl/grpo/optim';
import { findCheckpoint, loadCheckpoint, saveCheckpoint } from '../../src/train/checkpoint';
import { MetricsLog, openRunDir } from '../../src/train/run-dir';
import { expectKitError, tempDir } from '../helpers/kit';

const dir = tempDir();
beforeAll(async () => {
  await initBackend('cpu', { log: () => {} });
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function setup(seed: number) {
  const a = tf.variable(tf.randomNormal([3, 2], 0, 1, 'float32', seed));
  const b = tf.variable(tf.randomNormal([4], 0, 1, 'float32', seed + 1));
  const group = createParamGroup('theta', [a, b], { learningRate: 0.1 });
  const step = () => {
    const { value, grads } = tf.variableGrads(() => tf.add(tf.sum(tf.square(a)), tf.sum(tf.sin(b))) as tf.Scalar, [a, b]);
    applyGroupGradients(group, grads);
    tf.dispose([value, ...Object.values(grads)]);
  };
  return { a, b, group, step };
}

describe('checkpoints', () => {
  it('restore + step is bit-identical to an uninterrupted step', async () => {
    const run = path.join(dir, 'exact');
    const x = setup(1);
    x.step();
    x.step();
    await saveCheckpoint(run, { variables: { theta: [x.a, x.b] }, optimizers: [x.group], state: { step: 2, note: 'hi' } });
    x.step();
    const y = setup(7); // different initial values: everything must come from the checkpoint
    y.step(); // Adam's slots exist before the restore, as in a resumed run
    const before = tf.memory().numTensors;
    const st = await loadCheckpoint(run, { variables: { theta: [y.a, y.b] }, optimizers: [y.group] });
    expect(tf.memory().numTensors).toBe(before); // the restore leaves no tensor behind
    expect(st).toEqual({ step: 2, note: 'hi' });
    y.step();
    expect(Array.from(y.a.dataSync())).toEqual(Array.from(x.a.dataSync()));
    expect(Array.from(y.b.dataSync())).toEqual(Array.from(x.b.dataSync()));
  });

  it('a kill between the renames or during the write still finds the last complete checkpoint', async () => {
    const run = path.join(dir, 'killed');
    const x = setup(2);
    await saveCheckpoint(run, { variables: { theta: [x.a, x.b] }, optimizers: [x.group], state: { step: 5 } });
    // Killed after "ckpt → ckpt.old" and before "ckpt.tmp → ckpt", with a half-written ckpt.tmp.
    fs.renameSync(path.join(run, 'ckpt'), path.join(run, 'ckpt.old'));
    fs.mkdirSync(path.join(run, 'ckpt.tmp'));
    fs.writeFileSync(path.join(run, 'ckpt.tmp', 'tensors.safetensors'), 'partial');
    expect(findCheckpoint(run)).toBe(path.join(run, 'ckpt.old'));
    const y = setup(3);
    expect(await loadCheckpoint(run, { variables: { theta: [y.a, y.b] }, optimizers: [y.group] })).toEqual({ step: 5 });
    expect(Array.from(y.a.dataSync())).toEqual(Array.from(x.a.dataSync()));
    // The next save cleans up and leaves one checkpoint.
    await saveCheckpoint(run, { variables: { theta: [y.a, y.b] }, optimizers: [y.group], state: { step: 6 } });
    expect(fs.readdirSync(run).sort()).toEqual(['ckpt']);
  });

  it('a checkpoint of another shape is refused by name', async () => {
    const run = path.join(dir, 'shape');
    const x = setup(4);
    await saveCheckpoint(run, { variables: { theta: [x.a, x.b] }, optimizers: [x.group], state: { step: 1 } });
    const other = tf.variable(tf.zeros([5]));
    const g = createParamGroup('theta', [x.a, other], { learningRate: 0.1 });
    await expect(loadCheckpoint(run, { variables: { theta: [x.a, other] }, optimizers: [g] })).rejects.toThrow(
      "tensor 'theta/1' has shape [4], the current theta variable is [5]",
    );
  });
});

describe('run folders and metrics logs', () => {
  it('a run folder with another config is refused, the same config resumes', () => {
    const run = path.join(dir, 'cfg');
    expect(openRunDir(run, { a: 1, b: { c: 2 } })).toBe(false);
    expect(openRunDir(run, { a: 1, b: { c: 2 } })).toBe(true);
    expectKitError(() => openRunDir(run, { a: 1, b: { c: 3 } }), 'holds a run with a different config', 'b.c: 2 there, 3 now');
  });

  it('truncateAfter keeps complete lines up to the checkpointed step', () => {
    const log = new MetricsLog(path.join(dir, 'metrics.jsonl'));
    for (let s = 1; s <= 4; s++) log.append({ step: s, x: s * 10 });
    fs.appendFileSync(log.file, '{"step": 5, "x": 5'); // torn line from a kill
    log.truncateAfter(3);
    expect(log.read()).toEqual([
      { step: 1, x: 10 },
      { step: 2, x: 20 },
      { step: 3, x: 30 },
    ]);
  });

  it('requireSteps accepts a log with one row per checkpointed step and refuses a lost or doubled row, naming it', () => {
    const log = new MetricsLog(path.join(dir, 'require-steps.jsonl'));
    for (let s = 1; s <= 4; s++) log.append({ step: s });
    log.requireSteps(4);
    log.requireSteps(0);
    fs.writeFileSync(log.file, fs.readFileSync(log.file, 'utf8').split('\n').slice(0, 3).join('\n') + '\n{"step": 4'); // the last row torn
    log.truncateAfter(4);
    expectKitError(() => log.requireSteps(4), log.file, 'covers steps 1–4', 'has 3 rows', 'no row for step 4', 'cannot be recomputed');
    log.append({ step: 3 });
    expectKitError(() => log.requireSteps(3), 'a step logged twice');
  });
});
