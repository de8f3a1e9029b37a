// The RL layer on a tiny random model: rollouts record what the losses need and agree with a full forward; the
// coordinate-ascent schedule; a GRPO update moves exactly the parameters of its phase and leaks no tensor.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend';
import { resolveConfig } from '../../src/config';
import { Decoder } from '../../src/lm/model';
import { CONTROLLER_NAMES, createController, isLearnedController } from '../../src/policy/registry';
import { Rng } from '../../src/rng';
import { computeAdvantages } from '../../src/rl/grpo/advantages';
import { createParamGroup } from '../../src/rl/grpo/optim';
import { grpoUpdate } from '../../src/rl/grpo-step';
import { leftPad, rollout } from '../../src/rl/rollout';
import { phaseAt, runTrainsTheta } from '../../src/rl/schedule';
import { tinyConfig } from '../helpers/kit';
import { expectRecordsMatchForward } from '../helpers/rollout-check';

beforeAll(async () => {
  await initBackend('wasm', { log: () => {} });
});

const EOS = 2;
const PAD = 0;
const prompts = [
  [1, 5, 6, 7],
  [1, 8, 9],
  [1, 5, 6, 7],
  [1, 8, 9],
];

describe('leftPad', () => {
  it('pads on the left and marks real tokens', () => {
    const p = leftPad([[4, 5, 6], [7]], 0);
    expect(p.len).toBe(3);
    expect(Array.from(p.ids)).toEqual([4, 5, 6, 0, 0, 7]);
    expect(Array.from(p.mask)).toEqual([1, 1, 1, 0, 0, 1]);
  });
});

describe('rollout', () => {
  it('records consistent per-token data, agrees with a full forward, and is reproducible', () => {
    const model = Decoder.random(tinyConfig('qwen3'), 4, { std: 0.3 });
    const ctl = createController('introllm', {}, model.cfg.hiddenSize, 9);
    const before = tf.memory().numTensors;
    const req = { prompts, maxNewTokens: 12, eosId: EOS, padId: PAD, tau0: 1, trainStep: 0 };
    const r = rollout(model, ctl, req, new Rng(3));
    expect(tf.memory().numTensors).toBe(before);
    const T = 12;
    for (let b = 0; b < r.batch; b++) {
      const len = r.lengths[b];
      for (let t = 0; t < T; t++) expect(r.mask[b * T + t]).toBe(t < len ? 1 : 0);
      // A row stops right after its EOS, or at the limit.
      const eosAt = Array.from(r.tokens.subarray(b * T, b * T + len)).indexOf(EOS);
      expect(r.finished[b]).toBe(eosAt >= 0 ? 1 : 0);
      if (eosAt >= 0) expect(eosAt).toBe(len - 1);
      else expect(len).toBe(T);
      for (let t = 0; t < len; t++) {
        const tau = r.tau[b * T + t];
        expect(tau).toBeGreaterThanOrEqual(0.4);
        expect(tau).toBeLessThanOrEqual(1.6);
        // Gate closed: τ_t = τ_{t−1}.
        if (r.gate[b * T + t] === 0) expect(tau).toBe(t === 0 ? 1 : r.tau[b * T + t - 1]);
      }
    }
    // The log-probs recorded while decoding through the KV cache equal those of one full forward at the same τ_t.
    expectRecordsMatchForward(model, r, PAD);
    const again = rollout(model, ctl, req, new Rng(3));
    expect(Array.from(again.tokens)).toEqual(Array.from(r.tokens));
    expect(Array.from(again.tau)).toEqual(Array.from(r.tau));
    const other = rollout(model, ctl, req, new Rng(4));
    expect(Array.from(other.tokens)).not.toEqual(Array.from(r.tokens));
    ctl.dispose();
    model.dispose();
  });
});

describe('coordinate-ascent schedule', () => {
  it('alternates blocks of tokenSteps and tempSteps, token block first', () => {
    const s = { mode: 'alternate' as const, tokenSteps: 2, tempSteps: 1 };
    expect([0, 1, 2, 3, 4, 5].map((i) => phaseAt(i, s, true))).toEqual(['token', 'token', 'temperature', 'token', 'token', 'temperature']);
    expect(phaseAt(2, s, false)).toBe('token'); // a controller without parameters never gets a temperature phase
    expect(phaseAt(7, { ...s, mode: 'joint' }, true)).toBe('joint');
    expect(phaseAt(0, { ...s, mode: 'temperature-only' }, true)).toBe('temperature');
    expect(phaseAt(5, { ...s, mode: 'token-only' }, true)).toBe('token');
  });

  it("whether θ ever trains (what the heap must hold room for): only a learned head's temperature-only schedule spares it", () => {
    const s = { mode: 'alternate' as const, tokenSteps: 1, tempSteps: 1 };
    expect(runTrainsTheta(s, true)).toBe(true);
    expect(runTrainsTheta({ ...s, mode: 'temperature-only' }, true)).toBe(false);
    expect(runTrainsTheta({ ...s, mode: 'temperature-only' }, false)).toBe(true); // fixed τ etc. always train θ
    expect(runTrainsTheta({ ...s, mode: 'joint' }, true)).toBe(true);
    expect(runTrainsTheta({ ...s, tokenSteps: 0, tempSteps: 3 }, true)).toBe(false);
    // The name rule agrees with what createController builds.
    for (const name of CONTROLLER_NAMES) {
      const c = createController(name, {}, 8, 0);
      expect(isLearnedController(name), name).toBe(c.learned);
      c.dispose();
    }
  });
});

