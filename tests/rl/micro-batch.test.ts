// A step in pieces: rollouts generated in chunks of rows and merged, and the GRPO update run in micro-batches with
// gradient accumulation, must be the step of the whole batch. The update is compared with the one-batch update
// through the whole optimiser path (accumulate → clip → Adam step), for θ and φ, θ's Adam on the backend and on the
// host, every loss aggregation, and with the KL term; the rollout's chunks are checked against a full forward.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend';
import { ExperimentConfig, resolveConfig } from '../../src/config';
import { Decoder } from '../../src/lm/model';
import { createController } from '../../src/policy/registry';
import { Rng } from '../../src/rng';
import { grpoUpdate, microBatches, phiGradientDiagnostics, rolloutForward } from '../../src/rl/grpo-step';
import { chunkedRollout, Rollout, rollout, sliceRollout } from '../../src/rl/rollout';
import { completionLogLikByTau } from '../../src/rl/trainer';
import { tinyConfig } from '../helpers/kit';
import { ADV as adv, EOS, GROUPS as groups, maxAbs, PAD, PROMPTS as prompts, snap, updatePolicy } from '../helpers/grpo-batch';
import { expectRecordsMatchForward } from '../helpers/rollout-check';

beforeAll(async () => {
  await initBackend('wasm', { log: () => {} });
});

describe('microBatches', () => {
  it('cuts a batch into consecutive ranges of at most `rows` rows, the last one ragged', () => {
    expect(microBatches(8, 3)).toEqual([
      [0, 3],
      [3, 6],
      [6, 8],
    ]);
    expect(microBatches(8, 8)).toEqual([[0, 8]]);
    expect(microBatches(8, 100)).toEqual([[0, 8]]);
    expect(() => microBatches(8, 0)).toThrow(/positive integer/);
  });
});

describe('sliceRollout', () => {
  it("keeps a row range's records and prompt layout, cut to its longest row", () => {
    const model = Decoder.random(tinyConfig('qwen3'), 4, { std: 0.3 });
    const ctl = createController('introllm', {}, model.cfg.hiddenSize, 9);
    const r = rollout(model, ctl, { prompts, maxNewTokens: 10, eosId: EOS, padId: PAD, tau0: 1, trainStep: 0 }, new Rng(3));
    const s = sliceRollout(r, 2, 5);
    const T = 10;
    expect([s.batch, s.promptLen]).toEqual([3, r.promptLen]);
    expect(s.steps).toBe(Math.max(r.lengths[2], r.lengths[3], r.lengths[4]));
    expect(Array.from(s.promptIds)).toEqual(Array.from(r.promptIds.subarray(2 * r.promptLen, 5 * r.promptLen)));
    for (let b = 0; b < 3; b++) {
      for (let t = 0; t < s.steps; t++) {
        const i = b * s.steps + t,
          j = (b + 2) * T + t;
        expect([s.tokens[i], s.mask[i], s.tau[i], s.logpTok[i], s.logpTau[i], s.gate[i]]).toEqual([
          r.tokens[j],
          r.mask[j],
          r.tau[j],
          r.logpTok[j],
          r.logpTau[j],
          r.gate[j],
        ]);
      }
    }
    expect(() => sliceRollout(r, 5, 5)).toThrow(/rows 5/);
    ctl.dispose();
    model.dispose();
  });
});

