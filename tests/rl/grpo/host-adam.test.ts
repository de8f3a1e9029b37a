// HostAdam (θ's Adam in host memory, for models the wasm heap holds only once) against TF.js's AdamOptimizer: the same
// float32 operations in the same order, so the same weights and moments to the bit, step after step, clipped or not;
// and its saved state is the device optimiser's format (a checkpoint moves between the two and continues exactly).
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src/backend';
import { HostAdam, HostGrads } from '../../../src/rl/grpo/host-adam';
import {
  applyGroupGradients,
  applyHostGradients,
  clipByGlobalNorm,
  createParamGroup,
  isOnHost,
  optimizerState,
  restoreOptimizer,
} from '../../../src/rl/grpo/optim';
import { Rng } from '../../../src/rng';

beforeAll(async () => {
  await initBackend('wasm', { log: () => {} });
});

const shapes = [[3, 5], [7], [2, 3, 4]];
function randomArrays(seed: number, scale = 1): Float32Array[] {
  const rng = new Rng(seed);
  return shapes.map((s) => Float32Array.from({ length: s.reduce((a, b) => a * b, 1) }, () => scale * (2 * rng.next() - 1)));
}
function variables(seed: number): tf.Variable[] {
  return randomArrays(seed).map((a, i) => tf.variable(tf.tensor(a, shapes[i]), true, `host_adam_${seed}_${i}_${Math.random()}`));
}
const values = (vs: tf.Variable[]) => vs.map((v) => Array.from(v.dataSync()));

describe('HostAdam', () => {
  it('equals TF.js Adam to the bit over 4 steps, with and without clipping (lr 1e-2, default betas, ε 1e-8)', () => {
    const dev = createParamGroup('theta', variables(1), { learningRate: 1e-2 });
    const host = createParamGroup('theta', variables(1), { learningRate: 1e-2 }, { onHost: true });
    expect(isOnHost(host)).toBe(true);
    expect(isOnHost(dev)).toBe(false);
    for (let step = 0; step < 4; step++) {
      // Steps 1 and 3 have gradients of norm ~4, clipped to 1; steps 0 and 2 of norm < 1, not clipped.
      const g = randomArrays(10 + step, step % 2 ? 1 : 0.1);
      const named: tf.NamedTensorMap = Object.fromEntries(dev.variables.map((v, i) => [v.name, tf.tensor(g[i], shapes[i])]));
      const clipped = clipByGlobalNorm(named, 1);
      applyGroupGradients(dev, clipped.grads);
      const hg = new HostGrads();
      host.variables.forEach((v, i) => tf.tidy(() => hg.add(v, tf.tensor(g[i], shapes[i]))));
      const norm = applyHostGradients(host, hg, 1);
      expect(norm).toBeCloseTo(clipped.norm, 5);
      expect(clipped.norm > 1).toBe(step % 2 === 1);
      tf.dispose([Object.values(named), Object.values(clipped.grads)]);
      expect(values(host.variables as tf.Variable[])).toEqual(values(dev.variables as tf.Variable[]));
    }
  });

  it('its state has the device format: device state → host group, host state → device group, both continue exactly', async () => {
    const grads = (k: number) => randomArrays(20 + k, 0.3);
    const stepDev = (grp: ReturnType<typeof createParamGroup>, k: number) => {
      const named = Object.fromEntries(grp.variables.map((v, i) => [v.name, tf.tensor(grads(k)[i], shapes[i])]));
      applyGroupGradients(grp, named);
      tf.dispose(Object.values(named));
    };
    const stepHost = (grp: ReturnType<typeof createParamGroup>, k: number) => {
      const hg = new HostGrads();
      grp.variables.forEach((v, i) => tf.tidy(() => hg.add(v, tf.tensor(grads(k)[i], shapes[i]))));
      applyHostGradients(grp, hg, Infinity);
    };
    // Reference: 3 device steps.
    const ref = createParamGroup('theta', variables(2), { learningRate: 3e-3 });
    for (let k = 0; k < 3; k++) stepDev(ref, k);
    // Device for 2 steps, its state into a host group over copies of the weights, then the third step on the host.
    const a = createParamGroup('theta', variables(2), { learningRate: 3e-3 });
    stepDev(a, 0);
    stepDev(a, 1);
    const b = createParamGroup(
      'theta',
      a.variables.map((v) => tf.variable(v.clone(), true, `${v.name}_copy`)),
      { learningRate: 1 },
      { onHost: true },
    );
    await restoreOptimizer(b, await optimizerState(a));
    expect(b.config.learningRate).toBe(3e-3);
    stepHost(b, 2);
    expect(values(b.variables as tf.Variable[])).toEqual(values(ref.variables as tf.Variable[]));
    // And back: the host state after those 3 steps into a device group; one more step on each side agrees.
    const c = createParamGroup(
      'theta',
      b.variables.map((v) => tf.variable(v.clone(), true, `${v.name}_back`)),
      { learningRate: 1 },
    );
    const hostState = await optimizerState(b);
    expect(hostState.weights.map((w) => (w.name.endsWith('/m') ? 'm' : w.name.endsWith('/v') ? 'v' : w.name))).toEqual(['iter', 'm', 'm', 'm', 'v', 'v', 'v']);
    expect(hostState.weights[0].data[0]).toBe(3);
    await restoreOptimizer(c, hostState);
    stepDev(c, 3);
    stepDev(ref, 3);
    expect(values(c.variables as tf.Variable[])).toEqual(values(ref.variables as tf.Variable[]));
  });

  it('a non-finite gradient norm skips the step and leaves weights and moments alone', () => {
    const grp = createParamGroup('theta', variables(3), { learningRate: 1e-2 }, { onHost: true });
    const before = values(grp.variables as tf.Variable[]);
    const hg = new HostGrads();
    const g = randomArrays(4);
    g[1][2] = NaN;
    grp.variables.forEach((v, i) => tf.tidy(() => hg.add(v, tf.tensor(g[i], shapes[i]))));
    expect(Number.isNaN(applyHostGradients(grp, hg, 1))).toBe(true);
    expect(values(grp.variables as tf.Variable[])).toEqual(before);
    expect((grp.optimizer as HostAdam).iterations).toBe(0);
  });
});

