// Backend selection: the default starts, a requested backend that cannot start is an error with its reason (never a
// silent fall-back), and the UnsortedSegmentSum kernel the kit adds to wasm (gather's gradient) matches the cpu one.
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { currentBackend, initBackend } from '../src/backend';
import { expectKitErrorAsync } from './helpers/kit';

const quiet = { log: () => {} };

describe('initBackend', () => {
  it('auto picks a backend that runs, reports it once, and returns the same one on later auto calls', async () => {
    const lines: string[] = [];
    const info = await initBackend('auto', { log: (l) => lines.push(l) });
    // No tfjs-node and no GPU adapter here: wasm is the best that starts (tensorflow/webgpu are optional).
    expect(['tensorflow', 'webgpu', 'wasm']).toContain(info.name);
    expect(tf.getBackend()).toBe(info.name);
    expect(lines).toEqual([`introllm: TF.js backend ${info.name} (${info.detail})`]);
    expect(await initBackend(undefined, { log: (l) => lines.push(l) })).toBe(info);
    expect(lines.length).toBe(1);
  });

  it('an unknown name lists the valid ones', async () => {
    await expectKitErrorAsync(() => initBackend('tpu', quiet), "unknown backend 'tpu'", 'auto, tensorflow, webgpu, wasm, cpu');
  });

  it('a requested backend whose package is missing is an error naming it, and TF.js stays where it was', async () => {
    await initBackend('cpu', quiet);
    let tensorflowInstalled = true;
    try {
      require.resolve('@tensorflow/tfjs-node');
    } catch {
      tensorflowInstalled = false;
    }
    if (!tensorflowInstalled) {
      await expectKitErrorAsync(() => initBackend('tensorflow', quiet), "backend 'tensorflow' was requested but cannot start", '@tensorflow/tfjs-node');
      expect(tf.getBackend()).toBe('cpu');
      expect(currentBackend()?.name).toBe('cpu');
    }
    let webgpuInstalled = true;
    try {
      require.resolve('webgpu');
    } catch {
      webgpuInstalled = false;
    }
    if (!webgpuInstalled) {
      await expectKitErrorAsync(() => initBackend('webgpu', quiet), "backend 'webgpu' was requested but cannot start", "package 'webgpu'");
      expect(tf.getBackend()).toBe('cpu');
    }
    expect(tensorflowInstalled && webgpuInstalled, 'at least one optional backend must be absent for this test to mean something').toBe(false);
  });

  it('INTROLLM_BACKEND forces the backend like an argument does', async () => {
    process.env.INTROLLM_BACKEND = 'wasm';
    try {
      expect((await initBackend(undefined, quiet)).name).toBe('wasm');
      expect(tf.getBackend()).toBe('wasm');
    } finally {
      delete process.env.INTROLLM_BACKEND;
    }
  });

  it('on wasm, the added UnsortedSegmentSum equals the cpu kernel, so the embedding gradient works', async () => {
    const grad = () =>
      tf.tidy(() => {
        const table = tf.tensor2d([
          [1, 2],
          [3, 4],
          [5, 6],
        ]);
        // Rows 2, 0, 2 are gathered; weights w make the upstream gradient of row i equal to w[i].
        const w = tf.tensor2d([
          [1, 10],
          [100, 1000],
          [0.5, 0.25],
        ]);
        return tf
          .grad((t: tf.Tensor) => tf.sum(tf.mul(tf.gather(t, tf.tensor1d([2, 0, 2], 'int32')), w)))(table)
          .arraySync();
      });
    await initBackend('wasm', quiet);
    const onWasm = grad();
    // d/d table: row 0 gets w[1] = [100, 1000]; row 1 nothing; row 2 gets w[0] + w[2] = [1.5, 10.25].
    expect(onWasm).toEqual([
      [100, 1000],
      [0, 0],
      [1.5, 10.25],
    ]);
    await initBackend('cpu', quiet);
    expect(grad()).toEqual(onWasm);
    await initBackend('wasm', quiet);
    // Inner dims of rank 2, and an out-of-range id (dropped, as in TensorFlow): rows 0 and 2 go to segment 1.
    const out = tf.tidy(() => tf.unsortedSegmentSum(tf.tensor3d([[[1, 2]], [[3, 4]], [[5, 6]]]), tf.tensor1d([1, 5, 1], 'int32'), 2).arraySync());
    expect(out).toEqual([[[0, 0]], [[6, 8]]]);
  });
});
