// A rollout that records the learned head's inputs, and the θ-frozen update of φ that reads them instead of running
// θ's forward again: the recording changes nothing the rollout samples; the recorded inputs are the decoder's hidden
// states (or the distribution features) at each generated token; log π_φ from them is the log π_φ the rollout
// recorded; an update from them moves φ as the update from θ's forward does and θ not at all, in one batch and in
// micro-batches; the plan decides where they fit.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend';
import { ExperimentConfig, resolveConfig, setOverrides } from '../../src/config';
import { Decoder } from '../../src/lm/model';
import { gatherPlanInput } from '../../src/plan/gather';
import { HEAD_INPUT_RECORD_BYTES, makeRunPlan } from '../../src/plan/run-plan';
import { createController } from '../../src/policy/registry';
import { Rng } from '../../src/rng';
import { grpoUpdate, phiGradientDiagnostics, rolloutForward } from '../../src/rl/grpo-step';
import { chunkedRollout, Rollout, rollout, RolloutRequest, sliceRollout } from '../../src/rl/rollout';
import { ADV as adv, EOS, GROUPS as groups, maxAbs, PAD, PROMPTS as prompts, snap, updatePolicy } from '../helpers/grpo-batch';
import { tinyConfig } from '../helpers/kit';

beforeAll(async () => {
  await initBackend('wasm', { log: () => {} });
});

const T = 10;
const request = (record: boolean): RolloutRequest => ({
  prompts,
  maxNewTokens: T,
  eosId: EOS,
  padId: PAD,
  tau0: 1,
  trainStep: 0,
  groups,
  recordHeadInput: record,
});

/** A policy with its update context (updatePolicy: Adam with ε = 1, so that a step's change is ≈ −lr · gradient). */
const policy = (cfg: ExperimentConfig, controller: string) => updatePolicy(cfg, { controller });
const withoutHeadInput = (r: Rollout): Rollout => {
  const { headInput: _drop, ...rest } = r;
  return rest;
};