describe('HostGrads', () => {
  it('sums repeated gradients of a variable and scatters embedding-lookup gradients into the [d, V] columns', () => {
    const w = tf.variable(tf.zeros([2, 4]), true, `hg_${Math.random()}`);
    const hg = new HostGrads();
    tf.tidy(() =>
      hg.add(
        w,
        tf.tensor2d([
          [1, 2, 3, 4],
          [5, 6, 7, 8],
        ]),
      ),
    );
    // ids 3, 1, 3 with rows [d = 2]: column 3 gets (10, 20) + (30, 40), column 1 gets (1, 2).
    hg.addColumns(w, [3, 1, 3], Float32Array.from([10, 20, 1, 2, 30, 40]));
    expect(Array.from(hg.get(w)!)).toEqual([1, 3, 3, 44, 5, 8, 7, 68]);
    expect(hg.norm([w])).toBeCloseTo(Math.hypot(1, 3, 3, 44, 5, 8, 7, 68), 6);
    expect(() => hg.addColumns(w, [4], Float32Array.from([1, 2]))).toThrow(/outside \[0, 4\)/);
    // A block of columns 1..2: [[100, 200], [300, 400]] lands in rows 0 and 1 at those columns.
    tf.tidy(() =>
      hg.add(
        w,
        tf.tensor2d([
          [100, 200],
          [300, 400],
        ]),
        1,
      ),
    );
    expect(Array.from(hg.get(w)!)).toEqual([1, 103, 203, 44, 5, 308, 407, 68]);
    expect(() =>
      tf.tidy(() =>
        hg.add(
          w,
          tf.tensor2d([
            [1, 2],
            [3, 4],
          ]),
          3,
        ),
      ),
    ).toThrow(/a block \[2,2\] at column 3/);
    // A new pass reuses the buffer (no 2.4 GB allocated per step at 0.6B) and starts from nothing, not from the last sums.
    const buf = hg.get(w)!;
    hg.clear();
    expect(hg.get(w)).toBeUndefined();
    expect(hg.norm([w])).toBe(0);
    tf.tidy(() =>
      hg.add(
        w,
        tf.tensor2d([
          [1, 1, 1, 1],
          [2, 2, 2, 2],
        ]),
      ),
    );
    expect(hg.get(w)).toBe(buf);
    expect(Array.from(buf)).toEqual([1, 1, 1, 1, 2, 2, 2, 2]);
    hg.clear();
    hg.addColumns(w, [0], Float32Array.from([5, 6]));
    expect(Array.from(hg.get(w)!)).toEqual([5, 0, 0, 0, 6, 0, 0, 0]);
  });
});