describe('chunkedRollout', () => {
  it('with one chunk is rollout() to the bit', () => {
    const model = Decoder.random(tinyConfig('llama'), 4, { std: 0.3 });
    const ctl = createController('introllm', {}, model.cfg.hiddenSize, 9);
    const req = { prompts, maxNewTokens: 8, eosId: EOS, padId: PAD, tau0: 1, trainStep: 0, groups };
    const a = rollout(model, ctl, req, new Rng(5));
    const b = chunkedRollout(model, ctl, req, new Rng(5), prompts.length);
    for (const k of ['tokens', 'tau', 'logpTok', 'logpTau', 'lengths'] as const) expect(Array.from(b[k]), k).toEqual(Array.from(a[k]));
    ctl.dispose();
    model.dispose();
  });

  it('in chunks of 3 rows: one rollout of all rows (the prompts in place, the records agree with a full forward), reproducible, no tensor leaks', () => {
    const model = Decoder.random(tinyConfig('qwen2'), 4, { std: 0.3 });
    const ctl = createController('introllm', {}, model.cfg.hiddenSize, 9);
    const req = { prompts, maxNewTokens: 10, eosId: EOS, padId: PAD, tau0: 1, trainStep: 0, groups };
    const before = tf.memory().numTensors;
    const r = chunkedRollout(model, ctl, req, new Rng(5), 3);
    expect(tf.memory().numTensors).toBe(before);
    expect([r.batch, r.promptLen]).toEqual([8, 5]);
    expect(r.steps).toBe(maxAbs(r.lengths));
    prompts.forEach((p, b) => {
      const row = Array.from(r.promptIds.subarray(b * 5, b * 5 + 5));
      expect(row).toEqual([...Array(5 - p.length).fill(PAD), ...p]);
    });
    // Every recorded token log-prob equals that of one forward of the merged rollout at the recorded τ.
    expect(expectRecordsMatchForward(model, r, PAD)).toBeGreaterThan(8);
    const again = chunkedRollout(model, ctl, req, new Rng(5), 3);
    expect(Array.from(again.tokens)).toEqual(Array.from(r.tokens));
    expect(Array.from(again.tau)).toEqual(Array.from(r.tau));
    ctl.dispose();
    model.dispose();
  });

  it("the controller sees the whole batch once: TAMPO's one τ per batch holds across chunks, its per-group τ within each group", () => {
    const model = Decoder.random(tinyConfig('llama'), 4, { std: 0.3 });
    const req = { prompts, maxNewTokens: 6, eosId: -1, padId: PAD, tau0: 1, trainStep: 0, groups };
    for (const scope of ['batch', 'group'] as const) {
      for (let seed = 0; seed < 6; seed++) {
        const ctl = createController('tampo', { tampoScope: scope, tampoTaus: [0.5, 0.8, 1.1, 1.4] }, model.cfg.hiddenSize, seed);
        const r = chunkedRollout(model, ctl, req, new Rng(seed), 3);
        const rowTau = Array.from({ length: r.batch }, (_, b) => r.tau[b * 6]);
        for (let b = 0; b < r.batch; b++) for (let t = 0; t < 6; t++) expect(r.tau[b * 6 + t]).toBe(rowTau[b]);
        if (scope === 'batch') expect(new Set(rowTau).size).toBe(1);
        else for (let b = 0; b < r.batch; b += 2) expect(rowTau[b + 1]).toBe(rowTau[b]); // rows 2, 3 sit in different chunks
        ctl.dispose();
      }
    }
    model.dispose();
  });
});

/** Two identical policies (same seeds) with an update context each (updatePolicy: Adam with ε = 1). */
function policies(cfg: ExperimentConfig, o: { onHost?: boolean; reference?: boolean } = {}) {
  return [updatePolicy(cfg, o), updatePolicy(cfg, o)];
}