describe('recording the head inputs in a rollout', () => {
  it("'introllm': the same tokens and decisions as without recording; the inputs are the hidden states of a full forward (to 1e-4), 0 past each row's end", () => {
    const model = Decoder.random(tinyConfig('qwen3'), 4, { std: 0.3 });
    const ctl = createController('introllm', {}, model.cfg.hiddenSize, 9);
    const plain = rollout(model, ctl, request(false), new Rng(3));
    const r = rollout(model, ctl, request(true), new Rng(3));
    expect(plain.headInput).toBeUndefined();
    for (const k of ['tokens', 'tau', 'gate', 'logpTau', 'logpTok', 'lengths'] as const) expect(Array.from(r[k]), k).toEqual(Array.from(plain[k]));
    const d = model.cfg.hiddenSize;
    expect(r.headInput!.width).toBe(d);
    expect(r.headInput!.data.length).toBe(prompts.length * T * d);
    const hidden = tf.tidy(() => rolloutForward(model, r, PAD).hidden.arraySync()) as number[][][];
    let checked = 0;
    for (let b = 0; b < r.batch; b++)
      for (let t = 0; t < T; t++) {
        const x = r.headInput!.data.subarray((b * T + t) * d, (b * T + t + 1) * d);
        if (t >= r.lengths[b]) {
          expect(maxAbs(x)).toBe(0);
          continue;
        }
        for (let j = 0; j < d; j++) expect(Math.abs(x[j] - hidden[b][t][j])).toBeLessThanOrEqual(1e-4 * Math.max(1, Math.abs(hidden[b][t][j])));
        checked++;
      }
    expect(checked).toBeGreaterThan(20);
    ctl.dispose();
    model.dispose();
  });

  for (const name of ['introllm', 'introllm-features', 'introllm-categorical']) {
    it(`'${name}': log π_φ from the recorded inputs is the log π_φ the rollout recorded (to 5e-5, act()'s own bound: it evaluates the density on the host)`, () => {
      const model = Decoder.random(tinyConfig('llama'), 4, { std: 0.3 });
      const ctl = createController(name, {}, model.cfg.hiddenSize, 9);
      const r = rollout(model, ctl, request(true), new Rng(8));
      expect(r.headInput!.width).toBe(ctl.headInputWidth);
      const lp = tf.tidy(() => {
        const x = tf.tensor2d(r.headInput!.data, [r.batch * T, r.headInput!.width]);
        return ctl.logProbFromHeadInput!(x, tf.tensor1d(Float32Array.from(r.gate)), tf.tensor1d(r.z)).dataSync() as Float32Array;
      });
      let n = 0;
      for (let i = 0; i < r.batch * T; i++) {
        if (!r.mask[i]) continue;
        expect(Math.abs(lp[i] - r.logpTau[i]), `token ${i}`).toBeLessThanOrEqual(5e-5 * Math.max(1, Math.abs(r.logpTau[i])));
        n++;
      }
      expect(n).toBeGreaterThan(20);
      ctl.dispose();
      model.dispose();
    });
  }

  it('chunks merge their head inputs and a slice keeps its rows; a controller without a head is refused by name', () => {
    const model = Decoder.random(tinyConfig('qwen2'), 4, { std: 0.3 });
    const ctl = createController('introllm', {}, model.cfg.hiddenSize, 9);
    const r = chunkedRollout(model, ctl, request(true), new Rng(5), 3);
    const d = model.cfg.hiddenSize;
    const hidden = tf.tidy(() => rolloutForward(model, r, PAD).hidden.arraySync()) as number[][][];
    for (let b = 0; b < r.batch; b++) {
      const t = r.lengths[b] - 1;
      const x = r.headInput!.data.subarray((b * T + t) * d, (b * T + t + 1) * d);
      expect(maxAbs(x.map((v, j) => v - hidden[b][t][j]))).toBeLessThanOrEqual(1e-4);
    }
    const s = sliceRollout(r, 2, 5);
    for (let b = 0; b < 3; b++)
      for (let t = 0; t < s.steps; t++)
        expect(Array.from(s.headInput!.data.subarray((b * s.steps + t) * d, (b * s.steps + t + 1) * d))).toEqual(
          Array.from(r.headInput!.data.subarray(((b + 2) * T + t) * d, ((b + 2) * T + t + 1) * d)),
        );
    const fixed = createController('fixed', {}, model.cfg.hiddenSize, 9);
    expect(() => rollout(model, fixed, request(true), new Rng(5))).toThrow(/recordHeadInput was asked of 'fixed', which has no learned head input/);
    ctl.dispose();
    model.dispose();
  });
});

