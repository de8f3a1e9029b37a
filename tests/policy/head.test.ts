// The learned heads (introllm and its ablations): act()'s recorded log-prob equals logProb() of the same decisions;
// every τ lies in [τ_min, τ_max], also for extreme head outputs; gate-off rows keep τ_{t−1}; the initial gate rate and
// mean τ are what the config says; gradients reach φ (and h_t only when detachHidden = false); seeding; no leaks;
// bad shapes are KitErrors naming the argument.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend';
import { DEFAULT_CONTROLLER_CONFIG } from '../../src/policy/config';
import { createController } from '../../src/policy/registry';
import { Rng } from '../../src/rng';
import { disposeInputs, expectKitError, randomInputs, setHeadOutputs } from './helpers';

beforeAll(async () => {
  await initBackend('cpu', { log: () => {} });
});

const HEADS = ['introllm', 'introllm-nogate', 'introllm-categorical', 'introllm-gaussian', 'introllm-features'];
const D = 16;
const V = 11;
const { tauMin, tauMax } = DEFAULT_CONTROLLER_CONFIG;

describe.each(HEADS)('%s', (name) => {
  // 5e-5 absolute: at the default concentration 50 the Beta's log-normaliser is about −35, and the two paths' float32
  // sums of such terms round differently by a few 1e-5 (an importance-ratio error below 1e-4).
  it("logProb of the decisions act() sampled equals act()'s logp (5e-5)", () => {
    const c = createController(name, {}, D, 11);
    const x = randomInputs(64, D, V, 5);
    const s = c.act(x, new Rng(9));
    const lp = tf.tidy(() => c.logProb(x, tf.tensor1d(s.gate, 'float32'), tf.tensor1d(s.z)).arraySync() as number[]);
    lp.forEach((v, i) => {
      expect(Number.isFinite(v)).toBe(true);
      expect(Math.abs(v - s.logp[i])).toBeLessThan(5e-5);
    });
    if (name !== 'introllm-nogate') expect(new Set(s.gate).size).toBe(2); // both gate outcomes occur at p ≈ ½
    disposeInputs(x);
    c.dispose();
  });

  it('every τ lies in [τ_min, τ_max]; gate-off rows keep τ_{t−1} and record z = NaN', () => {
    const c = createController(name, {}, D, 12);
    const x = randomInputs(200, D, V, 6);
    const prev = x.prevTau.dataSync();
    const s = c.act(x, new Rng(1));
    for (let i = 0; i < 200; i++) {
      if (s.gate[i] === 1) {
        expect(s.tau[i]).toBeGreaterThanOrEqual(tauMin);
        expect(s.tau[i]).toBeLessThanOrEqual(tauMax);
        expect(Number.isNaN(s.z[i])).toBe(false);
      } else {
        expect(s.tau[i]).toBe(prev[i]);
        expect(Number.isNaN(s.z[i])).toBe(true);
      }
    }
    disposeInputs(x);
    c.dispose();
  });

  it('extreme head outputs still give τ in range and finite log-probs', () => {
    const c = createController(name, {}, D, 13);
    const nv = c.variables()[3].shape[0];
    const gated = name !== 'introllm-nogate';
    const patterns = [50, -50, 1e4, -1e4, 0];
    const x = randomInputs(100, D, V, 7);
    for (const a of patterns) {
      for (const b of patterns) {
        // gate entry forced open (u_c = 50) so that the value distribution is exercised; value entries alternate a, b
        const u = Array.from({ length: nv }, (_, j) => (gated && j === 0 ? 50 : j % 2 === 0 ? a : b));
        setHeadOutputs(c, u);
        const s = c.act(x, new Rng(a * 7 + b));
        for (let i = 0; i < 100; i++) {
          expect(s.gate[i]).toBe(1);
          expect(s.tau[i] >= tauMin && s.tau[i] <= tauMax, `τ ${s.tau[i]} for u = [${u}]`).toBe(true);
          expect(Number.isFinite(s.logp[i]), `logp ${s.logp[i]} for u = [${u}]`).toBe(true);
        }
      }
    }
    disposeInputs(x);
    c.dispose();
  });

  it('same seed → same φ and same samples; another seed → other φ', () => {
    const a = createController(name, {}, D, 21);
    const b = createController(name, {}, D, 21);
    const c = createController(name, {}, D, 22);
    const w = (k: typeof a) => k.variables()[0].dataSync();
    expect(Array.from(w(a))).toEqual(Array.from(w(b)));
    expect(Array.from(w(a))).not.toEqual(Array.from(w(c)));
    const x = randomInputs(32, D, V, 8);
    const sa = a.act(x, new Rng(3));
    const sb = b.act(x, new Rng(3));
    expect(Array.from(sa.tau)).toEqual(Array.from(sb.tau));
    expect(Array.from(sa.gate)).toEqual(Array.from(sb.gate));
    expect(Array.from(sa.logp)).toEqual(Array.from(sb.logp));
    disposeInputs(x);
    [a, b, c].forEach((k) => k.dispose());
  });

  it('leaks no tensors in act() or in logProb() inside tf.tidy', () => {
    const c = createController(name, {}, D, 14);
    const x = randomInputs(8, D, V, 9);
    const before = tf.memory().numTensors;
    const s = c.act(x, new Rng(2));
    expect(tf.memory().numTensors).toBe(before);
    tf.tidy(() => {
      c.logProb(x, tf.tensor1d(s.gate, 'float32'), tf.tensor1d(s.z));
    });
    expect(tf.memory().numTensors).toBe(before);
    tf.tidy(() => {
      tf.variableGrads(() => tf.sum(c.logProb(x, tf.tensor1d(s.gate, 'float32'), tf.tensor1d(s.z))) as tf.Scalar, c.variables());
    });
    expect(tf.memory().numTensors).toBe(before);
    disposeInputs(x);
    c.dispose();
  });

  it('gradient of Σ logProb w.r.t. φ is finite and non-zero for every variable', () => {
    const c = createController(name, {}, D, 15);
    const x = randomInputs(32, D, V, 10);
    const s = c.act(x, new Rng(4));
    const norms = tf.tidy(() => {
      const { grads } = tf.variableGrads(() => tf.sum(c.logProb(x, tf.tensor1d(s.gate, 'float32'), tf.tensor1d(s.z))) as tf.Scalar, c.variables());
      return c.variables().map((v) => {
        const g = Array.from(grads[v.name].dataSync() as Float32Array);
        expect(g.every((e) => Number.isFinite(e))).toBe(true);
        return g.reduce((acc, e) => acc + Math.abs(e), 0);
      });
    });
    norms.forEach((n) => expect(n).toBeGreaterThan(0));
    disposeInputs(x);
    c.dispose();
  });
});