describe('grpoUpdate in micro-batches', () => {
  const cases = [
    { phase: 'token', aggregation: 'token-mean' },
    { phase: 'temperature', aggregation: 'token-mean' },
    { phase: 'joint', aggregation: 'token-mean' },
    { phase: 'joint', aggregation: 'seq-mean-token-mean' },
    { phase: 'joint', aggregation: 'seq-mean-token-sum-norm' },
    { phase: 'token', aggregation: 'token-mean', onHost: true },
    { phase: 'joint', aggregation: 'seq-mean-token-mean', onHost: true },
    { phase: 'token', aggregation: 'token-mean', klCoef: 0.1 },
  ] as const;
  for (const c of cases) {
    const label = `${c.phase}, ${c.aggregation}${'onHost' in c ? ", θ's Adam on the host" : ''}${'klCoef' in c ? ', KL 0.1' : ''}`;
    it(`${label}: two updates in micro-batches of 3, 3 and 2 rows move the parameters as the one-batch updates do`, () => {
      const cfg = resolveConfig({
        preset: 'smoke',
        overrides: [
          {
            source: 'test',
            value: {
              grpo: { aggregation: c.aggregation, klCoef: 'klCoef' in c ? c.klCoef : 0, maxGradNorm: 1e9 },
              rollout: { maxNewTokens: 10 },
            },
          },
        ],
      });
      const [one, micro] = policies(cfg, { onHost: 'onHost' in c, reference: 'klCoef' in c });
      const r = rollout(one.model, one.ctl, { prompts, maxNewTokens: 10, eosId: EOS, padId: PAD, tau0: 1, trainStep: 0, groups }, new Rng(1));
      // The rows end at different lengths, so the micro-batches are cut to different lengths.
      expect(new Set(Array.from(r.lengths)).size).toBeGreaterThan(1);
      const theta0 = snap(one.model.variables());
      const phi0 = snap(one.ctl.variables());
      for (let k = 0; k < 2; k++) {
        const a = grpoUpdate(one.ctx, r, adv, c.phase, PAD);
        const before = tf.memory().numTensors;
        const b = grpoUpdate(micro.ctx, r, adv, c.phase, PAD, undefined, 3);
        if (k === 1) expect(tf.memory().numTensors).toBe(before);
        for (const which of ['token', 'temperature'] as const) {
          const x = a[which],
            y = b[which];
          expect(y === null, which).toBe(x === null);
          if (!x || !y) continue;
          // float32 sums in another order: to 1e-5 of each value (the second step's ratios are far from 1 at lr = 1)
          const close = (u: number, v: number, what: string) => expect(Math.abs(u - v), what).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(v)));
          close(y.loss, x.loss, 'loss');
          expect(y.numTokens).toBe(x.numTokens);
          expect(y.numSequences).toBe(x.numSequences);
          close(y.clipFraction, x.clipFraction, 'clipFraction');
          close(y.ratioMean, x.ratioMean, 'ratioMean');
          close(y.ratioMin, x.ratioMin, 'ratioMin');
          close(y.ratioMax, x.ratioMax, 'ratioMax');
          if (x.kl !== null) close(y.kl!, x.kl, 'kl');
        }
        if (a.thetaGradNorm !== null) expect(b.thetaGradNorm! / a.thetaGradNorm).toBeCloseTo(1, 5);
        if (a.phiGradNorm !== null) expect(b.phiGradNorm! / a.phiGradNorm).toBeCloseTo(1, 5);
      }
      const pairs: [tf.Variable[], tf.Variable[], ArrayLike<number>[], boolean][] = [
        [one.model.variables(), micro.model.variables(), theta0, c.phase !== 'temperature'],
        [one.ctl.variables(), micro.ctl.variables(), phi0, c.phase !== 'token'],
      ];
      for (const [xs, ys, start, moves] of pairs) {
        xs.forEach((x, i) => {
          const dx = x.dataSync().map((v, j) => v - start[i][j]);
          const dy = ys[i].dataSync().map((v, j) => v - start[i][j]);
          if (!moves) {
            expect(maxAbs(dx), x.name).toBe(0);
            expect(maxAbs(dy), x.name).toBe(0);
            return;
          }
          const diff = dx.map((v, j) => v - dy[j]);
          expect(maxAbs(diff), x.name).toBeLessThanOrEqual(1e-4 * maxAbs(dx) + 1e-9);
        });
        // Each group that trains moved.
        if (moves) expect(xs.some((x, i) => maxAbs(x.dataSync().map((v, j) => v - start[i][j])) > 1e-4)).toBe(true);
      }
      one.dispose();
      micro.dispose();
    });
  }

  it('a micro-batch as large as the batch is the one-batch update to the bit', () => {
    const cfg = resolveConfig({ preset: 'smoke' });
    const [one, same] = policies(cfg);
    const r = rollout(one.model, one.ctl, { prompts, maxNewTokens: 8, eosId: EOS, padId: PAD, tau0: 1, trainStep: 0 }, new Rng(2));
    grpoUpdate(one.ctx, r, adv, 'joint', PAD);
    grpoUpdate(same.ctx, r, adv, 'joint', PAD, undefined, 8);
    one.model.variables().forEach((v, i) => expect(Array.from(same.model.variables()[i].dataSync())).toEqual(Array.from(v.dataSync())));
    one.ctl.variables().forEach((v, i) => expect(Array.from(same.ctl.variables()[i].dataSync())).toEqual(Array.from(v.dataSync())));
    one.dispose();
    same.dispose();
  });

  it('refuses a frozen forward of the whole batch for an update in micro-batches', () => {
    const cfg = resolveConfig({ preset: 'smoke' });
    const [p] = policies(cfg);
    const r = rollout(p.model, p.ctl, { prompts, maxNewTokens: 6, eosId: EOS, padId: PAD, tau0: 1, trainStep: 0 }, new Rng(2));
    const frozen = tf.tidy(() => rolloutForward(p.model, r, PAD));
    expect(() => grpoUpdate(p.ctx, r, adv, 'temperature', PAD, frozen, 3)).toThrow(/micro-batches/);
    tf.dispose([frozen.logits, frozen.hidden]);
    p.dispose();
  });
});