describe("φ's update from recorded head inputs", () => {
  for (const name of ['introllm', 'introllm-features']) {
    for (const rows of [8, 3]) {
      it(`'${name}', micro-batches of ${rows}: two temperature updates move φ as those from θ's forward do (to 1e-4), θ not at all`, () => {
        const cfg = resolveConfig({ preset: 'smoke', overrides: [{ source: 'test', value: { grpo: { maxGradNorm: 1e9 }, rollout: { maxNewTokens: T } } }] });
        const a = policy(cfg, name);
        const b = policy(cfg, name);
        const r = rollout(a.model, a.ctl, request(true), new Rng(1));
        const plain = withoutHeadInput(r);
        const theta0 = snap(b.model.variables());
        const phi0 = snap(a.ctl.variables());
        for (let k = 0; k < 2; k++) {
          const ma = grpoUpdate(a.ctx, plain, adv, 'temperature', PAD, undefined, rows);
          const before = tf.memory().numTensors;
          const mb = grpoUpdate(b.ctx, r, adv, 'temperature', PAD, undefined, rows);
          if (k === 1) expect(tf.memory().numTensors).toBe(before); // the first update creates Adam's slots
          expect(mb.temperature!.numTokens).toBe(ma.temperature!.numTokens);
          expect(Math.abs(mb.temperature!.loss - ma.temperature!.loss)).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(ma.temperature!.loss)));
          expect(mb.phiGradNorm! / ma.phiGradNorm!).toBeCloseTo(1, 4);
          // The first pass's ratios are those of the rollout's own inputs: 1 up to act()'s host-side density (5e-5).
          if (k === 0) expect(Math.max(mb.temperature!.ratioMax - 1, 1 - mb.temperature!.ratioMin)).toBeLessThanOrEqual(5e-5);
        }
        b.model.variables().forEach((v, i) => expect(maxAbs(v.dataSync().map((x, j) => x - theta0[i][j])), v.name).toBe(0));
        a.ctl.variables().forEach((v, i) => {
          const da = v.dataSync().map((x, j) => x - phi0[i][j]);
          const db = b.ctl
            .variables()
            [i].dataSync()
            .map((x, j) => x - phi0[i][j]);
          expect(maxAbs(da), v.name).toBeGreaterThan(1e-4);
          expect(maxAbs(da.map((x, j) => x - db[j])), v.name).toBeLessThanOrEqual(1e-4 * maxAbs(da));
        });
        a.dispose();
        b.dispose();
      });
    }
  }

  it("φ's gradient diagnostics from the recorded inputs equal those from θ's forward", () => {
    const cfg = resolveConfig({ preset: 'smoke', overrides: [{ source: 'test', value: { rollout: { maxNewTokens: T } } }] });
    const p = policy(cfg, 'introllm');
    const r = rollout(p.model, p.ctl, request(true), new Rng(4));
    const frozen = tf.tidy(() => rolloutForward(p.model, r, PAD));
    const fromForward = phiGradientDiagnostics(p.ctx, withoutHeadInput(r), adv, PAD, 2, frozen)!;
    tf.dispose([frozen.logits, frozen.hidden]);
    const fromRecord = phiGradientDiagnostics(p.ctx, r, adv, PAD, 2, null)!;
    expect(fromRecord.norm / fromForward.norm).toBeCloseTo(1, 4);
    expect(fromRecord.halfCosine).toBeCloseTo(fromForward.halfCosine, 4);
    expect(fromRecord.highEntropyShare).toBeCloseTo(fromForward.highEntropyShare, 4);
    p.dispose();
  });
});

describe('the plan: where the head inputs are recorded', () => {
  const plan = (preset: string, sets: string[] = []) =>
    makeRunPlan(
      gatherPlanInput(resolveConfig({ preset, overrides: setOverrides(sets) }), { backend: { requested: 'wasm' }, device: 'cpu', hostBytes: 24e9, cores: 2 }),
    );

  it('recorded for a head trained with θ frozen (sequential, temperature-only, alternate); none for a joint update or a controller without a head', () => {
    for (const mode of ['sequential', 'temperature-only', 'alternate']) expect(plan('tiny', [`schedule.mode=${mode}`]).head_inputs, mode).toBe('recorded');
    expect(plan('tiny', ['schedule.mode=joint']).head_inputs).toBe('none');
    expect(plan('tiny', ['controller.name=fixed']).head_inputs).toBe('none');
    expect(plan('tiny', ['schedule.mode=token-only']).head_inputs).toBe('none');
  });

  it('recomputed, with a note, when the record would exceed HEAD_INPUT_RECORD_BYTES: the paper preset on Qwen3-1.7B (256 rows × 4096 tokens × 2048)', () => {
    const cfg = resolveConfig({ preset: 'paper', overrides: setOverrides(['model.dir=bench/shapes/qwen3-1.7b']) });
    const p = makeRunPlan(gatherPlanInput(cfg, { backend: {}, device: 'h200', hostBytes: 24e9, cores: 2 }));
    expect(256 * 4096 * 2048 * 4).toBeGreaterThan(HEAD_INPUT_RECORD_BYTES);
    expect(p.head_inputs).toBe('recomputed');
    expect(p.notes.join('\n')).toMatch(/recomputes θ's forward for the head's inputs: recording them \(256 rows × 4096 tokens × 2048\) would take 8\.59 GB/);
  });
});