describe('GRPO update', () => {
  for (const phase of ['token', 'temperature', 'joint'] as const) {
    it(`phase ${phase}: exactly the phase's parameters move, with no tensor leak`, () => {
      const model = Decoder.random(tinyConfig('llama'), 6, { std: 0.3 });
      const ctl = createController('introllm', {}, model.cfg.hiddenSize, 2);
      const cfg = resolveConfig({ preset: 'smoke' });
      const theta = createParamGroup('theta', model.variables(), { learningRate: 1e-2 });
      const phi = createParamGroup('phi', ctl.variables(), { learningRate: 1e-2 });
      const r = rollout(model, ctl, { prompts, maxNewTokens: 8, eosId: EOS, padId: PAD, tau0: 1, trainStep: 0 }, new Rng(1));
      // Hand-made advantages: prompt 0's two samples get ±1, prompt 1's ∓1.
      const adv = Float32Array.from([1, -1, -1, 1]);
      const ctx = { model, controller: ctl, theta, phi, reference: null, cfg, tau0: 1 };
      grpoUpdate(ctx, r, adv, phase, PAD); // the first step creates Adam's slots
      const snap = (vs: tf.Variable[]) => vs.map((v) => v.dataSync().slice());
      const t0 = snap(model.variables());
      const p0 = snap(ctl.variables());
      const before = tf.memory().numTensors;
      const m = grpoUpdate(ctx, r, adv, phase, PAD);
      expect(tf.memory().numTensors).toBe(before);
      const moved = (vs: tf.Variable[], s: Float32Array[] | Int32Array[] | Uint8Array[]) => vs.map((v, i) => !v.dataSync().every((x, j) => x === s[i][j]));
      const thetaMoved = moved(model.variables(), t0 as Float32Array[]);
      const phiMoved = moved(ctl.variables(), p0 as Float32Array[]);
      if (phase === 'temperature') expect(thetaMoved.every((x) => !x)).toBe(true);
      else expect(thetaMoved.every((x) => x)).toBe(true);
      if (phase === 'token') expect(phiMoved.every((x) => !x)).toBe(true);
      else expect(phiMoved.every((x) => x)).toBe(true);
      expect(m.token === null).toBe(phase === 'temperature');
      expect(m.temperature === null).toBe(phase === 'token');
      for (const x of [m.thetaGradNorm, m.phiGradNorm]) if (x !== null) expect(Number.isFinite(x) && x > 0).toBe(true);
      ctl.dispose();
      model.dispose();
    });
  }
});

// The direction of learning, end to end: when the reward favours low temperatures, temperature-only GRPO (rollout →
// group advantages → update of φ) lowers the τ the head samples, and the LM does not move.
describe('the temperature head learns from reward', () => {
  it('a reward for rows whose mean τ is below 1 drives the sampled τ down; θ stays fixed', () => {
    const model = Decoder.random(tinyConfig('qwen3'), 7, { std: 0.3 });
    // A broad initial Beta (concentration 4, Beta(2, 2)) so that 25 steps show the direction; the default 50 starts
    // the head nearly deterministic and moves it more slowly (the known-answer study measures that).
    const ctl = createController('introllm', { headInitConcentration: 4 }, model.cfg.hiddenSize, 3);
    const cfg = resolveConfig({ preset: 'smoke' });
    const theta = createParamGroup('theta', model.variables(), { learningRate: 1e-2 });
    const phi = createParamGroup('phi', ctl.variables(), { learningRate: 3e-2 });
    const ctx = { model, controller: ctl, theta, phi, reference: null, cfg, tau0: 1 };
    const G = 8;
    const batch = Array.from({ length: 2 * G }, (_, i) => prompts[i % 2]);
    const groups = Int32Array.from(batch.map((_, i) => Math.floor(i / G)));
    const theta0 = model.variables().map((v) => v.dataSync().slice());
    const meanTau: number[] = [];
    for (let step = 0; step < 25; step++) {
      const r = rollout(model, ctl, { prompts: batch, maxNewTokens: 6, eosId: -1, padId: PAD, tau0: 1, trainStep: step, groups }, new Rng(100 + step));
      const T = r.tau.length / r.batch;
      const rowTau = Array.from({ length: r.batch }, (_, b) => {
        let s = 0;
        for (let t = 0; t < T; t++) s += r.tau[b * T + t];
        return s / T;
      });
      meanTau.push(rowTau.reduce((a, b) => a + b, 0) / r.batch);
      const rewards = Float32Array.from(rowTau, (x) => (x < 1 ? 1 : 0));
      const { advantages } = computeAdvantages('grpo', rewards, { groupSize: G, scaleByStd: true });
      grpoUpdate(ctx, r, advantages, 'temperature', PAD);
    }
    const first = (meanTau[0] + meanTau[1] + meanTau[2]) / 3;
    const last = (meanTau[22] + meanTau[23] + meanTau[24]) / 3;
    expect(first).toBeGreaterThan(0.9); // the head starts near τ = 1
    expect(last).toBeLessThan(0.6); // seen: 1.0 → 0.43, near τ_min = 0.4 (and 1.0 → 1.55 when the reward favours τ > 1)
    model.variables().forEach((v, i) => expect(v.dataSync().every((x, j) => x === theta0[i][j])).toBe(true));
    ctl.dispose();
    model.dispose();
  });
});
