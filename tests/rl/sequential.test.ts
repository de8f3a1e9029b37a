// The 'sequential' schedule (coordinate ascent on the same rollouts): one step's φ update equals a temperature-only
// step's and its θ update equals a token-only step's from the same start (the same rollout; φ goes first, so its h_t
// comes from the sampling θ, and θ's loss reads the recorded τ, which φ does not change) — exactly which parameters
// moved, to the bit. Its budget: as many θ updates and rollouts as a baseline's.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend';
import { resolveConfig } from '../../src/config';
import { methodOverride } from '../../src/experiments/methods';
import { closeRun, openRun, trainStep } from '../../src/rl/trainer';
import { runBudget } from '../../src/rl/schedule';
import { tempDir } from '../helpers/kit';

const dir = tempDir();
const modelDir = path.join(dir, 'models');
beforeAll(async () => {
  await initBackend('wasm', { log: () => {} });
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

// The known-answer task: its constructed model earns rewards from the first step, so the advantages are not all 0.
const cfgFor = (mode: string) =>
  resolveConfig({
    preset: 'known-answer',
    overrides: [
      { source: 'method', value: methodOverride('introllm') },
      { source: 'test', value: { model: { dir: modelDir }, rollout: { promptsPerStep: 4, groupSize: 8 }, schedule: { mode }, grpo: { tempEpochs: 2 } } },
    ],
  });

/** One step of a fresh run in `mode`; returns θ and φ after it, and the step's metrics. */
async function oneStep(mode: string): Promise<{ theta: Float32Array[]; phi: Float32Array[]; rec: Record<string, unknown> }> {
  const run = await openRun(cfgFor(mode), path.join(dir, mode));
  try {
    const rec = trainStep(run, 0);
    return {
      theta: run.model.variables().map((v) => v.dataSync().slice() as Float32Array),
      phi: run.controller.variables().map((v) => v.dataSync().slice() as Float32Array),
      rec,
    };
  } finally {
    closeRun(run);
  }
}

describe("schedule 'sequential'", () => {
  it("one step = a temperature-only step's φ update + a token-only step's θ update (bit-identical)", async () => {
    const seq = await oneStep('sequential');
    const temp = await oneStep('temperature-only');
    const tok = await oneStep('token-only');
    const start = await (async () => {
      const run = await openRun(cfgFor('alternate'), path.join(dir, 'start'));
      try {
        return {
          theta: run.model.variables().map((v) => v.dataSync().slice() as Float32Array),
          phi: run.controller.variables().map((v) => v.dataSync().slice() as Float32Array),
        };
      } finally {
        closeRun(run);
      }
    })();
    // the reference steps moved only their own group
    expect(temp.theta).toEqual(start.theta);
    expect(tok.phi).toEqual(start.phi);
    // sequential moved both, each exactly as its reference
    expect(seq.phi).toEqual(temp.phi);
    expect(seq.theta).toEqual(tok.theta);
    expect(seq.phi).not.toEqual(start.phi);
    expect(seq.theta).not.toEqual(start.theta);
    expect(seq.rec.phase).toBe('sequential');
    expect(seq.rec['train/theta_updates']).toBe(1);
    expect(seq.rec['train/phi_updates']).toBe(2);
    expect(seq.rec['train/reward_mean']).toBeGreaterThan(0);
    expect(seq.rec['loss_temp/loss']).toBe(temp.rec['loss_temp/loss']);
    expect(seq.rec['loss_token/loss']).toBe(tok.rec['loss_token/loss']);
  });

  it("gives IntroLLM the baselines' θ updates and rollouts; alternate gives half", () => {
    const steps = { train: { steps: 40 }, rollout: { promptsPerStep: 4, groupSize: 16 }, grpo: { epochs: 1, tempEpochs: 5 } };
    const sched = (mode: string) => ({ ...steps, schedule: { mode: mode as 'sequential', tokenSteps: 1, tempSteps: 1 } });
    expect(runBudget(sched('sequential'), true)).toEqual({ theta_updates: 40, phi_updates: 200, rollouts: 2560 });
    expect(runBudget(sched('token-only'), false)).toEqual({ theta_updates: 40, phi_updates: 0, rollouts: 2560 });
    expect(runBudget(sched('alternate'), true)).toEqual({ theta_updates: 20, phi_updates: 100, rollouts: 2560 });
    expect(runBudget(sched('joint'), true)).toEqual({ theta_updates: 40, phi_updates: 40, rollouts: 2560 });
    expect(runBudget(sched('temperature-only'), true)).toEqual({ theta_updates: 0, phi_updates: 200, rollouts: 2560 });
  });
});