describe('introllm specifics', () => {
  it('at initialisation: gate rate ≈ ½ and mean τ of new draws ≈ 1.0 (Beta(2,2) on [0.4, 1.6])', () => {
    const c = createController('introllm', {}, D, 31);
    const x = randomInputs(4000, D, V, 11);
    const s = c.act(x, new Rng(5));
    let open = 0;
    let sum = 0;
    for (let i = 0; i < 4000; i++)
      if (s.gate[i]) {
        open++;
        sum += s.tau[i];
      }
    // gate: p ≈ ½ (± W2's small init), SE of the rate √(¼/4000) = 0.008; τ: sd 0.27 over ~2000 draws, SE 0.006
    expect(Math.abs(open / 4000 - 0.5)).toBeLessThan(0.05);
    expect(Math.abs(sum / open - 1.0)).toBeLessThan(0.05);
    const m = c.metrics!();
    expect(m['policy/head_gate_prob']).toBeCloseTo(0.5, 1);
    expect(m['policy/head_center_tau']).toBeCloseTo(1.0, 1);
    disposeInputs(x);
    c.dispose();
  });

  it('u_c = ln 3 gives a gate rate of ¾; u_c = −50 keeps every τ_{t−1}', () => {
    const c = createController('introllm', {}, D, 32);
    const x = randomInputs(4000, D, V, 12);
    setHeadOutputs(c, [Math.log(3), 1, 1]);
    const s = c.act(x, new Rng(6));
    const rate = s.gate.reduce((a, b) => a + b, 0) / 4000;
    expect(Math.abs(rate - 0.75)).toBeLessThan(5 * Math.sqrt((0.75 * 0.25) / 4000));
    setHeadOutputs(c, [-50, 1, 1]);
    const s2 = c.act(x, new Rng(6));
    expect(Array.from(s2.tau)).toEqual(Array.from(x.prevTau.dataSync()));
    expect(s2.logp.every((v) => Math.abs(v) < 1e-6)).toBe(true); // log(1 − sigmoid(−50)) ≈ −2e-22
    disposeInputs(x);
    c.dispose();
  });

  it('detachHidden = true: no gradient reaches hidden; false: it does', () => {
    for (const detach of [true, false]) {
      for (const name of ['introllm', 'introllm-gaussian']) {
        const c = createController(name, { detachHidden: detach }, D, 33);
        const x = randomInputs(16, D, V, 13);
        const s = c.act(x, new Rng(7));
        const g = tf.tidy(() =>
          Array.from(
            tf
              .grad((h: tf.Tensor) => tf.sum(c.logProb({ ...x, hidden: h as tf.Tensor2D }, tf.tensor1d(s.gate, 'float32'), tf.tensor1d(s.z))))(x.hidden)
              .dataSync() as Float32Array,
          ),
        );
        const n = g.reduce((a, b) => a + Math.abs(b), 0);
        if (detach) expect(n).toBe(0);
        else expect(n).toBeGreaterThan(0);
        disposeInputs(x);
        c.dispose();
      }
    }
  });

  it('introllm-features: gradient reaches the logits only when detachHidden = false', () => {
    for (const detach of [true, false]) {
      const c = createController('introllm-features', { detachHidden: detach }, D, 34);
      const x = randomInputs(16, D, V, 14);
      const s = c.act(x, new Rng(8));
      const g = tf.tidy(() =>
        Array.from(
          tf
            .grad((l: tf.Tensor) => tf.sum(c.logProb({ ...x, logits: l as tf.Tensor2D }, tf.tensor1d(s.gate, 'float32'), tf.tensor1d(s.z))))(x.logits)
            .dataSync() as Float32Array,
        ),
      );
      const n = g.reduce((a, b) => a + Math.abs(b), 0);
      if (detach) expect(n).toBe(0);
      else expect(n).toBeGreaterThan(0);
      disposeInputs(x);
      c.dispose();
    }
  });

  it("the head has the paper's shape: W1 d → d/2, W2 d/2 → 3", () => {
    const c = createController('introllm', {}, 64, 35);
    expect(c.variables().map((v) => v.shape)).toEqual([[64, 32], [32], [32, 3], [3]]);
    expect(c.variableNames()).toEqual(['w1', 'b1', 'w2', 'b2']);
    expect(c.learned).toBe(true);
    c.dispose();
  });

  it('categorical τ values are exactly the set; default set = 7 steps over [0.4, 1.6]', () => {
    const c = createController('introllm-categorical', {}, D, 36);
    const x = randomInputs(300, D, V, 15);
    const s = c.act(x, new Rng(9));
    const set = [0.4, 0.6, 0.8, 1.0, 1.2, 1.4, 1.6];
    const seen = new Set<number>();
    for (let i = 0; i < 300; i++) {
      if (!s.gate[i]) continue;
      expect(Math.abs(s.tau[i] - set[s.z[i]])).toBeLessThan(1e-6); // float32 rounding kept inside [0.4, 1.6]
      seen.add(s.z[i]);
    }
    expect(seen.size).toBe(7); // uniform at init: every value occurs in ~150 draws
    disposeInputs(x);
    c.dispose();
  });

  it('bad shapes are KitErrors naming the argument', () => {
    const c = createController('introllm', {}, D, 37);
    const x = randomInputs(4, D, V, 16);
    const wrongD = tf.zeros([4, D + 1]) as tf.Tensor2D;
    const wrongN = tf.zeros([3]) as tf.Tensor1D;
    const wrongLogits = tf.zeros([3, V]) as tf.Tensor2D;
    expectKitError(() => c.act({ ...x, hidden: wrongD }, new Rng(1)), 'hidden', `[N, ${D}]`);
    expectKitError(() => c.act({ ...x, prevTau: wrongN }, new Rng(1)), 'prevTau', '[4]');
    expectKitError(() => c.act({ ...x, position: wrongN }, new Rng(1)), 'position');
    expectKitError(() => c.act({ ...x, logits: wrongLogits }, new Rng(1)), 'logits');
    expectKitError(() => c.logProb(x, wrongN, tf.zeros([4]) as tf.Tensor1D), 'gate', '[4]');
    expectKitError(() => c.logProb(x, tf.ones([4]) as tf.Tensor1D, wrongN), 'z', '[4]');
    tf.dispose([wrongD, wrongN, wrongLogits]);
    disposeInputs(x);
    c.dispose();
  });

  it('non-finite hidden states are a KitError at act()', () => {
    const c = createController('introllm', {}, D, 38);
    const x = randomInputs(2, D, V, 17);
    const h = tf.fill([2, D], NaN) as tf.Tensor2D;
    expectKitError(() => c.act({ ...x, hidden: h }, new Rng(1)), 'non-finite');
    h.dispose();
    disposeInputs(x);
    c.dispose();
  });

  it("state round-trips and rejects another controller's state", () => {
    const c = createController('introllm', {}, D, 39);
    c.loadState(JSON.parse(JSON.stringify(c.state())));
    expectKitError(() => c.loadState({ controller: 'edt' }), 'introllm.loadState');
    c.dispose();
  });
});