describe('the other whole-batch passes in micro-batches', () => {
  it("φ's gradient diagnostics equal the one-batch ones", () => {
    const cfg = resolveConfig({ preset: 'smoke', overrides: [{ source: 'test', value: { rollout: { maxNewTokens: 10 } } }] });
    const [p] = policies(cfg);
    const r: Rollout = rollout(p.model, p.ctl, { prompts, maxNewTokens: 10, eosId: EOS, padId: PAD, tau0: 1, trainStep: 0, groups }, new Rng(4));
    const frozen = tf.tidy(() => rolloutForward(p.model, r, PAD));
    const whole = phiGradientDiagnostics(p.ctx, r, adv, PAD, 2, frozen)!;
    tf.dispose([frozen.logits, frozen.hidden]);
    const before = tf.memory().numTensors;
    const parts = phiGradientDiagnostics(p.ctx, r, adv, PAD, 2, null, 3)!;
    expect(tf.memory().numTensors).toBe(before);
    expect(parts.norm / whole.norm).toBeCloseTo(1, 5);
    expect(parts.halfCosine).toBeCloseTo(whole.halfCosine, 5);
    expect(parts.highEntropyShare).toBeCloseTo(whole.highEntropyShare, 5);
    expect([parts.highEntropyThreshold, parts.highEntropyTokens]).toEqual([whole.highEntropyThreshold, whole.highEntropyTokens]);
    p.dispose();
  });

  it("TAMPO's per-row log-likelihoods equal the one-batch ones", () => {
    const cfg = resolveConfig({ preset: 'smoke' });
    const [p] = policies(cfg);
    const r = rollout(p.model, p.ctl, { prompts, maxNewTokens: 9, eosId: EOS, padId: PAD, tau0: 1, trainStep: 0 }, new Rng(6));
    const taus = [0.6, 1, 1.3];
    const whole = completionLogLikByTau(p.model, r, taus, PAD);
    const parts = completionLogLikByTau(p.model, r, taus, PAD, 3);
    expect(parts.length).toBe(whole.length);
    parts.forEach((v, i) => expect(v).toBeCloseTo(whole[i], 5));
    p.dispose();
  });
});
